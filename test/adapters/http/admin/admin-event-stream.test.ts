import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminApi, type AdminApi } from '../../../../src/adapters/http/admin/create-admin-api.js';
import { VirtualClock } from '../../../../src/core/virtual-clock.js';
import { failOnUnhandledRejections } from '../../../support/no-unhandled-rejections.js';
import { SseReader, TOKEN, eventually, makeComponents } from './admin-test-kit.js';

failOnUnhandledRejections();

let server: Server | undefined;
let api: AdminApi | undefined;

afterEach(async () => {
  api?.close();
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
  server = api = undefined;
});

async function serve(clock: VirtualClock): Promise<{ base: string; kit: ReturnType<typeof makeComponents> }> {
  const kit = makeComponents(clock);
  api = createAdminApi({
    token: TOKEN,
    components: kit.components,
    store: kit.store,
    clock,
    streamMinIntervalMs: 250,
    streamPollIntervalMs: 1_000,
    streamHeartbeatMs: 3_000,
    ticketTtlMs: 5_000,
  });
  const handler = api;
  server = createServer((req, res) => void handler(req, res).then((done) => done || res.writeHead(404).end()));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin`, kit };
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('admin event stream (VirtualClock)', () => {
  it('refuses new stream clients once the API is closed', async () => {
    const { base } = await serve(new VirtualClock());
    const auth = { authorization: `Bearer ${TOKEN}` };
    api?.close();
    const refused = await fetch(`${base}/events`, { headers: auth });
    expect(refused.status).toBe(503);
    await refused.body?.cancel();
  });

  it('refuses a ticket once it expired', async () => {
    const clock = new VirtualClock(1_000_000);
    const { base } = await serve(clock);
    const { ticket, expiresAt } = (await (await fetch(`${base}/session`, { method: 'POST', headers: auth })).json()) as { ticket: string; expiresAt: number };
    expect(expiresAt).toBe(1_005_000);
    clock.advance(4_999);
    const ok = new SseReader(await fetch(`${base}/events?ticket=${encodeURIComponent(ticket)}`));
    await ok.until(() => ok.snapshots().length === 1, 'a snapshot');
    await ok.close();
    clock.advance(1);
    const late = await fetch(`${base}/events?ticket=${encodeURIComponent(ticket)}`);
    expect(late.status).toBe(401);
    expect(late.headers.get('content-type')).toBe('application/problem+json');
  });

  it('coalesces bursts of changes into one snapshot per interval, sends heartbeats, and cleans up', async () => {
    const clock = new VirtualClock(0);
    const { base, kit } = await serve(clock);
    const pricing = kit.components.breakers.get('pricing');
    const sse = new SseReader(await fetch(`${base}/events`, { headers: auth }));
    await sse.until(() => sse.snapshots().length === 1, 'the first snapshot');
    expect(api?.streamClients).toBe(1);

    for (let i = 0; i < 5; i++) {
      pricing?.open();
      pricing?.close();
    }
    kit.components.breakers.get('inventory')?.isolate();
    clock.advance(249);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sse.snapshots()).toHaveLength(1);
    clock.advance(1);
    await sse.until(() => sse.snapshots().length === 2, 'one coalesced snapshot');
    const second = sse.snapshots()[1];
    expect(second?.breakers?.map((b) => [b.name, b.state])).toEqual([['pricing', 'closed'], ['inventory', 'isolated']]);
    expect(second?.activity.filter((a) => a.target === 'pricing')).toHaveLength(10);

    // Polls at 1000, 2000, 3000 find nothing new; the last write was at 250, so the heartbeat goes at 4000.
    clock.advance(750);
    clock.advance(1_000);
    clock.advance(1_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sse.comments).toEqual([]);
    clock.advance(1_000);
    await sse.until(() => sse.comments.length === 1, 'a heartbeat');
    expect(sse.comments[0]).toBe(': heartbeat');
    expect(sse.snapshots()).toHaveLength(2);

    const activity = api?.snapshot().activity.length;
    api?.close();
    await eventually(() => api?.streamClients === 0, 'the stream to end');
    expect(clock.pendingTimers).toBe(0);
    pricing?.open();
    expect(api?.snapshot().activity.length).toBe(activity);
    await sse.close();
  });

  it('stops its timers when the last client disconnects', async () => {
    const clock = new VirtualClock(0);
    const { base } = await serve(clock);
    const sse = new SseReader(await fetch(`${base}/events`, { headers: auth }));
    await sse.until(() => sse.snapshots().length === 1, 'the first snapshot');
    expect(clock.pendingTimers).toBeGreaterThan(0);
    await sse.close();
    await eventually(() => api?.streamClients === 0, 'the client to be removed');
    expect(clock.pendingTimers).toBe(0);
  });
});
