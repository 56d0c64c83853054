import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { LocalRateLimitStore } from '../../src/protection/local-rate-limit-store.js';

describe('LocalRateLimitStore', () => {
  it('is a GCRA token bucket per key with exact remaining, retry and reset times', () => {
    const clock = new VirtualClock();
    const store = new LocalRateLimitStore({ clock });
    const limit = { capacity: 3, refillPerSecond: 2 }; // one permit per 500 ms
    expect(store.consume('a', limit)).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0, resetAfterMs: 500 });
    expect(store.consume('a', limit)).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0, resetAfterMs: 1_000 });
    expect(store.consume('a', limit)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 1_500 });
    expect(store.consume('a', limit)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 500, resetAfterMs: 1_500 });
    clock.advance(499);
    expect(store.consume('a', limit)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.advance(1);
    expect(store.consume('a', limit)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 1_500 });
    expect(store.consume('b', limit).remaining).toBe(2);
  });

  it('never reports more remaining permits than the capacity, even when the slack covers many refills', () => {
    const clock = new VirtualClock();
    const store = new LocalRateLimitStore({ clock });
    const limit = { capacity: 10, refillPerSecond: 1e9 }; // one permit per nanosecond: the 1 µs slack is 1000 of them
    expect(store.consume('a', limit).remaining).toBe(10);
    expect(store.consume('a', limit).remaining).toBe(10);
  });

  it('forgets the least recently used key first (which then starts full)', () => {
    const clock = new VirtualClock();
    const store = new LocalRateLimitStore({ clock, maxKeys: 2 });
    const limit = { capacity: 1, refillPerSecond: 1 };
    store.consume('a', limit);
    store.consume('b', limit);
    expect(store.consume('a', limit).allowed).toBe(false); // refused, but read: a is now more recent than b
    store.consume('c', limit); // evicts b, the least recently used
    expect(store.size).toBe(2);
    expect(store.consume('b', limit).allowed).toBe(true);
    for (let i = 0; i < 100_000; i++) store.consume(`k${i}`, limit);
    expect(store.size).toBe(2);
  });

  it('reports bad options', () => {
    expect(() => new LocalRateLimitStore({ maxKeys: 0, clock: {} as never })).toThrow(InvalidOptionsError);
  });
});
