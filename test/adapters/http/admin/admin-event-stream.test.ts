import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminApi, type AdminApi, type AdminApiOptions } from '../../../../src/adapters/http/admin/create-admin-api.js';
import { InvalidOptionsError } from '../../../../src/core/options.js';
import { VirtualClock } from '../../../../src/core/virtual-clock.js';
import { failOnUnhandledRejections } from '../../../support/no-unhandled-rejections.js';
import { OPS_TOKEN, SseReader, TOKEN, eventually, makeComponents } from './admin-test-kit.js';

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

async function serve(clock: VirtualClock, overrides: Partial<AdminApiOptions> = {}): Promise<{ base: string; kit: ReturnType<typeof makeComponents> }> {
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
    ...overrides,
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

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

async function ticketFor(base: string, token = TOKEN): Promise<{ ticket: string; expiresAt: number }> {
  const res = await fetch(`${base}/session`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { ticket: string; expiresAt: number };
}

const streamWith = async (base: string, ticket: string): Promise<SseReader> => {
  const res = await fetch(`${base}/events?ticket=${encodeURIComponent(ticket)}`);
  expect(res.status).toBe(200);
  const sse = new SseReader(res);
  await sse.until(() => sse.snapshots().length === 1, 'the first snapshot');
  return sse;
};

const endEvents = (sse: SseReader) => sse.events.filter((e) => e.event === 'end').map((e) => e.data);

describe('admin event stream lasts no longer than its credential (VirtualClock)', () => {
  it('ends a ticket stream at the ticket expiry, not a millisecond before', async () => {
    const clock = new VirtualClock(1_000_000);
    const { base } = await serve(clock);
    const { ticket, expiresAt } = await ticketFor(base);
    expect(expiresAt).toBe(1_005_000);
    clock.advance(1_000);
    const sse = await streamWith(base, ticket);
    clock.advance(3_999);
    await settle();
    expect(sse.ended).toBe(false);
    expect(endEvents(sse)).toEqual([]);
    expect(api?.streamClients).toBe(1);
    clock.advance(1);
    await sse.until(() => sse.ended, 'the stream to end');
    expect(endEvents(sse)).toEqual(['{"reason":"expired"}']);
    expect(sse.events.at(-1)?.event).toBe('end');
    await eventually(() => api?.streamClients === 0, 'the client to be removed');
    expect(clock.pendingTimers).toBe(0);
    // The same ticket cannot reopen it; a fresh one can.
    expect((await fetch(`${base}/events?ticket=${encodeURIComponent(ticket)}`)).status).toBe(401);
    const again = await streamWith(base, (await ticketFor(base)).ticket);
    expect(again.ended).toBe(false);
    await again.close();
  });

  it('a ticket opens one stream only: a second /events with it gets 401 problem+json, while it is still valid, open stream or not (regression: reusable until expiry)', async () => {
    const clock = new VirtualClock(1_000_000);
    const { base } = await serve(clock);
    const { ticket } = await ticketFor(base);
    const sse = await streamWith(base, ticket);
    // Still open and well before the expiry, the ticket cannot open a second stream.
    const reused = await fetch(`${base}/events?ticket=${encodeURIComponent(ticket)}`);
    expect(reused.status).toBe(401);
    expect(reused.headers.get('content-type')).toBe('application/problem+json');
    expect(await reused.json()).toMatchObject({ status: 401, title: 'Unauthorized', detail: 'A valid bearer token or ticket (POST /session) is required' });
    expect(api?.streamClients).toBe(1);
    // Nor once its stream is gone.
    await sse.close();
    await eventually(() => api?.streamClients === 0, 'the client to be removed');
    clock.advance(1_000);
    expect((await fetch(`${base}/events?ticket=${encodeURIComponent(ticket)}`)).status).toBe(401);
    // Two tickets issued in the same millisecond are distinct, and each opens its stream.
    const [a, b] = [await ticketFor(base), await ticketFor(base)];
    expect(a.expiresAt).toBe(b.expiresAt);
    expect(a.ticket).not.toBe(b.ticket);
    const [first, second] = [await streamWith(base, a.ticket), await streamWith(base, b.ticket)];
    expect(api?.streamClients).toBe(2);
    await first.close();
    await second.close();
  });

  it('ends each stream at its own expiry with one timer between them', async () => {
    const clock = new VirtualClock(0);
    const { base } = await serve(clock, { streamPollIntervalMs: 60_000, streamHeartbeatMs: 60_000 });
    const first = await streamWith(base, (await ticketFor(base)).ticket); // expires at 5000
    clock.advance(2_000);
    const second = await streamWith(base, (await ticketFor(base)).ticket); // expires at 7000
    // The poll timer and the one end timer, due at the soonest expiry.
    expect(clock.pendingTimers).toBe(2);
    expect(clock.nextTimerAt()).toBe(5_000);
    clock.advance(2_999);
    await settle();
    expect([first.ended, second.ended]).toEqual([false, false]);
    clock.advance(1);
    await first.until(() => first.ended, 'the first stream to end');
    await settle();
    expect(second.ended).toBe(false);
    expect(api?.streamClients).toBe(1);
    clock.advance(1_999);
    await settle();
    expect(second.ended).toBe(false);
    clock.advance(1);
    await second.until(() => second.ended, 'the second stream to end');
    expect(endEvents(second)).toEqual(['{"reason":"expired"}']);
    await eventually(() => api?.streamClients === 0, 'both clients to be removed');
    expect(clock.pendingTimers).toBe(0);
  });

  it('ends a bearer-token stream, and a ticket stream with a longer ticket, at the maximum stream lifetime', async () => {
    const clock = new VirtualClock(0);
    const { base } = await serve(clock, { ticketTtlMs: 600_000, streamMaxLifetimeMs: 30_000 });
    const bearer = new SseReader(await fetch(`${base}/events`, { headers: auth }));
    await bearer.until(() => bearer.snapshots().length === 1, 'the first snapshot');
    const ticketed = await streamWith(base, (await ticketFor(base)).ticket);
    clock.advance(29_999);
    await settle();
    expect([bearer.ended, ticketed.ended]).toEqual([false, false]);
    clock.advance(1);
    await bearer.until(() => bearer.ended && ticketed.ended, 'both streams to end');
    expect(endEvents(bearer)).toEqual(['{"reason":"expired"}']);
    expect(endEvents(ticketed)).toEqual(['{"reason":"expired"}']);
    await eventually(() => api?.streamClients === 0, 'the clients to be removed');
  });

  it('defaults the maximum stream lifetime to 15 minutes', async () => {
    const clock = new VirtualClock(0);
    const { base } = await serve(clock);
    const bearer = new SseReader(await fetch(`${base}/events`, { headers: auth }));
    await bearer.until(() => bearer.snapshots().length === 1, 'the first snapshot');
    clock.advance(899_999);
    await settle();
    expect(bearer.ended).toBe(false);
    clock.advance(1);
    await bearer.until(() => bearer.ended, 'the stream to end');
    expect(endEvents(bearer)).toEqual(['{"reason":"expired"}']);
  });

  it('ends the streams of a revoked token at once, and keeps those of a token kept', async () => {
    const clock = new VirtualClock(0);
    const tokens = [
      { name: 'admin', token: TOKEN },
      { name: 'ops', token: OPS_TOKEN },
    ];
    const { base } = await serve(clock, { token: tokens });
    const opsTicket = (await ticketFor(base, OPS_TOKEN)).ticket;
    const opsByTicket = await streamWith(base, opsTicket);
    const opsByBearer = new SseReader(await fetch(`${base}/events`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } }));
    await opsByBearer.until(() => opsByBearer.snapshots().length === 1, 'the first snapshot');
    const adminByTicket = await streamWith(base, (await ticketFor(base)).ticket);
    expect(api?.streamClients).toBe(3);

    api?.setTokens([{ name: 'admin', token: TOKEN }]);
    await opsByTicket.until(() => opsByTicket.ended && opsByBearer.ended, 'the ops streams to end');
    expect(endEvents(opsByTicket)).toEqual(['{"reason":"revoked"}']);
    expect(endEvents(opsByBearer)).toEqual(['{"reason":"revoked"}']);
    await settle();
    expect(adminByTicket.ended).toBe(false);
    expect(api?.streamClients).toBe(1);
    expect((await fetch(`${base}/events?ticket=${encodeURIComponent(opsTicket)}`)).status).toBe(401);
    expect((await fetch(`${base}/session`, { method: 'POST', headers: { authorization: `Bearer ${OPS_TOKEN}` } })).status).toBe(401);

    // Rotating the admin token to a new secret ends its stream too, and the new secret works.
    const rotated = 'rotated-admin-token-0123456789';
    api?.setTokens(rotated);
    await adminByTicket.until(() => adminByTicket.ended, 'the admin stream to end');
    expect(endEvents(adminByTicket)).toEqual(['{"reason":"revoked"}']);
    expect((await fetch(`${base}/state`, { headers: auth })).status).toBe(401);
    const fresh = await streamWith(base, (await ticketFor(base, rotated)).ticket);
    expect(fresh.ended).toBe(false);
    await fresh.close();
  });

  it('validates the tokens given to setTokens and the stream lifetime option', async () => {
    const { base } = await serve(new VirtualClock(0));
    expect(() => api?.setTokens('short')).toThrow(InvalidOptionsError);
    expect(() => api?.setTokens([{ name: '', token: 'x' }])).toThrow(/token\[0\]\.name.*token\[0\]\.token/s);
    // A refused rotation changes nothing.
    expect((await fetch(`${base}/state`, { headers: auth })).status).toBe(200);
    expect(() => createAdminApi({ token: TOKEN, streamMaxLifetimeMs: 0 })).toThrow(/streamMaxLifetimeMs/);
  });
});
