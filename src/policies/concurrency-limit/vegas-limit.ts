import { clamp, type ConcurrencyLimitAlgorithm, type LimitBounds } from './concurrency-limit-algorithm.js';

/** Settings of the `'vegas'` algorithm of {@link AdaptiveConcurrency}. */
export interface VegasOptions {
  /** Weight of each new limit against the current one, 0..1. @default 1 */
  smoothing?: number;
  /**
   * The no-load RTT is re-measured every `probeMultiplier * limit * jitter` samples (jitter uniform in
   * 0.5..1), so a lasting latency change becomes the new baseline. An integer >= 1. @default 30
   */
  probeMultiplier?: number;
  /** Random source in `[0, 1)` for the probe jitter. @default Math.random */
  random?: () => number;
}

/** `max(1, floor(log10(limit)))`: the step and threshold unit of Vegas. */
function log10(limit: number): number {
  return Math.max(1, Math.floor(Math.log10(limit)));
}

/**
 * TCP Vegas as in Netflix concurrency-limits: estimates how many calls queue at the dependency from how much
 * the RTT exceeds the no-load RTT, and keeps that queue between `alpha` and `beta`. On every sample, with `L`
 * the (fractional) estimated limit, `l = floor(L)` and `log = max(1, floor(log10(l)))`:
 * - probe: when `++samples >= jitter * probeMultiplier * L`, `rttNoLoad = rtt`, a new jitter is drawn, and
 *   the limit stays;
 * - if `rttNoLoad` is 0 or `rtt < rttNoLoad`: `rttNoLoad = rtt` and the limit stays;
 * - `queue = ceil(L * (1 - rttNoLoad / rtt))`;
 * - drop: `next = L - log`;
 * - else if `inflight * 2 < L`: the limit stays (the caller is the bottleneck);
 * - else with `alpha = 3 * log`, `beta = 6 * log`, `threshold = log`: `queue <= threshold`: `next = L + beta`
 *   (slow start); `queue < alpha`: `next = L + log`; `queue > beta`: `next = L - log`; otherwise it stays;
 * - `L = (1 - smoothing) * L + smoothing * clamp(next, minLimit, maxLimit)`; the limit is `floor(L)`.
 * @internal
 */
export class VegasLimit implements ConcurrencyLimitAlgorithm {
  limit: number;
  private estimate: number;
  private readonly minLimit: number;
  private readonly maxLimit: number;
  private readonly smoothing: number;
  private readonly probeMultiplier: number;
  private readonly random: () => number;
  private rttNoLoad = 0;
  private probeCount = 0;
  private probeJitter: number;

  constructor(bounds: LimitBounds, options: VegasOptions) {
    this.estimate = this.limit = bounds.initialLimit;
    this.minLimit = bounds.minLimit;
    this.maxLimit = bounds.maxLimit;
    this.smoothing = options.smoothing ?? 1;
    this.probeMultiplier = options.probeMultiplier ?? 30;
    this.random = options.random ?? Math.random;
    this.probeJitter = this.nextJitter();
  }

  onSample(rttMs: number, inflight: number, didDrop: boolean): number {
    if (++this.probeCount >= this.probeJitter * this.probeMultiplier * this.estimate) {
      this.probeJitter = this.nextJitter();
      this.probeCount = 0;
      this.rttNoLoad = rttMs;
      return this.limit;
    }
    if (this.rttNoLoad === 0 || rttMs < this.rttNoLoad) {
      this.rttNoLoad = rttMs;
      return this.limit;
    }
    const estimate = this.estimate;
    const log = log10(Math.floor(estimate));
    const queue = Math.ceil(estimate * (1 - this.rttNoLoad / rttMs));
    let next: number;
    if (didDrop) next = estimate - log;
    else if (inflight * 2 < estimate) return this.limit;
    else if (queue <= log) next = estimate + 6 * log;
    else if (queue < 3 * log) next = estimate + log;
    else if (queue > 6 * log) next = estimate - log;
    else return this.limit;
    next = clamp(next, this.minLimit, this.maxLimit);
    this.estimate = (1 - this.smoothing) * estimate + this.smoothing * next;
    this.limit = Math.floor(this.estimate);
    return this.limit;
  }

  private nextJitter(): number {
    return 0.5 + this.random() * 0.5;
  }
}
