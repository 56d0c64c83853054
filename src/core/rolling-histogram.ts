import type { Clock } from './clock.js';
import { LatencyHistogram } from './latency-histogram.js';

/**
 * Latency percentiles over the recent past: two {@link LatencyHistogram}s that take turns, each covering
 * `intervalMs`, so reads see between one and two intervals of samples. Rotation is lazy (no timer), and
 * the histograms are allocated on the first sample, so an idle owner pays nothing.
 */
export class RollingHistogram {
  private current: LatencyHistogram | undefined;
  private previous: LatencyHistogram | undefined;
  private currentStart = 0;

  constructor(
    private readonly clock: Clock,
    readonly intervalMs: number,
  ) {}

  /** Records one duration in milliseconds. */
  record(ms: number): void {
    this.rotate();
    if (this.current === undefined) {
      this.current = new LatencyHistogram();
      this.previous = new LatencyHistogram();
      this.currentStart = this.clock.now();
    }
    this.current.record(ms);
  }

  /** Samples currently covered. */
  get count(): number {
    this.rotate();
    return (this.current?.count ?? 0) + (this.previous?.count ?? 0);
  }

  /** The `q` quantile (0..1) in milliseconds over the covered samples; 0 when there are none. */
  percentile(q: number): number {
    this.rotate();
    if (this.current === undefined || this.previous === undefined) return 0;
    return LatencyHistogram.percentileOf([this.current, this.previous], q);
  }

  /** Mean in milliseconds over the covered samples; 0 when there are none. */
  mean(): number {
    this.rotate();
    if (this.current === undefined || this.previous === undefined) return 0;
    const n = this.current.count + this.previous.count;
    return n === 0 ? 0 : (this.current.mean() * this.current.count + this.previous.mean() * this.previous.count) / n;
  }

  /** Forgets every sample. */
  reset(): void {
    this.current?.reset();
    this.previous?.reset();
  }

  private rotate(): void {
    if (this.current === undefined || this.previous === undefined) return;
    const elapsed = this.clock.now() - this.currentStart;
    if (elapsed < this.intervalMs) return;
    if (elapsed >= 2 * this.intervalMs) {
      this.current.reset();
      this.previous.reset();
      this.currentStart = this.clock.now();
      return;
    }
    const old = this.previous;
    old.reset();
    this.previous = this.current;
    this.current = old;
    this.currentStart += this.intervalMs;
  }
}
