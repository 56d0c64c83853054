import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../../core/clock.js';
import {
  CircuitBreaker as CoreBreaker,
  type CircuitBreakerEvents as CoreEvents,
  type CircuitBreakerState as CoreState,
  type CircuitState,
} from '../../policies/circuit-breaker.js';
import { OpossumError, isOurError } from './errors.js';
import type { CacheTransport as CacheTransportType } from './memory-cache.js';
import { MemoryCache } from './memory-cache.js';
import {
  resolveOptions,
  type CircuitBreakerOptions,
  type CircuitBreakerState,
  type CoalesceResetEvent,
  type ResolvedOptions,
} from './options.js';
import { Status, type Bucket as BucketType, type Stats as StatsType, type StatusOptions as StatusOptionsType } from './status.js';

/**
 * Events of the opossum-compatible {@link CircuitBreaker} and their arguments, as opossum 10 emits them.
 * @typeParam TI the action's argument list. @typeParam TR the action's result.
 */
export interface CircuitBreakerEventMap<TI extends unknown[] = unknown[], TR = unknown> {
  /** A call was made (also while disabled, and before cache or open checks): the arguments. */
  fire: [args: TI];
  /** The circuit refused a call (`EOPENBREAKER`). */
  reject: [error: Error];
  /** The action did not settle within `timeout` ms (`ETIMEDOUT`); it is then also a failure. */
  timeout: [error: Error, latencyMs: number, args: TI];
  /** The action succeeded; also emitted with the error when `errorFilter` excused a failure. */
  success: [result: TR, latencyMs: number];
  /** The action failed (rejected, threw, timed out, or hit `capacity`) with an error that counts. */
  failure: [error: Error, latencyMs: number, args: TI];
  /** The circuit opened. */
  open: [];
  /** The circuit closed. */
  close: [];
  /** `resetTimeout` ms after opening: the next call is a probe. The argument is `resetTimeout`. */
  halfOpen: [resetTimeoutMs: number];
  /** The fallback ran: its return value (possibly a promise) and the error that caused it. */
  fallback: [result: unknown, error: Error];
  /** `options.cache` returned a cached result. */
  cacheHit: [];
  /** `options.cache` found nothing for the call. */
  cacheMiss: [];
  /** `options.coalesce` joined a call already in flight. */
  coalesceCacheHit: [];
  /** `options.coalesce` found no call in flight for the key. */
  coalesceCacheMiss: [];
  /** `capacity` calls were in flight (`ESEMLOCKED`); it is then also a failure. */
  semaphoreLocked: [error: Error, latencyMs: number];
  /** A health check function rejected; the circuit opens. */
  healthCheckFailed: [error: Error];
  /** `shutdown()` was called. */
  shutdown: [];
}

/**
 * The function a breaker protects. (Declared through a method so that a breaker of specific arguments is
 * assignable to a plain `CircuitBreaker`, as with `@types/opossum`.)
 */
export type Action<TI extends unknown[] = unknown[], TR = unknown> = {
  run(...args: TI): TR | PromiseLike<TR>;
}['run'];

/** Anything with opossum's `fire()`: another breaker used as a fallback. */
export interface Fireable {
  fire(...args: never[]): Promise<unknown>;
}

/** The value `toJSON()` returns: the state to resume with, and the window's stats. */
export interface CircuitBreakerJSON {
  state: CircuitBreakerState;
  status: StatsType;
}

/** Events opossum listens to internally, so its `eventNames()` lists them from the start (opossum-prometheus relies on it). */
const BUILT_IN_EVENTS = [
  'success',
  'failure',
  'fallback',
  'timeout',
  'fire',
  'reject',
  'cacheHit',
  'cacheMiss',
  'coalesceCacheHit',
  'coalesceCacheMiss',
  'open',
  'close',
  'semaphoreLocked',
] as const;

/** Wraps an error excused by `errorFilter` on its way through the core breaker, so the core counts it as a success. */
class Excused {
  constructor(readonly error: unknown) {}
}
const countsAsFailure = (error: unknown): boolean => !(error instanceof Excused);
const ignore = (): void => {};

/** Per-call coalescing bookkeeping. */
interface CoalesceEntry {
  key: string;
  promise: Promise<unknown> | undefined;
  resetEarly: boolean;
}

/**
 * A drop-in replacement for opossum 10's `CircuitBreaker`, running on antifragile's core circuit breaker:
 * change `import CircuitBreaker from 'opossum'` to `import CircuitBreaker from 'antifragile/opossum'`.
 *
 * The core breaker ({@link CircuitBreaker.core}) holds the state (closed, open, half-open), admits or refuses
 * each call, moves from open to half-open after `resetTimeout` and lets exactly one probe through. The facade
 * keeps opossum's rolling {@link Status} and applies opossum's rules through the core: open on a failure when
 * `failures / fires * 100 > errorThresholdPercentage` over the window and `fires >= volumeThreshold` (unless
 * warming up); while half-open, close on any success and re-open on any failure. It adds opossum's timeout,
 * capacity, fallback, cache, coalescing, events and errors.
 *
 * Deliberate differences from opossum (all else is meant to match its documentation):
 * - Time comes from `options.clock` (default the system clock): the open -> half-open timer is one unref'd
 *   timer per opened circuit, call timeouts go to the shared deadline scheduler, stats buckets and warm-up end
 *   lazily (no interval timer per breaker), and `'snapshot'` (on `status`, as in opossum) runs a timer only
 *   while someone listens. Latencies are clock differences (fractional ms with the system clock).
 * - With `resetTimeout: 0` the circuit reads half-open as soon as it opened (opossum waits for the next tick).
 * - `fire()` always returns a promise, also when disabled, when the action returns a plain value (even
 *   `undefined`, which opossum rejects with a TypeError), or when the action, `cacheGetKey` or the cache
 *   throws synchronously. It settles a few microtasks after opossum's would, once the core has recorded the
 *   outcome; events (`'reject'` included) fire at the same moments as in opossum.
 * - A listener (or `cacheTransport.set`) that throws is reported as a process warning and never leaves a call
 *   unsettled; an `errorFilter` that throws makes the call fail with its error.
 * - Stats are counted directly, not by listeners on the breaker, so `removeAllListeners()` leaves them intact;
 *   `eventNames()` still lists opossum's built-in events, as opossum-prometheus expects.
 * - After `shutdown()`, `open()`, `close()` and health checks do nothing (opossum can be revived by `close()`
 *   and keeps running health checks).
 * - A health check that returns a non-promise or throws is handled (opossum throws a TypeError).
 * - `toJSON().state.lastTimerAt` is when the circuit last opened (opossum records its construction time), and
 *   a circuit restored open stays open only for the rest of its `resetTimeout`.
 * - A plain `status` object primes a window shaped by this breaker's rolling options (opossum uses defaults).
 * - Coalescing never shares a refused call or one refused for capacity, and a reset forgets only its own call.
 * - `maxFailures` emits one `DeprecationWarning` per process (opossum writes to `console.error` each time).
 * - Options are validated eagerly (`InvalidOptionsError` for out-of-range numbers that opossum would silently
 *   replace or misuse); the object passed in is not modified. `fallback()` rejects a non-function at once.
 *
 * @typeParam TI the action's argument list. @typeParam TR the action's result.
 * @example
 * ```ts
 * import CircuitBreaker from 'antifragile/opossum';
 * const breaker = new CircuitBreaker(fetchPrice, { timeout: 3_000, errorThresholdPercentage: 50, resetTimeout: 30_000 });
 * breaker.fallback(() => cachedPrice);
 * breaker.on('open', () => log.warn('pricing is failing'));
 * const price = await breaker.fire(sku);
 * ```
 */
export class CircuitBreaker<TI extends unknown[] = unknown[], TR = unknown> extends EventEmitter<CircuitBreakerEventMap<TI, TR>> {
  /** Whether `error` was raised by a breaker (open, timeout, capacity, shutdown) rather than by the action. */
  static isOurError(error: unknown): boolean {
    return isOurError(error);
  }

  /**
   * A new {@link Status}, e.g. primed with previous `stats`, to pass as `options.status`. Give it the same
   * `clock` and rolling options as the breaker.
   */
  static newStatus(options: StatusOptionsType = {}): Status {
    return new Status(options);
  }

  /** The options with opossum's defaults applied. `abortController` changes when it is renewed. */
  readonly options: ResolvedOptions<TI>;
  /** The protected action (a function returning the value when a non-function was given). */
  readonly action: Action<TI, TR>;
  /**
   * The antifragile circuit breaker holding the state, for observation: `metrics()`, `healthScore()`,
   * `on('stateChange')`. Calls made through it bypass this facade's stats and events.
   */
  readonly core: CoreBreaker;

  private readonly clock: Clock;
  private readonly ownStatus: Status;
  private readonly circuitName: string;
  private readonly circuitGroup: string;
  private readonly volume: number;
  private readonly coalesceCache: MemoryCache | undefined;
  private readonly unsubscribeCore: () => void;
  private readonly healthChecks = new Set<{ timer: TimerHandle | undefined }>();
  private isEnabled: boolean;
  private isShut = false;
  private probePending = false;
  private warmUpUntil = -Infinity;
  private lastOpenedAt: number | undefined;
  private resetTimer: TimerHandle | undefined;
  private fallbackFunction: ((...args: unknown[]) => unknown) | undefined;
  private inFlight = 0;

  /**
   * @param action the function to protect; a non-function value is returned by every call, as in opossum.
   * @param options opossum's options, plus `clock`.
   * @throws TypeError when `action` is missing or `cacheTransport`/`abortController` is malformed;
   *   `InvalidOptionsError` listing every out-of-range option.
   */
  constructor(action: (...args: TI) => TR | PromiseLike<TR>, options?: CircuitBreakerOptions<TI>);
  constructor(action: TR, options?: CircuitBreakerOptions<TI>);
  constructor(action: unknown, options: CircuitBreakerOptions<TI> = {}) {
    super();
    const o = resolveOptions(options);
    if (!action) throw new TypeError('No action provided. Cannot construct a CircuitBreaker without an invocable action.');
    this.options = o;
    this.clock = o.clock;
    this.action = typeof action === 'function' ? (action as Action<TI, TR>) : () => Promise.resolve(action as TR);
    this.volume = o.volumeThreshold;
    this.coalesceCache = o.coalesce ? new MemoryCache(o.clock, options.coalesceSize) : undefined;

    const state = options.state;
    this.isEnabled = state !== undefined ? state.enabled !== false : options.enabled !== false;
    if (state?.warmUp === true || o.allowWarmUp) this.warmUpUntil = this.clock.now() + o.rollingCountTimeout;

    const status = options.status;
    this.ownStatus =
      status instanceof Status
        ? status
        : new Status({
            rollingCountTimeout: o.rollingCountTimeout,
            rollingCountBuckets: o.rollingCountBuckets,
            rollingPercentilesEnabled: o.rollingPercentilesEnabled,
            enableSnapshots: o.enableSnapshots,
            rotateBucketController: o.rotateBucketController,
            maxLatencySamplesPerBucket: options.maxLatencySamplesPerBucket,
            stats: status,
            clock: o.clock,
          });

    const actionName = (action as { name?: unknown }).name;
    this.circuitName = options.name || (typeof actionName === 'string' && actionName !== '' ? actionName : randomUUID());
    this.circuitGroup = options.group || this.circuitName;

    const initialState = state !== undefined && state.shutdown !== true ? this.restoredState(state) : undefined;
    this.core = new CoreBreaker({
      name: this.circuitName,
      clock: o.clock,
      // opossum's rule decides when to open (see recordFailure); the core never trips by itself.
      window: { type: 'consecutive', failures: Number.MAX_SAFE_INTEGER },
      openMs: o.resetTimeout,
      halfOpen: { maxCalls: 1, successes: 1, maxWaitMs: Number.MAX_SAFE_INTEGER },
      isFailure: countsAsFailure,
      ...(initialState === undefined ? {} : { initialState }),
    });
    this.unsubscribeCore = this.core.on('stateChange', this.onStateChange);
    if (initialState?.state === 'open') {
      this.lastOpenedAt = initialState.since;
      this.scheduleHalfOpen(initialState.openUntil);
    } else if (initialState?.state === 'half-open') {
      this.probePending = true;
    }
    if (state?.shutdown === true) this.shutdown();
  }

  /** The circuit's name. */
  get name(): string {
    return this.circuitName;
  }

  /** The circuit's group. */
  get group(): string {
    return this.circuitGroup;
  }

  /** Whether the circuit protects calls (false after `disable()` or `shutdown()`). */
  get enabled(): boolean {
    return this.isEnabled;
  }

  /** Whether the circuit is half-open and its one probe has not been taken yet. */
  get pendingClose(): boolean {
    return this.state() === 'half-open' && this.probePending;
  }

  /** Whether the circuit is closed. */
  get closed(): boolean {
    return this.state() === 'closed';
  }

  /** Whether the circuit is open. */
  get opened(): boolean {
    return this.state() === 'open';
  }

  /** Whether the circuit is half-open. */
  get halfOpen(): boolean {
    return this.state() === 'half-open';
  }

  /** Whether `shutdown()` was called. */
  get isShutdown(): boolean {
    return this.isShut;
  }

  /** The rolling statistics of this circuit. */
  get status(): Status {
    return this.ownStatus;
  }

  /** Totals of the rolling window (a fresh object per read). */
  get stats(): StatsType {
    return this.ownStatus.stats;
  }

  /** Whether the circuit is warming up (failures do not open it), see `allowWarmUp`. */
  get warmUp(): boolean {
    return this.clock.now() < this.warmUpUntil;
  }

  /** Fires needed in the window before the circuit may open. */
  get volumeThreshold(): number {
    return this.volume;
  }

  /** The state and stats, to resume with `new CircuitBreaker(action, { state, status })`. */
  toJSON(): CircuitBreakerJSON {
    return {
      state: {
        name: this.name,
        enabled: this.enabled,
        closed: this.closed,
        open: this.opened,
        halfOpen: this.halfOpen,
        warmUp: this.warmUp,
        shutdown: this.isShutdown,
        lastTimerAt: this.lastOpenedAt,
      },
      status: this.stats,
    };
  }

  /**
   * Sets what runs instead of a failed or refused call: a function called with the call's arguments and
   * then the error, or another breaker (fired with the same arguments and the error). `fire()` then resolves
   * with its result. `null`/`undefined` removes it.
   */
  fallback(func: ((...args: never[]) => unknown) | Fireable | null | undefined): this {
    if (func === null || func === undefined) this.fallbackFunction = undefined;
    else if (typeof func === 'function') this.fallbackFunction = func as (...args: unknown[]) => unknown;
    else if (typeof (func as Partial<Fireable>).fire === 'function') {
      const breaker = func as { fire(...args: unknown[]): Promise<unknown> };
      this.fallbackFunction = (...args: unknown[]) => breaker.fire(...args);
    } else throw new TypeError('fallback: expected a function or a circuit breaker');
    return this;
  }

  /** Calls the action with `args` under the circuit's protection. */
  fire(...args: TI): Promise<TR> {
    return this.call(this.action, ...args);
  }

  /**
   * Calls the action with `this` set to `context` under the circuit's protection. Resolves with its result
   * (or the fallback's); rejects with its error or with an {@link OpossumError} (see `isOurError`).
   */
  call(context: unknown, ...args: TI): Promise<TR> {
    if (this.isShut) return Promise.reject(new OpossumError('The circuit has been shutdown.', 'ESHUTDOWN'));
    this.ownStatus.increment('fires');
    this.notify('fire', args);
    if (!this.isEnabled) return this.invoke(context, args);

    const o = this.options;
    let key = '';
    let cached: unknown;
    try {
      if (o.cache || o.coalesce) key = o.cacheGetKey.apply(this, args);
      if (o.cache) cached = (o.cacheTransport as CacheTransportType).get(key);
    } catch (error) {
      return Promise.reject(error);
    }
    if (o.cache) {
      if (cached) {
        this.ownStatus.increment('cacheHits');
        this.notify('cacheHit');
        return Promise.resolve(cached as TR);
      }
      this.ownStatus.increment('cacheMisses');
      this.notify('cacheMiss');
    }
    const coalesceCache = this.coalesceCache;
    if (coalesceCache === undefined) return this.admit(context, args, key, undefined);

    const pending = coalesceCache.get(key);
    if (pending) {
      this.ownStatus.increment('coalesceCacheHits');
      this.notify('coalesceCacheHit');
      return pending as Promise<TR>;
    }
    this.ownStatus.increment('coalesceCacheMisses');
    this.notify('coalesceCacheMiss');
    const entry: CoalesceEntry = { key, promise: undefined, resetEarly: false };
    const call = this.admit(context, args, key, entry);
    if (entry.promise === undefined && !entry.resetEarly) {
      entry.promise = call;
      const ttl = o.coalesceTTL;
      coalesceCache.set(key, call, ttl !== false && ttl > 0 ? this.clock.now() + ttl : 0);
    }
    return call;
  }

  /** Forgets every cached result and coalesced call. */
  clearCache(): void {
    if (this.options.cache) this.options.cacheTransport?.flush();
    this.coalesceCache?.flush();
  }

  /** Opens the circuit (a no-op if it is open); it goes half-open `resetTimeout` ms later. */
  open(): void {
    if (this.isShut || this.core.state === 'open') return;
    this.core.open();
  }

  /** Closes the circuit (a no-op if it is closed). */
  close(): void {
    if (this.isShut || this.core.state === 'closed') return;
    this.core.close();
  }

  /** Lets every call run unprotected (no open check, timeout, capacity, cache or fallback) until `enable()`. */
  disable(): void {
    this.isEnabled = false;
    this.ownStatus.removeRotateBucketControllerListener();
  }

  /** Protects calls again after `disable()`. */
  enable(): void {
    this.isEnabled = true;
    this.ownStatus.startListeneningForRotateEvent();
  }

  /**
   * Shuts the breaker down for good: emits `'shutdown'`, disables it, removes every listener, stops its timers
   * and snapshots, and clears the cache. Later calls reject with `ESHUTDOWN`.
   */
  shutdown(): void {
    this.notify('shutdown');
    this.disable();
    this.removeAllListeners();
    this.cancelResetTimer();
    for (const check of this.healthChecks) check.timer?.cancel();
    this.healthChecks.clear();
    this.ownStatus.shutdown();
    this.isShut = true;
    this.probePending = false;
    this.unsubscribeCore();
    this.core.isolate();
    this.clearCache();
  }

  /**
   * Runs `func` (with `this` set to the breaker) now and every `interval` ms on an unref'd timer; when it
   * throws or its promise rejects, emits `'healthCheckFailed'` and opens the circuit.
   * @param interval ms between checks. @default 5_000
   * @throws TypeError when `func` is not a function or `interval` not a number.
   */
  healthCheck(func: (this: this) => unknown, interval?: number): void {
    if (typeof func !== 'function') throw new TypeError('Health check function must be a function');
    if (Number.isNaN(Number(interval || 5_000))) throw new TypeError('Health check interval must be a number');
    const ms = Math.max(1, Number(interval || 5_000));
    const check = { timer: undefined as TimerHandle | undefined };
    const run = (): void => {
      if (this.isShut) return;
      let result: unknown;
      try {
        result = func.call(this);
      } catch (error) {
        result = Promise.reject(error);
      }
      Promise.resolve(result).catch((error: unknown) => {
        if (this.isShut) return;
        this.notify('healthCheckFailed', error as Error);
        this.open();
      });
    };
    const tick = (): void => {
      if (this.isShut) return;
      check.timer = this.clock.schedule(tick, ms, { keepAlive: false });
      run();
    };
    this.healthChecks.add(check);
    check.timer = this.clock.schedule(tick, ms, { keepAlive: false });
    run();
  }

  /** The signal of the current `abortController`, if any. */
  getSignal(): AbortSignal | undefined {
    return this.options.abortController?.signal;
  }

  /** The current `abortController`, if any. */
  getAbortController(): AbortController | undefined {
    return this.options.abortController;
  }

  /** Event names with listeners; like opossum, lists its built-in events until `shutdown()`. */
  override eventNames(): ReturnType<EventEmitter<CircuitBreakerEventMap<TI, TR>>['eventNames']> {
    const names = super.eventNames();
    if (this.isShut) return names;
    const all = new Set<string | symbol>(BUILT_IN_EVENTS);
    for (const name of names) all.add(name);
    return [...all] as ReturnType<EventEmitter<CircuitBreakerEventMap<TI, TR>>['eventNames']>;
  }

  private state(): CircuitState | 'shutdown' {
    return this.isShut ? 'shutdown' : this.core.state;
  }

  /** Runs a call through the core breaker: it admits it (or refuses it) and records its outcome. */
  private admit(context: unknown, args: TI, key: string, coalesce: CoalesceEntry | undefined): Promise<TR> {
    let started = false;
    let fallback: Promise<unknown> | undefined;
    const run = (): Promise<TR> => {
      started = true;
      this.probePending = false;
      return new Promise<TR>((resolve, reject) =>
        this.execute(context, args, key, coalesce, resolve, reject, (fb) => {
          fallback = fb;
        }),
      );
    };
    const outcome = this.core.execute(run);
    // The core calls `run` synchronously when it admits the call; not calling it means it refused.
    if (!started) {
      outcome.catch(ignore); // the core's BrokenCircuitError, handled here as opossum's EOPENBREAKER
      if (coalesce !== undefined) coalesce.resetEarly = true; // a refusal is never shared
      return this.reject(args);
    }
    return outcome.then(undefined, (error: unknown) => {
      if (error instanceof Excused) throw error.error;
      if (fallback !== undefined) return fallback as Promise<TR>;
      throw error;
    });
  }

  /** One admitted call: capacity, timeout, the action, then opossum's outcome handling. */
  private execute(
    context: unknown,
    args: TI,
    key: string,
    coalesce: CoalesceEntry | undefined,
    resolve: (value: TR) => void,
    reject: (error: unknown) => void,
    setFallback: (fallback: Promise<unknown>) => void,
  ): void {
    const o = this.options;
    const clock = this.clock;
    const start = clock.now();
    let done = false;
    let timer: TimerHandle | undefined;

    const onError = (error: unknown, latencyMs: number): void => {
      let excused: boolean;
      try {
        excused = Boolean(o.errorFilter(error as Error, ...args));
      } catch (filterError) {
        error = filterError;
        excused = false;
      }
      if (excused) {
        this.recordSuccess(error as TR, latencyMs);
        reject(new Excused(error));
        return;
      }
      this.recordFailure(error, args, latencyMs);
      const fallback = this.runFallback(error, args);
      if (fallback !== undefined) setFallback(fallback);
      reject(error);
    };

    if (this.inFlight >= o.capacity) {
      const error = new OpossumError('Semaphore locked', 'ESEMLOCKED');
      const latencyMs = clock.now() - start;
      this.ownStatus.increment('semaphoreRejections');
      this.notify('semaphoreLocked', error, latencyMs);
      onError(error, latencyMs);
      this.resetCoalesce(coalesce, undefined);
      return;
    }
    this.inFlight++;

    const timeoutMs = o.timeout;
    if (timeoutMs) {
      timer = clock.schedule(
        () => {
          done = true;
          this.inFlight--;
          const error = new OpossumError(`Timed out after ${timeoutMs}ms`, 'ETIMEDOUT');
          const latencyMs = clock.now() - start;
          this.ownStatus.increment('timeouts', latencyMs);
          this.notify('timeout', error, latencyMs, args);
          onError(error, latencyMs);
          this.resetCoalesce(coalesce, 'timeout');
          o.abortController?.abort();
        },
        timeoutMs,
        { keepAlive: true },
      );
    }

    let promise: Promise<TR>;
    try {
      promise = Promise.resolve(this.action.apply(context, args));
    } catch (error) {
      done = true;
      timer?.cancel();
      this.inFlight--;
      onError(error, clock.now() - start);
      this.resetCoalesce(coalesce, 'error');
      return;
    }
    promise.then(
      (value) => {
        if (done) return;
        done = true;
        timer?.cancel();
        this.recordSuccess(value, clock.now() - start);
        this.resetCoalesce(coalesce, 'success');
        this.inFlight--;
        resolve(value);
        if (o.cache) {
          try {
            (o.cacheTransport as CacheTransportType).set(key, promise, o.cacheTTL > 0 ? clock.now() + o.cacheTTL : 0);
          } catch (error) {
            this.warn(`cacheTransport.set() threw: ${describe(error)}`, 'ANTIFRAGILE_OPOSSUM_CACHE_ERROR');
          }
        }
      },
      (error: unknown) => {
        if (done) return;
        done = true;
        timer?.cancel();
        this.inFlight--;
        onError(error, clock.now() - start);
        this.resetCoalesce(coalesce, 'error');
      },
    );
  }

  /**
   * Counts a success and emits `'success'`. As in opossum, any success while half-open closes the circuit,
   * before the `'success'` listeners run.
   */
  private recordSuccess(result: TR, latencyMs: number): void {
    this.ownStatus.increment('successes', latencyMs);
    if (!this.isShut && this.core.state === 'half-open') this.core.close();
    this.notify('success', result, latencyMs);
  }

  /** Counts a failure, emits `'failure'`, and opens the circuit by opossum's rule (any failure while half-open re-opens). */
  private recordFailure(error: unknown, args: TI, latencyMs: number): void {
    const status = this.ownStatus;
    status.increment('failures', latencyMs);
    this.notify('failure', error as Error, latencyMs, args);
    if (this.isShut || this.warmUp) return;
    const halfOpen = this.core.state === 'half-open';
    const fires = status.count('fires');
    if (fires < this.volume && !halfOpen) return;
    const errorRate = (status.count('failures') / fires) * 100;
    if (errorRate > this.options.errorThresholdPercentage || halfOpen) this.open();
  }

  /** A call the circuit refused: `'reject'`, then the fallback or an `EOPENBREAKER` rejection. */
  private reject(args: TI): Promise<TR> {
    const error = new OpossumError('Breaker is open', 'EOPENBREAKER');
    this.ownStatus.increment('rejects');
    this.notify('reject', error);
    return (this.runFallback(error, args) ?? Promise.reject(error)) as Promise<TR>;
  }

  private runFallback(error: unknown, args: TI): Promise<unknown> | undefined {
    const fallback = this.fallbackFunction;
    if (fallback === undefined) return undefined;
    try {
      const result = fallback.apply(fallback, [...args, error]);
      this.ownStatus.increment('fallbacks');
      this.notify('fallback', result, error as Error);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (fallbackError) {
      return Promise.reject(fallbackError);
    }
  }

  /** Runs the action unprotected (disabled circuit). */
  private invoke(context: unknown, args: TI): Promise<TR> {
    try {
      return Promise.resolve(this.action.apply(context, args));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private resetCoalesce(entry: CoalesceEntry | undefined, event: CoalesceResetEvent | undefined): void {
    if (entry === undefined) return;
    if (event !== undefined && !this.options.coalesceResetOn.includes(event)) return;
    if (entry.promise === undefined) entry.resetEarly = true;
    else this.coalesceCache?.delete(entry.key, entry.promise);
  }

  private readonly onStateChange = ({ to, at }: CoreEvents['stateChange']): void => {
    switch (to) {
      case 'open':
        this.lastOpenedAt = at;
        this.probePending = false;
        this.ownStatus.open();
        this.scheduleHalfOpen(at + this.options.resetTimeout);
        this.notify('open');
        break;
      case 'half-open':
        this.cancelResetTimer();
        this.probePending = true;
        this.renewAbortController();
        this.notify('halfOpen', this.options.resetTimeout);
        break;
      case 'closed':
        this.cancelResetTimer();
        this.probePending = false;
        this.ownStatus.close();
        this.renewAbortController();
        this.notify('close');
        break;
      default:
        this.probePending = false;
    }
  };

  /** Arms the one timer that moves an open circuit to half-open (and emits `'halfOpen'`) at `dueAt`. */
  private scheduleHalfOpen(dueAt: number): void {
    this.cancelResetTimer();
    this.resetTimer = this.clock.schedule(this.onResetTimer, Math.max(0, dueAt - this.clock.now()), { keepAlive: false });
  }

  private readonly onResetTimer = (): void => {
    this.resetTimer = undefined;
    if (this.isShut) return;
    // Reading the state applies the core's due open -> half-open transition, which emits 'halfOpen'.
    if (this.core.state === 'open' && this.lastOpenedAt !== undefined) {
      this.scheduleHalfOpen(this.lastOpenedAt + this.options.resetTimeout);
    }
  };

  private cancelResetTimer(): void {
    this.resetTimer?.cancel();
    this.resetTimer = undefined;
  }

  private renewAbortController(): void {
    const o = this.options;
    if (o.autoRenewAbortController && o.abortController?.signal.aborted) o.abortController = new AbortController();
  }

  /** The core state to start from when `options.state` says open or half-open. */
  private restoredState(state: Partial<CircuitBreakerState>): CoreState | undefined {
    if (state.closed !== false) return undefined;
    const now = this.clock.now();
    const resetTimeout = this.options.resetTimeout;
    if (state.halfOpen === true) return coreState(this.circuitName, 'half-open', now, now);
    const openedAt = typeof state.lastTimerAt === 'number' && state.lastTimerAt <= now ? state.lastTimerAt : now;
    if (now - openedAt > resetTimeout) return coreState(this.circuitName, 'half-open', now, now);
    return coreState(this.circuitName, 'open', openedAt, openedAt + resetTimeout);
  }

  /** Emits an event; a listener that throws is reported as a warning and never breaks the call in progress. */
  private notify<K extends keyof CircuitBreakerEventMap<TI, TR>>(event: K, ...args: CircuitBreakerEventMap<TI, TR>[K]): void {
    try {
      (this.emit as (event: K, ...args: CircuitBreakerEventMap<TI, TR>[K]) => boolean)(event, ...args);
    } catch (error) {
      this.warn(`a listener for "${String(event)}" threw: ${describe(error)}`, 'ANTIFRAGILE_LISTENER_ERROR');
    }
  }

  private warn(message: string, code: string): void {
    process.emitWarning(`Circuit "${this.circuitName}": ${message}`, { code });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function coreState(name: string, state: CircuitState, since: number, openUntil: number): CoreState {
  return {
    version: 1,
    name,
    state,
    since,
    openUntil,
    window: { kind: 'consecutive', data: [0, 0, 0], mark: 0 },
    totals: { calls: 0, successes: 0, failures: 0, ignored: 0, rejections: 0, slowCalls: 0 },
  };
}

/** Type names of `@types/opossum` (`CircuitBreaker.Options`, `CircuitBreaker.Stats`, ...), for drop-in typing. */
// eslint-disable-next-line @typescript-eslint/no-namespace -- merges types into the class as @types/opossum does
export declare namespace CircuitBreaker {
  /** See {@link CircuitBreakerOptions}. */
  export type Options<TI extends unknown[] = unknown[]> = CircuitBreakerOptions<TI>;
  /** See {@link StatusOptionsType}. */
  export type StatusOptions = StatusOptionsType;
  /** See {@link BucketType}. */
  export type Bucket = BucketType;
  /** The buckets of `status.window`, newest first. */
  export type Window = BucketType[];
  /** See {@link StatsType}. */
  export type Stats = StatsType;
  /** See {@link CircuitBreakerState}. */
  export type State = CircuitBreakerState;
  /** See {@link CacheTransportType}. */
  export type CacheTransport = CacheTransportType;
}
