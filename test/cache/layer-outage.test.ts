import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import type { CacheLayer } from '../../src/cache/cache-layer.js';
import { InMemoryCacheLayer } from '../../src/cache/in-memory-cache-layer.js';
import { MultiLayerCache } from '../../src/cache/multi-layer-cache.js';
import { track } from '../support/promises.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/**
 * A layer in front of an in-memory store that can hang (commands wait, then run in order on resume, as a
 * SIGSTOPped Redis does) or fail (every command rejects, as a killed Redis does).
 */
class FlakyLayer implements CacheLayer {
  readonly name = 'flaky';
  mode: 'ok' | 'hang' | 'fail' = 'ok';
  commands = 0;
  private held: (() => void)[] = [];
  constructor(readonly store: InMemoryCacheLayer) {}

  resume(): void {
    this.mode = 'ok';
    for (const run of this.held.splice(0)) run();
  }

  private op<T>(run: () => Promise<T>): Promise<T> {
    this.commands++;
    if (this.mode === 'fail') return Promise.reject(new Error('ECONNREFUSED'));
    if (this.mode === 'hang') return new Promise<T>((resolve, reject) => this.held.push(() => void run().then(resolve, reject)));
    return run();
  }

  get(key: string): Promise<string | undefined> {
    return this.op(() => this.store.get(key));
  }
  set(key: string, value: string, ttlMs: number, tagKeys: readonly string[]): Promise<void> {
    return this.op(() => this.store.set(key, value, ttlMs, tagKeys));
  }
  delete(keys: readonly string[]): Promise<void> {
    return this.op(() => this.store.delete(keys));
  }
  deleteByPrefix(prefix: string): Promise<number> {
    return this.op(() => this.store.deleteByPrefix(prefix));
  }
  deleteByTag(tagKey: string): Promise<number> {
    return this.op(() => this.store.deleteByTag(tagKey));
  }
}

function setup(): { clock: VirtualClock; layer: FlakyLayer; cache: MultiLayerCache } {
  const clock = new VirtualClock(0);
  const layer = new FlakyLayer(new InMemoryCacheLayer({ clock }));
  const cache = new MultiLayerCache({
    clock,
    memory: false,
    layers: [layer],
    remote: { softTimeoutMs: 50, hardTimeoutMs: 1_000, breaker: { minimumCalls: 5, openMs: 5_000 } },
  });
  return { clock, layer, cache };
}

describe('a hung remote layer', () => {
  it('adds exactly the soft timeout per call, then its breaker opens and the layer is bypassed at once', async () => {
    const { clock, layer, cache } = setup();
    await cache.set('k', 'cached');
    layer.mode = 'hang';
    const states: string[] = [];
    cache.on('layerStateChange', ({ to }) => states.push(to));

    const first = track(cache.getOrSet('k', () => 'loaded'));
    await clock.advanceAsync(49);
    expect(first.state).toBe('pending');
    await clock.advanceAsync(1);
    expect(first).toMatchObject({ state: 'resolved', value: 'loaded' });

    // Four more calls, each answered at its soft timeout; the hard timeouts then count five failures.
    for (let i = 0; i < 4; i++) {
      const call = track(cache.get('other'));
      await clock.advanceAsync(50);
      expect(call.state).toBe('resolved');
    }
    expect(states).toEqual([]);
    await clock.advanceAsync(1_000);
    expect(states).toEqual(['open']);
    const m = cache.getMetrics().layers[0];
    expect(m?.errors).toBeGreaterThanOrEqual(5);
    expect(m?.softTimeouts).toBeGreaterThanOrEqual(5);

    // Open: no waiting at all, and no command sent.
    const sent = layer.commands;
    const bypassed = track(cache.getOrSet('k', () => 'loaded-again'));
    await clock.advanceAsync(0);
    expect(bypassed).toMatchObject({ state: 'resolved', value: 'loaded-again' });
    expect(layer.commands).toBe(sent);
    expect(cache.healthCheck().status).toBe('degraded');
  });

  it('heals without a restart: the probe closes the circuit and keys changed during the outage are deleted from it', async () => {
    const { clock, layer, cache } = setup();
    await cache.set('changed', 'before-outage');
    layer.mode = 'fail';
    // Five failed calls open the circuit; the write during the outage only reached... nowhere remote.
    for (let i = 0; i < 5; i++) await cache.get(`miss-${i}`);
    expect(cache.getMetrics().layers[0]?.state).toBe('open');
    await cache.set('changed', 'during-outage');
    expect(cache.getMetrics().layers[0]?.pendingResync).toBe(1);

    layer.mode = 'ok';
    const resynced: unknown[] = [];
    cache.on('layerResynced', (e) => resynced.push(e));
    await clock.advanceAsync(5_000);
    // The first call after openMs is the probe; it succeeds and closes the circuit.
    expect(await cache.get('anything')).toBeUndefined();
    await clock.advanceAsync(0);
    expect(cache.getMetrics().layers[0]?.state).toBe('closed');
    expect(resynced).toEqual([{ layer: 'flaky', operations: 1, failed: 0, complete: true }]);
    // The stale "before-outage" value was deleted rather than served.
    expect(await cache.get('changed')).toBeUndefined();
  });

  it('one error does not open the circuit', async () => {
    const { layer, cache } = setup();
    layer.mode = 'fail';
    await cache.get('a');
    layer.mode = 'ok';
    for (let i = 0; i < 10; i++) await cache.get(`b${i}`);
    expect(cache.getMetrics().layers[0]?.state).toBe('closed');
  });

  it('a write answered late (a resumed server) is observed, and as its outcome was unknown it is deleted on recovery', async () => {
    const { clock, layer, cache } = setup();
    layer.mode = 'hang';
    const call = track(cache.set('k', 'v'));
    await clock.advanceAsync(50);
    expect(call.state).toBe('resolved');
    await clock.advanceAsync(2_000);
    expect(cache.getMetrics().layers[0]?.pendingResync).toBe(1);
    layer.resume();
    await clock.advanceAsync(5_000);
    expect(cache.getMetrics().layers[0]?.pendingResync).toBe(0);
    expect(await layer.store.get('cache:k')).toBeUndefined();
  });

  it('a deletion that failed while the circuit stayed closed is retried, and the key is not read meanwhile', async () => {
    const { clock, layer, cache } = setup();
    await cache.set('k', 'old');
    layer.mode = 'fail';
    await cache.delete('k');
    layer.mode = 'ok';
    expect(cache.getMetrics().layers[0]?.state).toBe('closed');
    // Not read from the layer while its deletion is pending.
    expect(await cache.getOrSet('k', () => 'fresh')).toBe('fresh');
    await clock.advanceAsync(50);
    expect(cache.getMetrics().layers[0]?.pendingResync).toBe(0);
  });

  it('a key deleted during an outage is not served by the half-open probe', async () => {
    const { clock, layer, cache } = setup();
    await cache.set('changed', 'before-outage');
    layer.mode = 'fail';
    for (let i = 0; i < 5; i++) await cache.get(`miss-${i}`);
    await cache.delete('changed');
    layer.mode = 'ok';
    await clock.advanceAsync(5_000);
    expect(await cache.get('changed')).toBeUndefined();
    await clock.advanceAsync(100);
    expect(await layer.store.get('cache:changed')).toBeUndefined();
  });
});

describe('policyCacheLayer', () => {
  it('runs every layer command through a policy: a chaos injector fails Redis without touching it', async () => {
    const { ChaosControl } = await import('../../src/chaos/chaos-control.js');
    const { ChaosRegistry } = await import('../../src/chaos/chaos-registry.js');
    const { policyCacheLayer } = await import('../../src/cache/policy-cache-layer.js');
    const clock = new VirtualClock(0);
    const store = new InMemoryCacheLayer({ clock });
    const chaos = new ChaosRegistry({ control: new ChaosControl({ environment: 'test', enabled: true }), clock });
    const cache = new MultiLayerCache({ clock, memory: false, layers: [policyCacheLayer(store, chaos.injector('redis'))] });
    await cache.set('k', 'v');
    const fault = chaos.inject('redis', { kind: 'error', message: 'READONLY' });
    const errors: unknown[] = [];
    cache.on('layerError', ({ error }) => errors.push(error));
    expect(await cache.getOrSet('k', () => 'from loader')).toBe('from loader');
    expect((errors[0] as Error).message).toBe('READONLY');
    fault.remove();
    expect(await store.get('cache:k')).toBeDefined();
  });
});
