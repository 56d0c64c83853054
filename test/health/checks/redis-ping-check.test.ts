import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { redisPingCheck, type RedisPingClient } from '../../../src/health/checks/redis-ping-check.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The smallest RESP client that can PING: one connection per command, like a client after a reconnect. */
function respClient(port: number): RedisPingClient {
  return {
    ping: () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port });
        let buffer = '';
        socket.setEncoding('utf8');
        socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
        socket.on('data', (chunk: string) => {
          buffer += chunk;
          const end = buffer.indexOf('\r\n');
          if (end < 0) return;
          socket.destroy();
          const line = buffer.slice(0, end);
          if (line.startsWith('+')) resolve(line.slice(1));
          else reject(new Error(line.slice(1)));
        });
        socket.on('error', reject);
      }),
  };
}

describe('redisPingCheck (private redis-server)', () => {
  let redis: ChildProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      redis.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
      redis.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) resolve();
      });
    });
  });
  afterAll(() => {
    if (redis.exitCode === null) redis.kill('SIGKILL');
  });

  it('is healthy while redis answers PONG and unhealthy once it is killed', async () => {
    const monitor = new HealthMonitor();
    monitor.registerCheck('redis', redisPingCheck(respClient(port)), { component: 'cache', timeoutMs: 2_000 });
    const up = await monitor.runCheck('redis');
    expect(up).toMatchObject({ status: 'healthy', component: 'cache', details: { componentType: 'datastore' } });

    const exited = new Promise((resolve) => redis.once('exit', resolve));
    redis.kill('SIGKILL');
    await exited;
    const down = await monitor.runCheck('redis');
    expect(down.status).toBe('unhealthy');
    expect(down.error).toMatch(/ECONNREFUSED/);
    expect(monitor.getComponentHealth('cache')).toMatchObject({ status: 'unhealthy', availability: 50, consecutiveFailures: 1 });
  });

  it('is unhealthy on a reply other than PONG, and refuses a client without ping()', async () => {
    const monitor = new HealthMonitor();
    monitor.registerCheck('odd', redisPingCheck({ ping: async () => 'LOADING' }));
    expect(await monitor.runCheck('odd')).toMatchObject({ status: 'unhealthy', error: 'PING answered "LOADING"' });
    expect(() => redisPingCheck({} as RedisPingClient)).toThrow(InvalidOptionsError);
  });
});
