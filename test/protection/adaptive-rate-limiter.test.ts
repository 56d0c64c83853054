import { afterEach, describe, expect, it, vi } from 'vitest';
import { isRateLimitedError } from '../../src/core/errors.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { AdaptiveRateLimiter, type AdaptiveRateLimiterOptions } from '../../src/protection/adaptive-rate-limiter.js';
import { BehaviorTracker } from '../../src/protection/behavior-tracker.js';
import { LocalRateLimitStore } from '../../src/protection/local-rate-limit-store.js';
import { errorOf } from '../support/promises.js';

/** A load signal set by hand. */
class ManualLoad {
  level = 0;
  load(): number {
    return this.level;
  }
}

function setup(options: Partial<AdaptiveRateLimiterOptions> = {}): { clock: VirtualClock; signal: ManualLoad; limiter: AdaptiveRateLimiter } {
  const clock = new VirtualClock();
  const signal = new ManualLoad();
  const limiter = new AdaptiveRateLimiter({
    capacity: 10,
    refillPerSecond: 10,
    clock,
    load: { signals: [signal], threshold: 0.5, minFactor: 0.2 },
    behavior: false,
    ...options,
  });
  return { clock, signal, limiter };
}

async function take(limiter: AdaptiveRateLimiter, key: string, n: number): Promise<boolean[]> {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push((await limiter.consume(key)).allowed);
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('AdaptiveRateLimiter: load', () => {
  it('admits the base limit when idle', async () => {
    const { limiter } = setup();
    expect(await take(limiter, 'a', 10)).toEqual(Array(10).fill(true));
    const denied = await limiter.consume('a');
    expect(denied).toMatchObject({ allowed: false, limit: 10, remaining: 0, factor: 1, loadFactor: 1, behaviorFactor: 1, refillPerSecond: 10 });
    expect(denied.retryAfterMs).toBeCloseTo(100, 9);
    expect(denied.resetAfterMs).toBeCloseTo(1_000, 9);
  });

  it('scales every limit down linearly above the threshold', async () => {
    const { limiter, signal } = setup();
    signal.level = 1;
    expect(limiter.loadFactor()).toBeCloseTo(0.2, 12);
    expect(limiter.limitFor('a')).toEqual({ capacity: 1, refillPerSecond: 1 }); // 0.2 → 12/64 → floor(1.875)
    signal.level = 0.75; // 1 - 0.8 × 0.25 / 0.5 = 0.6
    expect(limiter.loadFactor()).toBeCloseTo(0.6, 12);
    const decision = await limiter.consume('b');
    expect(decision).toMatchObject({ factor: 38 / 64, limit: 5, refillPerSecond: 5, loadFactor: expect.closeTo(0.6, 12) });
    expect(await take(limiter, 'b', 5)).toEqual([true, true, true, true, false]);
    signal.level = 0.5;
    expect(limiter.loadFactor()).toBe(1);
  });

  it("refuses sooner under load and recovers when the load falls, keeping each bucket's fill ratio", async () => {
    const { clock, limiter, signal } = setup();
    signal.level = 1; // capacity 1, refill 1/s
    expect(await limiter.consume('a')).toMatchObject({ allowed: true, limit: 1, remaining: 0 });
    const denied = await limiter.consume('a');
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterMs).toBeCloseTo(1_000, 9);

    signal.level = 0; // back to 10 at 10/s: the bucket was empty and stays empty, refilling at the new rate
    expect(await limiter.consume('fresh')).toMatchObject({ allowed: true, limit: 10, remaining: 9 });
    clock.advance(99);
    expect((await limiter.consume('a')).allowed).toBe(false);
    clock.advance(1);
    expect(await limiter.consume('a')).toMatchObject({ allowed: true, limit: 10, remaining: 0 });
    clock.advance(1_000);
    expect(await take(limiter, 'a', 11)).toEqual([...Array(10).fill(true), false]);
  });

  it('re-admits a drained key exactly when its debt under the new limit is paid', async () => {
    const { clock, limiter, signal } = setup({ capacity: 4, refillPerSecond: 4 });
    signal.level = 1; // factor 12/64 = 0.1875: capacity 1 (floor 0.75 → 1), refill 0.75/s → T = 1333.3 ms
    expect(await take(limiter, 'a', 2)).toEqual([true, false]);
    signal.level = 0; // T = 250 ms, capacity 4: debt of 1333.3 ms allows a permit once it is <= 750 ms
    clock.advance(583);
    expect((await limiter.consume('a')).allowed).toBe(false);
    clock.advance(1);
    expect((await limiter.consume('a')).allowed).toBe(true);
  });

  it('emits loadFactorChange as decisions see the load move', async () => {
    const { limiter, signal } = setup();
    const changes: Array<{ from: number; to: number }> = [];
    limiter.on('loadFactorChange', ({ from, to }) => changes.push({ from, to }));
    await limiter.consume('a');
    signal.level = 1;
    await limiter.consume('a');
    await limiter.consume('a');
    signal.level = 0;
    await limiter.consume('a');
    expect(changes).toEqual([
      { from: 1, to: expect.closeTo(0.2, 12) },
      { from: expect.closeTo(0.2, 12), to: 1 },
    ]);
  });

  it('reads the highest signal, and a signal that throws as 0 with a warning', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const clock = new VirtualClock();
    const high = new ManualLoad();
    high.level = 0.9;
    const limiter = new AdaptiveRateLimiter({
      capacity: 10,
      refillPerSecond: 10,
      clock,
      behavior: false,
      load: {
        signals: [
          {
            load: () => {
              throw new Error('probe failed');
            },
          },
          high,
          { load: () => Number.NaN },
        ],
      },
    });
    expect(limiter.load()).toBe(0.9);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('probe failed'), { code: 'ANTIFRAGILE_CALLBACK_ERROR' });
  });
});

describe('AdaptiveRateLimiter: behaviour', () => {
  it('shrinks the limit of a client that keeps erroring, and forgives it with time', async () => {
    const clock = new VirtualClock();
    const limiter = new AdaptiveRateLimiter({ capacity: 10, refillPerSecond: 10, clock, behavior: { tolerance: 10, halfLifeMs: 10_000 } });
    for (let i = 0; i < 10; i++) limiter.recordError('bad');
    expect(limiter.limitFor('bad')).toEqual({ capacity: 5, refillPerSecond: 5 });
    expect(limiter.limitFor('good')).toEqual({ capacity: 10, refillPerSecond: 10 });
    expect(await take(limiter, 'bad', 6)).toEqual([true, true, true, true, true, false]);
    expect(await take(limiter, 'good', 10)).toEqual(Array(10).fill(true));
    // the refusal counted too: 10.5 points → factor 1 / 2.05, rounded down to 31/64
    const again = await limiter.consume('bad');
    expect(again).toMatchObject({ allowed: false, behaviorFactor: 1 / 2.05, factor: 31 / 64, limit: 4 });
    clock.advance(100_000); // ten half-lives: 11 points → 0.0107
    expect(limiter.behavior?.factor('bad')).toBeGreaterThan(0.998);
    expect(limiter.limitFor('bad').capacity).toBe(9); // 0.998 rounds down to 63/64
    clock.advance(100_000);
    expect(limiter.limitFor('bad')).toEqual({ capacity: 10, refillPerSecond: 10 });
  });

  it('multiplies the load and behaviour factors', async () => {
    const clock = new VirtualClock();
    const tracker = new BehaviorTracker({ clock, tolerance: 1 });
    tracker.record('k', 'error'); // factor 0.5
    const limiter = new AdaptiveRateLimiter({ capacity: 64, refillPerSecond: 64, clock, behavior: tracker, load: { signals: [{ load: () => 1 }], minFactor: 0.5 } });
    expect(limiter.limitFor('k')).toEqual({ capacity: 16, refillPerSecond: 16 });
    const rejected: string[] = [];
    limiter.on('rejected', ({ key }) => rejected.push(key));
    for (let i = 0; i < 17; i++) await limiter.consume('k');
    expect(rejected).toEqual(['k']);
  });
});

describe('AdaptiveRateLimiter: memory', () => {
  it('keeps its store and behaviour tracker bounded under 100k distinct keys', async () => {
    const clock = new VirtualClock();
    const store = new LocalRateLimitStore({ clock, maxKeys: 1_000 });
    const limiter = new AdaptiveRateLimiter({ capacity: 1, refillPerSecond: 1, clock, store, maxKeys: 1_000 });
    for (let i = 0; i < 100_000; i++) {
      const key = `ip:${i}`;
      await limiter.consume(key);
      await limiter.consume(key); // refused: recorded as behaviour
    }
    expect(store.size).toBe(1_000);
    expect(limiter.behavior?.size).toBe(1_000);
  });
});

describe('AdaptiveRateLimiter: execute and options', () => {
  it('runs within the limit and refuses with RateLimitedError beyond it', async () => {
    const { limiter } = setup({ capacity: 1, refillPerSecond: 2 });
    expect(await limiter.execute(() => 'ok', { key: 'a' })).toBe('ok');
    const error = await errorOf(limiter.execute(() => 'no', { key: 'a' }));
    expect(isRateLimitedError(error)).toBe(true);
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeCloseTo(500, 9);
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    expect(await errorOf(limiter.execute(() => 'x', { key: 'b', signal: controller.signal }))).toEqual(new Error('gone'));
  });

  it('reports every bad field with its path', () => {
    let error: unknown;
    try {
      new AdaptiveRateLimiter({
        capacity: 0,
        refillPerSecond: -1,
        store: {} as never,
        load: { signals: [{} as never], threshold: 1, minFactor: 0 },
        behavior: 3 as never,
        maxKeys: 0,
        clock: {} as never,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
      'capacity',
      'refillPerSecond',
      'store',
      'load.signals.0',
      'load.threshold',
      'load.minFactor',
      'behavior',
      'maxKeys',
      'clock',
    ]);
  });
});
