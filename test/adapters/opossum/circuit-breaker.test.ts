// Timing-precise and facade-specific behaviour of antifragile/opossum, on a VirtualClock.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import type { Clock } from '../../../src/core/clock.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { CircuitBreaker as CoreBreaker } from '../../../src/policies/circuit-breaker.js';
import CircuitBreaker, {
  CircuitBreaker as NamedCircuitBreaker,
  isOurError,
  MemoryCache,
  OpossumError,
  Status,
  type CacheTransport,
} from '../../../src/adapters/opossum/index.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { errorOf } from '../../support/promises.js';

failOnUnhandledRejections();

const boom = new Error('boom');
const never = (): Promise<never> => new Promise<never>(() => {});
/** Lets queued promise continuations run. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const created: CircuitBreaker[] = [];
function track<B>(breaker: B): B {
  created.push(breaker as CircuitBreaker);
  return breaker;
}
afterEach(() => {
  for (const b of created.splice(0)) b.shutdown();
});

describe('exports', () => {
  it('default and named exports are the same class; isOurError is exported too', () => {
    expect(CircuitBreaker).toBe(NamedCircuitBreaker);
    expect(CircuitBreaker.isOurError(new OpossumError('x', 'ETIMEDOUT'))).toBe(true);
    expect(isOurError(new OpossumError('x', 'ETIMEDOUT'))).toBe(true);
    expect(isOurError(new Error('x'))).toBe(false);
    expect(isOurError(undefined)).toBe(false);
    expect(isOurError(null)).toBe(false);
    expect(isOurError({ code: 'ETIMEDOUT' })).toBe(false);
  });

  it('infers the argument and result types from the action, like @types/opossum', () => {
    const breaker = track(new CircuitBreaker(async (a: number, b: string) => `${a}${b}`));
    expectTypeOf(breaker).toEqualTypeOf<CircuitBreaker<[a: number, b: string], string>>();
    expectTypeOf(breaker.fire).parameters.toEqualTypeOf<[a: number, b: string]>();
    expectTypeOf(breaker.fire(1, 'x')).toEqualTypeOf<Promise<string>>();
    const options: CircuitBreaker.Options<[number]> = { timeout: false, errorFilter: (error: Error & { status?: number }) => error.status === 404 };
    expect(options.timeout).toBe(false);
    expectTypeOf<CircuitBreaker.Stats['latencyMean']>().toEqualTypeOf<number>();
    breaker.on('success', (result, latencyMs) => {
      expectTypeOf(result).toEqualTypeOf<string>();
      expectTypeOf(latencyMs).toEqualTypeOf<number>();
    });
    breaker.on('failure', (_error, _latencyMs, args) => {
      expectTypeOf(args).toEqualTypeOf<[a: number, b: string]>();
    });
    // as with @types/opossum, a specific breaker fits where a plain CircuitBreaker is expected
    const registry = new Map<string, CircuitBreaker>([['typed', breaker]]);
    expect(registry.get('typed')).toBe(breaker);
  });
});

describe('runs on the core circuit breaker', () => {
  it('keeps its state in an antifragile CircuitBreaker', async () => {
    const clock = new VirtualClock();
    const breaker = track(new CircuitBreaker(() => Promise.reject(boom), { clock, resetTimeout: 1_000, name: 'dep' }));
    expect(breaker.core).toBeInstanceOf(CoreBreaker);
    expect(breaker.core.name).toBe('dep');
    const changes: string[] = [];
    breaker.core.on('stateChange', ({ from, to }) => changes.push(`${from}->${to}`));
    await errorOf(breaker.fire());
    expect(breaker.core.state).toBe('open');
    clock.advance(1_000);
    expect(breaker.core.state).toBe('half-open');
    expect(changes).toEqual(['closed->open', 'open->half-open']);
    expect(breaker.core.metrics().totals.failures).toBe(1);
  });

  it('relies on the core calling the function synchronously when it admits a call', () => {
    const core = new CoreBreaker({ clock: new VirtualClock() });
    let called = false;
    void core.execute(() => {
      called = true;
      return 1;
    });
    expect(called).toBe(true);
  });
});

describe('timers and time', () => {
  it('starts no timer for an idle breaker, nor for calls without a timeout', async () => {
    const clock = new VirtualClock();
    const breaker = track(new CircuitBreaker((x: number) => Promise.resolve(x), { clock, timeout: false }));
    expect(clock.pendingTimers).toBe(0);
    await breaker.fire(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('one timer per call with a timeout, cancelled when the call settles', async () => {
    const clock = new VirtualClock();
    let finish: () => void = () => {};
    const breaker = track(new CircuitBreaker(() => new Promise<void>((resolve) => (finish = resolve)), { clock, timeout: 500 }));
    const call = breaker.fire();
    expect(clock.pendingTimers).toBe(1);
    finish();
    await call;
    expect(clock.pendingTimers).toBe(0);
  });

  it('times out exactly at timeout ms, with that latency, and ignores a late result', async () => {
    const clock = new VirtualClock();
    let finish: (v: string) => void = () => {};
    const breaker = track(new CircuitBreaker(() => new Promise<string>((resolve) => (finish = resolve)), { clock, timeout: 500 }));
    const timeouts: number[] = [];
    breaker.on('timeout', (_error, latencyMs) => timeouts.push(latencyMs));
    const call = breaker.fire();
    clock.advance(499);
    await flush();
    expect(timeouts).toEqual([]);
    clock.advance(1);
    const error = (await errorOf(call)) as OpossumError;
    expect(error.code).toBe('ETIMEDOUT');
    expect(timeouts).toEqual([500]);
    finish('late');
    await flush();
    expect(breaker.stats.successes).toBe(0);
    expect(breaker.stats.failures).toBe(1);
    expect(breaker.stats.timeouts).toBe(1);
    // as in opossum, a timeout records its latency twice: once as a timeout and once as a failure
    expect(breaker.stats.latencyTimes).toEqual([500, 500]);
  });

  it("goes half-open exactly resetTimeout ms after opening, on one unref'd timer, emitting 'halfOpen'", () => {
    const clock = new VirtualClock();
    const breaker = track(new CircuitBreaker(() => Promise.resolve(1), { clock, resetTimeout: 1_000 }));
    const halfOpen: number[] = [];
    breaker.on('halfOpen', (ms) => halfOpen.push(ms));
    clock.advance(200);
    breaker.open();
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(1_200);
    clock.advance(999);
    expect(breaker.opened).toBe(true);
    expect(halfOpen).toEqual([]);
    clock.advance(1);
    expect(halfOpen).toEqual([1_000]);
    expect(breaker.halfOpen).toBe(true);
    expect(breaker.pendingClose).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('resetTimeout: 0 makes an opened circuit half-open at once', () => {
    const clock = new VirtualClock();
    const breaker = track(new CircuitBreaker(() => Promise.resolve(1), { clock, resetTimeout: 0 }));
    const events: string[] = [];
    for (const name of ['open', 'halfOpen'] as const) breaker.on(name, () => events.push(name));
    breaker.open();
    expect(breaker.halfOpen).toBe(true);
    clock.advance(0);
    expect(events).toEqual(['open', 'halfOpen']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('closing an open circuit cancels its half-open timer', () => {
    const clock = new VirtualClock();
    const breaker = track(new CircuitBreaker(() => Promise.resolve(1), { clock, resetTimeout: 1_000 }));
    breaker.open();
    breaker.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('a call arriving after resetTimeout is the probe even before the timer ran', async () => {
    // A clock whose timers never fire: only the core's lazy transition can move the state.
    let now = 0;
    const clock: Clock = { now: () => now, schedule: () => ({ cancel: () => {} }) };
    const breaker = track(new CircuitBreaker(() => Promise.resolve('ok'), { clock, resetTimeout: 1_000, timeout: false }));
    const events: string[] = [];
    for (const name of ['halfOpen', 'close'] as const) breaker.on(name, () => events.push(name));
    breaker.open();
    now = 1_000;
    await expect(breaker.fire()).resolves.toBe('ok');
    expect(events).toEqual(['halfOpen', 'close']);
    expect(breaker.closed).toBe(true);
  });

  it('a success from a call admitted before the circuit opened closes a half-open circuit, as in opossum', async () => {
    const clock = new VirtualClock();
    let finishSlow: (v: string) => void = () => {};
    let slow = true;
    const breaker = track(new CircuitBreaker(() => (slow ? new Promise<string>((resolve) => (finishSlow = resolve)) : never()), {
      clock,
      resetTimeout: 100,
      timeout: false,
    }));
    const old = breaker.fire();
    slow = false;
    breaker.open();
    clock.advance(100);
    expect(breaker.halfOpen).toBe(true);
    finishSlow('old');
    await old;
    expect(breaker.closed).toBe(true);
  });

  it('warm-up ends exactly rollingCountTimeout ms after construction', async () => {
    const clock = new VirtualClock();
    const breaker = track(new CircuitBreaker(() => Promise.reject(boom), { clock, allowWarmUp: true, rollingCountTimeout: 1_000 }));
    await errorOf(breaker.fire());
    clock.advance(999);
    expect(breaker.warmUp).toBe(true);
    await errorOf(breaker.fire());
    expect(breaker.closed).toBe(true);
    clock.advance(1);
    expect(breaker.warmUp).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    await errorOf(breaker.fire());
    expect(breaker.opened).toBe(true);
  });

  it('judges only the rolling window: old failures rotate out bucket by bucket', async () => {
    const clock = new VirtualClock();
    let fail = true;
    const breaker = track(new CircuitBreaker(() => (fail ? Promise.reject(boom) : Promise.resolve(1)), {
      clock,
      rollingCountTimeout: 1_000,
      rollingCountBuckets: 10,
      volumeThreshold: 3,
      errorThresholdPercentage: 50,
    }));
    await errorOf(breaker.fire());
    await errorOf(breaker.fire()); // 2 failures in bucket 0, below volume
    clock.advance(1_000); // both rotated out
    fail = false;
    await breaker.fire();
    await breaker.fire();
    fail = true;
    await errorOf(breaker.fire()); // 1 of 3: closed (it would be 3 of 5 without rotation)
    expect(breaker.closed).toBe(true);
    expect(breaker.stats.fires).toBe(3);
  });

  it('the health check runs now and every interval on the clock, and stops on shutdown', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker(() => Promise.resolve(1), { clock });
    let checks = 0;
    breaker.healthCheck(() => {
      checks++;
      return Promise.resolve();
    }, 1_000);
    expect(checks).toBe(1);
    clock.advance(3_000);
    expect(checks).toBe(4);
    breaker.shutdown();
    clock.advance(3_000);
    expect(checks).toBe(4);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a health check that throws synchronously also fails and opens the circuit', async () => {
    const clock = new VirtualClock();
    const breaker = track(new CircuitBreaker(() => Promise.resolve(1), { clock }));
    const failures: unknown[] = [];
    breaker.on('healthCheckFailed', (error) => failures.push(error));
    breaker.healthCheck(() => {
      throw boom;
    });
    await flush();
    expect(failures).toEqual([boom]);
    expect(breaker.opened).toBe(true);
  });
});

describe('cache and coalescing on the clock', () => {
  it('cacheTTL expires cached results', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const breaker = track(new CircuitBreaker(() => Promise.resolve(++calls), { clock, cache: true, cacheTTL: 1_000 }));
    await breaker.fire();
    clock.advance(999);
    await expect(breaker.fire()).resolves.toBe(1);
    clock.advance(1);
    await expect(breaker.fire()).resolves.toBe(2);
  });

  it('passes the result promise and an absolute expiry to a custom cache transport', async () => {
    const clock = new VirtualClock(5_000);
    const sets: [string, unknown, number][] = [];
    const store = new Map<string, unknown>();
    const transport: CacheTransport = {
      get: (key) => store.get(key),
      set: (key, value, expiresAt) => {
        sets.push([key, value, expiresAt]);
        store.set(key, value);
      },
      flush: () => store.clear(),
    };
    const breaker = track(new CircuitBreaker((x: number) => Promise.resolve(x), { clock, cache: true, cacheTTL: 100, cacheTransport: transport }));
    await breaker.fire(1);
    expect(sets).toHaveLength(1);
    expect(sets[0]?.[0]).toBe('[1]');
    await expect(sets[0]?.[1]).resolves.toBe(1);
    expect(sets[0]?.[2]).toBe(5_100);
  });

  it('a coalesced call is shared for coalesceTTL (default: timeout), then forgotten', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const breaker = track(new CircuitBreaker(() => Promise.resolve(++calls), { clock, coalesce: true, timeout: 1_000 }));
    await expect(breaker.fire()).resolves.toBe(1);
    await expect(breaker.fire()).resolves.toBe(1);
    clock.advance(1_000);
    await expect(breaker.fire()).resolves.toBe(2);
  });

  it('coalesceResetOn forgets a call as soon as it settles that way', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const breaker = track(new CircuitBreaker(() => (++calls === 1 ? Promise.reject(boom) : Promise.resolve(calls)), {
      clock,
      coalesce: true,
      coalesceResetOn: ['error'],
      allowWarmUp: true,
    }));
    await expect(breaker.fire()).rejects.toBe(boom);
    await expect(breaker.fire()).resolves.toBe(2);
    await expect(breaker.fire()).resolves.toBe(2); // successes stay shared until the TTL
  });

  it('a call refused at capacity is never shared', async () => {
    const clock = new VirtualClock();
    const breaker = track(new CircuitBreaker((_x: number) => never(), { clock, coalesce: true, capacity: 0, allowWarmUp: true }));
    expect(((await errorOf(breaker.fire(1))) as OpossumError).code).toBe('ESEMLOCKED');
    expect(((await errorOf(breaker.fire(1))) as OpossumError).code).toBe('ESEMLOCKED');
    expect(breaker.stats.coalesceCacheHits).toBe(0);
  });

  it('MemoryCache evicts the oldest entry beyond cacheSize', () => {
    const cache = new MemoryCache(new VirtualClock(), 2);
    cache.set('a', 1, 0);
    cache.set('b', 2, 0);
    cache.set('c', 3, 0);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 3]);
    expect(cache.size).toBe(2);
  });
});

describe('restoring state on the clock', () => {
  it('a circuit restored open goes half-open when the rest of its resetTimeout has passed', () => {
    const clock = new VirtualClock(10_000);
    const source = track(new CircuitBreaker(() => Promise.resolve(1), { clock, resetTimeout: 1_000 }));
    source.open();
    const state = source.toJSON().state;
    expect(state.lastTimerAt).toBe(10_000);
    clock.advance(400);
    const restored = track(new CircuitBreaker(() => Promise.resolve(1), { clock, resetTimeout: 1_000, state }));
    const halfOpen: number[] = [];
    restored.on('halfOpen', () => halfOpen.push(clock.now()));
    expect(restored.opened).toBe(true);
    clock.advance(600);
    expect(halfOpen).toContain(11_000);
    expect(restored.halfOpen).toBe(true);
  });

  it('a circuit restored open long after resetTimeout starts half-open', () => {
    const clock = new VirtualClock(100_000);
    const restored = track(new CircuitBreaker(() => Promise.resolve(1), {
      clock,
      resetTimeout: 1_000,
      state: { closed: false, open: true, halfOpen: false, lastTimerAt: 50_000 },
    }));
    expect(restored.halfOpen).toBe(true);
    expect(restored.pendingClose).toBe(true);
  });

  it('a circuit restored open without lastTimerAt waits a full resetTimeout', () => {
    const clock = new VirtualClock();
    const restored = track(new CircuitBreaker(() => Promise.resolve(1), { clock, resetTimeout: 1_000, state: { closed: false } }));
    expect(restored.opened).toBe(true);
    clock.advance(999);
    expect(restored.opened).toBe(true);
    clock.advance(1);
    expect(restored.halfOpen).toBe(true);
  });

  it('lastTimerAt is undefined until the circuit first opens', () => {
    const breaker = track(new CircuitBreaker(() => Promise.resolve(1), { clock: new VirtualClock() }));
    expect(breaker.toJSON().state.lastTimerAt).toBeUndefined();
  });
});

describe('facade-specific behaviour', () => {
  it('an action returning undefined resolves (opossum rejects with a TypeError)', async () => {
    const breaker = track(new CircuitBreaker(() => undefined, { clock: new VirtualClock() }));
    await expect(breaker.fire()).resolves.toBeUndefined();
  });

  it('a disabled circuit turns a synchronous throw into a rejection', async () => {
    const breaker = track(new CircuitBreaker(() => {
      throw boom;
    }, { clock: new VirtualClock(), enabled: false }));
    await expect(breaker.fire()).rejects.toBe(boom);
  });

  it('a listener that throws is reported and never leaves the call unsettled', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const breaker = track(new CircuitBreaker(() => Promise.resolve('ok'), { clock: new VirtualClock() }));
      breaker.on('success', () => {
        throw new Error('listener bug');
      });
      await expect(breaker.fire()).resolves.toBe('ok');
      await flush();
      expect(warnings.some((w) => w.includes('listener bug'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('stats keep counting after removeAllListeners()', async () => {
    const breaker = track(new CircuitBreaker(() => Promise.resolve(1), { clock: new VirtualClock() }));
    breaker.removeAllListeners();
    await breaker.fire();
    expect(breaker.stats.successes).toBe(1);
  });

  it('open(), close() and health checks do nothing after shutdown', () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker(() => Promise.resolve(1), { clock });
    breaker.shutdown();
    breaker.close();
    breaker.open();
    expect(breaker.isShutdown).toBe(true);
    expect(breaker.closed).toBe(false);
    expect(breaker.opened).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not modify the options object it is given', () => {
    const options = { timeout: 100 };
    track(new CircuitBreaker(() => Promise.resolve(1), options));
    expect(options).toEqual({ timeout: 100 });
  });

  it('exposes the resolved options with opossum defaults', () => {
    const breaker = track(new CircuitBreaker(() => Promise.resolve(1)));
    expect(breaker.options).toMatchObject({
      timeout: 10_000,
      resetTimeout: 30_000,
      errorThresholdPercentage: 50,
      rollingCountTimeout: 10_000,
      rollingCountBuckets: 10,
      rollingPercentilesEnabled: true,
      capacity: Number.MAX_SAFE_INTEGER,
      volumeThreshold: 0,
      cache: false,
      cacheTTL: 0,
      coalesce: false,
      coalesceTTL: 10_000,
      enableSnapshots: true,
    });
  });

  it('warns once that maxFailures is deprecated', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      track(new CircuitBreaker(() => 1, { maxFailures: 3, clock: new VirtualClock() }));
      track(new CircuitBreaker(() => 1, { maxFailures: 3, clock: new VirtualClock() }));
      const calls = warn.mock.calls.filter(([message]) => String(message).includes('maxFailures'));
      expect(calls.length).toBeLessThanOrEqual(1);
    } finally {
      warn.mockRestore();
    }
  });

  it('rejects a fallback that is neither a function nor a breaker, and clears it with null', async () => {
    const breaker = track(new CircuitBreaker(() => Promise.reject(boom), { clock: new VirtualClock() }));
    expect(() => breaker.fallback(42 as never)).toThrow(TypeError);
    breaker.fallback(() => 'fb');
    breaker.fallback(null);
    await expect(breaker.fire()).rejects.toBe(boom);
  });
});

describe('options validation', () => {
  it('lists every out-of-range option in one InvalidOptionsError', () => {
    let error: unknown;
    try {
      new CircuitBreaker(() => 1, {
        timeout: -1,
        resetTimeout: Number.NaN,
        rollingCountBuckets: 0,
        capacity: 1.5,
        volumeThreshold: -2,
        errorThresholdPercentage: -5,
        errorFilter: 'nope' as never,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
      'timeout',
      'resetTimeout',
      'rollingCountBuckets',
      'errorThresholdPercentage',
      'capacity',
      'volumeThreshold',
      'errorFilter',
    ]);
  });

  it("throws opossum's TypeErrors for a malformed abortController or cacheTransport", () => {
    expect(() => new CircuitBreaker(() => 1, { abortController: {} as AbortController })).toThrow(
      new TypeError('AbortController does not contain `abort()` method'),
    );
    expect(() => new CircuitBreaker(() => 1, { cache: true, cacheTransport: { get: () => 1 } as never })).toThrow(
      new TypeError('options.cacheTransport should be an object with `get`, `set` and `flush` methods'),
    );
  });

  it('accepts timeout: false, capacity: Infinity and explicit undefined options', () => {
    const breaker = track(new CircuitBreaker(() => 1, { timeout: false, capacity: Infinity, name: undefined, clock: new VirtualClock() }));
    expect(breaker.options.timeout).toBe(false);
    expect(breaker.options.capacity).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('status on the clock', () => {
  it('rotates lazily with a rotateBucketController only on its rotate events; disable() detaches it', async () => {
    const clock = new VirtualClock();
    const controller = new EventEmitter();
    const breaker = track(new CircuitBreaker(() => Promise.resolve(1), { clock, rotateBucketController: controller, rollingCountBuckets: 2 }));
    await breaker.fire();
    clock.advance(60_000);
    expect(breaker.stats.fires).toBe(1);
    controller.emit('rotate');
    expect(breaker.stats.fires).toBe(1);
    controller.emit('rotate');
    expect(breaker.stats.fires).toBe(0);
    expect(controller.listenerCount('rotate')).toBe(1);
    breaker.disable();
    expect(controller.listenerCount('rotate')).toBe(0);
    breaker.enable();
    breaker.enable();
    expect(controller.listenerCount('rotate')).toBe(1);
    breaker.shutdown();
    expect(controller.listenerCount('rotate')).toBe(0);
  });

  it("breaker.status emits 'snapshot' once per bucket while listened to", async () => {
    const clock = new VirtualClock();
    const breaker = track(new CircuitBreaker(() => Promise.resolve(1), { clock, rollingCountTimeout: 1_000, rollingCountBuckets: 10 }));
    expect(breaker.status).toBeInstanceOf(Status);
    const snapshots: number[] = [];
    const listener = (stats: CircuitBreaker.Stats): void => void snapshots.push(stats.fires);
    await breaker.fire();
    clock.advance(50);
    breaker.status.on('snapshot', listener);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(50); // t=100, first boundary
    await breaker.fire();
    clock.advance(100); // t=200
    expect(snapshots).toEqual([1, 2]);
    breaker.status.off('snapshot', listener);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1_000);
    expect(snapshots).toEqual([1, 2]);
  });

  it('emits no snapshot with enableSnapshots: false', () => {
    const clock = new VirtualClock();
    const breaker = track(new CircuitBreaker(() => Promise.resolve(1), { clock, enableSnapshots: false }));
    const snapshots: unknown[] = [];
    breaker.status.on('snapshot', (s) => snapshots.push(s));
    clock.advance(10_000);
    expect(snapshots).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('regressions', () => {
  it('a call refused while open is not shared through the coalesce cache', async () => {
    const clock = new VirtualClock();
    const breaker = track(new CircuitBreaker(() => Promise.resolve('live'), { clock, coalesce: true }));
    breaker.open();
    expect(((await errorOf(breaker.fire())) as OpossumError).code).toBe('EOPENBREAKER');
    breaker.close();
    await expect(breaker.fire()).resolves.toBe('live');
  });

  it('a throwing cacheGetKey rejects the call instead of throwing from fire()', async () => {
    const breaker = track(new CircuitBreaker(() => Promise.resolve(1), {
      clock: new VirtualClock(),
      cache: true,
      cacheGetKey: () => {
        throw boom;
      },
    }));
    await expect(breaker.fire()).rejects.toBe(boom);
  });

  it('a health check interval below 1 ms runs every millisecond instead of spinning', () => {
    const clock = new VirtualClock();
    const breaker = track(new CircuitBreaker(() => Promise.resolve(1), { clock }));
    let checks = 0;
    breaker.healthCheck(() => {
      checks++;
      return Promise.resolve();
    }, -5);
    clock.advance(3);
    expect(checks).toBe(4);
  });
});
