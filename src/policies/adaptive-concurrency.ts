import { systemClock, type Clock } from '../core/clock.js';
import { ConcurrencyLimitError, isLocalRefusalError, isTimeoutError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import { AimdLimit, type AimdOptions } from './concurrency-limit/aimd-limit.js';
import type { ConcurrencyLimitAlgorithm } from './concurrency-limit/concurrency-limit-algorithm.js';
import { Gradient2Limit, type Gradient2Options } from './concurrency-limit/gradient2-limit.js';
import { VegasLimit, type VegasOptions } from './concurrency-limit/vegas-limit.js';
import { contextOf } from './context.js';
import { isContextAborted } from './lazy-context.js';
import type { ExecuteOptions, Policy, PolicyFunction } from './policy.js';

/** Options of {@link AdaptiveConcurrency} shared by every algorithm. */
export interface AdaptiveConcurrencyCommonOptions {
  /** The limit before any sample, an integer in `minLimit..maxLimit`. @default 20 (capped to `minLimit..maxLimit`) */
  initialLimit?: number;
  /** The limit never goes below this, an integer >= 1. @default 1 */
  minLimit?: number;
  /** The limit never goes above this, an integer >= `minLimit`. @default 200 */
  maxLimit?: number;
  /**
   * Whether a failed call signals overload (a drop, which lowers the limit) rather than an answer from a
   * healthy dependency (a plain latency sample). Not consulted for calls that say nothing about the
   * dependency, which are not sampled at all: calls whose caller aborted for a reason other than a
   * `TimeoutError`, and calls refused locally by an inner policy (`BrokenCircuitError`,
   * `BulkheadFullError`, `RateLimitedError`, `ConcurrencyLimitError`, `ThrottledError`,
   * `RetryBudgetExhaustedError`). If it throws, the throw is reported as a process warning (code
   * `ANTIFRAGILE_CALLBACK_ERROR`), the call counts as a drop and its error propagates unchanged.
   * @default every error
   */
  isDrop?: (error: unknown) => boolean;
  /** Name used in events and errors. @default 'adaptive-concurrency' */
  name?: string;
  /** Time source, used to measure each call's RTT. @default systemClock */
  clock?: Clock;
}

/** Options of {@link AdaptiveConcurrency}: the algorithm, its settings and the common options. */
export type AdaptiveConcurrencyOptions = AdaptiveConcurrencyCommonOptions &
  (({ algorithm: 'aimd' } & AimdOptions) | ({ algorithm: 'gradient2' } & Gradient2Options) | ({ algorithm: 'vegas' } & VegasOptions));

/** Events of an {@link AdaptiveConcurrency}. */
export interface AdaptiveConcurrencyEvents {
  /** The limit moved. */
  limitChange: { name: string; from: number; to: number };
  /** A call was shed: `inflight` calls were running and the limit was `limit`. */
  rejected: { name: string; limit: number; inflight: number };
}

const ALGORITHMS = ['aimd', 'gradient2', 'vegas'] as const;
const everyError = (): boolean => true;

/**
 * A concurrency limit that finds itself: it learns how many calls the dependency can take at once from
 * their latency and failures, and sheds calls beyond it at once with {@link ConcurrencyLimitError} (no
 * queue: it is a load shedder, put a {@link Bulkhead} outside it to queue). Algorithms, after Netflix's
 * concurrency-limits: `'aimd'` (loss-based: +1 per window of successes, x`backoffRatio` on a drop),
 * `'gradient2'` (latency-based: shrinks as the recent RTT exceeds the long-term RTT), `'vegas'`
 * (latency-based: keeps the estimated queue at the dependency between two thresholds). RTT is measured
 * with the clock from the start of the call until it settles; a call holds its place until it settles.
 *
 * @example
 * ```ts
 * const limiter = new AdaptiveConcurrency({ algorithm: 'gradient2', initialLimit: 20, minLimit: 5, maxLimit: 500 });
 * limiter.on('limitChange', ({ from, to }) => log.info(`search concurrency ${from} -> ${to}`));
 * const hits = await limiter.execute(({ signal }) => search(query, { signal }));
 * ```
 */
export class AdaptiveConcurrency implements Policy {
  /** Name used in events and errors. */
  readonly name: string;
  private readonly clock: Clock;
  private readonly algorithm: ConcurrencyLimitAlgorithm;
  private readonly isDrop: (error: unknown) => boolean;
  private readonly events: EventEmitter<AdaptiveConcurrencyEvents>;
  private running = 0;

  constructor(options: AdaptiveConcurrencyOptions) {
    validate(options);
    this.name = options.name ?? 'adaptive-concurrency';
    this.clock = options.clock ?? systemClock;
    this.isDrop = options.isDrop ?? everyError;
    this.events = new EventEmitter('adaptive-concurrency', this.name);
    const minLimit = options.minLimit ?? 1;
    const maxLimit = options.maxLimit ?? Math.max(200, minLimit);
    const bounds = { minLimit, maxLimit, initialLimit: options.initialLimit ?? Math.min(Math.max(20, minLimit), maxLimit) };
    switch (options.algorithm) {
      case 'aimd':
        this.algorithm = new AimdLimit(bounds, options);
        break;
      case 'gradient2':
        this.algorithm = new Gradient2Limit(bounds, options);
        break;
      case 'vegas':
        this.algorithm = new VegasLimit(bounds, options);
        break;
    }
  }

  /** The current limit: calls beyond it are shed. */
  get limit(): number {
    return this.algorithm.limit;
  }

  /** Calls running now. */
  get inflight(): number {
    return this.running;
  }

  /**
   * Runs `fn` if fewer than {@link limit} calls are running; otherwise rejects at once with
   * {@link ConcurrencyLimitError}. The call's RTT and outcome then move the limit.
   */
  async execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    const context = contextOf(options);
    if (isContextAborted(context)) throw context.signal.reason;
    const limit = this.algorithm.limit;
    if (this.running >= limit) {
      if (this.events.wants('rejected')) {
        this.events.emit('rejected', { name: this.name, limit, inflight: this.running });
      }
      throw new ConcurrencyLimitError(limit);
    }
    const inflight = ++this.running;
    const start = this.clock.now();
    let result: T;
    try {
      result = await fn(context);
    } catch (error) {
      this.running--;
      const ignored =
        (isContextAborted(context) && !isTimeoutError(context.signal.reason)) ||
        isLocalRefusalError(error);
      if (!ignored) this.sample(start, inflight, this.dropped(error));
      throw error;
    }
    this.running--;
    this.sample(start, inflight, false);
    return result;
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof AdaptiveConcurrencyEvents>(
    event: K,
    listener: Listener<AdaptiveConcurrencyEvents[K]>,
  ): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** `isDrop`, guarded: a predicate that throws is reported and the call counted as a drop. */
  private dropped(error: unknown): boolean {
    try {
      return this.isDrop(error);
    } catch (predicateError) {
      reportCallbackError(predicateError, `AdaptiveConcurrency "${this.name}" option isDrop`);
      return true;
    }
  }

  private sample(start: number, inflight: number, didDrop: boolean): void {
    const from = this.algorithm.limit;
    const to = this.algorithm.onSample(this.clock.now() - start, inflight, didDrop);
    if (to !== from && this.events.wants('limitChange')) this.events.emit('limitChange', { name: this.name, from, to });
  }
}

function validate(options: AdaptiveConcurrencyOptions): void {
  const v = new OptionsValidator('AdaptiveConcurrency');
  if (!v.required('options', options, 'an object') || !v.object('options', options)) return v.throwIfInvalid();
  const o = options as unknown as Partial<Record<string, unknown>>;
  v.required('algorithm', o.algorithm, 'one of "aimd", "gradient2", "vegas"');
  v.oneOf('algorithm', o.algorithm, ALGORITHMS);
  v.integer('minLimit', o.minLimit, 1);
  v.integer('maxLimit', o.maxLimit, typeof o.minLimit === 'number' ? Math.max(1, o.minLimit) : 1);
  const min = typeof o.minLimit === 'number' ? o.minLimit : 1;
  const max = typeof o.maxLimit === 'number' ? o.maxLimit : Math.max(200, min);
  if (o.initialLimit !== undefined) v.number('initialLimit', o.initialLimit, { integer: true, min, max });
  switch (o.algorithm) {
    case 'aimd':
      v.number('backoffRatio', o.backoffRatio, { min: 0.5, max: 1 });
      v.duration('timeoutMs', o.timeoutMs);
      break;
    case 'gradient2':
      v.rate('smoothing', o.smoothing);
      v.number('rttTolerance', o.rttTolerance, { min: 1 });
      v.integer('longWindow', o.longWindow, 1);
      if (typeof o.queueSize !== 'function') v.number('queueSize', o.queueSize, { min: 0 });
      break;
    case 'vegas':
      v.rate('smoothing', o.smoothing);
      v.integer('probeMultiplier', o.probeMultiplier, 1);
      v.func('random', o.random);
      break;
  }
  v.func('isDrop', o.isDrop);
  v.string('name', o.name);
  v.clock('clock', o.clock);
  v.throwIfInvalid();
}
