import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisBus } from '../../../src/adapters/redis/redis-bus.js';
import { InMemoryCacheLayer } from '../../../src/cache/in-memory-cache-layer.js';
import { MultiLayerCache } from '../../../src/cache/multi-layer-cache.js';
import type { BusStatus } from '../../../src/core/bus.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { PrivateRedisServer } from '../../support/redis-server.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

// Real Redis frozen with SIGSTOP: what is waited for is Redis answering again, so the waits are for
// events (a bus status, a delivery), bounded by a generous deadline, never fixed sleeps.
const WAIT = { timeout: 10_000, interval: 10 };

let server: PrivateRedisServer;
const clients: Redis[] = [];
const buses: RedisBus[] = [];

beforeAll(async () => {
  server = await PrivateRedisServer.start();
});

afterEach(async () => {
  server.resume();
  for (const bus of buses.splice(0)) await bus.close();
  for (const client of clients.splice(0)) client.disconnect();
});

afterAll(async () => {
  await server?.stop();
});

function client(): Redis {
  const redis = new Redis(server.options);
  redis.on('error', () => {});
  clients.push(redis);
  return redis;
}

/** A bus on its own connections, connected (subscribed) before it is returned. */
async function connectedBus(options: { maxPendingPublishes?: number } = {}): Promise<RedisBus> {
  const bus = new RedisBus({ client: client(), ...options });
  buses.push(bus);
  await vi.waitFor(() => expect(bus.connected).toBe(true), WAIT);
  return bus;
}

/** Lets every pending callback and I/O event of this turn run. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** How a promise settled so far, without ever leaving it unhandled. */
function settlement(promise: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const s: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  promise.then(
    () => void (s.state = 'resolved'),
    (error: unknown) => Object.assign(s, { state: 'rejected', error }),
  );
  return s;
}

describe('RedisBus: bounded publish backlog', () => {
  it('keeps at most maxPendingPublishes unanswered while Redis is frozen, drops and counts the newest, then delivers again', async () => {
    const sender = await connectedBus({ maxPendingPublishes: 5 });
    const receiver = await connectedBus();
    const received: unknown[] = [];
    receiver.subscribe('orders', (message) => received.push(message));
    const statuses: BusStatus[] = [];
    sender.onStatusChange((status) => statuses.push(status));
    // Subscriptions are made; a round trip through Redis proves the path works before the freeze.
    await sender.publish('orders', 'before');
    await vi.waitFor(() => expect(received).toEqual(['before']), WAIT);
    received.length = 0;

    server.pause();
    const sent = Array.from({ length: 12 }, (_, i) => settlement(sender.publish('orders', i)));
    await turn();
    expect(sent.map((s) => s.state)).toEqual([...Array<string>(5).fill('pending'), ...Array<string>(7).fill('rejected')]);
    expect(String((sent[5]?.error as Error).message)).toMatch(/dropped.*maxPendingPublishes 5/);
    expect(sender.pendingPublishes).toBe(5);
    expect(sender.droppedPublishes).toBe(7);
    // What ioredis itself holds for the frozen server is bounded the same way.
    expect((clients[0] as Redis).commandQueue.length).toBeLessThanOrEqual(5);
    expect(sender.connected).toBe(false);
    expect(statuses).toEqual(['disconnected']);
    await expect(sender.publish('orders', 'still frozen')).rejects.toThrow(/dropped/);
    expect(sender.droppedPublishes).toBe(8);
    expect(sender.pendingPublishes).toBe(5);

    server.resume();
    await vi.waitFor(() => expect(sent.slice(0, 5).map((s) => s.state)).toEqual(Array<string>(5).fill('resolved')), WAIT);
    expect(sender.pendingPublishes).toBe(0);
    expect(sender.connected).toBe(true);
    expect(statuses).toEqual(['disconnected', 'connected']);
    await vi.waitFor(() => expect(received).toEqual([0, 1, 2, 3, 4]), WAIT);

    await sender.publish('orders', 'after');
    await vi.waitFor(() => expect(received).toEqual([0, 1, 2, 3, 4, 'after']), WAIT);
    expect(sender.droppedPublishes).toBe(8);
  });

  it('comes back once half of the backlog has drained, not before', async () => {
    const sender = await connectedBus({ maxPendingPublishes: 4 });
    server.pause();
    const sent = Array.from({ length: 4 }, (_, i) => settlement(sender.publish('orders', i)));
    await turn();
    // The fourth filled the backlog: consumers are told before anything is dropped.
    expect(sender.connected).toBe(false);
    expect(sender.droppedPublishes).toBe(0);
    expect(sent.every((s) => s.state === 'pending')).toBe(true);
    server.resume();
    await vi.waitFor(() => expect(sender.connected).toBe(true), WAIT);
    expect(sender.pendingPublishes).toBeLessThanOrEqual(2);
  });

  it('lets the cache invalidations made while Redis was frozen reach the other instance once it is back', async () => {
    const shared = new InMemoryCacheLayer({ name: 'shared-l2' });
    const busA = await connectedBus({ maxPendingPublishes: 3 });
    const busB = await connectedBus();
    const a = new MultiLayerCache({ name: 'prices', layers: [shared], bus: busA, ttl: '1h' });
    const b = new MultiLayerCache({ name: 'prices', layers: [shared], bus: busB, ttl: '1h' });
    const keys = Array.from({ length: 10 }, (_, i) => `item:${i}`);
    try {
      for (const key of keys) await a.set(key, 'v1');
      // `set` does not wait for its announcement: let Redis answer those before freezing it.
      await vi.waitFor(() => expect(busA.pendingPublishes).toBe(0), WAIT);
      // B's memory layer holds its own copy of every key.
      for (const key of keys) expect(await b.get(key)).toBe('v1');

      server.pause();
      for (const key of keys) await a.set(key, 'v2');
      await turn();
      // Three invalidations wait for the frozen server; the cache saw the bus go down and kept the rest.
      expect(busA.pendingPublishes).toBe(3);
      expect(busA.connected).toBe(false);
      expect(busA.droppedPublishes).toBe(0);
      // B cannot know yet: its copies are stale.
      for (const key of keys) expect(await b.get(key)).toBe('v1');

      server.resume();
      await vi.waitFor(async () => {
        for (const key of keys) expect(await b.get(key)).toBe('v2');
      }, WAIT);
      expect(busA.connected).toBe(true);
      expect(busA.pendingPublishes).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('validates maxPendingPublishes', () => {
    const redis = client();
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10']) {
      expect(() => new RedisBus({ client: redis, maxPendingPublishes: bad as never })).toThrow(InvalidOptionsError);
      expect(() => new RedisBus({ client: redis, maxPendingPublishes: bad as never })).toThrow(/maxPendingPublishes/);
    }
    const bus = new RedisBus({ client: redis, maxPendingPublishes: 1 });
    buses.push(bus);
    expect(bus.pendingPublishes).toBe(0);
    expect(bus.droppedPublishes).toBe(0);
  });
});
