import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import { OptionsValidator } from '../../core/options.js';
import type { ResourceFaultHandle } from './resource-fault-handle.js';

/** Hard upper bound of one block, in ms, whatever `maxBlockMs` says. */
export const EVENT_LOOP_BLOCK_HARD_CAP_MS = 30_000;

/** Options of {@link startEventLoopBlock}. */
export interface EventLoopBlockOptions {
  /** Length of each block, in ms (> 0, at most `maxBlockMs`). Required. */
  blockMs: number;
  /** When set, blocks again every `intervalMs` (> `blockMs`) until `durationMs` has passed; otherwise blocks once. */
  intervalMs?: number;
  /** How long repeated blocks go on, in ms (> 0). @default 60_000 */
  durationMs?: number;
  /** Safety cap of one block, in ms (1..30_000). @default 5_000 */
  maxBlockMs?: number;
  /** Schedules the blocks (the block itself is a real busy-wait: it measures `performance.now()`). @default systemClock */
  clock?: Clock;
}

/**
 * Busy-waits on the calling (main) thread for `ms` milliseconds of real time, so that no timer, I/O callback
 * or promise continuation runs meanwhile: the event-loop stall a synchronous JSON parse or a regex gone
 * wrong causes. Capped at `maxMs`. Returns the milliseconds actually blocked.
 */
export function blockEventLoop(ms: number, maxMs = 5_000): number {
  if (!(typeof ms === 'number' && ms >= 0 && Number.isFinite(ms))) throw new RangeError(`blockEventLoop: ms must be a number >= 0, received ${String(ms)}`);
  const cap = Math.min(maxMs, EVENT_LOOP_BLOCK_HARD_CAP_MS);
  const start = performance.now();
  const until = start + Math.min(ms, cap);
  while (performance.now() < until) {
    // spin: nothing else may run on this thread meanwhile
  }
  return performance.now() - start;
}

/**
 * Blocks the event loop once or periodically, on the injected clock's schedule. Its timers never keep the
 * process alive. Created by {@link startEventLoopBlock}.
 */
export class EventLoopBlock implements ResourceFaultHandle {
  readonly kind = 'event-loop-block' as const;
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private ended = false;
  private timer: TimerHandle | undefined;
  private readonly startedAt: number;
  private readonly deadline: number;
  private count = 0;
  private total = 0;

  /** @internal */
  constructor(
    private readonly blockMs: number,
    private readonly intervalMs: number | undefined,
    durationMs: number,
    private readonly maxBlockMs: number,
    private readonly clock: Clock,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.startedAt = clock.now();
    this.deadline = this.startedAt + durationMs;
    this.timer = clock.schedule(() => this.fire(), 0, { keepAlive: false });
  }

  get stopped(): boolean {
    return this.ended;
  }

  /** Blocks made so far. */
  get blocks(): number {
    return this.count;
  }

  /** Real milliseconds blocked so far. */
  get blockedMs(): number {
    return this.total;
  }

  stop(): Promise<void> {
    this.end();
    return this.done;
  }

  private fire(): void {
    this.timer = undefined;
    if (this.ended) return;
    this.total += blockEventLoop(this.blockMs, this.maxBlockMs);
    this.count++;
    if (this.intervalMs === undefined) {
      this.end();
      return;
    }
    // A fixed cadence from the start, whatever the blocks themselves took.
    const nextAt = this.startedAt + this.count * this.intervalMs;
    if (nextAt >= this.deadline) {
      this.end();
      return;
    }
    this.timer = this.clock.schedule(() => this.fire(), Math.max(0, nextAt - this.clock.now()), { keepAlive: false });
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.resolveDone();
  }
}

/**
 * Starts blocking the event loop: the first block comes on the next clock tick (after the caller's
 * synchronous code), then one every `intervalMs` (a fixed cadence from the start) until `durationMs` when an interval is given.
 *
 * @throws InvalidOptionsError listing every invalid option (a `blockMs` above `maxBlockMs` included).
 * @example
 * const stalls = startEventLoopBlock({ blockMs: 200, intervalMs: 1_000, durationMs: 30_000 });
 * await stalls.stop();
 */
export function startEventLoopBlock(options: EventLoopBlockOptions): EventLoopBlock {
  const v = new OptionsValidator('EventLoopBlock');
  if (v.object('options', options)) {
    v.number('maxBlockMs', options.maxBlockMs, { min: 1, max: EVENT_LOOP_BLOCK_HARD_CAP_MS });
    const cap = typeof options.maxBlockMs === 'number' ? Math.min(options.maxBlockMs, EVENT_LOOP_BLOCK_HARD_CAP_MS) : 5_000;
    if (v.required('blockMs', options.blockMs, `a number in 0..${cap} (> 0)`)) v.number('blockMs', options.blockMs, { minExclusive: 0, max: cap });
    if (typeof options.blockMs === 'number') v.number('intervalMs', options.intervalMs, { minExclusive: options.blockMs });
    else v.duration('intervalMs', options.intervalMs, true);
    v.duration('durationMs', options.durationMs, true);
    v.clock('clock', options.clock);
  } else {
    v.fail('options', 'an object with blockMs', options);
  }
  v.throwIfInvalid();
  return new EventLoopBlock(
    options.blockMs,
    options.intervalMs,
    options.durationMs ?? 60_000,
    options.maxBlockMs ?? 5_000,
    options.clock ?? systemClock,
  );
}
