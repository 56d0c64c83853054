import { coarseNowOf, systemClock, type Clock } from '../core/clock.js';
import { OptionsValidator } from '../core/options.js';

/** Options of {@link RetryBudget}. */
export interface RetryBudgetOptions {
  /**
   * Retries allowed per call in the window on top of the floor, 0..1 (Finagle's `percentCanRetry`):
   * 0.2 lets retries add at most 20% to the load once traffic is above the floor.
   * @default 0.2
   */
  ratio?: number;
  /**
   * The floor: retries per second always allowed, whatever the traffic, >= 0 (Finagle's `minRetriesPerSec`),
   * so a service with little traffic can still retry.
   * @default 10
   */
  minRetriesPerSecond?: number;
  /**
   * Length of the rolling window calls and retries are counted over, in milliseconds, > 0 (Finagle's `ttl`).
   * @default 10_000
   */
  windowMs?: number;
  /**
   * Source of time.
   * @default systemClock
   */
  clock?: Clock;
}

const BUCKETS = 10;
/** Absorbs float error in `ratio * calls` (0.29 * 100 is 28.999999999999996). */
const EPSILON = 1e-9;

/**
 * A retry budget in the style of Finagle and Envoy, shareable by any number of {@link Retry} policies:
 * over the last `windowMs`, a retry is allowed while
 * `retries <= minRetriesPerSecond * windowMs / 1000 + ratio * calls` (counting the retry asked for).
 * It caps the extra load retries put on a struggling dependency, where `maxAttempts` alone multiplies it.
 * Counts live in 10 buckets that rotate lazily from the clock: no timer, constant cost, bounded memory; a
 * call or retry leaves the window between `0.9 * windowMs` and `windowMs` after it was recorded.
 *
 * @example
 * ```ts
 * const budget = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 5 });
 * const a = new Retry({ maxAttempts: 3, budget });
 * const b = new Retry({ maxAttempts: 5, budget }); // same dependency, same budget
 * ```
 */
export class RetryBudget {
  /** The `ratio` in force. */
  readonly ratio: number;
  /** The `minRetriesPerSecond` in force. */
  readonly minRetriesPerSecond: number;
  /** The `windowMs` in force. */
  readonly windowMs: number;
  /** Reads the clock, coarsely when it can: a bucket is far longer than the staleness. */
  private readonly now: () => number;
  /** Retries always allowed per window. */
  private readonly reserve: number;
  private readonly bucketMs: number;
  /** Calls and retries of each bucket, interleaved: [c0, r0, c1, r1, ...]. */
  private readonly counts = new Float64Array(BUCKETS * 2);
  private epoch = -Infinity;
  private head = 0;
  private callCount = 0;
  private retryCount = 0;

  /** @throws InvalidOptionsError listing every bad option. */
  constructor(options: RetryBudgetOptions = {}) {
    const v = new OptionsValidator('RetryBudget');
    if (v.object('options', options)) {
      v.rate('ratio', options.ratio);
      v.number('minRetriesPerSecond', options.minRetriesPerSecond, { min: 0 });
      v.duration('windowMs', options.windowMs, true);
      v.clock('clock', options.clock);
    }
    v.throwIfInvalid();
    this.ratio = options.ratio ?? 0.2;
    this.minRetriesPerSecond = options.minRetriesPerSecond ?? 10;
    this.windowMs = options.windowMs ?? 10_000;
    this.now = coarseNowOf(options.clock ?? systemClock);
    this.reserve = (this.minRetriesPerSecond * this.windowMs) / 1000;
    this.bucketMs = this.windowMs / BUCKETS;
  }

  /** Records a call (a first attempt), which earns `ratio` of a retry. */
  deposit(): void {
    this.rotate();
    this.counts[this.head * 2] = (this.counts[this.head * 2] as number) + 1;
    this.callCount++;
  }

  /** Takes one retry from the budget if it allows one; returns whether it did. */
  tryWithdraw(): boolean {
    this.rotate();
    if (this.retryCount + 1 > this.reserve + this.ratio * this.callCount + EPSILON) return false;
    this.counts[this.head * 2 + 1] = (this.counts[this.head * 2 + 1] as number) + 1;
    this.retryCount++;
    return true;
  }

  /** Retries the budget would allow right now. */
  get available(): number {
    this.rotate();
    return Math.max(0, Math.floor(this.reserve + this.ratio * this.callCount - this.retryCount + EPSILON));
  }

  /** Calls recorded in the window. */
  get calls(): number {
    this.rotate();
    return this.callCount;
  }

  /** Retries taken in the window. */
  get retries(): number {
    this.rotate();
    return this.retryCount;
  }

  /** Forgets every call and retry. */
  reset(): void {
    this.counts.fill(0);
    this.callCount = this.retryCount = 0;
  }

  private rotate(): void {
    const epoch = Math.floor(this.now() / this.bucketMs);
    const steps = epoch - this.epoch;
    if (steps <= 0) return;
    this.epoch = epoch;
    if (steps >= BUCKETS) {
      if (this.callCount !== 0 || this.retryCount !== 0) this.reset();
      return;
    }
    const counts = this.counts;
    for (let i = 0; i < steps; i++) {
      this.head = this.head + 1 === BUCKETS ? 0 : this.head + 1;
      const base = this.head * 2;
      this.callCount -= counts[base] as number;
      this.retryCount -= counts[base + 1] as number;
      counts[base] = counts[base + 1] = 0;
    }
  }
}
