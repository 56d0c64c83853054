import { TIME_SLACK_MS, type RateLimitAlgorithm } from './rate-limit-algorithm.js';

/**
 * An exact sliding window: at most `limit` permits in any `windowMs` span. A permit taken at time `t`
 * counts until `t + windowMs` (exclusive), so the window at `now` is `(now - windowMs, now]`.
 *
 * Keeps the times of the last `limit` permits in a ring (a sliding log bounded by `limit` entries,
 * 8 bytes each), oldest first: a permit is free iff the oldest of them is at least `windowMs` old.
 * With the ring read oldest first as `s[0..limit-1]` (never-used slots are `-Infinity`), the n-th next
 * permit, `j = n - 1`, `r = floor(j / limit)`, frees at `max(now + r * windowMs, s[j mod limit] + (r + 1) * windowMs)`.
 * @internal
 */
export class SlidingWindowLog implements RateLimitAlgorithm {
  private readonly log: Float64Array;
  /** Index of the oldest entry, which is also where the next one is written. */
  private head = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {
    this.log = new Float64Array(limit).fill(-Infinity);
  }

  tryAcquire(now: number): boolean {
    if ((this.log[this.head] as number) + this.windowMs - now > TIME_SLACK_MS) return false;
    this.log[this.head] = now;
    this.head = this.head + 1 === this.limit ? 0 : this.head + 1;
    return true;
  }

  waitMs(now: number, n: number): number {
    const j = n - 1;
    const rounds = Math.floor(j / this.limit);
    const oldest = this.log[(this.head + (j % this.limit)) % this.limit] as number;
    const wait = Math.max(rounds * this.windowMs, oldest + (rounds + 1) * this.windowMs - now);
    return wait > TIME_SLACK_MS ? wait : 0;
  }

  remaining(now: number): number {
    // Entries are sorted oldest first from `head`: binary search for the first one still in the window.
    const cutoff = now - this.windowMs + TIME_SLACK_MS;
    let lo = 0;
    let hi = this.limit;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.log[(this.head + mid) % this.limit] as number) <= cutoff) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
