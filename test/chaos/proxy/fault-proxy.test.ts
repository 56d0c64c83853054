import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy, isFaultProxyError, type FaultProxyOptions } from '../../../src/chaos/proxy/index.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { PrivateRedisServer, freePort } from '../../support/redis-server.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { errorOf } from '../../support/promises.js';
import { RawClient, pause, since, waitFor } from './proxy-test-kit.js';

failOnUnhandledRejections();

let redis: PrivateRedisServer;
const proxies: FaultProxy[] = [];
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  redis = await PrivateRedisServer.start();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await redis.stop();
});

async function proxyWith(options: Partial<FaultProxyOptions> = {}): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ name: 'redis', upstream: `127.0.0.1:${redis.port}`, ...options });
  proxies.push(proxy);
  return proxy;
}

async function raw(port: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  cleanups.push(() => client.destroy());
  return client;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

function ioredis(port: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  cleanups.push(() => client.disconnect());
  return client;
}

describe('FaultProxy', () => {
  it('proxies a real Redis on a picked port and counts connections and bytes', async () => {
    const proxy = await proxyWith();
    expect(proxy.port).toBeGreaterThan(0);
    expect(proxy.listen).toBe(`127.0.0.1:${proxy.port}`);
    const opened: number[] = [];
    const closed: number[] = [];
    proxy.on('connectionOpen', ({ connectionId }) => void opened.push(connectionId));
    proxy.on('connectionClose', ({ connectionId }) => void closed.push(connectionId));

    const client = ioredis(proxy.port);
    await client.set('greeting', 'hello');
    expect(await client.get('greeting')).toBe('hello');
    expect(proxy.stats).toMatchObject({ activeConnections: 1, totalConnections: 1 });
    expect(proxy.stats.bytesUpstream).toBeGreaterThan(20);
    expect(proxy.stats.bytesDownstream).toBeGreaterThan(10);

    await client.quit();
    await raw(proxy.port);
    expect(await waitFor(() => closed.length === 1 && opened.length === 2)).toBe(true);
    expect(opened).toEqual([1, 2]);
    expect(closed).toEqual([1]);
    expect(proxy.stats.activeConnections).toBe(1);
    expect(proxy.toJSON()).toEqual({
      name: 'redis',
      listen: `127.0.0.1:${proxy.port}`,
      upstream: `127.0.0.1:${redis.port}`,
      enabled: true,
      toxics: [],
    });
  });

  it('proxies HTTP to a node:http server, with toxics', async () => {
    const server: Server = createServer((request, response) => {
      response.setHeader('content-type', 'text/plain');
      response.end(`you asked for ${request.url}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as { port: number }).port;
    const proxy = await proxyWith({ name: 'http', upstream: `127.0.0.1:${port}` });

    const plain = await fetch(`http://127.0.0.1:${proxy.port}/prices`, { headers: { connection: 'close' } });
    expect(await plain.text()).toBe('you asked for /prices');

    await proxy.with({ type: 'latency', attributes: { latency: 150 } }, async () => {
      const started = performance.now();
      const slow = await fetch(`http://127.0.0.1:${proxy.port}/slow`, { headers: { connection: 'close' } });
      expect(await slow.text()).toBe('you asked for /slow');
      expect(since(started)).toBeGreaterThanOrEqual(145);
    });

    await proxy.with({ type: 'reset_peer', stream: 'upstream' }, async () => {
      const error = await errorOf(fetch(`http://127.0.0.1:${proxy.port}/reset`, { headers: { connection: 'close' } }));
      expect(error).toBeInstanceOf(TypeError); // fetch failed: the socket was reset
    });
  });

  describe('enabled', () => {
    it('a proxy created disabled refuses connections until enabled, on the same port', async () => {
      const proxy = await proxyWith({ enabled: false });
      const port = proxy.port;
      expect(port).toBeGreaterThan(0);
      expect(((await errorOf(RawClient.connect(port))) as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
      await proxy.enable();
      expect(proxy.port).toBe(port);
      expect(await (await raw(port)).roundTrip('PING\r\n', 7)).toBeLessThan(100);
    });

    it('disable() closes open connections at once and refuses new ones', async () => {
      const proxy = await proxyWith({ toxics: [{ type: 'timeout', attributes: { timeout: 0 } }] });
      const held = await raw(proxy.port);
      const idle = await raw(proxy.port);
      held.write('PING\r\n');
      expect(await waitFor(() => proxy.stats.activeConnections === 2)).toBe(true);
      const started = performance.now();
      await proxy.disable();
      expect(since(started)).toBeLessThan(100);
      expect(await held.until((c) => c.closed)).toBe(true);
      expect(await idle.until((c) => c.closed)).toBe(true);
      expect(((await errorOf(RawClient.connect(proxy.port))) as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
      expect(proxy.toJSON().enabled).toBe(false);
      expect(proxy.stats.activeConnections).toBe(0);
    });
  });

  describe('update({ listen })', () => {
    async function occupiedPort(): Promise<number> {
      const blocker = createNetServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
      return (blocker.address() as { port: number }).port;
    }

    it('moves the listener to a free address, closing the old one', async () => {
      const proxy = await proxyWith();
      const oldPort = proxy.port;
      const newPort = await freePort();
      await proxy.update({ listen: `127.0.0.1:${newPort}` });
      expect(proxy.port).toBe(newPort);
      expect(await (await raw(newPort)).roundTrip('PING\r\n', 7)).toBeLessThan(1_000);
      expect(((await errorOf(RawClient.connect(oldPort))) as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    });

    it('to a busy address rejects naming the address and keeps serving on the old one (regression: the proxy was left without a listener)', async () => {
      const proxy = await proxyWith();
      const oldPort = proxy.port;
      const client = await raw(oldPort);
      expect(await client.roundTrip('PING\r\n', 7)).toBeLessThan(1_000);
      const busy = await occupiedPort();
      const error = await errorOf(proxy.update({ listen: `127.0.0.1:${busy}`, upstream: '127.0.0.1:1' }));
      expect(isFaultProxyError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'PROXY_LISTEN_FAILED' });
      expect((error as Error).message).toContain(`cannot listen on 127.0.0.1:${busy}`);
      expect((error as Error).message).toContain('EADDRINUSE');
      expect(proxy.toJSON()).toMatchObject({ listen: `127.0.0.1:${oldPort}`, upstream: `127.0.0.1:${redis.port}`, enabled: true });
      // the open connection survived and new ones are accepted on the old address
      expect(await client.roundTrip('PING\r\n', 7)).toBeLessThan(1_000);
      expect(await (await raw(oldPort)).roundTrip('PING\r\n', 7)).toBeLessThan(1_000);
    });

    it('moves to the same port on another host while a client is connected, without waiting for it to leave (regression: the move hung)', async () => {
      const proxy = await proxyWith();
      const port = proxy.port;
      const client = await raw(port);
      expect(await client.roundTrip('PING\r\n', 7)).toBeLessThan(1_000);
      const started = performance.now();
      await proxy.update({ listen: `0.0.0.0:${port}` });
      expect(since(started)).toBeLessThan(500);
      expect(proxy.toJSON()).toMatchObject({ listen: `0.0.0.0:${port}`, enabled: true });
      expect(proxy.listening).toBe(true);
      expect(await client.until((x) => x.closed, 500)).toBe(true);
      expect(await (await raw(port)).roundTrip('PING\r\n', 7)).toBeLessThan(1_000);
    });

    it('moving to the same port on another host, when the old address is lost in between, rejects saying the proxy is stopped, and leaves it disabled (regression: it silently had no listener)', async () => {
      const proxy = await proxyWith();
      const port = proxy.port;
      const client = await raw(port);
      expect(await client.roundTrip('PING\r\n', 7)).toBeLessThan(1_000);
      // 0.0.0.0:port clashes with the proxy's own 127.0.0.1:port, so the proxy closes its listener first.
      // Another server takes the port the moment it is free (reaching into the private listener is the only
      // deterministic way to run between the close and the rebind; a listen without host binds synchronously).
      const own = (proxy as unknown as { server: Server }).server;
      const intruder = createNetServer();
      cleanups.push(() => new Promise<void>((resolve) => (intruder.listening ? intruder.close(() => resolve()) : resolve())));
      const close = own.close.bind(own);
      own.close = ((callback?: (error?: Error) => void) => {
        close(callback);
        intruder.listen(port);
        return own;
      }) as typeof own.close;

      const error = await errorOf(proxy.update({ listen: `0.0.0.0:${port}` }));
      expect(isFaultProxyError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'PROXY_LISTEN_FAILED' });
      const message = (error as Error).message;
      expect(message).toContain(`cannot listen on 0.0.0.0:${port}`);
      expect(message).toContain(`listening again on its old address 127.0.0.1:${port} failed too`);
      expect(message).toContain('proxy "redis" is now stopped (disabled, no listener)');
      expect(isFaultProxyError((error as Error).cause)).toBe(true);
      expect(((error as Error).cause as Error).message).toContain(`cannot listen on 127.0.0.1:${port}`);
      expect(proxy.listening).toBe(false);
      expect(proxy.enabled).toBe(false);
      expect(proxy.running).toBe(true);
      expect(proxy.toJSON()).toMatchObject({ listen: `127.0.0.1:${port}`, enabled: false });
      expect(await client.until((x) => x.closed, 500)).toBe(true);

      // Once the address is free again, enable() listens there again.
      await new Promise<void>((resolve) => intruder.close(() => resolve()));
      await proxy.enable();
      expect(proxy.listening).toBe(true);
      expect(await (await raw(port)).roundTrip('PING\r\n', 7)).toBeLessThan(1_000);
    });

    it('enabling a disabled proxy onto a busy address rejects and leaves it disabled where it was', async () => {
      const proxy = await proxyWith({ enabled: false });
      const oldPort = proxy.port;
      const busy = await occupiedPort();
      const error = await errorOf(proxy.update({ listen: `127.0.0.1:${busy}`, enabled: true }));
      expect(error).toMatchObject({ code: 'PROXY_LISTEN_FAILED' });
      expect((error as Error).message).toContain(`127.0.0.1:${busy}`);
      expect(proxy.toJSON()).toMatchObject({ listen: `127.0.0.1:${oldPort}`, enabled: false });
      await proxy.enable();
      expect(await (await raw(oldPort)).roundTrip('PING\r\n', 7)).toBeLessThan(1_000);
    });
  });

  it('stop() closes every connection, even one a toxic holds, and never hangs', async () => {
    const proxy = await proxyWith({
      toxics: [
        { type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } },
        { type: 'latency', attributes: { latency: 60_000 } },
      ],
    });
    const clients = await Promise.all([raw(proxy.port), raw(proxy.port), raw(proxy.port)]);
    for (const c of clients) c.write('PING\r\n');
    await pause(20);
    const started = performance.now();
    await proxy.stop();
    await proxy.stop();
    expect(since(started)).toBeLessThan(200);
    for (const c of clients) expect(await c.until((x) => x.closed, 500)).toBe(true);
    expect(((await errorOf(RawClient.connect(proxy.port))) as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('pauses a sender while a toxic holds data (bounded memory), and delivers every byte once it is removed', async () => {
    let received = 0;
    const sink = createNetServer((socket) => socket.on('data', (chunk: Buffer) => void (received += chunk.length)));
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => void sink.close()); // closes once the proxy's connection to it is gone
    const proxy = await proxyWith({
      upstream: `127.0.0.1:${(sink.address() as { port: number }).port}`,
      toxics: [{ name: 'hold', type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } }],
    });
    const c = await raw(proxy.port);
    const total = 16 * 1024 * 1024;
    const block = Buffer.alloc(64 * 1024, 7);
    for (let sent = 0; sent < total; sent += block.length) c.write(block);
    expect(await waitFor(() => proxy.stats.bytesUpstream >= 1024 * 1024)).toBe(true);
    await pause(100);
    // The proxy stops reading at 1 MiB held (plus at most one read); the rest waits in the sender's buffers.
    expect(proxy.stats.bytesUpstream).toBeLessThan(1024 * 1024 + 256 * 1024);
    expect(received).toBe(0);
    proxy.removeToxic('hold');
    expect(await waitFor(() => received === total, 5_000)).toBe(true);
  });

  it('disconnects the client when the upstream is down and says so', async () => {
    const proxy = await proxyWith({ upstream: `127.0.0.1:${await freePort()}` });
    const errors: string[] = [];
    proxy.on('upstreamError', ({ error }) => void errors.push((error as NodeJS.ErrnoException).code ?? ''));
    const c = await raw(proxy.port);
    expect(await c.until((x) => x.closed)).toBe(true);
    expect(errors).toEqual(['ECONNREFUSED']);
    expect(proxy.stats.upstreamErrors).toBe(1);
  });

  describe('with()', () => {
    it('applies the toxics for the callback only, and returns its result', async () => {
      const proxy = await proxyWith();
      const c = await raw(proxy.port);
      const rtt = await proxy.with(
        [
          { type: 'latency', attributes: { latency: 50 } },
          { type: 'latency', stream: 'upstream', attributes: { latency: 50 } },
        ],
        async (p) => {
          expect(p.toxics.map((t) => t.name)).toEqual(['latency_downstream', 'latency_upstream']);
          return c.roundTrip('PING\r\n', 7);
        },
      );
      expect(rtt).toBeGreaterThanOrEqual(95);
      expect(proxy.toxics).toEqual([]);
      expect(await c.roundTrip('PING\r\n', 7)).toBeLessThan(50);
    });

    it('removes the toxic when the callback throws', async () => {
      const proxy = await proxyWith();
      const error = await errorOf(
        proxy.with({ type: 'timeout' }, () => {
          throw new Error('test failed inside');
        }),
      );
      expect((error as Error).message).toBe('test failed inside');
      expect(proxy.toxics).toEqual([]);
    });

    it('adds all the toxics or none', async () => {
      const proxy = await proxyWith();
      let ran = false;
      const error = await errorOf(
        proxy.with([{ type: 'latency', attributes: { latency: 10 } }, { type: 'slicer', attributes: {} }], () => {
          ran = true;
        }),
      );
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['[1].attributes.average_size']);
      expect(ran).toBe(false);
      expect(proxy.toxics).toEqual([]);
    });
  });

  describe('toxics', () => {
    it('fills toxiproxy defaults and freezes what it returns', async () => {
      const proxy = new FaultProxy({ name: 'p', upstream: '127.0.0.1:6379' });
      const toxic = proxy.addToxic({ type: 'latency', attributes: { latency: 5 } });
      expect(toxic).toEqual({ name: 'latency_downstream', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 5, jitter: 0 } });
      expect(Object.isFrozen(toxic) && Object.isFrozen(toxic.attributes)).toBe(true);
      expect(proxy.updateToxic('latency_downstream', { attributes: { jitter: 2 } }).attributes).toEqual({ latency: 5, jitter: 2 });
      const current = proxy.getToxic('latency_downstream');
      expect(current?.type === 'latency' && current.attributes.jitter).toBe(2);
    });

    it('refuses a name in use, an unknown name, a bad update and a changed stream', () => {
      const proxy = new FaultProxy({ name: 'p', upstream: '127.0.0.1:6379', toxics: [{ name: 'lag', type: 'latency' }] });
      const exists = thrown(() => proxy.addToxic({ name: 'lag', type: 'bandwidth' }));
      expect(isFaultProxyError(exists) && exists.code).toBe('TOXIC_EXISTS');
      expect(() => proxy.removeToxic('nope')).toThrow(expect.objectContaining({ code: 'TOXIC_NOT_FOUND' }));
      expect(() => proxy.updateToxic('lag', { toxicity: 2, attributes: { latency: -1 } })).toThrow(
        expect.objectContaining({ issues: [expect.objectContaining({ path: 'toxicity' }), expect.objectContaining({ path: 'attributes.latency' })] }),
      );
      expect(() => proxy.updateToxic('lag', { stream: 'upstream' } as never)).toThrow(/stream: expected "downstream" \(it cannot change\)/);
      expect(proxy.getToxic('lag')?.attributes).toEqual({ latency: 0, jitter: 0 });
    });
  });

  it('validates every option at once, toxics included', () => {
    const error = thrown(
      () =>
        new FaultProxy({
          name: '',
          listen: 'localhost',
          upstream: '127.0.0.1:0',
          enabled: 'yes' as never,
          toxics: [
            { type: 'latency', attributes: { latency: -5, latncy: 3 } as never },
            { type: 'explode' } as never,
            { type: 'slicer', toxicity: 1.5, attributes: { average_size: 10, size_variation: 10 } },
            { name: 'x', type: 'limit_data' },
            { name: 'x', type: 'limit_data' },
          ],
        }),
    ) as InvalidOptionsError | undefined;
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error?.issues.map((i) => i.path)).toEqual([
      'name',
      'listen',
      'upstream',
      'enabled',
      'toxics[0].attributes.latncy',
      'toxics[0].attributes.latency',
      'toxics[1].type',
      'toxics[2].toxicity',
      'toxics[2].attributes.size_variation',
      'toxics[4].name',
    ]);
  });
});
