import { monitorEventLoopDelay } from 'node:perf_hooks';
import { systemClock, type Clock } from '../core/clock.js';
import { OptionsValidator } from '../core/options.js';
import { clampUnit, type LoadSignal } from './load-signal.js';

/**
 * The part of `node:perf_hooks`' `IntervalHistogram` an {@link EventLoopDelaySignal} reads: event-loop
 * delays in nanoseconds. Inject one to test without blocking the loop.
 */
export interface EventLoopDelayHistogram {
  /** Samples recorded since the last `reset()`. */
  readonly count: number;
  /** The delay at percentile `p` (0..100), in nanoseconds. */
  percentile(p: number): number;
  /** Forgets every sample. */
  reset(): void;
  /** Starts sampling. */
  enable(): boolean;
  /** Stops sampling. */
  disable(): boolean;
}

/** Options of {@link EventLoopDelaySignal}. */
export interface EventLoopDelaySignalOptions {
  /** A delay at or below this (ms) is no load (0). @default 20 */
  lowMs?: number;
  /** A delay at or above this (ms, > `lowMs`) is full load (1); in between the load is linear. @default 200 */
  highMs?: number;
  /** Which percentile of the window's delays is compared, in 0..100 (exclusive of 0). @default 99 */
  percentile?: number;
  /**
   * Shortest measurement window in ms (> 0). No timer of ours: the first `load()` at least `windowMs` after the
   * previous reading reads the delays recorded since then and resets the histogram; calls in between return
   * that reading.
   * @default 1_000
   */
  windowMs?: number;
  /** Sampling resolution of `monitorEventLoopDelay`, in ms (an integer >= 1). @default 10 */
  resolutionMs?: number;
  /** The histogram to read. @default monitorEventLoopDelay({ resolution: resolutionMs }) */
  histogram?: EventLoopDelayHistogram;
  /** Time source for the windows. @default systemClock */
  clock?: Clock;
}

/**
 * Load from event-loop delay (`node:perf_hooks` `monitorEventLoopDelay`): how late timers fire is the most
 * direct measure of a saturated Node.js process. The chosen percentile of each window's delays maps linearly
 * from `lowMs` (load 0) to `highMs` (load 1). The histogram's own sampling timer does not keep the process
 * alive; call {@link stop} when done with the signal.
 *
 * @example
 * ```ts
 * const eventLoop = new EventLoopDelaySignal({ lowMs: 30, highMs: 250 });
 * const limiter = new AdaptiveRateLimiter({ capacity: 100, refillPerSecond: 50, load: { signals: [eventLoop] } });
 * ```
 */
export class EventLoopDelaySignal implements LoadSignal {
  private readonly lowNs: number;
  private readonly spanNs: number;
  private readonly percentile: number;
  private readonly windowMs: number;
  private readonly histogram: EventLoopDelayHistogram;
  private readonly clock: Clock;
  private windowStart: number;
  private current = 0;
  private running = true;

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: EventLoopDelaySignalOptions = {}) {
    validate(options);
    const lowMs = options.lowMs ?? 20;
    this.lowNs = lowMs * 1e6;
    this.spanNs = ((options.highMs ?? 200) - lowMs) * 1e6;
    this.percentile = options.percentile ?? 99;
    this.windowMs = options.windowMs ?? 1_000;
    this.clock = options.clock ?? systemClock;
    this.histogram = options.histogram ?? monitorEventLoopDelay({ resolution: options.resolutionMs ?? 10 });
    this.histogram.enable();
    this.windowStart = this.clock.now();
  }

  /** The load of the last complete window, in 0..1 (0 before the first window ends, for a window without samples, and after {@link stop}). */
  load(): number {
    if (!this.running) return 0;
    const now = this.clock.now();
    if (now - this.windowStart >= this.windowMs) {
      this.current = this.histogram.count === 0 ? 0 : clampUnit((this.histogram.percentile(this.percentile) - this.lowNs) / this.spanNs);
      this.histogram.reset();
      this.windowStart = now;
    }
    return this.current;
  }

  /** Stops sampling; the signal then reads 0. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.histogram.disable();
  }
}

function validate(options: EventLoopDelaySignalOptions): void {
  const v = new OptionsValidator('EventLoopDelaySignal');
  if (!v.object('options', options)) return v.throwIfInvalid();
  const o = options as unknown as Partial<Record<string, unknown>>;
  v.duration('lowMs', o.lowMs);
  v.number('highMs', o.highMs, typeof o.lowMs === 'number' ? { minExclusive: o.lowMs } : { minExclusive: 0 });
  if (o.highMs === undefined && typeof o.lowMs === 'number' && o.lowMs >= 200) v.fail('lowMs', 'a number < highMs (200)', o.lowMs);
  v.number('percentile', o.percentile, { minExclusive: 0, max: 100 });
  v.duration('windowMs', o.windowMs, true);
  v.integer('resolutionMs', o.resolutionMs, 1);
  if (o.histogram !== undefined) {
    const h = o.histogram as Partial<Record<string, unknown>> | null;
    if (typeof h !== 'object' || h === null || typeof h.percentile !== 'function' || typeof h.reset !== 'function' || typeof h.enable !== 'function' || typeof h.disable !== 'function') {
      v.fail('histogram', 'an object with percentile(), reset(), enable() and disable()', o.histogram);
    }
  }
  v.clock('clock', o.clock);
  v.throwIfInvalid();
}
