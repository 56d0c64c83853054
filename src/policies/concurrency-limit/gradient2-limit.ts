import { clamp, type ConcurrencyLimitAlgorithm, type LimitBounds } from './concurrency-limit-algorithm.js';

/** Settings of the `'gradient2'` algorithm of {@link AdaptiveConcurrency}. */
export interface Gradient2Options {
  /** Weight of each new limit against the current one, 0..1. @default 0.2 */
  smoothing?: number;
  /** How much the recent RTT may exceed the long-term RTT before the limit shrinks, >= 1. @default 1.5 */
  rttTolerance?: number;
  /** Samples in the long-term RTT average (an exponential moving average), an integer >= 1. @default 600 */
  longWindow?: number;
  /**
   * Calls allowed to queue at the dependency: added to the limit on every update, so the limit keeps probing
   * upwards. A number, or a function of the current limit.
   * @default Math.sqrt (the square root of the limit)
   */
  queueSize?: number | ((limit: number) => number);
}

/** Samples averaged plainly before the long-term RTT switches to an exponential moving average. */
const WARMUP_SAMPLES = 10;

/**
 * Netflix concurrency-limits' Gradient2: compares the latest RTT with a long-term average RTT and shrinks
 * the limit when latency grows (queueing), grows it by `queueSize` otherwise. On every sample, with `L` the
 * (fractional) estimated limit and `rtt` the sample:
 * - `longRtt`: the mean of the samples so far for the first 10, then `longRtt = longRtt * (1 - f) + rtt * f`
 *   with `f = 2 / (longWindow + 1)`;
 * - if `longRtt > 2 * rtt` (latency is back to normal after a long overload), the stored `longRtt` is
 *   multiplied by 0.95 so it catches up sooner (this sample still uses the value before the decay);
 * - if `inflight < L / 2` the limit stays (the caller, not the dependency, is the bottleneck);
 * - `gradient = max(0.5, min(1, rttTolerance * longRtt / rtt))` (1 when `rtt` is 0);
 * - `L = clamp(L * (1 - smoothing) + (L * gradient + queueSize(floor(L))) * smoothing, minLimit, maxLimit)`;
 * - the limit is `floor(L)`.
 * As in Netflix's version, drops do not move the limit directly: a dropped call's RTT is a sample like any
 * other. Prefer AIMD or Vegas when the dependency signals overload with fast errors.
 * @internal
 */
export class Gradient2Limit implements ConcurrencyLimitAlgorithm {
  limit: number;
  private estimate: number;
  private readonly minLimit: number;
  private readonly maxLimit: number;
  private readonly smoothing: number;
  private readonly rttTolerance: number;
  private readonly longFactor: number;
  private readonly queueSize: number | ((limit: number) => number);
  private longRtt = 0;
  private samples = 0;
  private warmupSum = 0;

  constructor(bounds: LimitBounds, options: Gradient2Options) {
    this.estimate = this.limit = bounds.initialLimit;
    this.minLimit = bounds.minLimit;
    this.maxLimit = bounds.maxLimit;
    this.smoothing = options.smoothing ?? 0.2;
    this.rttTolerance = options.rttTolerance ?? 1.5;
    this.longFactor = 2 / ((options.longWindow ?? 600) + 1);
    this.queueSize = options.queueSize ?? Math.sqrt;
  }

  onSample(rttMs: number, inflight: number, _didDrop: boolean): number {
    const queueSize = typeof this.queueSize === 'number' ? this.queueSize : this.queueSize(this.limit);
    if (this.samples < WARMUP_SAMPLES) {
      this.warmupSum += rttMs;
      this.longRtt = this.warmupSum / ++this.samples;
    } else {
      this.longRtt = this.longRtt * (1 - this.longFactor) + rttMs * this.longFactor;
    }
    const longRtt = this.longRtt;
    if (longRtt > 2 * rttMs) this.longRtt = longRtt * 0.95;
    if (inflight < this.estimate / 2) return this.limit;
    const gradient = rttMs > 0 ? Math.max(0.5, Math.min(1, (this.rttTolerance * longRtt) / rttMs)) : 1;
    const target = this.estimate * gradient + queueSize;
    this.estimate = clamp(
      this.estimate * (1 - this.smoothing) + target * this.smoothing,
      this.minLimit,
      this.maxLimit,
    );
    this.limit = Math.floor(this.estimate);
    return this.limit;
  }
}
