import { coarseNowOf, type Clock } from './clock.js';
import type { RollingWindow, RollingWindowState } from './rolling-window.js';

/**
 * Outcomes of the last `windowMs` milliseconds in `buckets` buckets. Buckets rotate lazily from the clock
 * on every read and write: no timer, and an idle window costs nothing. Reads and writes are constant cost
 * (rotation touches at most `buckets` slots). Time is the clock's coarse reading (see `Clock.coarseNow`).
 */
export class TimeWindow implements RollingWindow {
  /** calls, failures and slow calls of each bucket, interleaved: [c0, f0, s0, c1, f1, s1, ...]. */
  private counts: Uint32Array | undefined;
  private readonly bucketMs: number;
  private readonly now: () => number;
  /** Time range [headStart, headEnd) of the head bucket; a reading inside it needs no rotation. */
  private headStart = Infinity;
  private headEnd = -Infinity;
  /** Epoch (time / bucketMs, floored) of the head bucket. */
  private epoch = -Infinity;
  private head = 0;
  private total = 0;
  private failed = 0;
  private slow = 0;
  private streak = 0;

  constructor(
    clock: Clock,
    readonly windowMs: number,
    readonly buckets: number,
  ) {
    this.now = coarseNowOf(clock);
    this.bucketMs = windowMs / buckets;
    // Allocated on the first record: a window that never saw a call holds no buckets.
  }

  record(failed: boolean, slow: boolean): void {
    this.rotate();
    const base = this.head * 3;
    const counts = (this.counts ??= new Uint32Array(this.buckets * 3));
    counts[base] = (counts[base] as number) + 1;
    this.total++;
    if (failed) {
      counts[base + 1] = (counts[base + 1] as number) + 1;
      this.failed++;
      this.streak++;
    } else {
      this.streak = 0;
    }
    if (slow) {
      counts[base + 2] = (counts[base + 2] as number) + 1;
      this.slow++;
    }
  }
  calls(): number {
    this.rotate();
    return this.total;
  }
  failures(): number {
    this.rotate();
    return this.failed;
  }
  slowCalls(): number {
    this.rotate();
    return this.slow;
  }
  consecutiveFailures(): number {
    return this.streak;
  }
  reset(): void {
    this.counts?.fill(0);
    this.total = this.failed = this.slow = this.streak = 0;
  }
  toJSON(): RollingWindowState {
    this.rotate();
    return { kind: 'time', data: this.counts === undefined ? new Array<number>(this.buckets * 3).fill(0) : Array.from(this.counts), mark: this.epoch * this.buckets + this.head };
  }
  restore(state: RollingWindowState): void {
    if (state.kind !== 'time' || state.data.length !== this.buckets * 3) return;
    this.reset();
    const counts = (this.counts ??= new Uint32Array(this.buckets * 3));
    for (let i = 0; i < counts.length; i++) counts[i] = Math.max(0, Math.trunc(state.data[i] ?? 0));
    this.head = ((state.mark % this.buckets) + this.buckets) % this.buckets;
    this.epoch = Math.floor(state.mark / this.buckets);
    this.headStart = this.epoch * this.bucketMs;
    this.headEnd = (this.epoch + 1) * this.bucketMs;
    for (let i = 0; i < this.buckets; i++) {
      this.total += counts[i * 3] as number;
      this.failed += counts[i * 3 + 1] as number;
      this.slow += counts[i * 3 + 2] as number;
    }
    this.rotate();
  }

  private rotate(): void {
    const now = this.now();
    if (now < this.headEnd && now >= this.headStart) return;
    const epoch = Math.floor(now / this.bucketMs);
    const steps = epoch - this.epoch;
    if (steps <= 0) return;
    this.headStart = epoch * this.bucketMs;
    this.headEnd = (epoch + 1) * this.bucketMs;
    const counts = this.counts;
    if (steps >= this.buckets || counts === undefined) {
      if (this.total !== 0) {
        counts?.fill(0);
        this.total = this.failed = this.slow = 0;
      }
      this.head = 0;
    } else {
      for (let i = 0; i < steps; i++) {
        this.head = this.head + 1 === this.buckets ? 0 : this.head + 1;
        const base = this.head * 3;
        this.total -= counts[base] as number;
        this.failed -= counts[base + 1] as number;
        this.slow -= counts[base + 2] as number;
        counts[base] = counts[base + 1] = counts[base + 2] = 0;
      }
    }
    this.epoch = epoch;
  }
}
