/**
 * How a {@link RateLimiter} decides whether a permit is free. Every method takes the current clock time, so
 * an algorithm keeps no timer and costs nothing while idle. Implementations: {@link TokenBucket},
 * {@link SlidingWindowLog}.
 */
export interface RateLimitAlgorithm {
  /** Takes one permit if one is free at `now` (ms); returns whether it did. */
  tryAcquire(now: number): boolean;
  /**
   * Milliseconds from `now` until `n` (>= 1) permits could have been taken one after another, each as
   * early as possible: 0 when `n` are free now. `waitMs(now, 1)` is the time until the next permit frees.
   */
  waitMs(now: number, n: number): number;
  /** Permits that could be taken at `now` without waiting. */
  remaining(now: number): number;
}

/**
 * Slack when comparing clock times, in ms (1 µs): a due time and the check made when its timer fires, if
 * computed along different paths, may disagree by floating-point rounding (one ulp is ~2.4e-4 ms at
 * epoch-sized clock values); the slack keeps that from re-arming a timer for a fraction of a microsecond.
 * @internal
 */
export const TIME_SLACK_MS = 1e-3;
