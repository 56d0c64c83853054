import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { HttpTransport } from '../../../src/scenario/load/http-transport.js';
import { LoadGenerator } from '../../../src/scenario/load/load-generator.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { eventually, sleep, startTestServer } from './test-server.js';
import type { TestServer } from './test-server.js';

failOnUnhandledRejections();

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('HttpTransport and the generator on real HTTP failures', () => {
  it('sends method, headers, body and a base path, reads the whole response and returns its status', async () => {
    const seen: string[] = [];
    server = await startTestServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.headers['x-test']} ${body}`);
        res.statusCode = 201;
        res.end('x'.repeat(300_000)); // larger than undici's default dump limit
      });
    });
    const transport = new HttpTransport({ url: `${server.url}/api/` });
    const status = await transport.send({ method: 'POST', path: '/quotes?x=1', headers: { 'x-test': 'yes' }, body: 'hi' }, new AbortController().signal);
    expect(status).toBe(201);
    expect(seen).toEqual(['POST /api/quotes?x=1 yes hi']);
    expect(transport.closed).toBe(false);
    await transport.close();
    expect(transport.closed).toBe(true);
    expect(() => new HttpTransport({ url: 'nope', connections: 0 })).toThrow(InvalidOptionsError);
  });

  it('respects the mix weights and expectations', async () => {
    server = await startTestServer((req, res) => {
      res.statusCode = req.url === '/b' ? 404 : 200;
      res.end();
    });
    const load = new LoadGenerator({
      url: server.url,
      rate: 2_000,
      mix: [
        { path: '/a', weight: 1 },
        { path: '/b', weight: 2, expect: [404] },
        { path: '/c', weight: 7, expect: { min: 200, max: 200 } },
      ],
    });
    load.start();
    await sleep(500);
    const { totals } = await load.stop();
    expect(totals).toMatchObject({ failed: 0, ok: totals.sent });
    const n = totals.sent;
    for (const [path, p] of [['/a', 0.1], ['/b', 0.2], ['/c', 0.7]] as const) {
      const tolerance = 4 * Math.sqrt(n * p * (1 - p)) + 5;
      expect(Math.abs((server.received.get(path) ?? 0) - n * p)).toBeLessThan(tolerance);
    }
  });

  it('aborts slow requests after timeoutMs and counts them as timeouts; stop() waits for them', async () => {
    server = await startTestServer(() => undefined); // never answers
    const load = new LoadGenerator({ url: server.url, rate: 50, timeoutMs: 150, mix: [{ path: '/hang' }] });
    load.start();
    await sleep(200);
    const stopping = load.stop();
    const { totals } = await stopping;
    expect(totals.sent).toBeGreaterThanOrEqual(8);
    expect(totals).toMatchObject({ ok: 0, failed: totals.sent, errors: { timeout: totals.sent } });
    expect(totals.latency.p50).toBeGreaterThanOrEqual(150);
    expect(load.inFlight).toBe(0);
    const s = server;
    expect(await eventually(() => s.aborted === totals.sent)).toBe(true); // the server saw each one go
  });

  it('counts requests beyond maxInFlight as overload', async () => {
    server = await startTestServer(() => undefined);
    const load = new LoadGenerator({ url: server.url, rate: 200, timeoutMs: 1_000, maxInFlight: 5, mix: [{ path: '/hang' }] });
    load.start();
    await sleep(200);
    const { totals } = await load.stop({ abortInFlight: true });
    expect(totals.sent).toBeGreaterThanOrEqual(30);
    expect(totals.errors).toEqual({ overload: totals.sent - 5, aborted: 5 });
    expect(server.received.get('/hang')).toBe(5);
  });

  it('counts a refused connection as a connection failure', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const load = new LoadGenerator({ url: `http://127.0.0.1:${port}`, rate: 100, mix: [{ path: '/' }] });
    load.start();
    await sleep(100);
    const { totals } = await load.stop();
    expect(totals.sent).toBeGreaterThanOrEqual(5);
    expect(totals.errors).toEqual({ connection: totals.sent });
  });
});
