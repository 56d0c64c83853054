import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { AdaptiveConcurrency } from '../../src/policies/adaptive-concurrency.js';
import { AdaptiveRateLimiter } from '../../src/protection/adaptive-rate-limiter.js';
import { ConcurrencyLoadSignal } from '../../src/protection/concurrency-load-signal.js';

describe('ConcurrencyLoadSignal', () => {
  it('reads utilisation of a real AdaptiveConcurrency, and the rate limit follows it', async () => {
    const clock = new VirtualClock();
    const concurrency = new AdaptiveConcurrency({ algorithm: 'aimd', initialLimit: 4, minLimit: 1, maxLimit: 4, clock });
    const signal = new ConcurrencyLoadSignal({ concurrency });
    const limiter = new AdaptiveRateLimiter({ capacity: 10, refillPerSecond: 10, clock, behavior: false, load: { signals: [signal], threshold: 0.5, minFactor: 0.2 } });
    expect(signal.load()).toBe(0);
    const releases: Array<() => void> = [];
    const calls = Array.from({ length: 4 }, () => concurrency.execute(() => new Promise<void>((resolve) => releases.push(resolve))));
    expect(signal.load()).toBe(1);
    expect(limiter.limitFor('k').capacity).toBe(1);
    for (const release of releases) release();
    await Promise.all(calls);
    expect(signal.load()).toBe(0);
    expect(limiter.limitFor('k').capacity).toBe(10);
  });

  it('counts a shrunken limit as load with referenceLimit', async () => {
    const clock = new VirtualClock();
    const concurrency = new AdaptiveConcurrency({ algorithm: 'aimd', initialLimit: 10, minLimit: 1, maxLimit: 10, backoffRatio: 0.5, clock });
    const signal = new ConcurrencyLoadSignal({ concurrency, referenceLimit: 10 });
    await concurrency.execute(() => Promise.reject(new Error('overloaded'))).catch(() => undefined);
    expect(concurrency.limit).toBe(5);
    expect(signal.load()).toBe(0.5);
    expect(new ConcurrencyLoadSignal({ concurrency }).load()).toBe(0);
  });

  it('reports bad options', () => {
    let error: unknown;
    try {
      new ConcurrencyLoadSignal({ concurrency: {} as never, referenceLimit: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['concurrency', 'referenceLimit']);
  });
});
