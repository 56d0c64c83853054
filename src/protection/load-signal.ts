/**
 * How loaded the process (or a dependency) is right now, as a number in `0..1`: 0 idle, 1 saturated.
 * An {@link AdaptiveRateLimiter} reads its signals on every decision, so `load()` must be cheap (cache
 * anything costly). Implementations: {@link EventLoopDelaySignal}, {@link ConcurrencyLoadSignal}; any object
 * with a `load()` method works (CPU, queue depth, a health score).
 */
export interface LoadSignal {
  /** The current load in `0..1` (values outside are clamped by readers; NaN counts as 0). */
  load(): number;
}

/** `value` clamped to `0..1`, with NaN as 0. @internal */
export function clampUnit(value: number): number {
  if (!(value > 0)) return 0;
  return value < 1 ? value : 1;
}
