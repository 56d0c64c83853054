import { clamp, type ConcurrencyLimitAlgorithm, type LimitBounds } from './concurrency-limit-algorithm.js';

/** Settings of the `'aimd'` algorithm of {@link AdaptiveConcurrency}. */
export interface AimdOptions {
  /** On a drop, the limit is multiplied by this (then floored), 0.5..1. @default 0.9 */
  backoffRatio?: number;
  /** A call slower than this (ms) counts as a drop even if it succeeded. Off unless set. */
  timeoutMs?: number;
}

/**
 * Additive increase, multiplicative decrease, as TCP congestion control:
 * - drop (`didDrop` or `rttMs > timeoutMs`): `limit = max(minLimit, floor(limit * backoffRatio))`, and the
 *   success count restarts;
 * - success while the limit is in use (`inflight * 2 >= limit`): count it; after `limit` such successes,
 *   `limit = min(maxLimit, limit + 1)` and the count restarts. That is +1 per window of `limit` calls, so
 *   growth is linear in round trips, not in calls;
 * - success while under half the limit is in use: nothing (no evidence the limit is too low).
 * @internal
 */
export class AimdLimit implements ConcurrencyLimitAlgorithm {
  limit: number;
  private readonly minLimit: number;
  private readonly maxLimit: number;
  private readonly backoffRatio: number;
  private readonly timeoutMs: number;
  private successes = 0;

  constructor(bounds: LimitBounds, options: AimdOptions) {
    this.limit = bounds.initialLimit;
    this.minLimit = bounds.minLimit;
    this.maxLimit = bounds.maxLimit;
    this.backoffRatio = options.backoffRatio ?? 0.9;
    this.timeoutMs = options.timeoutMs ?? Infinity;
  }

  onSample(rttMs: number, inflight: number, didDrop: boolean): number {
    if (didDrop || rttMs > this.timeoutMs) {
      // + 1e-9: 50 * 0.9 must floor to 45 even if the product lands a hair below it
      this.limit = clamp(Math.floor(this.limit * this.backoffRatio + 1e-9), this.minLimit, this.maxLimit);
      this.successes = 0;
    } else if (inflight * 2 >= this.limit && ++this.successes >= this.limit) {
      this.limit = Math.min(this.maxLimit, this.limit + 1);
      this.successes = 0;
    }
    return this.limit;
  }
}
