import { neverAbortedSignal, sleep } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import { RetryBudgetExhaustedError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import type { Backoff } from './backoff/backoff.js';
import { ExponentialBackoff } from './backoff/exponential-backoff.js';
import { contextOf, withAttempt } from './context.js';
import { isContextAborted } from './lazy-context.js';
import type { ExecuteOptions, Policy, PolicyContext, PolicyFunction } from './policy.js';
import type { RetryBudget } from './retry-budget.js';

/** Options of {@link Retry}. */
export interface RetryOptions {
  /**
   * Attempts in all, the first included: an integer >= 1, or `Infinity` to retry until success, abort or
   * budget exhaustion. 1 never retries.
   * @default 3
   */
  maxAttempts?: number;
  /**
   * How long to wait before each retry (see `backoff`). What a custom strategy returns is clamped to
   * `0..maxRetryAfterMs` (NaN and negative values count as 0, `Infinity` and larger values as
   * `maxRetryAfterMs`), and the clamped value is what it receives as `previousDelayMs` next time.
   * @default backoff.exponential() (100 ms doubling up to 30 s, full jitter)
   */
  backoff?: Backoff;
  /**
   * Whether an error is worth retrying; `ctx` is the context of the attempt that failed. An abort of the
   * caller's signal is never retried, whatever this says. Errors raised by other policies
   * (`BrokenCircuitError`, `TimeoutError`, ...) are retried unless this filters them. If it throws, the
   * throw is reported as a process warning (code `ANTIFRAGILE_CALLBACK_ERROR`) and the error is not
   * retried: the call rejects with that error, not with what the predicate threw.
   * @default every error
   */
  shouldRetry?: (error: unknown, ctx: PolicyContext) => boolean;
  /**
   * Whether a result is worth retrying (a 503 response, say). When attempts or budget run out, the last
   * result is returned. If it throws, the throw is reported as a process warning (code
   * `ANTIFRAGILE_CALLBACK_ERROR`) and the result is not retried: the call resolves with it.
   * @default no result is retried
   */
  shouldRetryResult?: (result: unknown, ctx: PolicyContext) => boolean;
  /**
   * A {@link RetryBudget}, possibly shared with other policies. Each call deposits into it, each retry
   * withdraws; when it refuses, the call rejects with `RetryBudgetExhaustedError` (the last error as `cause`).
   * @default no budget
   */
  budget?: RetryBudget;
  /**
   * Longest `retryAfterMs` (carried by an error, e.g. a `RateLimitedError`) worth waiting for, in
   * milliseconds, finite and >= 0. A longer hint is not retried: the error is rethrown. It also caps what
   * the `backoff` strategy returns, so no wait between attempts is longer.
   * @default 60_000
   */
  maxRetryAfterMs?: number;
  /**
   * Source of time for the waits.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * Name carried in diagnostics messages.
   * @default 'retry'
   */
  name?: string;
}

/** Why a {@link Retry} stopped retrying and settled with the last outcome. */
export type RetryGiveUpReason =
  /** `maxAttempts` were made. */
  | 'maxAttempts'
  /** `shouldRetry` refused the error. */
  | 'notRetryable'
  /** The error's `retryAfterMs` was above `maxRetryAfterMs`. */
  | 'retryAfterTooLong';

/** Payload of the `retry` event. Exactly one of `error` and `result` is present. */
export interface RetryEvent {
  /** The attempt about to run: 2 for the first retry. */
  attempt: number;
  /** How long the policy waits before it, in milliseconds. */
  delayMs: number;
  /** The error of the attempt that failed. */
  error?: unknown;
  /** The result `shouldRetryResult` judged retryable. */
  result?: unknown;
}

/** Payload of the `giveUp` event. Exactly one of `error` and `result` is present. */
export interface RetryGiveUpEvent {
  /** Attempts made. */
  attempts: number;
  /** Why no further attempt is made. */
  reason: RetryGiveUpReason;
  /** The error the call rejects with. */
  error?: unknown;
  /** The retryable result returned because attempts ran out. */
  result?: unknown;
}

/** Payload of the `budgetExhausted` event. Exactly one of `error` and `result` is present. */
export interface RetryBudgetExhaustedEvent {
  /** Attempts made. */
  attempts: number;
  /** The error of the last attempt (the `cause` of the `RetryBudgetExhaustedError`). */
  error?: unknown;
  /** The retryable result of the last attempt, returned as is. */
  result?: unknown;
}

/**
 * Events of a {@link Retry}. Every call ends with exactly one of `success`, `giveUp`, `budgetExhausted`,
 * or none when the caller's signal aborts it.
 */
export interface RetryEvents {
  /** A retry is scheduled. */
  retry: RetryEvent;
  /** An attempt succeeded with a result not judged retryable. */
  success: { attempts: number };
  /** No further attempt is made: the call rejects with `error`, or resolves with a retryable `result`. */
  giveUp: RetryGiveUpEvent;
  /** The budget refused a retry. */
  budgetExhausted: RetryBudgetExhaustedEvent;
}

/**
 * Runs a function again when it fails, waiting between attempts by a backoff strategy, honouring
 * `retryAfterMs` hints, an optional shared {@link RetryBudget}, and the caller's `AbortSignal`. The
 * function receives `{ signal, attempt }` (attempt 1 first, 2 for the first retry) and any other context
 * fields from outer policies.
 *
 * Cancellation: an abort stops a backoff wait at once and rejects with `signal.reason`, and no attempt
 * starts once the signal has aborted. During an attempt, Retry waits for the function to settle: the
 * function receives the caller's signal and is expected to honour it (as with cockatiel). If it then
 * fails, the call rejects with `signal.reason` (not the attempt's own error) and no further attempt starts;
 * a value it still returns is returned. To bound a function that ignores its signal, put a `Timeout` with
 * the `'aggressive'` strategy around the Retry.
 *
 * @example
 * ```ts
 * const retry = new Retry({
 *   maxAttempts: 4,
 *   backoff: backoff.exponential({ initialMs: 100, maxMs: 2_000, jitter: 'full' }),
 *   shouldRetry: (error) => !(error instanceof ValidationError),
 *   shouldRetryResult: (res) => (res as Response).status === 503,
 *   budget: new RetryBudget({ ratio: 0.2 }),
 * });
 * retry.on('retry', ({ attempt, delayMs }) => log.warn({ attempt, delayMs }, 'retrying pricing'));
 * const res = await retry.execute(({ signal }) => fetch(url, { signal }), { signal: req.signal });
 * ```
 */
export class Retry implements Policy {
  /** The instance name. */
  readonly name: string;
  private readonly maxAttempts: number;
  private readonly backoff: Backoff;
  private readonly shouldRetry: ((error: unknown, ctx: PolicyContext) => boolean) | undefined;
  private readonly shouldRetryResult: ((result: unknown, ctx: PolicyContext) => boolean) | undefined;
  private readonly budget: RetryBudget | undefined;
  private readonly maxRetryAfterMs: number;
  private readonly clock: Clock;
  private readonly events: EventEmitter<RetryEvents>;

  /** @throws InvalidOptionsError listing every bad option. */
  constructor(options: RetryOptions = {}) {
    const v = new OptionsValidator('Retry');
    if (v.object('options', options)) {
      v.integer('maxAttempts', options.maxAttempts, 1, true);
      if (options.backoff !== undefined && typeof (options.backoff as Partial<Backoff> | null)?.delayMs !== 'function') {
        v.fail('backoff', 'a Backoff with delayMs() (see backoff.*)', options.backoff);
      }
      v.func('shouldRetry', options.shouldRetry);
      v.func('shouldRetryResult', options.shouldRetryResult);
      const budget = options.budget as Partial<RetryBudget> | null | undefined;
      if (budget !== undefined && (typeof budget?.deposit !== 'function' || typeof budget.tryWithdraw !== 'function')) {
        v.fail('budget', 'a RetryBudget', budget);
      }
      v.duration('maxRetryAfterMs', options.maxRetryAfterMs);
      v.clock('clock', options.clock);
      v.string('name', options.name);
    }
    v.throwIfInvalid();
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoff = options.backoff ?? new ExponentialBackoff();
    this.shouldRetry = options.shouldRetry;
    this.shouldRetryResult = options.shouldRetryResult;
    this.budget = options.budget;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.clock = options.clock ?? systemClock;
    this.name = options.name ?? 'retry';
    this.events = new EventEmitter<RetryEvents>('retry', this.name);
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof RetryEvents>(event: K, listener: Listener<RetryEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Runs `fn`, retrying as configured. Resolves with the first result not judged retryable (or the last
   * result when attempts or budget run out); rejects with the last error, with `RetryBudgetExhaustedError`,
   * or with `signal.reason` once the caller's signal has aborted: at once while waiting between attempts,
   * and when the running attempt fails otherwise (`fn` receives the signal and should stop on abort).
   */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    const base = contextOf(options);
    if (this.shouldRetryResult !== undefined || this.events.wants('success')) return this.run(fn, base, false, undefined);
    // Fast path: the first attempt runs without an async frame; only a failure enters the retry loop.
    if (isContextAborted(base)) return Promise.reject(base.signal.reason);
    this.budget?.deposit();
    const ctx = withAttempt(base, 1);
    let pending: PromiseLike<T> | T;
    try {
      pending = fn(ctx);
    } catch (error) {
      return this.run(fn, base, true, error);
    }
    return Promise.resolve(pending).then(undefined, (error: unknown) => this.run(fn, base, true, error));
  }

  /**
   * The retry loop. When `resumed`, attempt 1 already ran (on the fast path) and failed with `firstError`.
   */
  private async run<T>(fn: PolicyFunction<T>, base: PolicyContext, resumed: boolean, firstError: unknown): Promise<T> {
    const events = this.events;
    let previousDelayMs = 0;
    for (let attempt = 1; ; attempt++) {
      const ctx = withAttempt(base, attempt);
      let outcome: { error: unknown } | { result: T };
      if (attempt === 1 && resumed) {
        if (isContextAborted(base)) throw base.signal.reason;
        const reason = this.giveUpReason(firstError, ctx, attempt);
        if (reason !== undefined) {
          if (events.wants('giveUp')) events.emit('giveUp', { attempts: attempt, reason, error: firstError });
          throw firstError;
        }
        outcome = { error: firstError };
      } else {
        if (isContextAborted(base)) throw base.signal.reason;
        if (attempt === 1) this.budget?.deposit();
        try {
          const result = await fn(ctx);
          if (this.shouldRetryResult === undefined || !this.retriesResult(result, ctx)) {
            if (events.wants('success')) events.emit('success', { attempts: attempt });
            return result;
          }
          if (attempt >= this.maxAttempts) {
            if (events.wants('giveUp')) events.emit('giveUp', { attempts: attempt, reason: 'maxAttempts', result });
            return result;
          }
          outcome = { result };
        } catch (error) {
          if (isContextAborted(base)) throw base.signal.reason;
          const reason = this.giveUpReason(error, ctx, attempt);
          if (reason !== undefined) {
            if (events.wants('giveUp')) events.emit('giveUp', { attempts: attempt, reason, error });
            throw error;
          }
          outcome = { error };
        }
      }
      if (this.budget !== undefined && !this.budget.tryWithdraw()) {
        if (events.wants('budgetExhausted')) events.emit('budgetExhausted', { attempts: attempt, ...outcome });
        if ('result' in outcome) return outcome.result;
        throw new RetryBudgetExhaustedError(undefined, { cause: outcome.error });
      }
      const backoffMs = this.clampDelay(this.backoff.delayMs(attempt, previousDelayMs));
      previousDelayMs = backoffMs;
      const hintMs = 'error' in outcome ? retryAfterOf(outcome.error) : 0;
      const delayMs = hintMs > backoffMs ? hintMs : backoffMs;
      if (events.wants('retry')) events.emit('retry', { attempt: attempt + 1, delayMs, ...outcome });
      // Only a wait needs the signal itself (reading a lazy one creates it): failures are the slow path.
      const signal = base.signal;
      await sleep(this.clock, delayMs, signal === neverAbortedSignal ? undefined : signal);
    }
  }

  /** Why the error of attempt `attempt` is not retried, or undefined when it is. */
  private giveUpReason(error: unknown, ctx: PolicyContext, attempt: number): RetryGiveUpReason | undefined {
    if (attempt >= this.maxAttempts) return 'maxAttempts';
    if (this.shouldRetry !== undefined && !this.retries(error, ctx)) return 'notRetryable';
    if (retryAfterOf(error) > this.maxRetryAfterMs) return 'retryAfterTooLong';
    return undefined;
  }

  /** `shouldRetry`, guarded: a predicate that throws is reported and the error not retried. */
  private retries(error: unknown, ctx: PolicyContext): boolean {
    try {
      return (this.shouldRetry as (error: unknown, ctx: PolicyContext) => boolean)(error, ctx);
    } catch (predicateError) {
      reportCallbackError(predicateError, `Retry "${this.name}" option shouldRetry`);
      return false;
    }
  }

  /** `shouldRetryResult`, guarded: a predicate that throws is reported and the result not retried. */
  private retriesResult(result: unknown, ctx: PolicyContext): boolean {
    try {
      return (this.shouldRetryResult as (result: unknown, ctx: PolicyContext) => boolean)(result, ctx);
    } catch (predicateError) {
      reportCallbackError(predicateError, `Retry "${this.name}" option shouldRetryResult`);
      return false;
    }
  }

  /** A backoff delay clamped to `0..maxRetryAfterMs`: NaN and negatives become 0, `Infinity` the maximum. */
  private clampDelay(ms: number): number {
    return ms > 0 ? (ms < this.maxRetryAfterMs ? ms : this.maxRetryAfterMs) : 0;
  }
}

/** The error's `retryAfterMs` when it is a number >= 0 (Infinity included), else 0. */
function retryAfterOf(error: unknown): number {
  if (typeof error !== 'object' || error === null) return 0;
  const ms = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof ms === 'number' && ms > 0 ? ms : 0;
}
