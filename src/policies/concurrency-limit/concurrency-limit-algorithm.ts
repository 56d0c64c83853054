/**
 * How an {@link AdaptiveConcurrency} limit moves. Fed one sample per completed call; keeps no timer.
 * Implementations: {@link AimdLimit}, {@link Gradient2Limit}, {@link VegasLimit}.
 */
export interface ConcurrencyLimitAlgorithm {
  /** The current limit: an integer in `minLimit..maxLimit`. */
  readonly limit: number;
  /**
   * Feeds one completed call and returns the new {@link limit}.
   * @param rttMs how long the call took, in ms.
   * @param inflight calls in flight when it started, itself included.
   * @param didDrop whether it failed in a way that signals overload (an error, a timeout).
   */
  onSample(rttMs: number, inflight: number, didDrop: boolean): number;
}

/** Where a limit starts and the range it moves in (integers, `1 <= minLimit <= initialLimit <= maxLimit`). */
export interface LimitBounds {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
}

/** `value` clamped to `min..max`. @internal */
export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}
