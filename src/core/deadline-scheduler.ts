import { TimerHeap, type TimerEntry } from './timer-heap.js';
import type { TimerHandle } from './clock.js';

/**
 * Drives any number of deadlines with one Node.js timer. Deadlines sit in an indexed min-heap; the single
 * timer is armed for the earliest one. The timer is `ref`'d while at least one pending deadline keeps the
 * process alive (an awaited backoff or timeout) and `unref`'d when only housekeeping is pending, so a
 * program whose work is done exits by itself, and an awaited promise never dies half-way.
 * @internal
 */
export class DeadlineScheduler {
  private readonly heap = new TimerHeap();
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private refd = false;
  private readonly onTimer = (): void => this.fire();

  constructor(private readonly now: () => number) {}

  /** Number of pending deadlines. */
  get pending(): number {
    return this.heap.size;
  }

  schedule(callback: () => void, delayMs: number, keepAlive: boolean): TimerHandle {
    const delay = delayMs > 0 && Number.isFinite(delayMs) ? delayMs : delayMs > 0 ? 2_147_483_647 : 0;
    const entry = this.heap.push(this.now() + delay, callback, keepAlive);
    this.sync();
    return new ScheduledDeadline(this, entry);
  }

  /** @internal */
  cancel(entry: TimerEntry): void {
    if (this.heap.remove(entry)) this.sync();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.now();
    let entry: TimerEntry | undefined;
    // Run everything due; a callback that throws must not strand the others.
    while ((entry = this.heap.popDue(now)) !== undefined) {
      try {
        entry.callback();
      } catch (error) {
        this.sync();
        throw error;
      }
    }
    this.sync();
  }

  /**
   * Arms or re-arms the single timer for the earliest deadline and sets whether it keeps the process alive.
   * A timer whose deadlines were all cancelled is left armed (unref'd): it fires once, finds nothing due and
   * stops. Clearing and re-creating a real timer on every call would cost more than the whole call.
   */
  private sync(): void {
    const first = this.heap.peek();
    if (first !== undefined && (this.timer === undefined || first.at < this.armedAt)) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      const delay = Math.max(0, Math.ceil(first.at - this.now()));
      this.timer = setTimeout(this.onTimer, Math.min(delay, 2_147_483_647));
      this.armedAt = first.at;
      this.refd = true;
    }
    if (this.timer === undefined) return;
    const wantRef = this.heap.keepAlivePending > 0;
    if (wantRef !== this.refd) {
      if (wantRef) this.timer.ref();
      else this.timer.unref();
      this.refd = wantRef;
    }
  }
}

class ScheduledDeadline implements TimerHandle {
  constructor(
    private readonly scheduler: DeadlineScheduler,
    private readonly entry: TimerEntry,
  ) {}

  cancel(): void {
    this.scheduler.cancel(this.entry);
  }
}
