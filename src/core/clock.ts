import { CoarseTime } from './coarse-time.js';
import { DeadlineScheduler } from './deadline-scheduler.js';

/** A pending timer created by {@link Clock.schedule}. */
export interface TimerHandle {
  /** Cancels the timer; a no-op once it fired or was cancelled. */
  cancel(): void;
}

/** Options for {@link Clock.schedule}. */
export interface ScheduleOptions {
  /**
   * Whether the pending timer keeps the Node.js process alive, as a plain `setTimeout` does. Use `true`
   * for a timer a caller awaits (a backoff, a deadline racing a call) and `false` for housekeeping.
   * @default true
   */
  keepAlive?: boolean;
}

/**
 * The source of time for every time-based component. Inject {@link VirtualClock} in tests to drive time
 * by hand; the default is {@link systemClock}.
 */
export interface Clock {
  /** Current time in milliseconds (monotonic for the system clock, aligned with the Unix epoch). */
  now(): number;
  /** Runs `callback` once, `delayMs` milliseconds from now. */
  schedule(callback: () => void, delayMs: number, options?: ScheduleOptions): TimerHandle;
  /**
   * Optional cheap reading for hot-path bookkeeping (which bucket a call lands in): a few milliseconds
   * stale, more right after the event loop was blocked. Never use it to place a deadline. Components fall
   * back to {@link now} when a clock does not provide it (see {@link coarseNowOf}).
   */
  coarseNow?(): number;
}

/** A function reading `clock`'s coarse time when it has one, else its exact time. */
export function coarseNowOf(clock: Clock): () => number {
  return clock.coarseNow !== undefined ? () => (clock.coarseNow as () => number)() : () => clock.now();
}

const timeOrigin = performance.timeOrigin;
const exactNow = (): number => timeOrigin + performance.now();
const coarse = new CoarseTime(exactNow, 10);
const scheduler = new DeadlineScheduler(exactNow);

/**
 * The real clock. Time is `performance.timeOrigin + performance.now()`: monotonic within the process and
 * comparable with `Date.now()`. Every timer goes to one shared {@link DeadlineScheduler} that drives a
 * single `setTimeout`, so policies never create a timer per call. `coarseNow()` refreshes every 10 ms while in use.
 */
export const systemClock: Clock = {
  now: exactNow,
  schedule: (callback, delayMs, options) => scheduler.schedule(callback, delayMs, options?.keepAlive !== false),
  coarseNow: () => coarse.now(),
};

/** Number of timers pending in the shared system scheduler (for diagnostics and benchmarks). */
export function pendingSystemTimers(): number {
  return scheduler.pending;
}
