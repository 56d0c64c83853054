import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { RateLimitedError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { contextOf } from './context.js';
import { isContextAborted } from './lazy-context.js';
import type { ExecuteOptions, Policy, PolicyFunction } from './policy.js';
import type { RateLimitAlgorithm } from './rate-limit/rate-limit-algorithm.js';
import { SlidingWindowLog } from './rate-limit/sliding-window-log.js';
import { TokenBucket } from './rate-limit/token-bucket.js';
import { WaiterQueue } from '../core/waiter-queue.js';

/** A token bucket: bursts of up to `capacity` permits, refilled continuously. */
export interface TokenBucketLimit {
  algorithm: 'token-bucket';
  /** Most permits available at once (the burst size), an integer >= 1. The bucket starts full. */
  capacity: number;
  /** Permits added per second, continuously, > 0 (`0.5` is one permit every 2 s). */
  refillPerSecond: number;
}

/**
 * An exact sliding window (a sliding log of the last `limit` permit times, 8 bytes per permit): at most
 * `limit` permits in any `windowMs` span; a permit taken at `t` frees again at exactly `t + windowMs`.
 */
export interface SlidingWindowLimit {
  algorithm: 'sliding-window';
  /** Most permits in any window, an integer >= 1. */
  limit: number;
  /** Length of the window in ms, > 0. */
  windowMs: number;
}

/** Options of {@link RateLimiter}: the algorithm and its settings, plus how to treat a call over the limit. */
export type RateLimiterOptions = (TokenBucketLimit | SlidingWindowLimit) & {
  /**
   * What a call over the limit does: `'reject'` fails at once with {@link RateLimitedError}; `'wait'` queues
   * first-in first-out for a permit for up to `maxWaitMs` (and fails at once if its turn would come later).
   * @default 'reject'
   */
  mode?: 'reject' | 'wait';
  /** In `'wait'` mode, the longest a call may wait for its permit, in ms. Bounds the queue. @default 1_000 */
  maxWaitMs?: number;
  /** Name used in events and errors. @default 'rate-limiter' */
  name?: string;
  /** Time source. @default systemClock */
  clock?: Clock;
};

/** Events of a {@link RateLimiter}. */
export interface RateLimiterEvents {
  /** A call was refused; `retryAfterMs` is when a permit would be its. */
  rejected: { name: string; retryAfterMs: number };
}

const ALGORITHMS = ['token-bucket', 'sliding-window'] as const;
const MODES = ['reject', 'wait'] as const;

/**
 * Limits how often calls run: a lazy token bucket or an exact sliding window (no timer while idle). Over
 * the limit, a call is refused with {@link RateLimitedError} carrying the exact `retryAfterMs`, or, in
 * `'wait'` mode, waits its turn first-in first-out (one timer for the whole queue, abortable, keeping the
 * process alive while someone waits) for up to `maxWaitMs`. An aborted waiter leaves the queue at once.
 *
 * @example
 * ```ts
 * // 100 requests per second on average, bursts of up to 20, callers wait up to 500 ms for a permit
 * const limiter = new RateLimiter({ algorithm: 'token-bucket', capacity: 20, refillPerSecond: 100, mode: 'wait', maxWaitMs: 500 });
 * const rows = await limiter.execute(({ signal }) => db.query(sql, { signal }));
 *
 * // at most 1 000 calls in any minute; middleware answers 429 itself
 * const perMinute = new RateLimiter({ algorithm: 'sliding-window', limit: 1_000, windowMs: 60_000 });
 * if (!perMinute.tryAcquire()) res.status(429).set('Retry-After', String(Math.ceil(perMinute.retryAfterMs() / 1000)));
 * ```
 */
export class RateLimiter implements Policy {
  /** Name used in events and errors. */
  readonly name: string;
  /** What a call over the limit does. */
  readonly mode: 'reject' | 'wait';
  private readonly clock: Clock;
  private readonly maxWaitMs: number;
  private readonly algorithm: RateLimitAlgorithm;
  private readonly events: EventEmitter<RateLimiterEvents>;
  private readonly waiters = new WaiterQueue(() => {
    if (this.waiters.size === 0 && this.timer !== undefined) {
      this.timer.cancel();
      this.timer = undefined;
    }
  });
  /** Armed while callers wait: fires when the next permit frees. */
  private timer: TimerHandle | undefined = undefined;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.drain();
  };

  constructor(options: RateLimiterOptions) {
    validate(options);
    this.name = options.name ?? 'rate-limiter';
    this.mode = options.mode ?? 'reject';
    this.maxWaitMs = options.maxWaitMs ?? 1_000;
    this.clock = options.clock ?? systemClock;
    this.algorithm =
      options.algorithm === 'token-bucket'
        ? new TokenBucket(options.capacity, options.refillPerSecond)
        : new SlidingWindowLog(options.limit, options.windowMs);
    this.events = new EventEmitter('rate-limiter', this.name);
  }

  /**
   * Runs `fn` once a permit is taken. Refuses with {@link RateLimitedError} when over the limit (in `'wait'`
   * mode: when the caller's turn would come after `maxWaitMs`); rejects with `signal.reason` if the caller
   * aborts while waiting. A permit, once taken, is spent whatever the call does.
   */
  async execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    const context = contextOf(options);
    if (isContextAborted(context)) throw context.signal.reason;
    if (!this.tryAcquire()) {
      const signal = context.signal; // a waiting call must hear an abort, so a lazy signal is created here
      await this.enqueue(signal);
      if (signal.aborted) throw signal.reason;
    }
    return await fn(context);
  }

  /**
   * Takes a permit if one is free now and nobody is waiting for one; returns whether it did. For
   * middleware that answers "429 Too Many Requests" itself (see {@link retryAfterMs}).
   */
  tryAcquire(): boolean {
    if (this.waiters.size > 0) {
      this.drain();
      if (this.waiters.size > 0) return false;
    }
    return this.algorithm.tryAcquire(this.clock.now());
  }

  /** Milliseconds until a new caller could get a permit (0: now), counting the callers already waiting. */
  retryAfterMs(): number {
    return this.algorithm.waitMs(this.clock.now(), this.waiters.size + 1);
  }

  /** Permits a new caller could take now without waiting (0 while callers wait). */
  get remaining(): number {
    return this.waiters.size > 0 ? 0 : this.algorithm.remaining(this.clock.now());
  }

  /** Callers waiting for a permit (`'wait'` mode). */
  get queued(): number {
    return this.waiters.size;
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof RateLimiterEvents>(event: K, listener: Listener<RateLimiterEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Queues the caller for a permit, or throws when it may not wait that long. */
  private enqueue(signal: AbortSignal): Promise<void> {
    const now = this.clock.now();
    if (this.mode === 'reject') throw this.refuse(this.algorithm.waitMs(now, 1));
    const waitMs = this.algorithm.waitMs(now, this.waiters.size + 1);
    if (waitMs > this.maxWaitMs) throw this.refuse(waitMs);
    const granted = this.waiters.wait(signal);
    this.timer ??= this.clock.schedule(this.onTimer, this.algorithm.waitMs(now, 1));
    return granted;
  }

  /** Hands every permit free now to the waiters, oldest first; re-arms the timer for the next one. */
  private drain(): void {
    const now = this.clock.now();
    while (this.waiters.size > 0 && this.algorithm.tryAcquire(now)) this.waiters.wake();
    if (this.waiters.size > 0) this.timer ??= this.clock.schedule(this.onTimer, this.algorithm.waitMs(now, 1));
  }

  private refuse(retryAfterMs: number): RateLimitedError {
    if (this.events.wants('rejected')) this.events.emit('rejected', { name: this.name, retryAfterMs });
    return new RateLimitedError(`Rate limit "${this.name}" exceeded; a permit frees in ${retryAfterMs} ms`, {
      retryAfterMs,
    });
  }
}

function validate(options: RateLimiterOptions): void {
  const v = new OptionsValidator('RateLimiter');
  if (!v.required('options', options, 'an object') || !v.object('options', options)) return v.throwIfInvalid();
  const o = options as unknown as Partial<Record<string, unknown>>;
  v.required('algorithm', o.algorithm, 'one of "token-bucket", "sliding-window"');
  v.oneOf('algorithm', o.algorithm, ALGORITHMS);
  if (o.algorithm === 'token-bucket') {
    v.required('capacity', o.capacity, 'an integer >= 1');
    v.integer('capacity', o.capacity, 1);
    v.required('refillPerSecond', o.refillPerSecond, 'a number > 0');
    v.number('refillPerSecond', o.refillPerSecond, { minExclusive: 0 });
  }
  if (o.algorithm === 'sliding-window') {
    v.required('limit', o.limit, 'an integer >= 1');
    v.integer('limit', o.limit, 1);
    v.required('windowMs', o.windowMs, 'a number > 0');
    v.duration('windowMs', o.windowMs, true);
  }
  v.oneOf('mode', o.mode, MODES);
  v.duration('maxWaitMs', o.maxWaitMs);
  v.string('name', o.name);
  v.clock('clock', o.clock);
  v.throwIfInvalid();
}
