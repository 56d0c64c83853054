import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisBus, type RedisBusOptions } from '../../../src/adapters/redis/redis-bus.js';
import { InMemoryCacheLayer } from '../../../src/cache/in-memory-cache-layer.js';
import { MultiLayerCache } from '../../../src/cache/multi-layer-cache.js';
import type { BusStatus } from '../../../src/core/bus.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
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
async function connectedBus(options: Omit<RedisBusOptions, 'client'> = {}): Promise<RedisBus> {
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
  it('a healthy burst of 5,000 publishes is delivered in full, in order, and never reports disconnected', async () => {
    const sender = await connectedBus();
    const receiver = await connectedBus();
    const received: unknown[] = [];
    receiver.subscribe('orders', (message) => received.push(message));
    const statuses: BusStatus[] = [];
    sender.onStatusChange((status) => statuses.push(status));
    await sender.publish('orders', 'warm-up');
    await vi.waitFor(() => expect(received).toEqual(['warm-up']), WAIT);
    received.length = 0;

    const ids = Array.from({ length: 5_000 }, (_, i) => i);
    const sent = Promise.all(ids.map((i) => sender.publish('orders', i)));
    // Past the default cap of 1000, the rest wait in the bus's queue, not in ioredis.
    expect(sender.pendingPublishes).toBe(1_000);
    expect(sender.queuedPublishes).toBe(4_000);
    expect((clients[0] as Redis).commandQueue.length).toBeLessThanOrEqual(1_000);
    expect(sender.connected).toBe(true);
    await sent;
    expect(sender.pendingPublishes).toBe(0);
    expect(sender.queuedPublishes).toBe(0);
    await vi.waitFor(() => expect(received).toHaveLength(5_000), WAIT);
    expect(received).toEqual(ids);
    expect(statuses).toEqual([]);
    expect(sender.droppedPublishes).toBe(0);
    expect(sender.connected).toBe(true);
  });

  it('a burst of 2,000 cache deletions against a healthy Redis neither flushes nor distrusts the memory layer', async () => {
    const busA = await connectedBus({ maxPendingPublishes: 16 });
    const busB = await connectedBus();
    const shared = new InMemoryCacheLayer({ name: 'shared-l2' });
    const a = new MultiLayerCache({ name: 'burst', layers: [shared], bus: busA, ttl: '1h' });
    const b = new MultiLayerCache({ name: 'burst', layers: [shared], bus: busB, ttl: '1h' });
    const busEvents: unknown[] = [];
    a.on('busStatus', (event) => busEvents.push(event));
    const ids = Array.from({ length: 2_000 }, (_, i) => `item:${i}`);
    try {
      await a.set('kept', 'v1');
      await Promise.all(ids.map((id) => a.set(id, 'v1')));
      await vi.waitFor(() => expect(busA.pendingPublishes + busA.queuedPublishes).toBe(0), WAIT);
      for (const id of ids.slice(0, 20)) expect(await b.get(id)).toBe('v1');
      await Promise.all(ids.map((id) => a.delete(id)));
      await vi.waitFor(() => expect(busA.pendingPublishes + busA.queuedPublishes).toBe(0), WAIT);
      expect(busEvents).toEqual([]);
      expect(busA.droppedPublishes).toBe(0);
      expect(busA.connected).toBe(true);
      // Every deletion reached B's memory layer.
      await vi.waitFor(async () => {
        for (const id of ids.slice(0, 20)) expect(await b.get(id)).toBeUndefined();
      }, WAIT);
      expect(await a.get('kept')).toBe('v1');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a frozen Redis: goes disconnected only once the oldest of maxPendingPublishes waited publishStallMs, drops the rest, then recovers', async () => {
    const clock = new VirtualClock();
    const sender = await connectedBus({ maxPendingPublishes: 16, maxQueuedPublishes: 8, publishStallMs: 1_000, clock });
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
    const sent = Array.from({ length: 20 }, (_, i) => settlement(sender.publish('orders', i)));
    await turn();
    // 16 written and unanswered, 4 queued: a full backlog alone is not an outage.
    expect(sent.every((s) => s.state === 'pending')).toBe(true);
    expect(sender.pendingPublishes).toBe(16);
    expect(sender.queuedPublishes).toBe(4);
    expect((clients[0] as Redis).commandQueue.length).toBeLessThanOrEqual(16);
    expect(sender.connected).toBe(true);
    clock.advance(999);
    expect(sender.connected).toBe(true);
    expect(statuses).toEqual([]);

    clock.advance(1);
    expect(sender.connected).toBe(false);
    expect(statuses).toEqual(['disconnected']);
    await turn();
    // The queued ones are dropped (rejected and counted); the written ones still wait for Redis.
    expect(sent.map((s) => s.state)).toEqual([...Array<string>(16).fill('pending'), ...Array<string>(4).fill('rejected')]);
    expect(String((sent[16]?.error as Error).message)).toMatch(/dropped.*not answered/);
    expect(sender.droppedPublishes).toBe(4);
    expect(sender.queuedPublishes).toBe(0);
    await expect(sender.publish('orders', 'still frozen')).rejects.toThrow(/dropped.*publishStallMs 1000/);
    expect(sender.droppedPublishes).toBe(5);
    expect(sender.pendingPublishes).toBe(16);

    server.resume();
    await vi.waitFor(() => expect(sent.slice(0, 16).map((s) => s.state)).toEqual(Array<string>(16).fill('resolved')), WAIT);
    expect(sender.pendingPublishes).toBe(0);
    expect(sender.connected).toBe(true);
    expect(statuses).toEqual(['disconnected', 'connected']);
    await vi.waitFor(() => expect(received).toEqual(Array.from({ length: 16 }, (_, i) => i)), WAIT);

    await sender.publish('orders', 'after');
    await vi.waitFor(() => expect(received.at(-1)).toBe('after'), WAIT);
    expect(sender.droppedPublishes).toBe(5);
  });

  it('a full queue drops the message and reports disconnected (a message was lost) until half the backlog drained', async () => {
    const clock = new VirtualClock();
    const sender = await connectedBus({ maxPendingPublishes: 16, maxQueuedPublishes: 4, clock });
    const statuses: BusStatus[] = [];
    sender.onStatusChange((status) => statuses.push(status));
    server.pause();
    const sent = Array.from({ length: 21 }, (_, i) => settlement(sender.publish('orders', i)));
    await turn();
    expect(sent.map((s) => s.state)).toEqual([...Array<string>(20).fill('pending'), 'rejected']);
    expect(String((sent[20]?.error as Error).message)).toMatch(/dropped.*maxQueuedPublishes 4/);
    expect(sender.droppedPublishes).toBe(1);
    expect(statuses).toEqual(['disconnected']);
    server.resume();
    await vi.waitFor(() => expect(sent.slice(0, 20).every((s) => s.state === 'resolved')).toBe(true), WAIT);
    expect(statuses).toEqual(['disconnected', 'connected']);
    expect(sender.connected).toBe(true);
  });

  it('comes back once half of the unanswered publishes have been answered, not before', async () => {
    const clock = new VirtualClock();
    const sender = await connectedBus({ maxPendingPublishes: 16, clock });
    server.pause();
    const sent = Array.from({ length: 16 }, (_, i) => settlement(sender.publish('orders', i)));
    await turn();
    expect(sender.connected).toBe(true);
    clock.advance(1_000);
    // The default publishStallMs has passed with 16 unanswered: consumers are told before anything is dropped.
    expect(sender.connected).toBe(false);
    expect(sender.droppedPublishes).toBe(0);
    expect(sent.every((s) => s.state === 'pending')).toBe(true);
    server.resume();
    await vi.waitFor(() => expect(sender.connected).toBe(true), WAIT);
    expect(sender.pendingPublishes).toBeLessThanOrEqual(8);
  });

  it('lets the cache invalidations made while Redis was frozen reach the other instance once it is back', async () => {
    const clock = new VirtualClock();
    const shared = new InMemoryCacheLayer({ name: 'shared-l2' });
    const busA = await connectedBus({ maxPendingPublishes: 16, clock });
    const busB = await connectedBus();
    const a = new MultiLayerCache({ name: 'prices', layers: [shared], bus: busA, ttl: '1h' });
    const b = new MultiLayerCache({ name: 'prices', layers: [shared], bus: busB, ttl: '1h' });
    const keys = Array.from({ length: 20 }, (_, i) => `item:${i}`);
    try {
      for (const key of keys) await a.set(key, 'v1');
      // `set` does not wait for its announcement: let Redis answer those before freezing it.
      await vi.waitFor(() => expect(busA.pendingPublishes).toBe(0), WAIT);
      // B's memory layer holds its own copy of every key.
      for (const key of keys) expect(await b.get(key)).toBe('v1');

      server.pause();
      for (const key of keys) await a.set(key, 'v2');
      await turn();
      expect(busA.pendingPublishes).toBe(16);
      expect(busA.queuedPublishes).toBe(4);
      expect(busA.connected).toBe(true);
      clock.advance(1_000);
      // Redis has not answered for publishStallMs: the cache saw the bus go down and kept the 4 queued.
      expect(busA.connected).toBe(false);
      expect(busA.droppedPublishes).toBe(4);
      // B cannot know yet: its copies are stale.
      for (const key of keys) expect(await b.get(key)).toBe('v1');

      server.resume();
      await vi.waitFor(async () => {
        for (const key of keys) expect(await b.get(key)).toBe('v2');
      }, WAIT);
      expect(busA.connected).toBe(true);
      await vi.waitFor(() => expect(busA.pendingPublishes).toBe(0), WAIT);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('validates maxPendingPublishes (>= 16), maxQueuedPublishes, publishStallMs and clock', () => {
    const redis = client();
    const bad: [string, unknown][] = [
      ...[0, 1, 15, -1, 16.5, Number.NaN, Number.POSITIVE_INFINITY, '100'].map((value) => ['maxPendingPublishes', value] as [string, unknown]),
      ...[-1, 1.5, Number.NaN, '10'].map((value) => ['maxQueuedPublishes', value] as [string, unknown]),
      ...[0, -5, Number.NaN, Number.POSITIVE_INFINITY, '1000'].map((value) => ['publishStallMs', value] as [string, unknown]),
      ['clock', {}],
    ];
    for (const [field, value] of bad) {
      const make = (): RedisBus => new RedisBus({ client: redis, [field]: value } as never);
      expect(make).toThrow(InvalidOptionsError);
      expect(make).toThrow(new RegExp(field));
    }
    const bus = new RedisBus({ client: redis, maxPendingPublishes: 16, maxQueuedPublishes: 0, publishStallMs: 1 });
    buses.push(bus);
    expect(bus.pendingPublishes).toBe(0);
    expect(bus.queuedPublishes).toBe(0);
    expect(bus.droppedPublishes).toBe(0);
  });
});
