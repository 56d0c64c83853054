import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { tcpCheck } from '../../../src/health/checks/tcp-check.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('tcpCheck (real loopback)', () => {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is healthy when the port accepts, and closes its connection', async () => {
    const monitor = new HealthMonitor();
    monitor.registerCheck('listener', tcpCheck({ port, timeoutMs: 2_000 }), { component: 'local' });
    const result = await monitor.runCheck('listener');
    expect(result.status).toBe('healthy');
    expect(result.details).toMatchObject({ measurement: 'connect', observedUnit: 'ms', host: '127.0.0.1', port });
    expect(monitor.report().checks['local:connect']?.[0]).toMatchObject({ componentId: 'listener', status: 'pass', observedUnit: 'ms' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(sockets.length).toBeGreaterThan(0);
    await new Promise<void>((resolve) => {
      const last = sockets[sockets.length - 1] as Socket;
      if (last.closed || last.readableEnded) resolve();
      else last.once('close', () => resolve());
    });
  });

  it('is unhealthy on a closed port', async () => {
    const monitor = new HealthMonitor();
    const closed = await closedPort();
    monitor.registerCheck('closed', tcpCheck({ host: '127.0.0.1', port: closed, timeoutMs: 2_000 }));
    const result = await monitor.runCheck('closed');
    expect(result.status).toBe('unhealthy');
    expect(result.error).toMatch(new RegExp(`^TCP connect to 127\\.0\\.0\\.1:${closed} failed: .*ECONNREFUSED`));
  });

  it('rejects at once with an aborted signal, and validates its options', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const check = tcpCheck({ port });
    await expect(Promise.resolve(check({ signal: controller.signal, name: 'x', component: 'x' }))).rejects.toThrow('stop');
    expect(() => tcpCheck({ port: 70_000, timeoutMs: 0, host: 1 as unknown as string })).toThrow(InvalidOptionsError);
  });
});
