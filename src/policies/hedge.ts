import { onAbort } from '../core/abort.js';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import { RollingHistogram } from '../core/rolling-histogram.js';
import { contextOf, deriveContext } from './context.js';
import type { ExecuteOptions, Policy, PolicyContext, PolicyFunction } from './policy.js';

/** A fixed hedging delay. */
export interface FixedHedgeDelay {
  /** Milliseconds to wait for an attempt before starting the next one, >= 0 (0 starts them all at once). */
  delayMs: number;
  /** Not with `delayMs`. */
  percentile?: never;
}

/**
 * A hedging delay that follows the latency of recent successful attempts: hedge a call once it is slower
 * than, say, 95% of recent ones.
 */
export interface PercentileHedgeDelay {
  /** The latency quantile to wait for, in 0..1 (0.95 for p95). */
  percentile: number;
  /**
   * Lower bound of the computed delay in milliseconds.
   * @default 0
   */
  minDelayMs?: number;
  /**
   * Upper bound of the computed delay in milliseconds.
   * @default Infinity
   */
  maxDelayMs?: number;
  /**
   * Delay used until `minSamples` successful attempts have been seen, in milliseconds.
   * @default 100
   */
  initialDelayMs?: number;
  /**
   * Successful attempts needed within the window before the percentile is trusted.
   * @default 20
   */
  minSamples?: number;
  /**
   * How far back latencies are remembered, in milliseconds (samples from the last `windowMs / 2` to
   * `windowMs` count).
   * @default 60_000
   */
  windowMs?: number;
  /** Not with `percentile`. */
  delayMs?: never;
}

/** How long a {@link Hedge} waits before starting another attempt. */
export type HedgeDelay = FixedHedgeDelay | PercentileHedgeDelay;

/** Options of {@link Hedge} besides the delay. */
export interface HedgeOptions {
  /**
   * Extra attempts at most, so a call runs at most `maxHedges + 1` attempts. Integer >= 1.
   * @default 1
   */
  maxHedges?: number;
  /**
   * Which attempt failures start the next attempt at once (while hedges remain). A failure it rejects ends
   * the whole call with that error, aborting the other attempts. If it throws, the throw is reported as a
   * process warning (code `ANTIFRAGILE_CALLBACK_ERROR`) and the error counts as not handled.
   * @default every error
   */
  shouldHandle?: (error: unknown) => boolean;
  /**
   * Source of time and timers.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * Instance name, carried in diagnostics_channel messages and used as the adapters' default metric label.
   * @default 'hedge'
   */
  name?: string;
}

/** Events of {@link Hedge}, by name. */
export interface HedgeEvents {
  /**
   * A hedged attempt is starting: `attempt` is its context's attempt number, `reason` whether the previous
   * attempts were slow (`'delay'`) or one failed (`'failure'`).
   */
  hedge: { attempt: number; reason: 'delay' | 'failure' };
}

const PERCENTILE_DEFAULTS = {
  minDelayMs: 0,
  maxDelayMs: Infinity,
  initialDelayMs: 100,
  minSamples: 20,
  windowMs: 60_000,
} as const;

/**
 * Cuts tail latency by racing attempts: starts the function, and if it has not settled after the delay,
 * starts another attempt (up to `maxHedges`) while the first keeps running. The first success wins; the
 * other attempts' signals abort (with an `AbortError` `DOMException`) and their late outcomes are ignored.
 * The winner's signal is left alone, so it may keep reading a response body.
 *
 * - Each attempt gets its own signal and `attempt` number (the caller's, then +1, +2...).
 * - A failed attempt starts the next one at once, without waiting for the delay, while hedges remain (as
 *   Polly's hedging does): hedging already means the operation may run several times.
 * - If every attempt fails, the call rejects with the error of the last one to fail.
 * - When the caller's signal aborts, every attempt's signal aborts and the call rejects at once with
 *   `signal.reason`.
 * - Timers go to `clock.schedule` and are always cancelled when the call settles.
 *
 * Only hedge idempotent operations.
 *
 * @example
 * ```ts
 * const hedge = new Hedge({ percentile: 0.95, minDelayMs: 20, maxDelayMs: 500 }, { maxHedges: 2 });
 * const user = await hedge.execute(({ signal }) => fetch(`${replica()}/users/42`, { signal }));
 * ```
 */
export class Hedge implements Policy {
  /** Extra attempts at most. */
  readonly maxHedges: number;
  /** Instance name. */
  readonly name: string;
  private readonly fixedDelayMs: number;
  private readonly adaptive: AdaptiveDelay | undefined;
  private readonly events: EventEmitter<HedgeEvents>;
  private readonly runtime: HedgeRuntime;

  /** @throws InvalidOptionsError listing every invalid option. */
  constructor(delay: HedgeDelay, options: HedgeOptions = {}) {
    const v = new OptionsValidator('Hedge');
    const d: DelayFields = delay ?? {};
    if (v.object('delay', d)) {
      if ((d.delayMs === undefined) === (d.percentile === undefined)) {
        v.fail('delay', 'exactly one of delayMs or percentile', d);
      }
      v.duration('delay.delayMs', d.delayMs);
      v.rate('delay.percentile', d.percentile);
      v.duration('delay.minDelayMs', d.minDelayMs);
      v.number('delay.maxDelayMs', d.maxDelayMs, { min: 0, allowInfinity: true });
      if (d.minDelayMs !== undefined && d.maxDelayMs !== undefined && d.minDelayMs > d.maxDelayMs) {
        v.fail('delay.maxDelayMs', `a number >= delay.minDelayMs (${d.minDelayMs})`, d.maxDelayMs);
      }
      v.duration('delay.initialDelayMs', d.initialDelayMs);
      v.integer('delay.minSamples', d.minSamples, 1);
      v.duration('delay.windowMs', d.windowMs, true);
    }
    if (v.object('options', options)) {
      v.integer('options.maxHedges', options.maxHedges, 1);
      v.func('options.shouldHandle', options.shouldHandle);
      v.clock('options.clock', options.clock);
      v.string('options.name', options.name);
    }
    v.throwIfInvalid();

    const clock = options.clock ?? systemClock;
    this.maxHedges = options.maxHedges ?? 1;
    this.name = options.name ?? 'hedge';
    this.events = new EventEmitter('hedge', this.name);
    this.fixedDelayMs = d.delayMs ?? 0;
    const adaptive =
      d.percentile === undefined
        ? undefined
        : {
            percentile: d.percentile,
            minDelayMs: d.minDelayMs ?? PERCENTILE_DEFAULTS.minDelayMs,
            maxDelayMs: d.maxDelayMs ?? PERCENTILE_DEFAULTS.maxDelayMs,
            initialDelayMs: d.initialDelayMs ?? PERCENTILE_DEFAULTS.initialDelayMs,
            minSamples: d.minSamples ?? PERCENTILE_DEFAULTS.minSamples,
            latencies: new RollingHistogram(clock, (d.windowMs ?? PERCENTILE_DEFAULTS.windowMs) / 2),
          };
    this.adaptive = adaptive;
    const shouldHandle = options.shouldHandle;
    const where = `Hedge "${this.name}" option shouldHandle`;
    this.runtime = {
      clock,
      events: this.events,
      maxHedges: this.maxHedges,
      handles:
        shouldHandle === undefined
          ? () => true
          : (error) => {
              try {
                return shouldHandle(error);
              } catch (predicateError) {
                reportCallbackError(predicateError, where);
                return false;
              }
            },
      record: adaptive === undefined ? () => {} : (ms) => adaptive.latencies.record(ms),
    };
  }

  /**
   * The delay, in milliseconds, a call started now would wait before its first hedge: the fixed delay, or
   * the clamped latency percentile (the initial delay until enough samples).
   */
  get delayMs(): number {
    const a = this.adaptive;
    if (a === undefined) return this.fixedDelayMs;
    if (a.latencies.count < a.minSamples) return a.initialDelayMs;
    return Math.min(a.maxDelayMs, Math.max(a.minDelayMs, a.latencies.percentile(a.percentile)));
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof HedgeEvents>(event: K, listener: Listener<HedgeEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Runs `fn`, starting hedged attempts while it is slow, and resolves with the first success. */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    const context = contextOf(options);
    if (context.signal.aborted) return Promise.reject(context.signal.reason);
    return new Promise<T>((resolve, reject) => {
      new HedgedCall(this.runtime, this.delayMs, fn, context, resolve, reject).start();
    });
  }
}

/** Every field of either {@link HedgeDelay} shape, for validation. */
type DelayFields = { [K in keyof PercentileHedgeDelay]?: number };

interface AdaptiveDelay {
  readonly percentile: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly initialDelayMs: number;
  readonly minSamples: number;
  readonly latencies: RollingHistogram;
}

/** What a call needs from its {@link Hedge}, built once per instance. */
interface HedgeRuntime {
  readonly clock: Clock;
  readonly events: EventEmitter<HedgeEvents>;
  readonly maxHedges: number;
  handles(error: unknown): boolean;
  record(latencyMs: number): void;
}

/** The state of one {@link Hedge.execute} call. */
class HedgedCall<T> {
  private readonly controllers: AbortController[] = [];
  private running = 0;
  private timer: TimerHandle | undefined;
  private settled = false;
  private unsubscribeCaller: (() => void) | undefined;
  private readonly onCallerAbort = (): void => {
    const reason: unknown = this.context.signal.reason;
    this.finish(undefined, reason);
    this.reject(reason);
  };

  constructor(
    private readonly hedge: HedgeRuntime,
    private readonly delayMs: number,
    private readonly fn: PolicyFunction<T>,
    private readonly context: PolicyContext,
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  start(): void {
    this.unsubscribeCaller = onAbort(this.context.signal, this.onCallerAbort);
    this.launch();
  }

  private launch(): void {
    const controller = new AbortController();
    const attempt = this.context.attempt + this.controllers.length;
    this.controllers.push(controller);
    this.running++;
    const startedAt = this.hedge.clock.now();
    let pending: PromiseLike<T> | T;
    try {
      pending = this.fn(deriveContext(this.context, controller.signal, attempt));
    } catch (error) {
      pending = Promise.reject(error);
    }
    // Always attached, so a losing attempt never rejects unhandled.
    Promise.resolve(pending).then(
      (value) => this.succeeded(controller, value, startedAt),
      (error: unknown) => this.failed(error),
    );
    if (this.controllers.length <= this.hedge.maxHedges) {
      this.timer = this.hedge.clock.schedule(() => {
        this.timer = undefined;
        this.startHedge('delay');
      }, this.delayMs);
    }
  }

  private startHedge(reason: 'delay' | 'failure'): void {
    this.timer?.cancel();
    this.timer = undefined;
    const events = this.hedge.events;
    if (events.wants('hedge')) events.emit('hedge', { attempt: this.context.attempt + this.controllers.length, reason });
    this.launch();
  }

  private succeeded(winner: AbortController, value: T, startedAt: number): void {
    if (this.settled) return;
    this.hedge.record(this.hedge.clock.now() - startedAt);
    this.finish(winner, this.running > 1 ? new DOMException('Another hedged attempt won', 'AbortError') : undefined);
    this.resolve(value);
  }

  private failed(error: unknown): void {
    if (this.settled) return;
    this.running--;
    if (!this.hedge.handles(error)) {
      this.finish(undefined, this.running > 0 ? new DOMException('Another hedged attempt failed', 'AbortError') : undefined);
      this.reject(error);
    } else if (this.controllers.length <= this.hedge.maxHedges) {
      this.startHedge('failure');
    } else if (this.running === 0) {
      this.finish(undefined, undefined);
      this.reject(error);
    }
  }

  /**
   * Settles the call: releases the timer and the caller listener and, when `reason` is given, aborts every
   * attempt but `keep` (settled attempts too: harmless, and cheaper than tracking which are still running).
   */
  private finish(keep: AbortController | undefined, reason: unknown): void {
    this.settled = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.unsubscribeCaller?.();
    this.unsubscribeCaller = undefined;
    if (reason === undefined) return;
    for (const controller of this.controllers) {
      if (controller !== keep && !controller.signal.aborted) controller.abort(reason);
    }
  }
}
