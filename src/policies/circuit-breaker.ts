import { channel } from 'node:diagnostics_channel';
import { neverAbortedSignal } from '../core/abort.js';
import { coarseNowOf, systemClock, type Clock } from '../core/clock.js';
import { ConsecutiveWindow } from '../core/consecutive-window.js';
import { CountWindow } from '../core/count-window.js';
import { BrokenCircuitError, isTimeoutError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import { RollingHistogram } from '../core/rolling-histogram.js';
import type { RollingWindow, RollingWindowState } from '../core/rolling-window.js';
import { TimeWindow } from '../core/time-window.js';
import { contextOf, defaultContext } from './context.js';
import { isContextAborted, peekSignal } from './lazy-context.js';
import type { ExecuteOptions, Policy, PolicyContext, PolicyFunction } from './policy.js';
import { callWithHandlers } from './call-with-handlers.js';

/**
 * States of a {@link CircuitBreaker}:
 * - `closed`: calls flow; outcomes are recorded in the window.
 * - `open`: calls are refused with {@link BrokenCircuitError} until `openMs` has passed.
 * - `half-open`: a few probe calls test the dependency; enough successes close, a failure re-opens.
 * - `isolated`: forced open by hand until `close()` or `reset()`.
 * - `disabled`: every call flows and nothing is recorded (a kill switch for the breaker itself).
 */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated' | 'disabled';

/** Which recent calls the breaker judges. */
export type BreakerWindow =
  /**
   * Calls of the last `ms` milliseconds, in `buckets` lazily rotated buckets (default 10): a bucket leaves
   * whole, so the window covers between `ms * (1 - 1/buckets)` and `ms`.
   */
  | { type: 'time'; ms: number; buckets?: number }
  /** The last `size` calls. */
  | { type: 'count'; size: number }
  /** Opens after `failures` failures in a row; rates and `minimumCalls` do not apply. */
  | { type: 'consecutive'; failures: number };

/** Why a breaker changed state. */
export type TransitionReason =
  | 'failure-rate'
  | 'failure-count'
  | 'slow-call-rate'
  | 'consecutive-failures'
  | 'open-elapsed'
  | 'probe-failed'
  | 'probes-succeeded'
  | 'half-open-timeout'
  | 'manual'
  | 'restored';

/** Options of {@link CircuitBreaker}. Every field is optional. */
export interface CircuitBreakerOptions {
  /** Name used in events, metrics and errors. @default 'circuit-breaker' */
  name?: string;
  /** The calls judged. @default { type: 'time', ms: 10_000, buckets: 10 } */
  window?: BreakerWindow;
  /** Open when the failure rate in the window reaches this, 0..1 (time and count windows). @default 0.5 */
  failureRateThreshold?: number;
  /**
   * Open when this many failures are in the window, whatever the rate (time and count windows). Off unless set.
   * `minimumCalls` still applies.
   */
  failureThreshold?: number;
  /** Calls needed in the window before rates are judged. @default 20 (capped at the count window's size) */
  minimumCalls?: number;
  /** A call taking at least this long (ms) counts as slow. Off unless set. */
  slowCallMs?: number;
  /** Open when the slow-call rate reaches this, 0..1; needs `slowCallMs`. @default 1 */
  slowCallRateThreshold?: number;
  /** How long the circuit stays open before probing, in ms. @default 30_000 */
  openMs?: number;
  /** Half-open probing. */
  halfOpen?: {
    /** Probe calls allowed in flight at once. @default 1 */
    maxCalls?: number;
    /** Successful probes needed to close. @default 1 */
    successes?: number;
    /** Longest time in half-open before re-opening, so hung probes never keep it stuck (ms). @default 60_000 */
    maxWaitMs?: number;
  };
  /** Whether an error counts as a failure; errors it rejects count as successes. @default every error */
  isFailure?: (error: unknown) => boolean;
  /**
   * Whether the {@link BrokenCircuitError}s of refused calls carry a stack trace. Off by default: capturing
   * one costs ten times the rest of a refusal, and the message already names the breaker.
   * @default false
   */
  rejectionStackTraces?: boolean;
  /** Time source. @default systemClock */
  clock?: Clock;
  /** State exported by {@link CircuitBreaker.toJSON}, restored on construction (after a restart, say). */
  initialState?: CircuitBreakerState;
}

/** Exported state of a breaker, as returned by {@link CircuitBreaker.toJSON}. */
export interface CircuitBreakerState {
  version: 1;
  name: string;
  state: CircuitState;
  /** Clock time at which the current state began. */
  since: number;
  /** Clock time at which an open circuit starts probing. */
  openUntil: number;
  window: RollingWindowState;
  totals: CircuitBreakerTotals;
}

/** Counts since creation or the last `reset()`. */
export interface CircuitBreakerTotals {
  calls: number;
  successes: number;
  failures: number;
  /** Errors that `isFailure` did not count, and calls the caller aborted. */
  ignored: number;
  rejections: number;
  slowCalls: number;
}

/** A snapshot of a breaker, from {@link CircuitBreaker.metrics}. */
export interface CircuitBreakerMetrics {
  name: string;
  state: CircuitState;
  /** Time spent in the current state, in ms. */
  timeInStateMs: number;
  /** For an open circuit, ms until it probes; otherwise 0. */
  retryAfterMs: number;
  /** Calls in the window. */
  calls: number;
  failures: number;
  slowCalls: number;
  /** 0..1 */
  failureRate: number;
  /** 0..1 */
  slowCallRate: number;
  consecutiveFailures: number;
  totals: CircuitBreakerTotals;
  /** Latency of recent calls in ms (percentiles within 12.5%). */
  latency: { count: number; mean: number; p50: number; p90: number; p95: number; p99: number };
  halfOpen: { inFlight: number; successes: number };
  /** 0..100, see {@link CircuitBreaker.healthScore}. */
  healthScore: number;
}

/** Events of a {@link CircuitBreaker}. */
export interface CircuitBreakerEvents {
  stateChange: { name: string; from: CircuitState; to: CircuitState; reason: TransitionReason; at: number };
  success: { name: string; durationMs: number; slow: boolean };
  failure: { name: string; error: unknown; durationMs: number; slow: boolean };
  /** An error that did not count (isFailure said no, or the caller aborted). */
  ignored: { name: string; error: unknown; durationMs: number };
  rejected: { name: string; state: CircuitState; retryAfterMs: number | undefined };
}

const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const ISOLATED = 3;
const DISABLED = 4;
type StateCode = 0 | 1 | 2 | 3 | 4;
const STATE_NAMES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated', 'disabled'];
const STATE_CODES: Record<CircuitState, StateCode> = {
  closed: CLOSED,
  open: OPEN,
  'half-open': HALF_OPEN,
  isolated: ISOLATED,
  disabled: DISABLED,
};

const WINDOW_TYPES = ['time', 'count', 'consecutive'] as const;
// Channels are shared by every breaker (the payload names the breaker); held here so the fast path can
// test `hasSubscribers` without a lookup.
const successChannel = channel('antifragile:circuit-breaker:success');
const failureChannel = channel('antifragile:circuit-breaker:failure');
const ignoredChannel = channel('antifragile:circuit-breaker:ignored');
const countEveryError = (): boolean => true;

/**
 * A circuit breaker: stops calling a dependency that keeps failing, probes it after a while, and closes
 * again when it recovers. Judges a time, count or consecutive window by failure rate, failure count and
 * slow-call rate. The closed-circuit path allocates nothing beyond the call's own promise and starts no
 * timer; an idle breaker costs no timer and no CPU (windows rotate lazily from the clock, open -> half-open
 * happens on the next call or read).
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({
 *   name: 'pricing',
 *   window: { type: 'time', ms: 10_000, buckets: 10 },
 *   failureRateThreshold: 0.5, minimumCalls: 20,
 *   openMs: 30_000, halfOpen: { maxCalls: 3, successes: 2 },
 * });
 * breaker.on('stateChange', ({ from, to }) => log.warn(`pricing ${from} -> ${to}`));
 * const price = await breaker.execute(({ signal }) => fetchPrice(sku, { signal }));
 * ```
 */
export class CircuitBreaker implements Policy {
  /** Name used in events, metrics and errors. */
  readonly name: string;
  protected readonly clock: Clock;
  private readonly events: EventEmitter<CircuitBreakerEvents>;
  private readonly window: RollingWindow;
  private readonly consecutive: number;
  private readonly failureRateThreshold: number;
  private readonly failureThreshold: number;
  private readonly minimumCalls: number;
  private readonly slowCallMs: number;
  private readonly slowCallRateThreshold: number;
  private readonly openMs: number;
  private readonly halfOpenMaxCalls: number;
  private readonly halfOpenSuccessesNeeded: number;
  private readonly halfOpenMaxWaitMs: number;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly rejectionStackTraces: boolean;
  private readonly latency: RollingHistogram;

  /** Whether every call must be timed exactly (slow-call detection, or someone listens to call events). */
  private timed: boolean;
  /** Coarse time of the last exactly-timed closed call: one call per coarse tick is timed for percentiles. */
  private lastSampleAt = Number.NaN;
  private readonly coarseNow: () => number;
  /** Made on the first fast call of each closed period (an idle breaker holds none). */
  private fastSuccess: ((value: unknown) => unknown) | undefined;
  private fastFailure: ((error: unknown) => never) | undefined;

  private st: StateCode = CLOSED;
  /** Incremented on every transition; outcomes of calls admitted in an older generation do not move the state. */
  private generation = 0;
  private since: number;
  private openUntil = 0;
  private probesInFlight = 0;
  private probeSuccesses = 0;
  private readonly totals: CircuitBreakerTotals = {
    calls: 0,
    successes: 0,
    failures: 0,
    ignored: 0,
    rejections: 0,
    slowCalls: 0,
  };

  constructor(options: CircuitBreakerOptions = {}) {
    validate(options);
    this.name = options.name ?? 'circuit-breaker';
    this.clock = options.clock ?? systemClock;
    this.events = new EventEmitter('circuit-breaker', this.name);
    const window = options.window ?? { type: 'time', ms: 10_000, buckets: 10 };
    let latencyIntervalMs = 60_000;
    switch (window.type) {
      case 'time':
        this.window = new TimeWindow(this.clock, window.ms, window.buckets ?? 10);
        this.consecutive = 0;
        latencyIntervalMs = window.ms;
        break;
      case 'count':
        this.window = new CountWindow(window.size);
        this.consecutive = 0;
        break;
      case 'consecutive':
        this.window = new ConsecutiveWindow();
        this.consecutive = window.failures;
        break;
    }
    this.failureRateThreshold = options.failureRateThreshold ?? 0.5;
    this.failureThreshold = options.failureThreshold ?? Infinity;
    this.minimumCalls = Math.min(options.minimumCalls ?? 20, window.type === 'count' ? window.size : Infinity);
    this.slowCallMs = options.slowCallMs ?? Infinity;
    this.slowCallRateThreshold = options.slowCallRateThreshold ?? 1;
    this.openMs = options.openMs ?? 30_000;
    this.halfOpenMaxCalls = options.halfOpen?.maxCalls ?? 1;
    this.halfOpenSuccessesNeeded = options.halfOpen?.successes ?? 1;
    this.halfOpenMaxWaitMs = options.halfOpen?.maxWaitMs ?? 60_000;
    this.isFailure = options.isFailure ?? countEveryError;
    this.rejectionStackTraces = options.rejectionStackTraces ?? false;
    this.latency = new RollingHistogram(this.clock, latencyIntervalMs);
    this.since = this.clock.now();
    this.coarseNow = coarseNowOf(this.clock);
    this.timed = this.slowCallMs !== Infinity;
    if (options.initialState !== undefined) this.restore(options.initialState);
  }

  /** The current state. Reading it applies due time-based transitions (open -> half-open, stuck half-open -> open). */
  get state(): CircuitState {
    this.applyTimeTransitions(this.clock.now());
    return STATE_NAMES[this.st] as CircuitState;
  }

  /**
   * Runs `fn` if the circuit lets it through; otherwise rejects with {@link BrokenCircuitError} (with
   * `retryAfterMs` when open). A call aborted by the caller's own signal is neither a success nor a failure.
   *
   * While closed, a call with no abortable signal takes a fast path: no exact time read (only the cheap
   * coarse clock), no allocation beyond the call's promise, outcome recorded by handlers made once per
   * closed period. One call per coarse clock
   * tick (10 ms) is timed exactly for the latency percentiles, so they are exact at low rates and sampled at
   * high ones; every call is timed when `slowCallMs` is set or call events are observed.
   */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    if (this.st === CLOSED && !this.timed && this.coarseNow() === this.lastSampleAt) {
      const signal = options === undefined ? undefined : peekSignal(contextOf(options));
      if (
        (signal === undefined || signal === neverAbortedSignal) &&
        !successChannel.hasSubscribers &&
        !failureChannel.hasSubscribers &&
        !ignoredChannel.hasSubscribers
      ) {
        if (this.fastFailure === undefined) this.makeFastHandlers();
        // Both taken before `fn` runs: `fn` may change the state (and so the handlers) synchronously.
        const onSuccess = this.fastSuccess as (value: T) => T;
        const onFailure = this.fastFailure as (error: unknown) => never;
        return callWithHandlers(fn, options === undefined ? defaultContext : contextOf(options), onSuccess, onFailure);
      }
    }
    if (this.st === CLOSED) this.lastSampleAt = this.coarseNow();
    else if (this.st !== DISABLED && !this.admits(options)) {
      // Refused: reject without an async frame or a throw (an open circuit may refuse thousands per second).
      return Promise.reject(this.rejection(this.clock.now()));
    }
    return this.executeTimed(fn, options);
  }

  /** The general path: any state, abortable signals, exact timing. */
  private async executeTimed<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    const context = contextOf(options);
    if (isContextAborted(context)) throw context.signal.reason;
    const probe = this.acquire();
    const generation = this.generation;
    const start = this.clock.now();
    let result: T;
    try {
      result = await fn(context);
    } catch (error) {
      this.onError(error, start, generation, probe, context);
      throw error;
    }
    this.onSuccess(start, generation, probe);
    return result;
  }

  /** Outcome handlers for untimed closed-circuit calls, bound to the current generation. */
  private makeFastHandlers(): void {
    const generation = this.generation;
    this.fastSuccess = (value) => {
      this.totals.calls++;
      this.totals.successes++;
      if (generation === this.generation) this.window.record(false, false);
      return value;
    };
    this.fastFailure = (error) => {
      const totals = this.totals;
      totals.calls++;
      if (!this.judgeFailure(error)) {
        // Nobody listens to 'ignored' here (a listener makes every call take the timed path).
        totals.ignored++;
        if (generation === this.generation) this.window.record(false, false);
        throw error;
      }
      totals.failures++;
      if (generation === this.generation) {
        this.window.record(true, false);
        this.checkThresholds();
      }
      throw error;
    };
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof CircuitBreakerEvents>(event: K, listener: Listener<CircuitBreakerEvents[K]>): Unsubscribe {
    const off = this.events.on(event, listener);
    if (event !== 'success' && event !== 'failure' && event !== 'ignored') return off;
    // Observed call events carry exact durations, so every call is timed while someone listens.
    this.updateTimed();
    return () => {
      off();
      this.updateTimed();
    };
  }

  private updateTimed(): void {
    const events = this.events;
    this.timed =
      this.slowCallMs !== Infinity ||
      events.listenerCount('success') + events.listenerCount('failure') + events.listenerCount('ignored') > 0;
  }

  /** Opens the circuit now; it probes again after `openMs`. */
  open(): void {
    this.transition(OPEN, 'manual');
  }

  /** Closes the circuit now (also ends `isolated` and `disabled`), with an empty window. */
  close(): void {
    this.transition(CLOSED, 'manual');
  }

  /** Forces the circuit open until {@link close} or {@link reset}: every call is refused. */
  isolate(): void {
    this.transition(ISOLATED, 'manual');
  }

  /**
   * Lets every call through until {@link close} or {@link reset}: nothing is judged or recorded in the
   * window (totals and latency still count).
   */
  disable(): void {
    this.transition(DISABLED, 'manual');
  }

  /** Removes every event listener (used when a manager disposes of the breaker). */
  dispose(): void {
    this.events.removeAllListeners();
    this.updateTimed();
  }

  /** Closes the circuit and forgets the window and the totals. */
  reset(): void {
    this.transition(CLOSED, 'manual');
    this.window.reset();
    this.latency.reset();
    this.totals.calls = this.totals.successes = this.totals.failures = 0;
    this.totals.ignored = this.totals.rejections = this.totals.slowCalls = 0;
  }

  /**
   * Health from 0 (refusing everything) to 100 (closed, no failures): open and isolated score 0; half-open
   * scores 25 plus up to 25 for probe progress; closed scores 100 minus the failure rate's share of the way
   * to the threshold (half weight for the slow-call rate), never below 1 while closed; disabled scores 100.
   */
  healthScore(): number {
    const now = this.clock.now();
    this.applyTimeTransitions(now);
    switch (this.st) {
      case OPEN:
      case ISOLATED:
        return 0;
      case HALF_OPEN:
        return Math.round(25 + (25 * this.probeSuccesses) / this.halfOpenSuccessesNeeded);
      case DISABLED:
        return 100;
      default: {
        const calls = this.window.calls();
        if (calls === 0) return 100;
        const failurePressure = this.window.failures() / calls / Math.max(this.failureRateThreshold, 1e-9);
        const slowPressure =
          this.slowCallMs === Infinity ? 0 : this.window.slowCalls() / calls / Math.max(this.slowCallRateThreshold, 1e-9);
        const pressure = Math.min(1, Math.max(failurePressure, slowPressure / 2));
        return Math.max(1, Math.round(100 * (1 - pressure)));
      }
    }
  }

  /** A snapshot of state, window counts, totals and latency percentiles. */
  metrics(): CircuitBreakerMetrics {
    const now = this.clock.now();
    this.applyTimeTransitions(now);
    const calls = this.window.calls();
    const failures = this.window.failures();
    const slowCalls = this.window.slowCalls();
    return {
      name: this.name,
      state: STATE_NAMES[this.st] as CircuitState,
      timeInStateMs: now - this.since,
      retryAfterMs: this.st === OPEN ? Math.max(0, this.openUntil - now) : 0,
      calls,
      failures,
      slowCalls,
      failureRate: calls === 0 ? 0 : failures / calls,
      slowCallRate: calls === 0 ? 0 : slowCalls / calls,
      consecutiveFailures: this.window.consecutiveFailures(),
      totals: { ...this.totals },
      latency: {
        count: this.latency.count,
        mean: this.latency.mean(),
        p50: this.latency.percentile(0.5),
        p90: this.latency.percentile(0.9),
        p95: this.latency.percentile(0.95),
        p99: this.latency.percentile(0.99),
      },
      halfOpen: { inFlight: this.probesInFlight, successes: this.probeSuccesses },
      healthScore: this.healthScore(),
    };
  }

  /** Exports the state so a restarted process can restore it with `initialState`. */
  toJSON(): CircuitBreakerState {
    this.applyTimeTransitions(this.clock.now());
    return {
      version: 1,
      name: this.name,
      state: STATE_NAMES[this.st] as CircuitState,
      since: this.since,
      openUntil: this.openUntil,
      window: this.window.toJSON(),
      totals: { ...this.totals },
    };
  }

  /** Whether a call in a non-closed state would be admitted (or must first see its caller's abort). */
  private admits(options: ExecuteOptions | undefined): boolean {
    const signal = options === undefined ? undefined : peekSignal(contextOf(options));
    if (signal !== undefined && signal.aborted) return true; // executeTimed rejects with the reason
    this.applyTimeTransitions(this.clock.now());
    const st = this.st;
    return st === CLOSED || st === DISABLED || (st === HALF_OPEN && this.probesInFlight < this.halfOpenMaxCalls);
  }

  /** Decides whether a call may run; returns whether it is a half-open probe, or throws when refused. */
  private acquire(): boolean {
    const st = this.st;
    if (st === CLOSED || st === DISABLED) return false;
    const now = this.clock.now();
    this.applyTimeTransitions(now);
    if (this.st === HALF_OPEN && this.probesInFlight < this.halfOpenMaxCalls) {
      this.probesInFlight++;
      return true;
    }
    if (this.st === CLOSED || this.st === DISABLED) return false;
    return this.reject(now);
  }

  private reject(now: number): never {
    throw this.rejection(now);
  }

  /** Counts and reports a refused call and builds its error. */
  private rejection(now: number): BrokenCircuitError {
    this.totals.rejections++;
    const state = STATE_NAMES[this.st] as CircuitState;
    const retryAfterMs = this.st === OPEN ? Math.max(0, this.openUntil - now) : undefined;
    if (this.events.wants('rejected')) this.events.emit('rejected', { name: this.name, state, retryAfterMs });
    const message =
      this.st === ISOLATED
        ? `Circuit "${this.name}" is isolated`
        : this.st === OPEN
          ? `Circuit "${this.name}" is open`
          : `Circuit "${this.name}" is half-open and its probes are taken`;
    const options = retryAfterMs === undefined ? { isolated: this.st === ISOLATED } : { retryAfterMs, isolated: false };
    if (this.rejectionStackTraces) return this.createRejection(message, options);
    // Capturing a stack costs 2-3 µs, ten times the rest of a refusal, and would only point into the breaker.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return this.createRejection(message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  /** Builds the error a refused call rejects with; subclasses may return a subclass of {@link BrokenCircuitError}. */
  protected createRejection(message: string, options: { retryAfterMs?: number; isolated: boolean }): BrokenCircuitError {
    return new BrokenCircuitError(message, options);
  }

  private applyTimeTransitions(now: number): void {
    if (this.st === OPEN && now >= this.openUntil) this.transition(HALF_OPEN, 'open-elapsed', now);
    if (this.st === HALF_OPEN && now - this.since >= this.halfOpenMaxWaitMs) {
      this.transition(OPEN, 'half-open-timeout', now);
      if (now >= this.openUntil) this.transition(HALF_OPEN, 'open-elapsed', now);
    }
  }

  private onSuccess(start: number, generation: number, probe: boolean): void {
    const durationMs = this.clock.now() - start;
    const slow = durationMs >= this.slowCallMs;
    this.latency.record(durationMs);
    const totals = this.totals;
    totals.calls++;
    totals.successes++;
    if (slow) totals.slowCalls++;
    if (generation === this.generation) {
      if (probe) {
        this.probesInFlight--;
        if (slow) this.transition(OPEN, 'probe-failed');
        else if (++this.probeSuccesses >= this.halfOpenSuccessesNeeded) this.transition(CLOSED, 'probes-succeeded');
      } else if (this.st === CLOSED) {
        this.window.record(false, slow);
        if (slow) this.checkThresholds();
      }
    }
    if (this.events.wants('success')) this.events.emit('success', { name: this.name, durationMs, slow });
  }

  private onError(
    error: unknown,
    start: number,
    generation: number,
    probe: boolean,
    context: PolicyContext,
  ): void {
    const durationMs = this.clock.now() - start;
    // The caller gave up (its signal aborted for a reason other than a timeout, which is the dependency
    // being too slow): the outcome says nothing about the dependency.
    const callerAborted = isContextAborted(context) && !isTimeoutError(context.signal.reason);
    if (callerAborted || !this.judgeFailure(error)) {
      this.totals.calls++;
      this.totals.ignored++;
      if (probe && generation === this.generation) this.probesInFlight--;
      if (!callerAborted && generation === this.generation) {
        if (probe) {
          if (++this.probeSuccesses >= this.halfOpenSuccessesNeeded) this.transition(CLOSED, 'probes-succeeded');
        } else if (this.st === CLOSED) {
          this.window.record(false, false);
        }
      }
      if (this.events.wants('ignored')) this.events.emit('ignored', { name: this.name, error, durationMs });
      return;
    }
    const slow = durationMs >= this.slowCallMs;
    this.latency.record(durationMs);
    const totals = this.totals;
    totals.calls++;
    totals.failures++;
    if (slow) totals.slowCalls++;
    if (generation === this.generation) {
      if (probe) {
        this.probesInFlight--;
        this.transition(OPEN, 'probe-failed');
      } else if (this.st === CLOSED) {
        this.window.record(true, slow);
        this.checkThresholds();
      }
    }
    if (this.events.wants('failure')) this.events.emit('failure', { name: this.name, error, durationMs, slow });
  }

  /** `isFailure`, guarded: a predicate that throws is reported and its call counted as a failure. */
  private judgeFailure(error: unknown): boolean {
    try {
      return this.isFailure(error);
    } catch (predicateError) {
      reportCallbackError(predicateError, `CircuitBreaker "${this.name}" option isFailure`);
      return true;
    }
  }

  private checkThresholds(): void {
    const window = this.window;
    if (this.consecutive > 0) {
      if (window.consecutiveFailures() >= this.consecutive) this.transition(OPEN, 'consecutive-failures');
      return;
    }
    const calls = window.calls();
    if (calls < this.minimumCalls || calls === 0) return;
    const failures = window.failures();
    if (failures >= this.failureThreshold) this.transition(OPEN, 'failure-count');
    else if (failures / calls >= this.failureRateThreshold) this.transition(OPEN, 'failure-rate');
    else if (this.slowCallMs !== Infinity && window.slowCalls() / calls >= this.slowCallRateThreshold) {
      this.transition(OPEN, 'slow-call-rate');
    }
  }

  private transition(to: StateCode, reason: TransitionReason, now = this.clock.now()): void {
    const from = this.st;
    this.st = to;
    this.generation++;
    this.since = now;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
    if (to === OPEN) this.openUntil = now + this.openMs;
    if (to === CLOSED) this.window.reset();
    this.fastSuccess = this.fastFailure = undefined;
    if (from !== to && this.events.wants('stateChange')) {
      this.events.emit('stateChange', {
        name: this.name,
        from: STATE_NAMES[from] as CircuitState,
        to: STATE_NAMES[to] as CircuitState,
        reason,
        at: now,
      });
    }
  }

  /**
   * Takes over a state exported by {@link toJSON} (after a restart, say), as `initialState` does at
   * construction. Emits `stateChange` (reason `restored`) when the state differs.
   * @throws InvalidOptionsError naming each bad field of `state`.
   */
  restoreState(state: CircuitBreakerState): void {
    const v = new OptionsValidator(`CircuitBreaker "${this.name}" restoreState`);
    validateState(v, state, 'state');
    v.throwIfInvalid();
    const from = this.st;
    this.restore(state);
    this.generation++;
    this.fastSuccess = this.fastFailure = undefined;
    if (from !== this.st && this.events.wants('stateChange')) {
      this.events.emit('stateChange', {
        name: this.name,
        from: STATE_NAMES[from] as CircuitState,
        to: STATE_NAMES[this.st] as CircuitState,
        reason: 'restored',
        at: this.clock.now(),
      });
    }
  }

  private restore(state: CircuitBreakerState): void {
    this.st = STATE_CODES[state.state];
    this.since = state.since;
    this.openUntil = state.openUntil;
    this.window.restore(state.window);
    for (const key of Object.keys(this.totals) as (keyof CircuitBreakerTotals)[]) {
      const value = state.totals?.[key];
      if (typeof value === 'number' && Number.isFinite(value) && value >= 0) this.totals[key] = value;
    }
  }
}

function validate(options: CircuitBreakerOptions): void {
  const v = new OptionsValidator('CircuitBreaker');
  if (typeof options !== 'object' || options === null) {
    v.fail('options', 'an object', options);
    v.throwIfInvalid();
  }
  v.string('name', options.name);
  const window = options.window as Partial<Record<string, unknown>> | undefined;
  if (v.object('window', window) && window !== undefined) {
    v.oneOf('window.type', window.type, WINDOW_TYPES);
    v.required('window.type', window.type, 'one of "time", "count", "consecutive"');
    if (window.type === 'time') {
      v.required('window.ms', window.ms, 'a number > 0');
      v.duration('window.ms', window.ms, true);
      v.integer('window.buckets', window.buckets, 1);
    }
    if (window.type === 'count') {
      v.required('window.size', window.size, 'an integer >= 1');
      v.integer('window.size', window.size, 1);
    }
    if (window.type === 'consecutive') {
      v.required('window.failures', window.failures, 'an integer >= 1');
      v.integer('window.failures', window.failures, 1);
    }
  }
  v.rate('failureRateThreshold', options.failureRateThreshold);
  v.integer('failureThreshold', options.failureThreshold, 1);
  v.integer('minimumCalls', options.minimumCalls, 1);
  v.duration('slowCallMs', options.slowCallMs);
  v.rate('slowCallRateThreshold', options.slowCallRateThreshold);
  v.duration('openMs', options.openMs);
  if (v.object('halfOpen', options.halfOpen) && options.halfOpen !== undefined) {
    v.integer('halfOpen.maxCalls', options.halfOpen.maxCalls, 1);
    v.integer('halfOpen.successes', options.halfOpen.successes, 1);
    v.duration('halfOpen.maxWaitMs', options.halfOpen.maxWaitMs, true);
  }
  v.func('isFailure', options.isFailure);
  v.boolean('rejectionStackTraces', options.rejectionStackTraces);
  v.clock('clock', options.clock);
  if (options.initialState !== undefined) validateState(v, options.initialState, 'initialState');
  v.throwIfInvalid();
}

function validateState(v: OptionsValidator, value: unknown, path: string): void {
  const state = value as Partial<Record<keyof CircuitBreakerState, unknown>> | undefined;
  if (!v.object(path, state) || state === undefined) return;
  if (state.version !== 1) v.fail(`${path}.version`, '1 (a state exported by toJSON())', state.version);
  v.required(`${path}.state`, state.state, 'a circuit state');
  v.oneOf(`${path}.state`, state.state, STATE_NAMES);
  v.required(`${path}.since`, state.since, 'a number');
  v.number(`${path}.since`, state.since, {});
  v.required(`${path}.openUntil`, state.openUntil, 'a number');
  v.number(`${path}.openUntil`, state.openUntil, {});
  const window = state.window as Partial<RollingWindowState> | undefined;
  if (v.object(`${path}.window`, window) && window !== undefined) {
    v.oneOf(`${path}.window.kind`, window.kind, WINDOW_TYPES);
    if (!Array.isArray(window.data)) v.fail(`${path}.window.data`, 'an array of numbers', window.data);
    v.number(`${path}.window.mark`, window.mark, {});
  } else if (window === undefined) {
    v.fail(`${path}.window`, 'an object', undefined);
  }
  v.object(`${path}.totals`, state.totals);
}
