import { systemClock, type Clock } from '../../core/clock.js';
import { OptionsValidator } from '../../core/options.js';
import { MemoryCache, type CacheTransport } from './memory-cache.js';
import { Status, type RotateBucketController, type Stats } from './status.js';

/** When the coalesce cache forgets a call: after it failed, succeeded or timed out. */
export type CoalesceResetEvent = 'error' | 'success' | 'timeout';

/** The breaker state exported by `toJSON().state` and accepted back by the `state` option. */
export interface CircuitBreakerState {
  name: string;
  enabled: boolean;
  closed: boolean;
  open: boolean;
  halfOpen: boolean;
  warmUp: boolean;
  shutdown: boolean;
  /** Clock time (ms since the epoch with the system clock) at which the circuit last opened; absent if it never did. */
  lastTimerAt?: number | undefined;
}

/**
 * Options of the opossum-compatible `CircuitBreaker`: opossum 10's options, plus `clock` and
 * `maxLatencySamplesPerBucket`. Every field is optional and may be `undefined` (the default applies).
 * @typeParam TI the action's argument list.
 */
export interface CircuitBreakerOptions<TI extends unknown[] = unknown[]> {
  /** A {@link Status} (e.g. from `CircuitBreaker.newStatus`) or previous stats to prime the window with. */
  status?: Status | Partial<Stats> | undefined;
  /** Time in ms an action may run before it fails with `ETIMEDOUT`; `false` (or `0`) disables it. @default 10_000 */
  timeout?: number | false | undefined;
  /** @deprecated has no effect (as in opossum); use `errorThresholdPercentage`. Setting it warns once. */
  maxFailures?: number | undefined;
  /** Time in ms the circuit stays open before going half-open and letting one probe through. @default 30_000 */
  resetTimeout?: number | undefined;
  /** Length of the rolling statistics window in ms. @default 10_000 */
  rollingCountTimeout?: number | undefined;
  /** Number of buckets in the rolling window. @default 10 */
  rollingCountBuckets?: number | undefined;
  /** Name used in stats and diagnostics. @default the action's name, else a random UUID */
  name?: string | undefined;
  /** Group name for reporting. @default the name */
  group?: string | undefined;
  /** Whether latencies are tracked; when false, mean and percentiles read -1. @default true */
  rollingPercentilesEnabled?: boolean | undefined;
  /** Most calls in flight at once; beyond it calls fail with `ESEMLOCKED`. @default Number.MAX_SAFE_INTEGER */
  capacity?: number | undefined;
  /** Open when the failure percentage (failures / fires in the window, 0..100) exceeds this. @default 50 */
  errorThresholdPercentage?: number | undefined;
  /** Whether the circuit protects calls from the start (see `disable()`). @default true */
  enabled?: boolean | undefined;
  /** Whether failures are ignored for opening during the first `rollingCountTimeout` ms. @default false */
  allowWarmUp?: boolean | undefined;
  /** Fires needed in the window before the circuit may open. @default 0 */
  volumeThreshold?: number | undefined;
  /**
   * Called with the error and the call's arguments when an action fails (or times out); a truthy result
   * means the error does not count: `'success'` is emitted, no fallback runs, and `fire()` still rejects.
   */
  errorFilter?(error: Error, ...args: TI): unknown;
  /** Whether the first successful result per cache key is cached and returned by later calls. @default false */
  cache?: boolean | undefined;
  /** Time to live of cached results in ms; 0 keeps them until `clearCache()`. @default 0 */
  cacheTTL?: number | undefined;
  /** Most entries of the default in-memory cache. @default 2 ** 24 - 1 */
  cacheSize?: number | undefined;
  /** Computes the cache (and coalesce) key from the call's arguments. @default (...args) => JSON.stringify(args) */
  cacheGetKey?(...args: TI): string;
  /** Where cached results live. @default an in-memory {@link MemoryCache} */
  cacheTransport?: CacheTransport | undefined;
  /** Whether concurrent calls with the same key share one execution. @default false */
  coalesce?: boolean | undefined;
  /** How long a coalesced call is shared, in ms; 0 or false for as long as it is cached. @default `timeout` */
  coalesceTTL?: number | false | undefined;
  /** Most entries of the coalesce cache. @default 2 ** 24 - 1 */
  coalesceSize?: number | undefined;
  /** Outcomes after which a coalesced call is forgotten at once. @default [] (only the TTL) */
  coalesceResetOn?: readonly CoalesceResetEvent[] | undefined;
  /** Aborted (with no reason) when a call times out; pass its signal to your I/O. */
  abortController?: AbortController | undefined;
  /** Whether `status` emits `'snapshot'` once per bucket interval. @default true */
  enableSnapshots?: boolean | undefined;
  /** Rotates the stats buckets on its `'rotate'` events instead of by time. */
  rotateBucketController?: RotateBucketController | undefined;
  /**
   * Replace an aborted `abortController` with a fresh one when the circuit goes half-open or closed
   * (creating one if none was given). @default false
   */
  autoRenewAbortController?: boolean | undefined;
  /** State exported by `toJSON().state`, to resume (after a restart, say). */
  state?: Partial<CircuitBreakerState> | undefined;
  /** Time source (not an opossum option). @default systemClock */
  clock?: Clock | undefined;
  /** Most latencies kept per stats bucket (not an opossum option), see {@link Status}. @default 1024 */
  maxLatencySamplesPerBucket?: number | undefined;
}

/** Options with every default applied, as `breaker.options` exposes them. */
export interface ResolvedOptions<TI extends unknown[] = unknown[]> {
  timeout: number | false;
  resetTimeout: number;
  errorThresholdPercentage: number;
  rollingCountTimeout: number;
  rollingCountBuckets: number;
  rollingPercentilesEnabled: boolean;
  capacity: number;
  volumeThreshold: number;
  allowWarmUp: boolean;
  errorFilter(error: Error, ...args: TI): unknown;
  cache: boolean;
  cacheTTL: number;
  cacheGetKey(...args: TI): string;
  cacheTransport: CacheTransport | undefined;
  coalesce: boolean;
  coalesceTTL: number | false;
  coalesceResetOn: readonly CoalesceResetEvent[];
  /** Replaced when `autoRenewAbortController` renews it. */
  abortController: AbortController | undefined;
  autoRenewAbortController: boolean;
  enableSnapshots: boolean;
  rotateBucketController: RotateBucketController | undefined;
  clock: Clock;
}

const COALESCE_EVENTS = ['error', 'success', 'timeout'] as const;
const notFiltered = (): boolean => false;
const jsonKey = (...args: unknown[]): string => JSON.stringify(args);
let maxFailuresWarned = false;

/**
 * Applies opossum's defaults and validates `options` eagerly: range problems throw one `InvalidOptionsError`
 * listing every bad field; the checks opossum itself makes (cache transport, abort controller) throw its
 * `TypeError`s. Does not modify `options` (opossum writes the defaults into the object it was given).
 * @internal
 */
export function resolveOptions<TI extends unknown[]>(options: CircuitBreakerOptions<TI>): ResolvedOptions<TI> {
  validate(options);
  const clock = options.clock ?? systemClock;
  const timeout = options.timeout ?? 10_000;
  const cache = Boolean(options.cache);
  let cacheTransport: CacheTransport | undefined;
  if (cache) {
    const transport = options.cacheTransport;
    if (transport === undefined) cacheTransport = new MemoryCache(clock, options.cacheSize);
    else if (
      typeof transport !== 'object' ||
      transport === null ||
      typeof transport.get !== 'function' ||
      typeof transport.set !== 'function' ||
      typeof transport.flush !== 'function'
    ) {
      throw new TypeError('options.cacheTransport should be an object with `get`, `set` and `flush` methods');
    } else cacheTransport = transport;
  }
  let abortController = options.abortController;
  if (options.autoRenewAbortController && abortController === undefined) abortController = new AbortController();
  if (abortController !== undefined && typeof (abortController as Partial<AbortController> | null)?.abort !== 'function') {
    throw new TypeError('AbortController does not contain `abort()` method');
  }
  if (options.maxFailures && !maxFailuresWarned) {
    maxFailuresWarned = true;
    process.emitWarning('options.maxFailures is deprecated. Please use options.errorThresholdPercentage', {
      type: 'DeprecationWarning',
      code: 'ANTIFRAGILE_OPOSSUM_MAX_FAILURES',
    });
  }
  const capacity = options.capacity;
  return {
    timeout,
    resetTimeout: options.resetTimeout ?? 30_000,
    errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
    rollingCountTimeout: options.rollingCountTimeout ?? 10_000,
    rollingCountBuckets: options.rollingCountBuckets ?? 10,
    rollingPercentilesEnabled: options.rollingPercentilesEnabled !== false,
    capacity: capacity === undefined || !Number.isFinite(capacity) ? Number.MAX_SAFE_INTEGER : capacity,
    volumeThreshold: options.volumeThreshold ?? 0,
    allowWarmUp: options.allowWarmUp === true,
    errorFilter: options.errorFilter ?? notFiltered,
    cache,
    cacheTTL: options.cacheTTL ?? 0,
    cacheGetKey: options.cacheGetKey ?? jsonKey,
    cacheTransport,
    coalesce: Boolean(options.coalesce),
    coalesceTTL: options.coalesceTTL ?? timeout,
    coalesceResetOn: (options.coalesceResetOn ?? []).filter((e) => (COALESCE_EVENTS as readonly string[]).includes(e)),
    abortController,
    autoRenewAbortController: options.autoRenewAbortController === true,
    enableSnapshots: options.enableSnapshots !== false,
    rotateBucketController: options.rotateBucketController,
    clock,
  };
}

function validate(options: CircuitBreakerOptions<never>): void {
  const v = new OptionsValidator('opossum CircuitBreaker');
  if (typeof options !== 'object' || options === null) {
    v.fail('options', 'an object', options);
    v.throwIfInvalid();
  }
  if (options.timeout !== false) v.duration('timeout', options.timeout);
  v.duration('resetTimeout', options.resetTimeout);
  v.duration('rollingCountTimeout', options.rollingCountTimeout, true);
  v.integer('rollingCountBuckets', options.rollingCountBuckets, 1);
  v.number('errorThresholdPercentage', options.errorThresholdPercentage, { min: 0 });
  v.integer('capacity', options.capacity, 0, true);
  v.integer('volumeThreshold', options.volumeThreshold, 0);
  v.duration('cacheTTL', options.cacheTTL);
  v.integer('cacheSize', options.cacheSize, 1);
  if (options.coalesceTTL !== false) v.duration('coalesceTTL', options.coalesceTTL);
  v.integer('coalesceSize', options.coalesceSize, 1);
  v.integer('maxLatencySamplesPerBucket', options.maxLatencySamplesPerBucket, 1);
  v.func('errorFilter', options.errorFilter);
  v.func('cacheGetKey', options.cacheGetKey);
  v.string('name', options.name);
  v.string('group', options.group);
  if (options.coalesceResetOn !== undefined && !Array.isArray(options.coalesceResetOn)) {
    v.fail('coalesceResetOn', 'an array of "error", "success", "timeout"', options.coalesceResetOn);
  }
  const controller = options.rotateBucketController as Partial<RotateBucketController> | undefined;
  if (controller !== undefined && (typeof controller?.on !== 'function' || typeof controller.removeListener !== 'function')) {
    v.fail('rotateBucketController', 'an EventEmitter', controller);
  }
  v.clock('clock', options.clock);
  v.object('state', options.state);
  if (options.status !== undefined && !(options.status instanceof Status)) v.object('status', options.status);
  v.throwIfInvalid();
}
