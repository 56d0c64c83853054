import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport } from '../../../src/scenario/load/http-transport.js';
import { LoadGenerator } from '../../../src/scenario/load/load-generator.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { connectionsOf, eventually, sleep, startTestServer } from './test-server.js';
import type { TestServer } from './test-server.js';

failOnUnhandledRejections();

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('LoadGenerator over HTTP (real server, real time)', () => {
  it('achieves the requested rate, then closes its connection pool', async () => {
    server = await startTestServer((_, res) => res.end('ok'));
    const load = new LoadGenerator({ url: server.url, rate: 200, mix: [{ path: '/quote' }] });
    load.start();
    await sleep(1_000);
    const { totals, series } = await load.stop();
    expect(totals.sent).toBeGreaterThanOrEqual(180);
    expect(totals.sent).toBeLessThanOrEqual(220);
    expect(totals).toMatchObject({ ok: totals.sent, failed: 0, availability: 1 });
    expect(server.received.get('/quote')).toBe(totals.sent);
    expect(series.reduce((n, p) => n + p.sent, 0)).toBe(totals.sent);
    expect(load.transport).toBeInstanceOf(HttpTransport);
    expect((load.transport as HttpTransport).closed).toBe(true);
    const s = server.server;
    expect(await eventually(async () => (await connectionsOf(s)) === 0)).toBe(true);
  });

  it('exposes a server stall in the latency, from the intended start, while it keeps sending', async () => {
    const STALL_MS = 400;
    let stallStart = 0;
    let stallEnd = 0;
    server = await startTestServer((_, res, s) => {
      const now = performance.now();
      if (s.arrivals.length === 60) {
        stallStart = now;
        stallEnd = now + STALL_MS;
      }
      if (now < stallEnd) setTimeout(() => res.end('late'), stallEnd - now);
      else res.end('ok');
    });
    const load = new LoadGenerator({ url: server.url, rate: 200, mix: [{ path: '/' }] });
    load.start();
    await sleep(1_000);
    const { totals } = await load.stop();
    const during = (times: number[]): number => times.filter((t) => t >= stallStart && t < stallEnd - 5).length;
    expect(totals.sent).toBeGreaterThanOrEqual(180);
    expect(totals.ok).toBe(totals.sent);
    expect(during(server.arrivals)).toBeGreaterThanOrEqual(60); // about 80: the open model kept sending
    expect(during(server.responses)).toBe(0); // nothing completed during the stall...
    expect(totals.latency.p99).toBeGreaterThanOrEqual(300); // ...and the latency says so
    expect(totals.latency.max).toBeGreaterThanOrEqual(STALL_MS - 5);
  });
});
