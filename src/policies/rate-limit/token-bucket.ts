import { TIME_SLACK_MS, type RateLimitAlgorithm } from './rate-limit-algorithm.js';

/**
 * A token bucket holding up to `capacity` permits, refilled continuously at `refillPerSecond`; it starts full.
 *
 * Kept lazily, with no timer, as its exact equivalent the generic cell rate algorithm: one number, the
 * theoretical arrival time `tat`. With `T = 1000 / refillPerSecond` (ms per permit) and
 * `tau = (capacity - 1) * T`:
 * - tokens at `now` = `min(capacity, capacity - (tat - now) / T)`;
 * - a permit is free iff `max(tat, now) - tau <= now`; taking it sets `tat = max(tat, now) + T`;
 * - the n-th permit frees at `max(tat, now) + (n - 1) * T - tau`.
 * Times, not fractional token counts, are stored, so refill never accumulates rounding.
 * @internal
 */
export class TokenBucket implements RateLimitAlgorithm {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private tat = -Infinity;

  constructor(
    private readonly capacity: number,
    refillPerSecond: number,
  ) {
    this.intervalMs = 1000 / refillPerSecond;
    this.toleranceMs = (capacity - 1) * this.intervalMs;
  }

  tryAcquire(now: number): boolean {
    const base = this.tat > now ? this.tat : now;
    if (base - this.toleranceMs - now > TIME_SLACK_MS) return false;
    this.tat = base + this.intervalMs;
    return true;
  }

  waitMs(now: number, n: number): number {
    const base = this.tat > now ? this.tat : now;
    const wait = base + (n - 1) * this.intervalMs - this.toleranceMs - now;
    return wait > TIME_SLACK_MS ? wait : 0;
  }

  remaining(now: number): number {
    if (this.tat <= now) return this.capacity;
    const tokens = this.capacity - (this.tat - now) / this.intervalMs;
    return tokens > 0 ? Math.min(this.capacity, Math.floor(tokens + TIME_SLACK_MS / this.intervalMs)) : 0;
  }
}
