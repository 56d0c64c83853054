import { describe, expect, it } from 'vitest';
import { MemoryBus, MemoryBusHub } from '../../src/core/bus.js';
import { LocalLock } from '../../src/core/distributed-lock.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { InMemoryCacheLayer } from '../../src/cache/in-memory-cache-layer.js';
import { MultiLayerCache, type MultiLayerCacheOptions } from '../../src/cache/multi-layer-cache.js';
import { CacheSerializationError, jsonSerializer } from '../../src/cache/serializer.js';
import type { CacheLayer } from '../../src/cache/cache-layer.js';
import { errorOf, track } from '../support/promises.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

function setup(options: Partial<MultiLayerCacheOptions> = {}): { clock: VirtualClock; l2: InMemoryCacheLayer; cache: MultiLayerCache } {
  const clock = new VirtualClock(1_000_000);
  const l2 = new InMemoryCacheLayer({ name: 'l2', clock });
  const cache = new MultiLayerCache({ clock, layers: [l2], ...options });
  return { clock, l2, cache };
}

/** A loader that counts its calls and answers with `value` (or what `impl` returns). */
function counting<T>(impl: () => T | Promise<T>): { calls: number; loader: () => T | Promise<T> } {
  const state = {
    calls: 0,
    loader: () => {
      state.calls++;
      return impl();
    },
  };
  return state;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('MultiLayerCache: the seed API', () => {
  it('get / set(key, value, { ttl }) / delete, ttl in seconds as in the seed', async () => {
    const { clock, cache } = setup();
    expect(await cache.get('quote:t1:f1')).toBeUndefined();
    await cache.set('quote:t1:f1', { price: 42 }, { ttl: 3600 });
    expect(await cache.get('quote:t1:f1')).toEqual({ price: 42 });
    clock.advance(3_599_999);
    expect(await cache.get('quote:t1:f1')).toEqual({ price: 42 });
    clock.advance(1);
    expect(await cache.get('quote:t1:f1')).toBeUndefined();
    await cache.set('a', 1);
    await cache.delete('a');
    expect(await cache.get('a')).toBeUndefined();
  });

  it('accepts duration strings and the seed-001 positional ttl', async () => {
    const { clock, cache } = setup();
    await cache.set('short', 'x', { ttl: '500ms' });
    await cache.set('positional', 'y', 86400);
    clock.advance(499);
    expect(await cache.get('short')).toBe('x');
    clock.advance(1);
    expect(await cache.get('short')).toBeUndefined();
    clock.advance(86_399_499);
    expect(await cache.get('positional')).toBe('y');
    clock.advance(1);
    expect(await cache.get('positional')).toBeUndefined();
  });

  it('the default TTL is one hour', async () => {
    const { clock, cache } = setup();
    await cache.set('k', 1);
    clock.advance(3_599_999);
    expect(await cache.get('k')).toBe(1);
    clock.advance(1);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('delete with a trailing * removes every key with that prefix in every layer', async () => {
    const { cache, l2 } = setup();
    await cache.set('non-critical:a', 1);
    await cache.set('non-critical:b', 2);
    await cache.set('critical:c', 3);
    await cache.delete('non-critical:*');
    expect(await cache.get('non-critical:a')).toBeUndefined();
    expect(await cache.get('non-critical:b')).toBeUndefined();
    expect(await cache.get('critical:c')).toBe(3);
    expect(await l2.get('cache:non-critical:a')).toBeUndefined();
    expect(await l2.get('cache:critical:c')).toBeDefined();
  });

  it('deleteByTag removes tagged entries from L1 and the remote layer', async () => {
    const { cache, l2 } = setup();
    await cache.set('p1', 1, { tags: ['product:1'] });
    await cache.set('p2', 2, { tags: ['product:1', 'catalog'] });
    await cache.set('p3', 3, { tags: ['catalog'] });
    await cache.deleteByTag('product:1');
    expect(await cache.get('p1')).toBeUndefined();
    expect(await cache.get('p2')).toBeUndefined();
    expect(await cache.get('p3')).toBe(3);
    expect(await l2.get('cache:p2')).toBeUndefined();
  });

  it('namespaces keep keys apart and clear() only their own', async () => {
    const { cache } = setup();
    const users = cache.namespace('users');
    const orders = cache.namespace('orders');
    await users.set('1', 'ann');
    await orders.set('1', 'order-1');
    expect(await users.get('1')).toBe('ann');
    expect(await orders.get('1')).toBe('order-1');
    await users.clear();
    expect(await users.get('1')).toBeUndefined();
    expect(await orders.get('1')).toBe('order-1');
    await orders.namespace('eu').set('2', 'x');
    expect(await cache.get('orders:eu:2')).toBe('x');
  });
});

describe('MultiLayerCache: layers', () => {
  it('reads through: a value only in L2 fills L1', async () => {
    const clock = new VirtualClock(0);
    const l2 = new InMemoryCacheLayer({ name: 'l2', clock });
    const writer = new MultiLayerCache({ clock, layers: [l2], memory: false });
    const reader = new MultiLayerCache({ clock, layers: [l2] });
    await writer.set('k', { n: 1 });
    expect(await reader.get('k')).toEqual({ n: 1 });
    expect(reader.getMetrics().layers.map((l) => [l.name, l.hits, l.misses])).toEqual([
      ['memory', 0, 1],
      ['l2', 1, 0],
    ]);
    expect(await reader.get('k')).toEqual({ n: 1 });
    expect(reader.getMetrics().layers[0]?.hits).toBe(1);
  });

  it('a value only in L3 fills L2 and L1, keeping its remaining lifetime', async () => {
    const clock = new VirtualClock(0);
    const l2 = new InMemoryCacheLayer({ name: 'l2', clock });
    const l3 = new InMemoryCacheLayer({ name: 'l3', clock });
    const seeder = new MultiLayerCache({ clock, layers: [l3], memory: false });
    await seeder.set('k', 'v', { ttl: 10 });
    clock.advance(4_000);
    const cache = new MultiLayerCache({ clock, layers: [l2, l3] });
    expect(await cache.get('k')).toBe('v');
    await Promise.resolve();
    expect(await l2.get('cache:k')).toBeDefined();
    clock.advance(5_999);
    expect(await l2.get('cache:k')).toBeDefined();
    clock.advance(1);
    expect(await l2.get('cache:k')).toBeUndefined();
    expect(await cache.get('k')).toBeUndefined();
  });

  it('round-trips Date, Map, Set and BigInt through a remote layer', async () => {
    const clock = new VirtualClock(0);
    const l2 = new InMemoryCacheLayer({ clock });
    const writer = new MultiLayerCache({ clock, layers: [l2], memory: false });
    const value = { at: new Date(5), m: new Map([['a', new Set([1n, 2n])]]), n: undefined, big: 2n ** 70n };
    await writer.set('k', value);
    const read = await writer.get<typeof value>('k');
    expect(read).toEqual(value);
    expect(read?.at).toBeInstanceOf(Date);
    expect(read?.m.get('a')?.has(2n)).toBe(true);
  });

  it('refuses a value it cannot serialize, naming the key and the path, and writes nothing', async () => {
    const { cache, l2 } = setup();
    await cache.set('k', 'old');
    const error = await errorOf(cache.set('k', { nested: { callback: () => 1 } }));
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect((error as CacheSerializationError).code).toBe('CACHE_SERIALIZATION');
    expect((error as Error).message).toContain('"k"');
    expect((error as CacheSerializationError).path).toBe('.nested.callback');
    expect(await cache.get('k')).toBe('old');
    expect(await l2.get('cache:k')).toBeDefined();
    class Money {
      constructor(readonly cents: number) {}
    }
    await expect(cache.set('m', new Money(1))).rejects.toThrow(/non-POJO/);
  });

  it('the JSON serializer refuses what JSON would silently change', async () => {
    const { cache } = setup({ serializer: jsonSerializer });
    await cache.set('ok', { a: [1, 'x', null] });
    expect(await cache.get('ok')).toEqual({ a: [1, 'x', null] });
    const error = (await errorOf(cache.set('d', { when: new Date(0) }))) as CacheSerializationError;
    expect(error.path).toBe('.when');
    expect(error.message).toMatch(/Date/);
    await expect(cache.set('b', 1n)).rejects.toThrow(/bigint/);
  });

  it('bounds L1 by entries (least recently used go first) and by bytes', async () => {
    const clock = new VirtualClock(0);
    const cache = new MultiLayerCache({ clock, memory: { maxEntries: 2 } });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.get('a');
    await cache.set('c', 3);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe(1);
    const sized = new MultiLayerCache({ clock, memory: { maxSizeBytes: 100, sizeOf: (v) => String(v).length } });
    await sized.set('x', 'a'.repeat(60));
    await sized.set('y', 'b'.repeat(60));
    expect(await sized.get('x')).toBeUndefined();
    expect(await sized.get('y')).toBe('b'.repeat(60));
    expect(sized.getMetrics().memoryEntries).toBe(1);
  });

  it('memory.ttl caps how long L1 trusts a copy before reading the remote layer again', async () => {
    const clock = new VirtualClock(0);
    const l2 = new InMemoryCacheLayer({ clock });
    const a = new MultiLayerCache({ clock, layers: [l2], memory: { ttl: 5 } });
    const b = new MultiLayerCache({ clock, layers: [l2] });
    await a.set('k', 'v1');
    await b.set('k', 'v2');
    expect(await a.get('k')).toBe('v1');
    clock.advance(5_000);
    expect(await a.get('k')).toBe('v2');
  });
});

describe('MultiLayerCache: getOrSet', () => {
  it('loads on a miss, caches, and answers later calls from L1', async () => {
    const { cache } = setup();
    const load = counting(() => 'v');
    expect(await cache.getOrSet('k', load.loader)).toBe('v');
    expect(await cache.getOrSet('k', load.loader)).toBe('v');
    expect(load.calls).toBe(1);
    const m = cache.getMetrics();
    expect([m.hits, m.misses, m.loads]).toEqual([1, 1, 1]);
  });

  it('1,000 concurrent misses of one key run the loader once', async () => {
    const { cache } = setup();
    const gate = deferred<string>();
    const load = counting(() => gate.promise);
    const calls = Array.from({ length: 1_000 }, () => cache.getOrSet('hot', load.loader));
    await new Promise((resolve) => setImmediate(resolve));
    gate.resolve('value');
    expect(new Set(await Promise.all(calls))).toEqual(new Set(['value']));
    expect(load.calls).toBe(1);
    expect(cache.getMetrics().coalesced).toBe(999);
  });

  it('a failing loader rejects every waiter with its error and caches nothing', async () => {
    const { cache } = setup();
    const boom = new Error('db down');
    const load = counting(() => Promise.reject(boom));
    const results = await Promise.allSettled([cache.getOrSet('k', load.loader), cache.getOrSet('k', load.loader)]);
    expect(results.map((r) => (r.status === 'rejected' ? r.reason : r.value))).toEqual([boom, boom]);
    expect(load.calls).toBe(1);
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.getMetrics().loadErrors).toBe(1);
  });

  it('stale-if-error: within grace a failing loader is covered by the stale value', async () => {
    const { clock, cache } = setup({ grace: '1h' });
    await cache.set('k', 'old', { ttl: 10 });
    clock.advance(10_000);
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.get('k', { allowStale: true })).toBe('old');
    const stale: string[] = [];
    cache.on('staleServed', ({ reason }) => stale.push(reason));
    expect(await cache.getOrSet('k', () => Promise.reject(new Error('down')))).toBe('old');
    expect(stale).toEqual(['loader-error']);
    clock.advance(3_600_000);
    await expect(cache.getOrSet('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  });

  it('soft timeout: a slow loader is covered by the stale value, and its late value is cached', async () => {
    const { clock, cache } = setup({ grace: '1h', loader: { softTimeoutMs: 100 } });
    await cache.set('k', 'old', { ttl: 1 });
    clock.advance(1_000);
    const gate = deferred<string>();
    const answer = track(cache.getOrSet('k', () => gate.promise));
    await clock.advanceAsync(99);
    expect(answer.state).toBe('pending');
    await clock.advanceAsync(1);
    expect(answer).toMatchObject({ state: 'resolved', value: 'old' });
    // While the loader still runs, callers get the stale value at once instead of starting another.
    const load = counting(() => 'never');
    expect(await cache.getOrSet('k', load.loader)).toBe('old');
    expect(load.calls).toBe(0);
    gate.resolve('new');
    await clock.advanceAsync(0);
    expect(await cache.get('k')).toBe('new');
  });

  it('hard timeout aborts the loader signal and fails without a stale value', async () => {
    const { clock, cache } = setup();
    let signal: AbortSignal | undefined;
    const answer = track(
      cache.getOrSet(
        'k',
        (ctx) => {
          signal = ctx.signal;
          return new Promise<string>(() => {});
        },
        { hardTimeoutMs: 500 },
      ),
    );
    await clock.advanceAsync(499);
    expect(answer.state).toBe('pending');
    await clock.advanceAsync(1);
    expect(answer.state).toBe('rejected');
    expect((answer.error as { code?: string }).code).toBe('TIMEOUT');
    expect(signal?.aborted).toBe(true);
  });

  it('stale-while-revalidate answers at once and refreshes in the background, once', async () => {
    const { clock, cache } = setup({ grace: '1h' });
    await cache.set('k', 'v1', { ttl: 1 });
    clock.advance(1_000);
    const gate = deferred<string>();
    const load = counting(() => gate.promise);
    expect(await cache.getOrSet('k', load.loader, { staleWhileRevalidate: true })).toBe('v1');
    expect(await cache.getOrSet('k', load.loader, { staleWhileRevalidate: true })).toBe('v1');
    expect(load.calls).toBe(1);
    gate.resolve('v2');
    await clock.advanceAsync(0);
    expect(await cache.getOrSet('k', load.loader)).toBe('v2');
    expect(load.calls).toBe(1);
  });

  it('the loader gets the key, a signal and the stale value', async () => {
    const { clock, cache } = setup({ grace: 60 });
    await cache.set('k', 1, { ttl: 1 });
    clock.advance(1_000);
    const seen: unknown[] = [];
    await cache.getOrSet('k', ({ key, signal, stale }) => {
      seen.push(key, signal.aborted, stale);
      return 2;
    });
    expect(seen).toEqual(['k', false, 1]);
  });

  it('rejects bad options naming the field', async () => {
    const { cache } = setup();
    const error = (await errorOf(cache.getOrSet('k', () => 1, { ttl: '3 weeks', softTimeoutMs: -1 }))) as InvalidOptionsError;
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error.issues.map((i) => i.path)).toEqual(['ttl', 'softTimeoutMs']);
    await expect(cache.set('k', 1, { tags: [''] })).rejects.toThrow(/tags: expected an array of non-empty strings/);
  });

  it('with a shared lock, two instances missing at once load the key once', async () => {
    const clock = new VirtualClock(0);
    const l2 = new InMemoryCacheLayer({ clock });
    const lock = new LocalLock({ clock });
    const a = new MultiLayerCache({ clock, layers: [l2], lock, lockOptions: { pollMs: 10 } });
    const b = new MultiLayerCache({ clock, layers: [l2], lock, lockOptions: { pollMs: 10 } });
    const gate = deferred<string>();
    const load = counting(() => gate.promise);
    const ra = track(a.getOrSet('k', load.loader));
    await clock.advanceAsync(0);
    const rb = track(b.getOrSet('k', load.loader));
    await clock.advanceAsync(30);
    expect(load.calls).toBe(1);
    gate.resolve('once');
    await clock.advanceAsync(10);
    expect(ra).toMatchObject({ state: 'resolved', value: 'once' });
    expect(rb).toMatchObject({ state: 'resolved', value: 'once' });
    expect(load.calls).toBe(1);
  });

  it('a lock held too long does not block: after waitMs the instance loads itself', async () => {
    const clock = new VirtualClock(0);
    const l2 = new InMemoryCacheLayer({ clock });
    const lock = new LocalLock({ clock });
    await lock.tryAcquire('cache:k', 60_000);
    const cache = new MultiLayerCache({ clock, layers: [l2], lock, lockOptions: { waitMs: 200, pollMs: 50 } });
    const answer = track(cache.getOrSet('k', () => 'mine'));
    await clock.advanceAsync(150);
    expect(answer.state).toBe('pending');
    await clock.advanceAsync(50);
    expect(answer).toMatchObject({ state: 'resolved', value: 'mine' });
  });
});

describe('MultiLayerCache: fleet invalidation over a bus', () => {
  function fleet(): { clock: VirtualClock; l2: InMemoryCacheLayer; busA: MemoryBus; busB: MemoryBus; a: MultiLayerCache; b: MultiLayerCache } {
    const clock = new VirtualClock(0);
    const l2 = new InMemoryCacheLayer({ clock });
    const hub = new MemoryBusHub();
    const busA = new MemoryBus(hub);
    const busB = new MemoryBus(hub);
    const a = new MultiLayerCache({ clock, layers: [l2], bus: busA });
    const b = new MultiLayerCache({ clock, layers: [l2], bus: busB });
    return { clock, l2, busA, busB, a, b };
  }

  it('a write or delete on one instance drops the other instance L1 copy', async () => {
    const { a, b } = fleet();
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    await a.set('k', 'v2');
    await Promise.resolve();
    expect(await b.get('k')).toBe('v2');
    await a.delete('k');
    await Promise.resolve();
    expect(await b.get('k')).toBeUndefined();
    await b.set('t', 1, { tags: ['x'] });
    await b.set('p:1', 1);
    expect(await a.get('t')).toBe(1);
    expect(await a.get('p:1')).toBe(1);
    await b.deleteByTag('x');
    await b.delete('p:*');
    await Promise.resolve();
    expect(await a.get('t')).toBeUndefined();
    expect(await a.get('p:1')).toBeUndefined();
  });

  it('after a bus outage no instance serves a value another deleted while the bus was down', async () => {
    const { a, b, busB } = fleet();
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    busB.setConnected(false);
    await a.delete('k');
    // B missed the message, but while its bus is down its L1 copy is suspect and L2 answers.
    expect(await b.get('k')).toBeUndefined();
    await a.set('k2', 'x');
    expect(await b.get('k2')).toBe('x');
    await a.delete('k2');
    busB.setConnected(true);
    expect(b.getMetrics().epoch).toBe(2);
    expect(await b.get('k2')).toBeUndefined();
  });

  it('a suspect L1 copy still answers when every remote layer is unreachable', async () => {
    const clock = new VirtualClock(0);
    const hub = new MemoryBusHub();
    const bus = new MemoryBus(hub);
    const down: CacheLayer = {
      name: 'down',
      get: () => Promise.reject(new Error('ECONNREFUSED')),
      set: () => Promise.reject(new Error('ECONNREFUSED')),
      delete: () => Promise.reject(new Error('ECONNREFUSED')),
      deleteByPrefix: () => Promise.reject(new Error('ECONNREFUSED')),
      deleteByTag: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const cache = new MultiLayerCache({ clock, layers: [down], bus });
    await cache.set('k', 'kept');
    bus.setConnected(false);
    const load = counting(() => 'loaded');
    expect(await cache.getOrSet('k', load.loader)).toBe('kept');
    expect(load.calls).toBe(0);
    expect(cache.getMetrics().staleHits).toBe(1);
  });
});

describe('MultiLayerCache: warming', () => {
  it('warms on start and on its cron schedule, reporting failures without throwing', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 1, 23, 0, 0));
    let version = 0;
    const cache = new MultiLayerCache({
      clock,
      warm: {
        cron: '0 0 * * *',
        timezone: 'UTC',
        entries: [
          { key: 'pricing:matrix', loader: () => ({ version: ++version }), ttl: 86400 },
          { key: 'broken', loader: () => Promise.reject(new Error('no catalog')) },
        ],
      },
    });
    const reports: { loaded: string[]; failed: { key: string }[] }[] = [];
    cache.on('warmed', (r) => reports.push(r));
    await cache.start();
    expect(await cache.get('pricing:matrix')).toEqual({ version: 1 });
    expect(reports[0]?.loaded).toEqual(['pricing:matrix']);
    expect(reports[0]?.failed.map((f) => f.key)).toEqual(['broken']);
    await clock.advanceAsync(3_599_999);
    expect(version).toBe(1);
    await clock.advanceAsync(1);
    expect(version).toBe(2);
    expect(await cache.get('pricing:matrix')).toEqual({ version: 2 });
    await cache.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects an invalid cron pattern at construction, naming the field', () => {
    expect(() => new MultiLayerCache({ warm: { entries: [], cron: 'every day' } })).toThrow(/warm\.cron: expected a valid cron pattern/);
  });
});

describe('MultiLayerCache: options', () => {
  it('lists every bad option with its path', () => {
    let error: InvalidOptionsError | undefined;
    try {
      new MultiLayerCache({
        memory: { maxEntries: 0 },
        ttl: -1,
        remote: { softTimeoutMs: 100, hardTimeoutMs: 50 },
        layers: [{ name: 'x' } as unknown as CacheLayer],
      });
    } catch (e) {
      error = e as InvalidOptionsError;
    }
    expect(error?.issues.map((i) => i.path)).toEqual(['memory.maxEntries', 'layers[0]', 'remote.hardTimeoutMs', 'ttl']);
  });
});
