import type { Clock, ScheduleOptions, TimerHandle } from './clock.js';
import { TimerHeap, type TimerEntry } from './timer-heap.js';

/**
 * A clock that moves only when told to, for deterministic tests of time-based behaviour without sleeping.
 * Timers fire in due-time order (first-in first-out on ties), each with `now()` set to its due time.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const breaker = new CircuitBreaker({ clock, openMs: 1_000 });
 * breaker.open();
 * clock.advance(1_000);
 * breaker.state; // 'half-open'
 * ```
 */
export class VirtualClock implements Clock {
  private current: number;
  private readonly heap = new TimerHeap();

  /** @param startMs the initial time in milliseconds. @default 0 */
  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  schedule(callback: () => void, delayMs: number, options?: ScheduleOptions): TimerHandle {
    const delay = delayMs > 0 ? delayMs : 0;
    const entry = this.heap.push(this.current + delay, callback, options?.keepAlive !== false);
    return { cancel: () => void this.heap.remove(entry) };
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.heap.size;
  }

  /** Due time of the next timer, or undefined when none is pending. */
  nextTimerAt(): number | undefined {
    return this.heap.peek()?.at;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, synchronously. Promise
   * continuations started by a timer run only after this returns; use {@link advanceAsync} when a timer's
   * consequences schedule further timers within the same stretch.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advance: ms must be a number >= 0, got ${String(ms)}`);
    const target = this.current + ms;
    let entry: TimerEntry | undefined;
    while ((entry = this.heap.popDue(target)) !== undefined) {
      this.current = Math.max(this.current, entry.at);
      entry.callback();
    }
    this.current = target;
  }

  /**
   * Moves time forward by `ms` like {@link advance}, but lets pending promise continuations run before
   * time moves and after every timer, so chains such as "timeout fires, retry schedules a backoff" play
   * out exactly as they would in real time.
   */
  async advanceAsync(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advanceAsync: ms must be a number >= 0, got ${String(ms)}`);
    const target = this.current + ms;
    await flushMicrotasks();
    let entry: TimerEntry | undefined;
    while ((entry = this.heap.popDue(target)) !== undefined) {
      this.current = Math.max(this.current, entry.at);
      entry.callback();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /** Fires timers until none is pending (or `limit` have fired), letting continuations run between them. */
  async runAllAsync(limit = 10_000): Promise<void> {
    await flushMicrotasks();
    for (let fired = 0; fired < limit; fired++) {
      const next = this.heap.peek();
      if (next === undefined) return;
      await this.advanceAsync(Math.max(0, next.at - this.current));
    }
    throw new Error(`VirtualClock.runAllAsync: more than ${limit} timers fired; is something rescheduling forever?`);
  }
}

/** Resolves once every queued promise continuation (microtask) has run. */
function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
