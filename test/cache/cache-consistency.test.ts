import { describe, expect, it } from 'vitest';
import { MemoryBus, MemoryBusHub } from '../../src/core/bus.js';
import type { DistributedLock } from '../../src/core/distributed-lock.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { InMemoryCacheLayer } from '../../src/cache/in-memory-cache-layer.js';
import { MultiLayerCache } from '../../src/cache/multi-layer-cache.js';
import type { CacheLayer } from '../../src/cache/cache-layer.js';
import { track } from '../support/promises.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

class Flaky implements CacheLayer {
  name = 'flaky';
  failDeletes = false;
  mode: 'ok' | 'fail' = 'ok';
  constructor(readonly store: InMemoryCacheLayer) {}
  get(k: string) { return this.mode === 'fail' ? Promise.reject(new Error('down')) : this.store.get(k); }
  set(k: string, v: string, t: number, tags: readonly string[]) { return this.mode === 'fail' ? Promise.reject(new Error('down')) : this.store.set(k, v, t, tags); }
  delete(keys: readonly string[]) { return this.mode === 'fail' || this.failDeletes ? Promise.reject(new Error('ETIMEDOUT')) : this.store.delete(keys); }
  deleteByPrefix(p: string) { return this.store.deleteByPrefix(p); }
  deleteByTag(t: string) { return this.store.deleteByTag(t); }
}

// Races and outages found in review; each test failed before its fix.
describe('MultiLayerCache consistency under races and outages', () => {
  it('a delete made while the deleting instance bus is down is announced when its bus is back', async () => {
    const clock = new VirtualClock(0);
    const l2 = new InMemoryCacheLayer({ clock });
    const hub = new MemoryBusHub();
    const busA = new MemoryBus(hub);
    const busB = new MemoryBus(hub);
    const a = new MultiLayerCache({ clock, layers: [l2], bus: busA });
    const b = new MultiLayerCache({ clock, layers: [l2], bus: busB });
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    busA.setConnected(false);
    await a.delete('k');            // L2 delete succeeds, announce is skipped
    busA.setConnected(true);
    await clock.advanceAsync(0);
    expect(await l2.get('cache:k')).toBeUndefined();
    expect(await b.get('k')).toBeUndefined();
  });

  it('a set() made while a loader is in flight is not overwritten by the older loaded value', async () => {
    const clock = new VirtualClock(0);
    const l2 = new InMemoryCacheLayer({ clock });
    const cache = new MultiLayerCache({ clock, layers: [l2] });
    const gate = deferred<string>();
    const pending = cache.getOrSet('k', () => gate.promise); // loader read the DB before the update
    await clock.advanceAsync(0);
    await cache.set('k', 'new');      // app updates DB + cache
    expect(await cache.get('k')).toBe('new');
    gate.resolve('old');
    await pending;
    await clock.advanceAsync(0);
    expect(await cache.get('k')).toBe('new');
  });

  it('a bus delete arriving while a loader is in flight keeps the loaded value out of the cache', async () => {
    const clock = new VirtualClock(0);
    const l2 = new InMemoryCacheLayer({ clock });
    const hub = new MemoryBusHub();
    const a = new MultiLayerCache({ clock, layers: [l2], bus: new MemoryBus(hub) });
    const b = new MultiLayerCache({ clock, layers: [l2], bus: new MemoryBus(hub) });
    const gate = deferred<string>();
    const pending = b.getOrSet('k', () => gate.promise);
    await clock.advanceAsync(0);
    await a.delete('k'); // invalidation announced while B loads
    await clock.advanceAsync(0);
    gate.resolve('old');
    await pending;
    await clock.advanceAsync(0);
    expect(await a.get('k')).toBeUndefined();
    expect(await l2.get('cache:k')).toBeUndefined();
  });

  it('a hung lock backend does not hang getOrSet: it loads without the lock', async () => {
    const clock = new VirtualClock(0);
    const hung: DistributedLock = { tryAcquire: () => new Promise(() => {}) };
    const cache = new MultiLayerCache({ clock, layers: [new InMemoryCacheLayer({ clock })], lock: hung, loader: { hardTimeoutMs: 1_000 } });
    const r = track(cache.getOrSet('k', () => 'v'));
    await clock.advanceAsync(60_000);
    expect(r).toMatchObject({ state: 'resolved', value: 'v' });
    const r2 = track(cache.getOrSet('k', () => 'v'));
    await clock.advanceAsync(60_000);
    expect(r2).toMatchObject({ state: 'resolved', value: 'v' });
  });

  it('a loader that never settles is cut by the default hard timeout, so later callers load again', async () => {
    const clock = new VirtualClock(0);
    const cache = new MultiLayerCache({ clock });
    const hung = track(cache.getOrSet('k', () => new Promise<string>(() => {})));
    await clock.advanceAsync(0);
    const later = track(cache.getOrSet('k', () => 'healthy-now'));
    await clock.advanceAsync(3_600_000);
    expect(hung.state).toBe('rejected');
    expect(later.state).toBe('rejected');
    expect(await cache.getOrSet('k', () => 'healthy-now')).toBe('healthy-now');
  });

  it('a failed L2 delete while the circuit stays closed is retried and announced again', async () => {
    const clock = new VirtualClock(0);
    const store = new InMemoryCacheLayer({ clock });
    const flaky = new Flaky(store);
    const hub = new MemoryBusHub();
    const a = new MultiLayerCache({ clock, layers: [flaky], bus: new MemoryBus(hub) });
    const b = new MultiLayerCache({ clock, layers: [store], bus: new MemoryBus(hub) });
    await a.set('k', 'v1');
    flaky.failDeletes = true;
    await a.delete('k'); // fails once; announced anyway
    flaky.failDeletes = false;
    // B may read the old value until the retry (one soft timeout later), whose announcement drops it again.
    await b.get('k');
    await clock.advanceAsync(50);
    expect(a.getMetrics().layers[1]?.state).toBe('closed');
    expect(a.getMetrics().layers[1]?.pendingResync).toBe(0);
    expect(await store.get('cache:k')).toBeUndefined();
    expect(await b.get('k')).toBeUndefined();
  });

  it('the half-open probe does not serve a key deleted during the outage', async () => {
    const clock = new VirtualClock(0);
    const flaky = new Flaky(new InMemoryCacheLayer({ clock }));
    const cache = new MultiLayerCache({ clock, memory: false, layers: [flaky], remote: { breaker: { minimumCalls: 5, openMs: 5_000 } } });
    await cache.set('changed', 'before-outage');
    flaky.mode = 'fail';
    for (let i = 0; i < 5; i++) await cache.get(`miss-${i}`);
    await cache.delete('changed'); // deleted during the outage: remembered for resync
    flaky.mode = 'ok';
    await clock.advanceAsync(5_000);
    expect(await cache.get('changed')).toBeUndefined();
  });

  it('read-through fill measures with memory.sizeOf', async () => {
    const clock = new VirtualClock(0);
    const l2 = new InMemoryCacheLayer({ clock });
    const writer = new MultiLayerCache({ clock, layers: [l2], memory: false });
    const reader = new MultiLayerCache({ clock, layers: [l2], memory: { maxSizeBytes: 10, sizeOf: () => 1 } });
    await writer.set('a', 'x');
    await writer.set('b', 'y');
    await reader.get('a');
    await reader.get('b');
    // sizeOf says 1 byte each, so both fit in 10; fill measured them with text.length (> 10) instead
    expect(reader.getMetrics().memoryEntries).toBe(2);
  });

  it('a root tag containing ":" does not collide with a namespace tag', async () => {
    const clock = new VirtualClock(0);
    const cache = new MultiLayerCache({ clock, layers: [new InMemoryCacheLayer({ clock })] });
    const users = cache.namespace('users');
    await users.set('1', 'ann', { tags: ['vip'] });
    await cache.deleteByTag('users:vip'); // unrelated root tag
    expect(await users.get('1')).toBe('ann');
  });

  it('closing a namespace view leaves the cache on its bus', async () => {
    const clock = new VirtualClock(0);
    const l2 = new InMemoryCacheLayer({ clock });
    const hub = new MemoryBusHub();
    const a = new MultiLayerCache({ clock, layers: [l2], bus: new MemoryBus(hub) });
    const b = new MultiLayerCache({ clock, layers: [l2], bus: new MemoryBus(hub) });
    await b.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    await b.namespace('tmp').close();
    await a.set('k', 'v2');
    await clock.advanceAsync(0);
    expect(await b.get('k')).toBe('v2');
  });

  it('stale-while-revalidate with a lock asks for the lock once', async () => {
    const clock = new VirtualClock(0);
    let acquires = 0;
    const gates: ((v: undefined) => void)[] = [];
    const lock: DistributedLock = { tryAcquire: () => { acquires++; return new Promise((r) => gates.push(r)); } };
    const cache = new MultiLayerCache({ clock, layers: [new InMemoryCacheLayer({ clock })], lock, grace: '1h' });
    await cache.set('k', 'v1', { ttl: 1 });
    clock.advance(1_000);
    for (let i = 0; i < 5; i++) expect(await cache.getOrSet('k', () => 'v2', { staleWhileRevalidate: true })).toBe('v1');
    expect(acquires).toBe(1);
    for (const open of gates) open(undefined);
    await clock.advanceAsync(100);
  });
});
