import type { RollingWindow, RollingWindowState } from './rolling-window.js';

/** Counts consecutive failures: any success resets the count. Calls and failures count since the last reset. */
export class ConsecutiveWindow implements RollingWindow {
  private total = 0;
  private failed = 0;
  private slow = 0;
  private streak = 0;

  record(failed: boolean, slow: boolean): void {
    this.total++;
    if (slow) this.slow++;
    if (failed) {
      this.failed++;
      this.streak++;
    } else {
      this.streak = 0;
    }
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
    this.total = this.failed = this.slow = this.streak = 0;
  }
  toJSON(): RollingWindowState {
    return { kind: 'consecutive', data: [this.total, this.failed, this.slow], mark: this.streak };
  }
  restore(state: RollingWindowState): void {
    if (state.kind !== 'consecutive' || state.data.length !== 3) return;
    [this.total, this.failed, this.slow] = state.data as [number, number, number];
    this.streak = state.mark;
  }
}
