import type { RollingWindow, RollingWindowState } from './rolling-window.js';

const FAILED = 1;
const SLOW = 2;
const RECORDED = 4;

/** The last `size` call outcomes in a ring buffer, with running totals (constant-cost reads and writes). */
export class CountWindow implements RollingWindow {
  private readonly ring: Uint8Array;
  private head = 0;
  private total = 0;
  private failed = 0;
  private slow = 0;
  private streak = 0;

  constructor(readonly size: number) {
    this.ring = new Uint8Array(size);
  }

  record(failed: boolean, slow: boolean): void {
    const old = this.ring[this.head] as number;
    if (old & RECORDED) {
      this.total--;
      if (old & FAILED) this.failed--;
      if (old & SLOW) this.slow--;
    }
    this.ring[this.head] = RECORDED | (failed ? FAILED : 0) | (slow ? SLOW : 0);
    this.head = this.head + 1 === this.size ? 0 : this.head + 1;
    this.total++;
    if (failed) {
      this.failed++;
      this.streak++;
    } else {
      this.streak = 0;
    }
    if (slow) this.slow++;
  }
  calls(): number {
    return this.total;
  }
  failures(): number {
    return this.failed;
  }
  slowCalls(): number {
    return this.slow;
  }
  consecutiveFailures(): number {
    return this.streak;
  }
  reset(): void {
    this.ring.fill(0);
    this.head = this.total = this.failed = this.slow = this.streak = 0;
  }
  toJSON(): RollingWindowState {
    return { kind: 'count', data: Array.from(this.ring), mark: this.head };
  }
  restore(state: RollingWindowState): void {
    if (state.kind !== 'count' || state.data.length !== this.size) return;
    this.reset();
    for (let i = 0; i < this.size; i++) {
      const flags = (state.data[i] ?? 0) & 7;
      this.ring[i] = flags;
      if (flags & RECORDED) {
        this.total++;
        if (flags & FAILED) this.failed++;
        if (flags & SLOW) this.slow++;
      }
    }
    this.head = state.mark % this.size;
  }
}
