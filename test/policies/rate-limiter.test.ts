import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ScheduleOptions } from '../../src/core/clock.js';
import { isRateLimitedError, type RateLimitedError } from '../../src/core/errors.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { SignalCell } from '../../src/policies/lazy-context.js';
import { RateLimiter } from '../../src/policies/rate-limiter.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

async function refusal(promise: Promise<unknown>): Promise<RateLimitedError> {
  const error = await promise.catch((e: unknown) => e);
  expect(isRateLimitedError(error)).toBe(true);
  return error as RateLimitedError;
}

describe('RateLimiter: token bucket', () => {
  it('starts full, refills exactly refillPerSecond, and reports the exact time until the next permit', async () => {
    const clock = new VirtualClock(1_000_000);
    const limiter = new RateLimiter({ algorithm: 'token-bucket', capacity: 3, refillPerSecond: 2, clock });
    expect(limiter.remaining).toBe(3);
    expect([limiter.tryAcquire(), limiter.tryAcquire(), limiter.tryAcquire()]).toEqual([true, true, true]);
    expect(limiter.remaining).toBe(0);
    expect(limiter.tryAcquire()).toBe(false);
    expect(limiter.retryAfterMs()).toBe(500);
    clock.advance(200);
    expect(limiter.retryAfterMs()).toBe(300);
    expect(limiter.tryAcquire()).toBe(false);
    clock.advance(299);
    expect(limiter.retryAfterMs()).toBe(1);
    expect(limiter.tryAcquire()).toBe(false);
    clock.advance(1);
    expect(limiter.retryAfterMs()).toBe(0);
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.retryAfterMs()).toBe(500);
    clock.advance(1_000);
    expect(limiter.remaining).toBe(2);
    clock.advance(250);
    expect(limiter.remaining).toBe(2); // half a token is not a permit
    clock.advance(60_000);
    expect(limiter.remaining).toBe(3); // never above capacity
  });

  it('is exact with a refill interval that is not a whole number of ms', () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ algorithm: 'token-bucket', capacity: 1, refillPerSecond: 3, clock });
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.retryAfterMs()).toBe(1000 / 3);
    clock.advance(1000 / 3);
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(false);
  });

  it('never stalls on floating-point rounding at epoch-sized clock values (timers firing a few ulps early)', () => {
    const start = 1_700_000_000_000; // where one ulp is ~2.4e-4 ms
    const clock = new VirtualClock(start);
    const limiter = new RateLimiter({ algorithm: 'token-bucket', capacity: 1, refillPerSecond: 3, clock });
    expect(limiter.tryAcquire()).toBe(true);
    for (let i = 1; i <= 300; i++) {
      clock.advance(limiter.retryAfterMs());
      expect(limiter.tryAcquire()).toBe(true);
      expect(limiter.tryAcquire()).toBe(false);
    }
    expect(Math.abs(clock.now() - start - 100_000)).toBeLessThan(0.1);
  });

  it("in 'reject' mode refuses with RateLimitedError carrying retryAfterMs, and emits 'rejected'", async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ algorithm: 'token-bucket', capacity: 1, refillPerSecond: 4, clock, name: 'api' });
    const rejected: number[] = [];
    limiter.on('rejected', ({ retryAfterMs }) => rejected.push(retryAfterMs));
    await expect(limiter.execute(() => 'ok')).resolves.toBe('ok');
    clock.advance(100);
    const error = await refusal(limiter.execute(() => 'no'));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterMs).toBe(150);
    expect(error.message).toBe('Rate limit "api" exceeded; a permit frees in 150 ms');
    expect(rejected).toEqual([150]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('RateLimiter: sliding window', () => {
  it('counts a permit until exactly windowMs after it was taken', () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ algorithm: 'sliding-window', limit: 3, windowMs: 1_000, clock });
    expect(limiter.tryAcquire()).toBe(true); // t=0
    clock.advance(100);
    expect(limiter.tryAcquire()).toBe(true); // t=100
    clock.advance(100);
    expect(limiter.tryAcquire()).toBe(true); // t=200
    expect(limiter.remaining).toBe(0);
    expect(limiter.retryAfterMs()).toBe(800);
    clock.advance(799); // t=999
    expect(limiter.tryAcquire()).toBe(false);
    expect(limiter.retryAfterMs()).toBe(1);
    clock.advance(1); // t=1000: the permit of t=0 is free again
    expect(limiter.remaining).toBe(1);
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.retryAfterMs()).toBe(100);
    clock.advance(99); // t=1099
    expect(limiter.tryAcquire()).toBe(false);
    clock.advance(1); // t=1100
    expect(limiter.tryAcquire()).toBe(true);
    clock.advance(1_100); // t=2200: t=1000 and t=1100 gone, t=200's long gone
    expect(limiter.remaining).toBe(3);
  });

  it('never lets more than limit permits into any window (no boundary burst as with fixed windows)', () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ algorithm: 'sliding-window', limit: 5, windowMs: 1_000, clock });
    const grants: number[] = [];
    for (let t = 0; t < 5_000; t += 37) {
      clock.advance(t - clock.now());
      while (limiter.tryAcquire()) grants.push(t);
    }
    for (const start of grants) {
      expect(grants.filter((g) => g >= start && g < start + 1_000).length).toBeLessThanOrEqual(5);
    }
    expect(grants.length).toBeGreaterThanOrEqual(25);
  });
});

describe("RateLimiter: 'wait' mode", () => {
  it('grants waiters first-in first-out at the exact times permits free, and refuses one whose turn would exceed maxWaitMs', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({
      algorithm: 'sliding-window',
      limit: 2,
      windowMs: 1_000,
      mode: 'wait',
      maxWaitMs: 2_000,
      clock,
    });
    const ran: string[] = [];
    const calls = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) =>
      limiter.execute(() => {
        ran.push(`${name}@${clock.now()}`);
        return name;
      }),
    );
    expect(limiter.queued).toBe(4);
    expect(limiter.retryAfterMs()).toBe(3_000);
    const error = await refusal(limiter.execute(() => 'g'));
    expect(error.retryAfterMs).toBe(3_000);
    await clock.advanceAsync(2_000);
    await expect(Promise.all(calls)).resolves.toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(ran).toEqual(['a@0', 'b@0', 'c@1000', 'd@1000', 'e@2000', 'f@2000']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an aborted waiter leaves at once, the ones behind it move up, and no permit is wasted', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({
      algorithm: 'token-bucket',
      capacity: 1,
      refillPerSecond: 10,
      mode: 'wait',
      maxWaitMs: 250,
      clock,
    });
    const at = (name: string) => () => `${name}@${clock.now()}`;
    await expect(limiter.execute(at('a'))).resolves.toBe('a@0');
    const controller = new AbortController();
    const b = limiter.execute(at('b'), { signal: controller.signal }); // its turn: 100
    const c = limiter.execute(at('c')); // 200
    expect((await refusal(limiter.execute(at('d')))).retryAfterMs).toBe(300);
    await clock.advanceAsync(50);
    const reason = new Error('gone');
    controller.abort(reason);
    expect(limiter.queued).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await expect(b).rejects.toBe(reason);
    await clock.advanceAsync(50);
    await expect(c).resolves.toBe('c@100');
    expect(clock.pendingTimers).toBe(0);
  });

  it('cancels its timer when the last waiter aborts, and keeps the process alive while someone waits', async () => {
    const clock = new VirtualClock();
    const keepAlive: (boolean | undefined)[] = [];
    const schedule = clock.schedule.bind(clock);
    clock.schedule = (callback: () => void, delayMs: number, options?: ScheduleOptions) => {
      keepAlive.push(options?.keepAlive);
      return schedule(callback, delayMs, options);
    };
    const limiter = new RateLimiter({ algorithm: 'token-bucket', capacity: 1, refillPerSecond: 1, mode: 'wait', clock });
    limiter.tryAcquire();
    const controller = new AbortController();
    const waiting = limiter.execute(() => 'x', { signal: controller.signal });
    expect(clock.pendingTimers).toBe(1);
    expect(keepAlive).toEqual([undefined]); // default: keeps the process alive
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(DOMException);
    expect(clock.pendingTimers).toBe(0);
    expect(limiter.queued).toBe(0);
  });

  it('makes tryAcquire() queue-fair: no permit for middleware while callers wait', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ algorithm: 'token-bucket', capacity: 1, refillPerSecond: 10, mode: 'wait', clock });
    limiter.tryAcquire();
    const waiting = limiter.execute(() => clock.now());
    expect(limiter.remaining).toBe(0);
    expect(limiter.retryAfterMs()).toBe(200); // behind the one waiting
    await clock.advanceAsync(100);
    await expect(waiting).resolves.toBe(100);
    expect(limiter.tryAcquire()).toBe(false);
    expect(limiter.retryAfterMs()).toBe(100);
  });

  it('creates no lazy signal for a call that gets a permit at once, and listens to one while waiting', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ algorithm: 'token-bucket', capacity: 1, refillPerSecond: 1, mode: 'wait', clock });
    const fast = new SignalCell(undefined, 1);
    await limiter.execute(() => 'ok', fast);
    expect(fast.created).toBe(false);
    const waitingCell = new SignalCell(undefined, 1);
    const waiting = limiter.execute(() => 'never', waitingCell);
    expect(waitingCell.created).toBe(true);
    const reason = new Error('outer timeout');
    waitingCell.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect([limiter.queued, clock.pendingTimers]).toEqual([0, 0]);
  });

  it('passes the incoming context through unchanged, after waiting', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter({ algorithm: 'token-bucket', capacity: 1, refillPerSecond: 1, mode: 'wait', clock });
    const context = { signal: new AbortController().signal, attempt: 2, extra: 1 };
    await limiter.execute((ctx) => expect(ctx).toBe(context), context);
    const second = limiter.execute((ctx) => expect(ctx).toBe(context), context);
    await clock.advanceAsync(1_000);
    await second;
  });
});

describe('RateLimiter: options', () => {
  it('lists every bad field in one InvalidOptionsError', () => {
    const issues = (options: unknown): string[] => {
      try {
        new RateLimiter(options as never);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidOptionsError);
        return (e as InvalidOptionsError).issues.map((i) => `${i.path}: ${i.expected}`);
      }
      return [];
    };
    expect(
      issues({ algorithm: 'token-bucket', capacity: 0.5, refillPerSecond: 0, mode: 'maybe', maxWaitMs: -1, clock: 1 }),
    ).toEqual([
      'capacity: an integer >= 1',
      'refillPerSecond: a number > 0',
      'mode: one of "reject", "wait"',
      'maxWaitMs: a number >= 0',
      'clock: a Clock with now() and schedule()',
    ]);
    expect(issues({ algorithm: 'sliding-window' })).toEqual(['limit: an integer >= 1', 'windowMs: a number > 0']);
    expect(issues({ algorithm: 'leaky', name: 3 })).toEqual([
      'algorithm: one of "token-bucket", "sliding-window"',
      'name: a string',
    ]);
    expect(issues({})).toEqual(['algorithm: one of "token-bucket", "sliding-window"']);
  });
});
