import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { RetryBudget } from '../../src/policies/retry-budget.js';

function withdrawAll(budget: RetryBudget, limit = 1_000): number {
  let n = 0;
  while (n < limit && budget.tryWithdraw()) n++;
  return n;
}

describe('RetryBudget', () => {
  it('allows the floor (minRetriesPerSecond * window seconds) with no traffic, then refuses', () => {
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 2, windowMs: 3_000, clock: new VirtualClock() });
    expect(budget.available).toBe(6);
    expect(withdrawAll(budget)).toBe(6);
    expect(budget.tryWithdraw()).toBe(false);
    expect(budget.available).toBe(0);
    expect(budget.retries).toBe(6);
  });

  it('adds ratio of a retry per call on top of the floor', () => {
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 1, windowMs: 1_000, clock: new VirtualClock() });
    for (let i = 0; i < 10; i++) budget.deposit();
    expect(budget.calls).toBe(10);
    expect(budget.available).toBe(3); // 1 + 0.2 * 10
    expect(withdrawAll(budget)).toBe(3);
    for (let i = 0; i < 4; i++) budget.deposit();
    expect(budget.available).toBe(0); // 1 + 0.2 * 14 = 3.8
    budget.deposit();
    expect(withdrawAll(budget)).toBe(1); // 1 + 0.2 * 15 = 4
  });

  it('is not fooled by float error in ratio * calls', () => {
    const budget = new RetryBudget({ ratio: 0.29, minRetriesPerSecond: 0, clock: new VirtualClock() });
    for (let i = 0; i < 100; i++) budget.deposit();
    expect(withdrawAll(budget)).toBe(29);
  });

  it('forgets calls and retries as they leave the rolling window, bucket by bucket, with no timer', () => {
    const clock = new VirtualClock();
    const budget = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, windowMs: 1_000, clock });
    for (let i = 0; i < 4; i++) budget.deposit(); // bucket [0, 100)
    clock.advance(500);
    for (let i = 0; i < 4; i++) budget.deposit(); // bucket [500, 600)
    expect(withdrawAll(budget)).toBe(4);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(500); // t = 1000: the first four calls have left
    expect(budget.calls).toBe(4);
    expect(budget.retries).toBe(4);
    expect(budget.available).toBe(0);
    clock.advance(500); // t = 1500: everything has left
    expect(budget.calls).toBe(0);
    expect(budget.retries).toBe(0);
    expect(budget.available).toBe(0);
    budget.deposit();
    budget.deposit();
    expect(withdrawAll(budget)).toBe(1);
  });

  it('refills the floor once retries leave the window (at bucket granularity: windowMs / 10)', () => {
    const clock = new VirtualClock(123_456); // bucket [123_400, 123_500)
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 10, windowMs: 1_000, clock });
    expect(withdrawAll(budget)).toBe(10);
    clock.advance(943); // 124_399: still in the window
    expect(budget.tryWithdraw()).toBe(false);
    clock.advance(1); // 124_400: the bucket has left
    expect(withdrawAll(budget)).toBe(10);
    clock.advance(100_000);
    expect(withdrawAll(budget)).toBe(10);
  });

  it('reset() forgets everything', () => {
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, windowMs: 1_000, clock: new VirtualClock() });
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(true);
    budget.reset();
    expect(budget.calls).toBe(0);
    expect(budget.retries).toBe(0);
    expect(budget.tryWithdraw()).toBe(true);
  });

  it('has documented defaults: ratio 0.2, 10 retries per second, 10 s window', () => {
    const budget = new RetryBudget({ clock: new VirtualClock() });
    expect([budget.ratio, budget.minRetriesPerSecond, budget.windowMs]).toEqual([0.2, 10, 10_000]);
    expect(budget.available).toBe(100);
  });

  it('lists every bad option at once', () => {
    const bad = { ratio: 1.5, minRetriesPerSecond: -1, windowMs: 0, clock: {} } as never;
    let error: unknown;
    try {
      new RetryBudget(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['ratio', 'minRetriesPerSecond', 'windowMs', 'clock']);
    expect(String((error as Error).message)).toContain('ratio: expected a number in 0..1, received 1.5');
  });
});
