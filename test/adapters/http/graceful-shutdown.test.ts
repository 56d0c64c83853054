import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { gracefulShutdown } from '../../../src/adapters/http/graceful-shutdown.js';
import { HealthEndpoints } from '../../../src/adapters/http/health-endpoints.js';
import { HttpResilience } from '../../../src/adapters/http/http-resilience.js';
import { nodeHttpHandler } from '../../../src/adapters/http/node-http-handler.js';
import { Readiness } from '../../../src/adapters/http/readiness.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const FIXTURE = fileURLToPath(new URL('./fixtures/graceful-shutdown-child.mjs', import.meta.url));

async function startServer(readiness: Readiness): Promise<{ server: Server; url: string }> {
  const resilience = new HttpResilience({ health: new HealthEndpoints({ readiness }) });
  const server = createServer(nodeHttpHandler(resilience, (_req, res) => void res.end('app')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('gracefulShutdown', () => {
  it('fails readiness at once, keeps serving for exactly drainMs, then closes the server and runs onClosed', async () => {
    const clock = new VirtualClock();
    const readiness = new Readiness();
    const { server, url } = await startServer(readiness);
    const onClosed = vi.fn();
    const handle = gracefulShutdown(server, { readiness, drainMs: 5_000, clock, signals: [], onClosed });
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);

    const done = handle.trigger('deploy');
    expect(handle.trigger()).toBe(done);
    expect(readiness.draining).toBe(true);
    const ready = await fetch(`${url}/health/ready`, { headers: { connection: 'close' } });
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'fail', output: 'draining: deploy' });
    expect(clock.pendingTimers).toBe(1);

    await clock.advanceAsync(4_999);
    expect(server.listening).toBe(true);
    expect(await (await fetch(`${url}/work`, { headers: { connection: 'close' } })).text()).toBe('app');
    expect(onClosed).not.toHaveBeenCalled();

    await clock.advanceAsync(1);
    await done;
    expect(server.listening).toBe(false);
    expect(onClosed).toHaveBeenCalledTimes(1);
    expect(onClosed).toHaveBeenCalledWith(undefined);
    handle.dispose();
  });

  it('starts on the configured signal and removes its handler on dispose', async () => {
    const clock = new VirtualClock();
    const readiness = new Readiness();
    const { server } = await startServer(readiness);
    const before = process.listenerCount('SIGUSR2');
    const handle = gracefulShutdown(server, { readiness, drainMs: 10, clock, signals: ['SIGUSR2'] });
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(readiness.reason).toBe('received SIGUSR2');
    await clock.advanceAsync(10);
    await handle.trigger();
    expect(server.listening).toBe(false);
    handle.dispose();
    expect(process.listenerCount('SIGUSR2')).toBe(before);
  });

  it('reports an onClosed callback that throws without rejecting', async () => {
    const clock = new VirtualClock();
    const readiness = new Readiness();
    const { server } = await startServer(readiness);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    const handle = gracefulShutdown(server, { readiness, drainMs: 0, clock, signals: [], onClosed: () => { throw new Error('pool gone'); } });
    const done = handle.trigger();
    await clock.advanceAsync(0);
    await expect(done).resolves.toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(warnings.some((w) => w.includes('onClosed threw: pool gone'))).toBe(true);
  });

  it('runs beforeClose after the drain, and closes a connection still busy after closeTimeoutMs', async () => {
    const clock = new VirtualClock();
    const readiness = new Readiness();
    // A long-lived response (an event stream) that never ends by itself.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const stream = await fetch(url);
    const reading = stream.body?.getReader().read().then(() => undefined).catch(() => undefined);
    await reading;
    const order: string[] = [];
    const handle = gracefulShutdown(server, {
      readiness,
      drainMs: 100,
      closeTimeoutMs: 1_000,
      signals: [],
      clock,
      beforeClose: () => void order.push('beforeClose'),
      onClosed: () => void order.push('closed'),
    });
    const done = handle.trigger();
    await clock.advanceAsync(100);
    expect(order).toEqual(['beforeClose']);
    await clock.advanceAsync(999);
    expect(order).toEqual(['beforeClose']);
    await clock.advanceAsync(1);
    await done;
    expect(order).toEqual(['beforeClose', 'closed']);
  });

  it('validates every option at once', () => {
    let error: unknown;
    try {
      gracefulShutdown({} as never, { readiness: {} as never, drainMs: -1, signals: 'SIGTERM' as never, clock: {} as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['server', 'readiness', 'drainMs', 'signals', 'clock']);
  });

  it('drains a real process on a real SIGTERM and lets it exit', async () => {
    const child = spawn(process.execPath, [FIXTURE], { env: { ...process.env, DRAIN_MS: '400' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 200 && !/port \d+/.test(out); i++) await new Promise((r) => setTimeout(r, 25));
      const url = `http://127.0.0.1:${/port (\d+)/.exec(out)?.[1] ?? '0'}`;
      expect((await fetch(`${url}/health/ready`, { headers: { connection: 'close' } })).status).toBe(200);
      child.kill('SIGTERM');
      let status = 200;
      for (let i = 0; i < 100 && status === 200; i++) {
        status = (await fetch(`${url}/health/ready`, { headers: { connection: 'close' } })).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 5));
      }
      expect(status).toBe(503);
      // Still serving while it drains.
      expect(await (await fetch(`${url}/work`, { headers: { connection: 'close' } })).text()).toBe('app');
      expect(await exited).toBe(0);
      expect(out).toContain('closed');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
