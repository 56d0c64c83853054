import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { httpCheck } from '../../../src/health/checks/http-check.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { track } from '../../support/promises.js';

failOnUnhandledRejections();

describe('httpCheck (real loopback)', () => {
  let server: Server;
  let base: string;
  const hanging: ServerResponse[] = [];
  let onHang: (() => void) | undefined;
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/ok') res.end('fine');
      else if (req.url === '/broken') {
        res.statusCode = 500;
        res.end('broken');
      } else if (req.url === '/hang') {
        hanging.push(res);
        onHang?.();
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is healthy on an expected status and reports the status code', async () => {
    const monitor = new HealthMonitor();
    monitor.registerCheck('ok', httpCheck({ url: `${base}/ok`, timeoutMs: 2_000 }), { component: 'pricing' });
    const result = await monitor.runCheck('ok');
    expect(result.status).toBe('healthy');
    expect(result.details).toMatchObject({ statusCode: 200, url: `${base}/ok`, observedUnit: 'ms' });
  });

  it('is unhealthy on an unexpected status; expectStatus changes what is expected', async () => {
    const monitor = new HealthMonitor();
    monitor.registerCheck('broken', httpCheck({ url: `${base}/broken`, timeoutMs: 2_000 }));
    monitor.registerCheck('expects500', httpCheck({ url: new URL(`${base}/broken`), expectStatus: [500, 503] }));
    monitor.registerCheck('expects200', httpCheck({ url: `${base}/ok`, expectStatus: (s) => s === 204 }));
    const [broken, expects500, expects200] = await monitor.runAll();
    expect(broken).toMatchObject({ status: 'unhealthy', error: `GET ${base}/broken answered 500` });
    expect(expects500?.status).toBe('healthy');
    expect(expects200).toMatchObject({ status: 'unhealthy', error: `GET ${base}/ok answered 200` });
  });

  it('is unhealthy when nothing listens', async () => {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const monitor = new HealthMonitor();
    monitor.registerCheck('gone', httpCheck({ url: `http://127.0.0.1:${port}/`, timeoutMs: 2_000 }));
    const result = await monitor.runCheck('gone');
    expect(result.status).toBe('unhealthy');
    expect(result.error).toMatch(/failed: .*ECONNREFUSED/);
  });

  it('times out on its own clock when the server never answers, and aborts the request', async () => {
    const clock = new VirtualClock();
    const arrived = new Promise<void>((resolve) => (onHang = resolve));
    const check = httpCheck({ url: `${base}/hang`, timeoutMs: 1_000, clock });
    const settled = track(Promise.resolve(check({ signal: new AbortController().signal, name: 'hang', component: 'hang' })));
    await arrived;
    clock.advance(999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled.state).toBe('pending');
    clock.advance(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled.state).toBe('rejected');
    expect((settled.error as Error).message).toBe(`GET ${base}/hang timed out after 1000 ms`);
    const res = hanging[hanging.length - 1] as ServerResponse;
    await new Promise<void>((resolve) => (res.req.destroyed ? resolve() : res.req.socket.once('close', () => resolve())));
  });

  it('validates its options', () => {
    let error: unknown;
    try {
      httpCheck({ url: 'ftp://x', timeoutMs: -1, expectStatus: 42 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['url', 'timeoutMs', 'expectStatus']);
  });
});
