import { getEventListeners } from 'node:events';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { RateLimitedError, BrokenCircuitError, isRetryBudgetExhaustedError, RetryBudgetExhaustedError } from '../../src/core/errors.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { backoff } from '../../src/policies/backoff/index.js';
import { pipeline } from '../../src/policies/pipeline.js';
import type { ExecuteOptions, PolicyContext } from '../../src/policies/policy.js';
import { Retry, type RetryEvents } from '../../src/policies/retry.js';
import { RetryBudget } from '../../src/policies/retry-budget.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/** A function failing `failures` times with `error(n)`, then returning `value`; records when each call ran. */
function flaky<T>(clock: VirtualClock, failures: number, value: T, error = (n: number): unknown => new Error(`fail ${n}`)) {
  const calls: { at: number; ctx: PolicyContext }[] = [];
  const fn = (ctx: PolicyContext): Promise<T> => {
    calls.push({ at: clock.now(), ctx });
    return calls.length <= failures ? Promise.reject(error(calls.length)) : Promise.resolve(value);
  };
  return { fn, calls };
}

function record<K extends keyof RetryEvents>(retry: Retry, event: K): RetryEvents[K][] {
  const seen: RetryEvents[K][] = [];
  retry.on(event, (payload) => seen.push(payload));
  return seen;
}

describe('Retry', () => {
  it('runs fn once with attempt 1 when it succeeds, starting no timer', async () => {
    const clock = new VirtualClock();
    const retry = new Retry({ maxAttempts: 3, backoff: backoff.constant({ delayMs: 100 }), clock });
    const success = record(retry, 'success');
    const { fn, calls } = flaky(clock, 0, 'ok');
    await expect(retry.execute(fn)).resolves.toBe('ok');
    expect(calls.map((c) => c.ctx.attempt)).toEqual([1]);
    expect(success).toEqual([{ attempts: 1 }]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('waits exactly the backoff delay between attempts and numbers them 1, 2, 3', async () => {
    const clock = new VirtualClock();
    const retry = new Retry({ maxAttempts: 5, backoff: backoff.exponential({ initialMs: 100, maxMs: 1_000, jitter: 'none' }), clock });
    const retries = record(retry, 'retry');
    const success = record(retry, 'success');
    const { fn, calls } = flaky(clock, 3, 'ok');
    const result = retry.execute(fn);
    await clock.advanceAsync(699);
    expect(calls.map((c) => c.at)).toEqual([0, 100, 300]);
    await clock.advanceAsync(1);
    await expect(result).resolves.toBe('ok');
    expect(calls.map((c) => [c.at, c.ctx.attempt])).toEqual([
      [0, 1],
      [100, 2],
      [300, 3],
      [700, 4],
    ]);
    expect(retries.map((e) => [e.attempt, e.delayMs, (e.error as Error).message])).toEqual([
      [2, 100, 'fail 1'],
      [3, 200, 'fail 2'],
      [4, 400, 'fail 3'],
    ]);
    expect(success).toEqual([{ attempts: 4 }]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const clock = new VirtualClock();
    const retry = new Retry({ maxAttempts: 3, backoff: backoff.constant({ delayMs: 50 }), clock });
    const giveUp = record(retry, 'giveUp');
    const { fn, calls } = flaky(clock, Infinity, 'never');
    const result = expect(retry.execute(fn)).rejects.toThrow('fail 3');
    await clock.runAllAsync();
    await result;
    expect(calls.map((c) => c.at)).toEqual([0, 50, 100]);
    expect(giveUp).toHaveLength(1);
    expect(giveUp[0]).toMatchObject({ attempts: 3, reason: 'maxAttempts' });
    expect((giveUp[0]?.error as Error).message).toBe('fail 3');
  });

  it('maxAttempts 1 never retries; the default is 3 attempts', async () => {
    const clock = new VirtualClock();
    const once = flaky(clock, Infinity, 0);
    await expect(new Retry({ maxAttempts: 1, clock }).execute(once.fn)).rejects.toThrow('fail 1');
    expect(once.calls).toHaveLength(1);
    const thrice = flaky(clock, Infinity, 0);
    const result = expect(new Retry({ clock }).execute(thrice.fn)).rejects.toThrow('fail 3');
    await clock.runAllAsync();
    await result;
    expect(thrice.calls).toHaveLength(3);
  });

  it('passes the other context fields of the caller through to every attempt', async () => {
    const clock = new VirtualClock();
    const retry = new Retry({ maxAttempts: 2, backoff: backoff.constant({ delayMs: 0 }), clock });
    const { fn, calls } = flaky(clock, 1, 'ok');
    const controller = new AbortController();
    await retry.execute(fn, { signal: controller.signal, traceId: 't-1' } as ExecuteOptions);
    expect(calls.map((c) => [c.ctx.attempt, c.ctx.signal, (c.ctx as unknown as { traceId: string }).traceId])).toEqual([
      [1, controller.signal, 't-1'],
      [2, controller.signal, 't-1'],
    ]);
  });

  it('works inside a pipeline and numbers attempts for the inner policies', async () => {
    const clock = new VirtualClock();
    const { fn, calls } = flaky(clock, 2, 'ok');
    const result = pipeline(new Retry({ maxAttempts: 3, backoff: backoff.constant({ delayMs: 10 }), clock })).execute(fn);
    await clock.runAllAsync();
    await expect(result).resolves.toBe('ok');
    expect(calls.map((c) => c.ctx.attempt)).toEqual([1, 2, 3]);
  });

  it('retries a synchronous throw like a rejection', async () => {
    const clock = new VirtualClock();
    let n = 0;
    const retry = new Retry({ maxAttempts: 2, backoff: backoff.constant({ delayMs: 0 }), clock });
    await expect(
      retry.execute(() => {
        if (++n === 1) throw new Error('sync');
        return n;
      }),
    ).resolves.toBe(2);
  });

  describe('predicates', () => {
    it('does not retry an error shouldRetry refuses, and hands it the failed attempt context', async () => {
      const clock = new VirtualClock();
      const seen: [string, number][] = [];
      const retry = new Retry({
        maxAttempts: 5,
        backoff: backoff.constant({ delayMs: 10 }),
        clock,
        shouldRetry: (error, ctx) => {
          seen.push([(error as Error).message, ctx.attempt]);
          return ctx.attempt < 2;
        },
      });
      const giveUp = record(retry, 'giveUp');
      const { fn, calls } = flaky(clock, Infinity, 0);
      const result = expect(retry.execute(fn)).rejects.toThrow('fail 2');
      await clock.runAllAsync();
      await result;
      expect(calls).toHaveLength(2);
      expect(seen).toEqual([
        ['fail 1', 1],
        ['fail 2', 2],
      ]);
      expect(giveUp[0]).toMatchObject({ attempts: 2, reason: 'notRetryable' });
    });

    it('retries every error by default, BrokenCircuitError included', async () => {
      const clock = new VirtualClock();
      const { fn, calls } = flaky(clock, 1, 'ok', () => new BrokenCircuitError());
      const result = new Retry({ maxAttempts: 2, backoff: backoff.constant({ delayMs: 5 }), clock }).execute(fn);
      await clock.runAllAsync();
      await expect(result).resolves.toBe('ok');
      expect(calls).toHaveLength(2);
    });

    it('retries a result judged retryable and returns the first acceptable one', async () => {
      const clock = new VirtualClock();
      const statuses = [503, 503, 200];
      const retry = new Retry({
        maxAttempts: 5,
        backoff: backoff.constant({ delayMs: 100 }),
        clock,
        shouldRetryResult: (status) => status === 503,
      });
      const retries = record(retry, 'retry');
      const times: number[] = [];
      const result = retry.execute(() => {
        times.push(clock.now());
        return statuses[times.length - 1] as number;
      });
      await clock.runAllAsync();
      await expect(result).resolves.toBe(200);
      expect(times).toEqual([0, 100, 200]);
      expect(retries.map((e) => [e.attempt, e.result, 'error' in e])).toEqual([
        [2, 503, false],
        [3, 503, false],
      ]);
    });

    it('returns the last retryable result when attempts run out', async () => {
      const clock = new VirtualClock();
      const retry = new Retry({ maxAttempts: 3, backoff: backoff.constant({ delayMs: 1 }), clock, shouldRetryResult: () => true });
      const giveUp = record(retry, 'giveUp');
      let n = 0;
      const result = retry.execute(() => ++n);
      await clock.runAllAsync();
      await expect(result).resolves.toBe(3);
      expect(giveUp).toEqual([{ attempts: 3, reason: 'maxAttempts', result: 3 }]);
    });
  });

  describe('predicates that throw', () => {
    it('shouldRetry: reported, the error is not retried and the call rejects with it', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      try {
        const clock = new VirtualClock();
        const retry = new Retry({
          name: 'pricing',
          clock,
          shouldRetry: () => {
            throw new Error('predicate bug');
          },
        });
        const giveUp = record(retry, 'giveUp');
        const { fn, calls } = flaky(clock, Infinity, 0);
        const result = expect(retry.execute(fn)).rejects.toThrow('fail 1');
        await clock.runAllAsync();
        await result;
        expect(calls).toHaveLength(1);
        expect(giveUp).toEqual([expect.objectContaining({ attempts: 1, reason: 'notRetryable' })]);
        expect(warn).toHaveBeenCalledWith('Retry "pricing" option shouldRetry threw: predicate bug', {
          code: 'ANTIFRAGILE_CALLBACK_ERROR',
        });
      } finally {
        warn.mockRestore();
      }
    });

    it('shouldRetryResult: reported, the result is not retried and the call resolves with it', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      try {
        const clock = new VirtualClock();
        const retry = new Retry({
          clock,
          shouldRetryResult: () => {
            throw new Error('predicate bug');
          },
        });
        const success = record(retry, 'success');
        const { fn, calls } = flaky(clock, 0, 'value');
        await expect(retry.execute(fn)).resolves.toBe('value');
        expect(calls).toHaveLength(1);
        expect(success).toEqual([{ attempts: 1 }]);
        expect(warn).toHaveBeenCalledWith('Retry "retry" option shouldRetryResult threw: predicate bug', {
          code: 'ANTIFRAGILE_CALLBACK_ERROR',
        });
      } finally {
        warn.mockRestore();
      }
    });
  });

  describe('custom backoff', () => {
    it('clamps what it returns to 0..maxRetryAfterMs: NaN and negatives wait 0, Infinity waits maxRetryAfterMs', async () => {
      const clock = new VirtualClock();
      const returned = [Number.NaN, -50, Infinity, 1e12, 25];
      const previous: number[] = [];
      const custom = {
        delayMs: (retry: number, previousDelayMs: number): number => {
          previous.push(previousDelayMs);
          return returned[retry - 1] as number;
        },
      };
      const retry = new Retry({ maxAttempts: 6, backoff: custom, maxRetryAfterMs: 1_000, clock });
      const events = record(retry, 'retry');
      const { fn, calls } = flaky(clock, 5, 'ok');
      const result = retry.execute(fn);
      await clock.runAllAsync();
      await expect(result).resolves.toBe('ok');
      expect(events.map((e) => e.delayMs)).toEqual([0, 0, 1_000, 1_000, 25]);
      expect(previous).toEqual([0, 0, 0, 1_000, 1_000]);
      expect(calls.map((c) => c.at)).toEqual([0, 0, 0, 1_000, 2_000, 2_025]);
    });
  });

  describe('retryAfterMs', () => {
    it('waits at least the retryAfterMs an error asks for', async () => {
      const clock = new VirtualClock();
      const retry = new Retry({ maxAttempts: 3, backoff: backoff.constant({ delayMs: 100 }), clock });
      const retries = record(retry, 'retry');
      const { fn, calls } = flaky(clock, 2, 'ok', (n) =>
        n === 1 ? new RateLimitedError('slow down', { retryAfterMs: 750 }) : { retryAfterMs: 20 },
      );
      const result = retry.execute(fn);
      await clock.runAllAsync();
      await expect(result).resolves.toBe('ok');
      expect(calls.map((c) => c.at)).toEqual([0, 750, 850]);
      expect(retries.map((e) => e.delayMs)).toEqual([750, 100]);
    });

    it('does not retry when retryAfterMs is above maxRetryAfterMs, and rethrows the error', async () => {
      const clock = new VirtualClock();
      const retry = new Retry({ maxAttempts: 3, backoff: backoff.constant({ delayMs: 1 }), clock, maxRetryAfterMs: 1_000 });
      const giveUp = record(retry, 'giveUp');
      const error = new RateLimitedError('later', { retryAfterMs: 1_001 });
      await expect(retry.execute(() => Promise.reject(error))).rejects.toBe(error);
      expect(giveUp).toEqual([{ attempts: 1, reason: 'retryAfterTooLong', error }]);
      expect(clock.pendingTimers).toBe(0);
    });

    it('treats an infinite retryAfterMs as too long and ignores NaN or negative hints', async () => {
      const clock = new VirtualClock();
      const retry = new Retry({ maxAttempts: 3, backoff: backoff.constant({ delayMs: 10 }), clock });
      const never = { retryAfterMs: Infinity };
      await expect(retry.execute(() => Promise.reject(never))).rejects.toBe(never);
      const { fn, calls } = flaky(clock, 2, 'ok', (n) => ({ retryAfterMs: n === 1 ? Number.NaN : -5 }));
      const result = retry.execute(fn);
      await clock.runAllAsync();
      await expect(result).resolves.toBe('ok');
      expect(calls.map((c) => c.at - (calls[0]?.at ?? 0))).toEqual([0, 10, 20]);
    });
  });

  describe('abort', () => {
    it('stops a backoff wait at once with the signal reason, leaving no timer and no listener', async () => {
      const clock = new VirtualClock();
      const retry = new Retry({ maxAttempts: 5, backoff: backoff.constant({ delayMs: 10_000 }), clock });
      const { fn, calls } = flaky(clock, Infinity, 0);
      const controller = new AbortController();
      const reason = new Error('caller went away');
      const result = retry.execute(fn, { signal: controller.signal });
      const settled = expect(result).rejects.toBe(reason);
      await clock.advanceAsync(500);
      expect(clock.pendingTimers).toBe(1);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      controller.abort(reason);
      await settled;
      expect(clock.now()).toBe(500);
      expect(calls).toHaveLength(1);
      expect(clock.pendingTimers).toBe(0);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    });

    it('does not call fn when the signal is already aborted', async () => {
      const clock = new VirtualClock();
      const { fn, calls } = flaky(clock, 0, 'ok');
      const reason = new Error('already');
      await expect(new Retry({ clock }).execute(fn, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      expect(calls).toHaveLength(0);
    });

    it('never retries a failure after the caller aborted, whatever shouldRetry says', async () => {
      const clock = new VirtualClock();
      const controller = new AbortController();
      const retry = new Retry({ maxAttempts: 5, clock, shouldRetry: () => true });
      const giveUp = record(retry, 'giveUp');
      let calls = 0;
      const result = retry.execute(
        ({ signal }) => {
          calls++;
          return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('io aborted')), { once: true }));
        },
        { signal: controller.signal },
      );
      const settled = expect(result).rejects.toBe('stop');
      controller.abort('stop');
      await settled;
      expect(calls).toBe(1);
      expect(giveUp).toEqual([]);
      expect(clock.pendingTimers).toBe(0);
    });

    it('rejects at once with signal.reason when the attempt honours its signal, and starts no further attempt', async () => {
      const clock = new VirtualClock();
      const controller = new AbortController();
      const reason = new Error('client went away');
      const retry = new Retry({ maxAttempts: 5, backoff: backoff.constant({ delayMs: 0 }), clock });
      let calls = 0;
      let outcome: unknown = 'pending';
      void retry
        .execute(
          ({ signal }) => {
            calls++;
            // Honours its signal the way fetch does: rejects with an AbortError of its own.
            return new Promise<never>((_, reject) =>
              signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')), { once: true }),
            );
          },
          { signal: controller.signal },
        )
        .then(
          () => (outcome = 'resolved'),
          (e: unknown) => (outcome = e),
        );
      await clock.advanceAsync(0);
      expect(outcome).toBe('pending');
      controller.abort(reason);
      await clock.advanceAsync(0); // microtasks only: no time passes
      expect(outcome).toBe(reason);
      expect(clock.now()).toBe(0);
      expect(calls).toBe(1);
      expect(clock.pendingTimers).toBe(0);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    });

    it('during an attempt that ignores its signal, waits for it to settle, then rejects with signal.reason', async () => {
      const clock = new VirtualClock();
      const controller = new AbortController();
      const reason = new Error('client went away');
      let fail: (error: unknown) => void = () => {};
      let calls = 0;
      let outcome: unknown = 'pending';
      void new Retry({ maxAttempts: 5, clock })
        .execute(
          () => {
            calls++;
            return new Promise<never>((_, reject) => (fail = reject));
          },
          { signal: controller.signal },
        )
        .then(
          () => (outcome = 'resolved'),
          (e: unknown) => (outcome = e),
        );
      controller.abort(reason);
      await clock.advanceAsync(0);
      expect(outcome).toBe('pending'); // documented: Retry does not abandon a running attempt
      fail(new Error('legacy client timed out'));
      await clock.advanceAsync(0);
      expect(outcome).toBe(reason);
      expect(calls).toBe(1);
    });

    it('checks the signal between attempts when the delay is zero', async () => {
      const clock = new VirtualClock();
      const controller = new AbortController();
      const retry = new Retry({ maxAttempts: 5, backoff: backoff.constant({ delayMs: 0 }), clock });
      retry.on('retry', () => controller.abort('late'));
      const { fn, calls } = flaky(clock, Infinity, 0);
      await expect(retry.execute(fn, { signal: controller.signal })).rejects.toBe('late');
      expect(calls).toHaveLength(1);
    });
  });

  describe('budget', () => {
    it('retries while the budget allows the floor, then throws RetryBudgetExhaustedError with the last error as cause', async () => {
      const clock = new VirtualClock();
      const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, windowMs: 2_000, clock });
      const retry = new Retry({ maxAttempts: 10, backoff: backoff.constant({ delayMs: 10 }), budget, clock });
      const exhausted = record(retry, 'budgetExhausted');
      const { fn, calls } = flaky(clock, Infinity, 0);
      const result = retry.execute(fn);
      const settled = expect(result).rejects.toBeInstanceOf(RetryBudgetExhaustedError);
      await clock.runAllAsync();
      await settled;
      const error = await result.catch((e: unknown) => e);
      expect(isRetryBudgetExhaustedError(error)).toBe(true);
      expect(((error as Error).cause as Error).message).toBe('fail 3');
      expect(calls.map((c) => c.at)).toEqual([0, 10, 20]);
      expect(exhausted).toHaveLength(1);
      expect(exhausted[0]?.attempts).toBe(3);
      expect(budget.calls).toBe(1);
      expect(budget.retries).toBe(2);
    });

    it('is shared by two Retry instances', async () => {
      const clock = new VirtualClock();
      const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, windowMs: 3_000, clock });
      const a = new Retry({ maxAttempts: 3, backoff: backoff.constant({ delayMs: 0 }), budget, clock });
      const b = new Retry({ maxAttempts: 3, backoff: backoff.constant({ delayMs: 0 }), budget, clock });
      const first = flaky(clock, Infinity, 0);
      await expect(a.execute(first.fn)).rejects.toThrow('fail 3'); // 2 retries taken
      const second = flaky(clock, Infinity, 0);
      await expect(b.execute(second.fn)).rejects.toBeInstanceOf(RetryBudgetExhaustedError); // 1 left
      expect(second.calls).toHaveLength(2);
      expect([budget.calls, budget.retries, budget.available]).toEqual([2, 3, 0]);
      const third = flaky(clock, 1, 'ok');
      await expect(a.execute(third.fn)).rejects.toBeInstanceOf(RetryBudgetExhaustedError);
      expect(third.calls).toHaveLength(1);
    });

    it('deposits one call per execute and earns retries by ratio', async () => {
      const clock = new VirtualClock();
      const budget = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, clock });
      const retry = new Retry({ maxAttempts: 2, backoff: backoff.constant({ delayMs: 0 }), budget, clock });
      await retry.execute(() => 'ok');
      expect(budget.calls).toBe(1);
      await expect(retry.execute(flaky(clock, 1, 'ok').fn)).resolves.toBe('ok'); // 0.5 * 2 = 1 retry
      await expect(retry.execute(flaky(clock, 1, 'ok').fn)).rejects.toBeInstanceOf(RetryBudgetExhaustedError); // 1.5
      expect([budget.calls, budget.retries]).toEqual([3, 1]);
    });

    it('returns the last retryable result when the budget refuses', async () => {
      const clock = new VirtualClock();
      const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0, clock });
      const retry = new Retry({ maxAttempts: 3, budget, clock, shouldRetryResult: (r) => r === 503 });
      const exhausted = record(retry, 'budgetExhausted');
      await expect(retry.execute(() => 503)).resolves.toBe(503);
      expect(exhausted).toEqual([{ attempts: 1, result: 503 }]);
    });

    it('is not charged for an error that is not retried', async () => {
      const clock = new VirtualClock();
      const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, windowMs: 1_000, clock });
      const retry = new Retry({ maxAttempts: 3, budget, clock, shouldRetry: () => false });
      await expect(retry.execute(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
      expect(budget.retries).toBe(0);
    });

    it('stops an infinite maxAttempts', async () => {
      const clock = new VirtualClock();
      const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 5, windowMs: 1_000, clock });
      const retry = new Retry({ maxAttempts: Infinity, backoff: backoff.constant({ delayMs: 0 }), budget, clock });
      const { fn, calls } = flaky(clock, Infinity, 0);
      await expect(retry.execute(fn)).rejects.toBeInstanceOf(RetryBudgetExhaustedError);
      expect(calls).toHaveLength(6);
    });
  });

  describe('events', () => {
    it('on() returns a function that unsubscribes', async () => {
      const clock = new VirtualClock();
      const retry = new Retry({ clock });
      let n = 0;
      const off = retry.on('success', () => n++);
      await retry.execute(() => 1);
      off();
      off();
      await retry.execute(() => 1);
      expect(n).toBe(1);
    });
  });

  it('infers the result type of fn, adding nothing to it', () => {
    const retry = new Retry({ clock: new VirtualClock() });
    expectTypeOf(retry.execute(() => 1)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pipeline(retry).execute(async () => 'x')).toEqualTypeOf<Promise<string>>();
  });

  describe('options', () => {
    it('lists every bad field in one InvalidOptionsError', () => {
      const bad = {
        maxAttempts: 0.5,
        backoff: { next: () => 1 },
        shouldRetry: 'yes',
        shouldRetryResult: 1,
        budget: {},
        maxRetryAfterMs: -1,
        clock: Date,
        name: 42,
      } as never;
      let error: unknown;
      try {
        new Retry(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
        'maxAttempts',
        'backoff',
        'shouldRetry',
        'shouldRetryResult',
        'budget',
        'maxRetryAfterMs',
        'clock',
        'name',
      ]);
    });

    it('accepts maxAttempts Infinity and rejects 0, NaN and -Infinity', () => {
      expect(() => new Retry({ maxAttempts: Infinity })).not.toThrow();
      for (const maxAttempts of [0, Number.NaN, -Infinity]) {
        expect(() => new Retry({ maxAttempts })).toThrow(InvalidOptionsError);
      }
      expect(() => new Retry(null as never)).toThrow(InvalidOptionsError);
    });
  });
});
