import type { Clock } from '../../core/clock.js';

/**
 * The largest value recorded over a recent window, the way Micrometer's `TimeWindowMax` feeds a timer's
 * `_max` gauge: two slots rotated lazily from the clock every `rotateMs` (no timer), each recording every
 * value; reading returns the older slot, so a value is visible for between `rotateMs` and `2 * rotateMs`.
 * @internal
 */
export class WindowedMax {
  private older = 0;
  private newer = 0;
  private rotatedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly rotateMs: number,
  ) {
    this.rotatedAt = clock.now();
  }

  /** Records `value`. */
  record(value: number): void {
    this.rotate();
    if (value > this.older) this.older = value;
    if (value > this.newer) this.newer = value;
  }

  /** The largest value recorded in the window, 0 when none. */
  get value(): number {
    this.rotate();
    return this.older;
  }

  private rotate(): void {
    const elapsed = this.clock.now() - this.rotatedAt;
    if (elapsed < this.rotateMs) return;
    if (elapsed >= 2 * this.rotateMs) {
      this.older = this.newer = 0;
      this.rotatedAt = this.clock.now();
      return;
    }
    this.older = this.newer;
    this.newer = 0;
    this.rotatedAt += this.rotateMs;
  }
}
