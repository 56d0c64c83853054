import { AsyncResource } from 'node:async_hooks';
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
  private unrefCheckQueued = false;
  private readonly onTimer = (): void => this.fire();
  private drainQueued = false;
  private readonly onDrain = (): void => {
    this.drainQueued = false;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.fire();
  };
  private readonly onUnrefCheck = (): void => {
    this.unrefCheckQueued = false;
    if (this.timer !== undefined && this.refd && this.heap.keepAlivePending === 0) {
      this.timer.unref();
      this.refd = false;
    }
  };

  /** @param now exact time source. */
  constructor(private readonly now: () => number) {}

  /** Number of pending deadlines. */
  get pending(): number {
    return this.heap.size;
  }

  /**
   * Runs `callback` no earlier than `delayMs` from now. The deadline is placed from the exact clock: a
   * cheap coarse reading can be stale by a whole event-loop stall, which would make deadlines fire early.
   */
  schedule(callback: () => void, delayMs: number, keepAlive: boolean): TimerHandle {
    const delay = delayMs > 0 && Number.isFinite(delayMs) ? delayMs : delayMs > 0 ? 2_147_483_647 : 0;
    const entry = this.heap.insert(new Deadline(this, this.now() + delay, callback, keepAlive));
    this.sync();
    return entry;
  }

  /** @internal Whether the deadline was still pending (and is now removed). */
  cancel(entry: TimerEntry): boolean {
    if (!this.heap.remove(entry)) return false;
    this.sync();
    return true;
  }

  /**
   * Runs one due deadline. When more are due, the rest run on following turns of the event loop
   * (`setImmediate`), so promise continuations of one deadline (work that finished) run before the next
   * deadline (a timeout racing it) fires, as they would between separate `setTimeout`s.
   */
  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.now();
    const entry = this.heap.popDue(now) as Deadline | undefined;
    try {
      entry?.scope.runInAsyncScope(entry.callback);
    } finally {
      // Tell async hooks the deadline is gone (context managers keyed by async id would otherwise keep it).
      entry?.scope.emitDestroy();
      const next = this.heap.peek();
      if (next !== undefined && next.at <= now) {
        if (!this.drainQueued) {
          this.drainQueued = true;
          setImmediate(this.onDrain);
        }
      } else {
        this.sync();
      }
    }
  }

  /**
   * Arms or re-arms the single timer for the earliest deadline and sets whether it keeps the process alive.
   * A timer whose deadlines were all cancelled is left armed (unref'd): it fires once, finds nothing due and
   * stops. Clearing and re-creating a real timer on every call would cost more than the whole call.
   */
  private sync(): void {
    if (this.drainQueued) return; // the queued drain re-syncs when it is done
    const first = this.heap.peek();
    if (first !== undefined && (this.timer === undefined || first.at < this.armedAt)) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      const delay = Math.max(0, Math.ceil(first.at - this.now()));
      this.timer = setTimeout(this.onTimer, Math.min(delay, 2_147_483_647));
      this.armedAt = first.at;
      this.refd = true;
    }
    if (this.timer === undefined) return;
    if (this.heap.keepAlivePending > 0) {
      if (!this.refd) {
        this.timer.ref();
        this.refd = true;
      }
    } else if (this.refd && !this.unrefCheckQueued) {
      // Let go of the process at the end of this turn of the event loop, not at once: back-to-back calls
      // would otherwise toggle the timer's ref on every call.
      this.unrefCheckQueued = true;
      setImmediate(this.onUnrefCheck).unref();
    }
  }
}

/** A pending deadline: both the heap entry and the handle given to the caller (one allocation). */
/**
 * One deadline. It keeps the async context of the code that scheduled it (as a `setTimeout` would): one
 * shared timer serves every caller, and each callback must see its own caller's AsyncLocalStorage stores
 * (OpenTelemetry spans, chaos scopes, request ids), not those of whoever armed the timer.
 */
class Deadline implements TimerEntry, TimerHandle {
  seq = 0;
  index = -1;
  readonly scope = new AsyncResource('antifragile:deadline', { requireManualDestroy: true });
  constructor(
    private readonly scheduler: DeadlineScheduler,
    public at: number,
    public callback: () => void,
    public keepAlive: boolean,
  ) {}

  cancel(): void {
    if (this.scheduler.cancel(this)) this.scope.emitDestroy();
  }
}
