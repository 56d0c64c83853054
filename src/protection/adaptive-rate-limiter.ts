import { systemClock, type Clock } from '../core/clock.js';
import { RateLimitedError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import { contextOf } from '../policies/context.js';
import { isContextAborted } from '../policies/lazy-context.js';
import type { ExecuteOptions, PolicyFunction } from '../policies/policy.js';
import { BehaviorTracker, type BehaviorTrackerOptions } from './behavior-tracker.js';
import type { KeyedLimit, KeyedRateLimitResult, KeyedRateLimitStore } from './keyed-rate-limit-store.js';
import { clampUnit, type LoadSignal } from './load-signal.js';
import { LocalRateLimitStore } from './local-rate-limit-store.js';

/** How system load scales every key's limit. */
export interface LoadScalingOptions {
  /** What is read; the highest load of them counts. A signal that throws is reported and read as 0. */
  signals: readonly LoadSignal[];
  /** Load (0..1, < 1) up to which limits stay at their base; above it they shrink linearly. @default 0.5 */
  threshold?: number;
  /** The load factor at full load (load 1), in 0..1 (exclusive of 0). @default 0.2 */
  minFactor?: number;
}

/** Options of {@link AdaptiveRateLimiter}. */
export interface AdaptiveRateLimiterOptions {
  /** A key's base burst size, an integer >= 1 (its bucket starts full). */
  capacity: number;
  /** A key's base refill rate, permits per second, > 0. */
  refillPerSecond: number;
  /** Where per-key buckets live. @default new LocalRateLimitStore({ maxKeys, clock }) */
  store?: KeyedRateLimitStore;
  /** Scaling by system load; omitted: load is ignored. */
  load?: LoadScalingOptions;
  /**
   * Scaling by each key's error and rejection history: a {@link BehaviorTracker}, its options, or `false`
   * to ignore behaviour. Every refusal of this limiter is recorded as a `'rejection'`; report errors with
   * {@link AdaptiveRateLimiter.recordError}.
   * @default new BehaviorTracker({ maxKeys, clock })
   */
  behavior?: BehaviorTracker | BehaviorTrackerOptions | false;
  /** Most keys tracked by the default store and behaviour tracker, an integer >= 1. @default 10_000 */
  maxKeys?: number;
  /** Name used in events and errors. @default 'adaptive-rate-limiter' */
  name?: string;
  /** Time source. @default systemClock */
  clock?: Clock;
}

/** The answer of {@link AdaptiveRateLimiter.consume}. */
export interface AdaptiveRateLimitDecision extends KeyedRateLimitResult {
  /** The key decided on. */
  readonly key: string;
  /** The key's burst size for this decision: `max(1, floor(capacity × factor))`. */
  readonly limit: number;
  /**
   * The key's refill rate for this decision, permits per second: `refillPerSecond × limit / capacity` (so
   * burst and rate scale together), or `refillPerSecond × factor` when `limit` is clamped to 1.
   */
  readonly refillPerSecond: number;
  /** `loadFactor × behaviorFactor`, rounded down to a multiple of 1/64 (at least 1/64). */
  readonly factor: number;
  /** The factor from system load, in `minFactor..1`. */
  readonly loadFactor: number;
  /** The factor from the key's behaviour, in the tracker's `minFactor..1`. */
  readonly behaviorFactor: number;
}

/** Options of {@link AdaptiveRateLimiter.execute}. */
export interface AdaptiveRateLimitExecuteOptions extends ExecuteOptions {
  /** The key to limit on (an IP, a user, an API key). */
  key: string;
}

/** Events of an {@link AdaptiveRateLimiter}. */
export interface AdaptiveRateLimiterEvents {
  /** A request was refused. */
  rejected: { name: string; key: string; limit: number; retryAfterMs: number; factor: number };
  /** The load factor moved (seen at a decision), e.g. from 1 to 0.6 as the event loop slowed. */
  loadFactorChange: { name: string; from: number; to: number; load: number };
}

/** Factors are rounded down to a multiple of this, so a fleet store sees few distinct limits. */
const FACTOR_STEPS = 64;

/**
 * A per-key rate limit (an IP, a user, an API key) that adapts: each key's limit is
 * `base × loadFactor × behaviorFactor`. The load factor shrinks every limit as the process gets busy
 * (event-loop delay, an adaptive concurrency limit), and recovers with it; the behaviour factor shrinks the
 * limit of a key whose requests keep failing or being refused, and is forgiven with a half-life. Buckets live
 * in a {@link KeyedRateLimitStore}: in process by default, or in Redis for a fleet. No timer; memory bounded
 * by `maxKeys`.
 *
 * @example
 * ```ts
 * const limiter = new AdaptiveRateLimiter({
 *   capacity: 60, refillPerSecond: 10,
 *   load: { signals: [new EventLoopDelaySignal()], threshold: 0.5, minFactor: 0.2 },
 * });
 * const decision = await limiter.consume(`ip:${req.socket.remoteAddress}`);
 * if (!decision.allowed) reply429(decision.retryAfterMs);
 * ```
 */
export class AdaptiveRateLimiter {
  /** Name used in events and errors. */
  readonly name: string;
  /** Base burst size of every key. */
  readonly capacity: number;
  /** Base refill rate of every key, permits per second. */
  readonly refillPerSecond: number;
  /** The behaviour tracker, when behaviour counts. */
  readonly behavior: BehaviorTracker | undefined;
  private readonly store: KeyedRateLimitStore;
  private readonly signals: readonly LoadSignal[];
  private readonly threshold: number;
  private readonly minLoadFactor: number;
  private readonly events: EventEmitter<AdaptiveRateLimiterEvents>;
  private readonly baseLimit: KeyedLimit;
  private lastLoadFactor = 1;

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: AdaptiveRateLimiterOptions) {
    validate(options);
    const clock = options.clock ?? systemClock;
    const maxKeys = options.maxKeys ?? 10_000;
    this.name = options.name ?? 'adaptive-rate-limiter';
    this.capacity = options.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.baseLimit = Object.freeze({ capacity: options.capacity, refillPerSecond: options.refillPerSecond });
    this.store = options.store ?? new LocalRateLimitStore({ maxKeys, clock });
    this.signals = options.load?.signals ?? [];
    this.threshold = options.load?.threshold ?? 0.5;
    this.minLoadFactor = options.load?.minFactor ?? 0.2;
    const behavior = options.behavior;
    this.behavior = behavior === false ? undefined : isTracker(behavior) ? behavior : new BehaviorTracker({ maxKeys, clock, ...behavior });
    this.events = new EventEmitter('adaptive-rate-limiter', this.name);
  }

  /** The highest load of the signals now, in 0..1 (0 without signals). */
  load(): number {
    let load = 0;
    for (const signal of this.signals) {
      let value: number;
      try {
        value = clampUnit(signal.load());
      } catch (error) {
        reportCallbackError(error, `AdaptiveRateLimiter "${this.name}" load signal`);
        value = 0;
      }
      if (value > load) load = value;
    }
    return load;
  }

  /** The factor system load applies to every limit now, in `minFactor..1`. */
  loadFactor(): number {
    return this.loadFactorOf(this.load());
  }

  /** `key`'s limit now (without taking a permit). */
  limitFor(key: string): KeyedLimit {
    const factor = this.combine(this.loadFactor(), this.behaviorFactorOf(key));
    return this.scaled(factor);
  }

  /**
   * Takes one permit from `key`'s bucket if one is free under the key's current limit. A refusal is recorded
   * against the key's behaviour and emitted as `rejected`.
   */
  async consume(key: string): Promise<AdaptiveRateLimitDecision> {
    return this.decide(key);
  }

  /**
   * {@link consume}, answered synchronously when the store answers synchronously (the in-process
   * {@link LocalRateLimitStore} always does) and as a promise otherwise, so an HTTP hot path needs no promise
   * and no microtask per request.
   */
  decide(key: string): AdaptiveRateLimitDecision | Promise<AdaptiveRateLimitDecision> {
    const load = this.load();
    const loadFactor = this.loadFactorOf(load);
    if (loadFactor !== this.lastLoadFactor) {
      const from = this.lastLoadFactor;
      this.lastLoadFactor = loadFactor;
      if (this.events.wants('loadFactorChange')) this.events.emit('loadFactorChange', { name: this.name, from, to: loadFactor, load });
    }
    const behaviorFactor = this.behaviorFactorOf(key);
    const factor = this.combine(loadFactor, behaviorFactor);
    const limit = this.scaled(factor);
    const result = this.store.consume(key, limit);
    // Any thenable, not only a native promise: a custom store may return one from another realm or library.
    if (typeof (result as Partial<PromiseLike<KeyedRateLimitResult>>).then === 'function') {
      return Promise.resolve(result).then((r) => this.conclude(key, r, limit, factor, loadFactor, behaviorFactor));
    }
    return this.conclude(key, result as KeyedRateLimitResult, limit, factor, loadFactor, behaviorFactor);
  }

  private conclude(key: string, result: KeyedRateLimitResult, limit: KeyedLimit, factor: number, loadFactor: number, behaviorFactor: number): AdaptiveRateLimitDecision {
    if (!result.allowed) {
      this.behavior?.record(key, 'rejection');
      if (this.events.wants('rejected')) {
        this.events.emit('rejected', { name: this.name, key, limit: limit.capacity, retryAfterMs: result.retryAfterMs, factor });
      }
    }
    return {
      allowed: result.allowed,
      remaining: result.remaining,
      retryAfterMs: result.retryAfterMs,
      resetAfterMs: result.resetAfterMs,
      key,
      limit: limit.capacity,
      refillPerSecond: limit.refillPerSecond,
      factor,
      loadFactor,
      behaviorFactor,
    };
  }

  /**
   * Runs `fn` once a permit of `options.key` is taken; refuses with {@link RateLimitedError} (code
   * `RATE_LIMITED`, with `retryAfterMs` when known) otherwise. Rejects with `signal.reason` if already aborted.
   */
  async execute<T>(fn: PolicyFunction<T>, options: AdaptiveRateLimitExecuteOptions): Promise<T> {
    const context = contextOf(options);
    if (isContextAborted(context)) throw context.signal.reason;
    const decision = await this.consume(options.key);
    if (!decision.allowed) {
      const retry = decision.retryAfterMs > 0 ? { retryAfterMs: decision.retryAfterMs } : {};
      throw new RateLimitedError(`Rate limit "${this.name}" exceeded for key "${options.key}"`, retry);
    }
    return await fn(context);
  }

  /** Records an error the client `key` caused (a 4xx answer, a failed login): its limit shrinks. */
  recordError(key: string): void {
    this.behavior?.record(key, 'error');
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof AdaptiveRateLimiterEvents>(event: K, listener: Listener<AdaptiveRateLimiterEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  private loadFactorOf(load: number): number {
    if (load <= this.threshold) return 1;
    return 1 - ((1 - this.minLoadFactor) * (load - this.threshold)) / (1 - this.threshold);
  }

  private behaviorFactorOf(key: string): number {
    return this.behavior === undefined ? 1 : this.behavior.factor(key);
  }

  private combine(loadFactor: number, behaviorFactor: number): number {
    const steps = Math.floor(loadFactor * behaviorFactor * FACTOR_STEPS + 1e-9);
    return (steps > 1 ? steps : 1) / FACTOR_STEPS;
  }

  /**
   * Capacity and refill scale by the same ratio `floor(capacity × factor) / capacity`, so a bucket keeps its
   * fill ratio as the limit moves; when that floor is 0 the capacity stays 1 and the refill scales by `factor`.
   */
  private scaled(factor: number): KeyedLimit {
    if (factor === 1) return this.baseLimit;
    const capacity = Math.floor(this.capacity * factor + 1e-9);
    if (capacity < 1) return { capacity: 1, refillPerSecond: this.refillPerSecond * factor };
    return { capacity, refillPerSecond: (this.refillPerSecond * capacity) / this.capacity };
  }
}

/** Whether `value` is a {@link BehaviorTracker} (duck-typed, so one from another copy of the package counts). */
function isTracker(value: unknown): value is BehaviorTracker {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Partial<Record<string, unknown>>;
  return typeof t.record === 'function' && typeof t.factor === 'function';
}

function validate(options: AdaptiveRateLimiterOptions): void {
  const v = new OptionsValidator('AdaptiveRateLimiter');
  if (!v.required('options', options, 'an object') || !v.object('options', options)) return v.throwIfInvalid();
  const o = options as unknown as Partial<Record<string, unknown>>;
  v.required('capacity', o.capacity, 'an integer >= 1');
  v.integer('capacity', o.capacity, 1);
  v.required('refillPerSecond', o.refillPerSecond, 'a number > 0');
  v.number('refillPerSecond', o.refillPerSecond, { minExclusive: 0 });
  if (o.store !== undefined && typeof (o.store as { consume?: unknown } | null)?.consume !== 'function') {
    v.fail('store', 'a KeyedRateLimitStore (with consume())', o.store);
  }
  if (v.object('load', o.load)) {
    const load = o.load as Partial<Record<string, unknown>>;
    if (!Array.isArray(load.signals)) v.fail('load.signals', 'an array of LoadSignal', load.signals);
    else {
      load.signals.forEach((signal: unknown, i) => {
        if (typeof (signal as { load?: unknown } | null)?.load !== 'function') v.fail(`load.signals.${i}`, 'a LoadSignal (with load())', signal);
      });
    }
    v.number('load.threshold', load.threshold, { min: 0, max: 0.999 });
    v.number('load.minFactor', load.minFactor, { minExclusive: 0, max: 1 });
  }
  if (o.behavior !== undefined && o.behavior !== false && !isTracker(o.behavior)) {
    if (typeof o.behavior !== 'object' || o.behavior === null || Array.isArray(o.behavior)) {
      v.fail('behavior', 'a BehaviorTracker, its options, or false', o.behavior);
    }
  }
  v.integer('maxKeys', o.maxKeys, 1);
  v.string('name', o.name);
  v.clock('clock', o.clock);
  v.throwIfInvalid();
}
