import { randomUUID } from 'node:crypto';
import { neverAbortedSignal } from '../../core/abort.js';
import type { Bus } from '../../core/bus.js';
import { coarseNowOf, systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import { BrokenCircuitError, isTimeoutError, TimeoutError } from '../../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitBreakerTotals,
  type CircuitState,
  type TransitionReason,
} from '../../policies/circuit-breaker.js';
import { contextOf, defaultContext } from '../../policies/context.js';
import { isContextAborted, peekSignal } from '../../policies/lazy-context.js';
import type { ExecuteOptions, Policy, PolicyContext, PolicyFunction } from '../../policies/policy.js';
import type { RedisClient } from './redis-client.js';
import type { RedisScript } from './redis-script.js';
import { SharedBreakerCounts } from './shared-breaker-counts.js';
import { parseSharedBreakerReply, sharedBreakerScripts, type SharedBreakerReply } from './shared-breaker-scripts.js';
import { callWithHandlers } from '../../policies/call-with-handlers.js';

/**
 * Where a {@link SharedCircuitBreaker} takes its decisions from: `'shared'` (the fleet-wide state in Redis)
 * or `'local'` (its own in-process {@link CircuitBreaker}, while Redis is unreachable or too slow).
 */
export type SharedBreakerMode = 'shared' | 'local';

/** Options of {@link SharedCircuitBreaker}. Every instance sharing a `name` must be given the same options. */
export interface SharedCircuitBreakerOptions
  extends Pick<
    CircuitBreakerOptions,
    | 'failureRateThreshold'
    | 'failureThreshold'
    | 'minimumCalls'
    | 'slowCallMs'
    | 'slowCallRateThreshold'
    | 'openMs'
    | 'isFailure'
    | 'rejectionStackTraces'
  > {
  /** The connection the scripts run on. The breaker never closes it. */
  client: RedisClient;
  /** Name of the circuit: instances with the same `prefix` and `name` share one circuit. */
  name: string;
  /** Prefix of the Redis keys: `<prefix>{<name>}:state`, `:window` and `:probes`. @default 'antifragile:breaker:' */
  prefix?: string;
  /**
   * The calls judged: those of the last `ms` milliseconds fleet-wide, in `buckets` buckets (an integer in
   * 1..1000). Only time windows can be shared.
   * @default { type: 'time', ms: 10_000, buckets: 10 }
   */
  window?: { type: 'time'; ms: number; buckets?: number };
  /** Half-open probing, fleet-wide. */
  halfOpen?: {
    /** Probe calls allowed in flight at once across the fleet. @default 1 */
    maxCalls?: number;
    /** Successful probes (from any instance) needed to close. @default 1 */
    successes?: number;
    /** Longest time in half-open before re-opening, so hung probes never keep it stuck (ms). @default 60_000 */
    maxWaitMs?: number;
    /**
     * Longest a probe permit is held (ms): the permit of an instance that died mid-probe frees up after
     * this. A probe running longer loses its permit, and another instance may probe alongside it.
     * @default min(10_000, maxWaitMs)
     */
    permitTtlMs?: number;
  };
  /**
   * How often this instance writes its counts and reads the shared state (ms, > 0). Between two syncs
   * decisions are taken locally from the last state read, so an instance learns of a circuit opened
   * elsewhere within this delay (at once with a `bus`).
   * @default 250
   */
  syncIntervalMs?: number;
  /**
   * Longest wait for one Redis script (ms, > 0). Past it Redis counts as unavailable and the local breaker
   * takes over. Only half-open probes ever wait for Redis; closed-circuit calls never do.
   * @default 250
   */
  redisTimeoutMs?: number;
  /** Broadcasts state changes so other instances adopt them at once instead of at their next sync. */
  bus?: Bus;
  /**
   * Time source. Its `now()` is sent to the scripts as the current time: window buckets, `openUntil` and
   * permit expiry are all in the callers' clocks, so the fleet's clocks must be roughly in sync (skew
   * shifts buckets and open periods by as much).
   * @default systemClock
   */
  clock?: Clock;
}

/** Events of a {@link SharedCircuitBreaker}. */
export interface SharedCircuitBreakerEvents {
  /**
   * The state this instance acts on changed: a fleet-wide transition it learned of (`at` is when it
   * happened), a transition of its local breaker while Redis is unavailable, or a switch between the two
   * (reason `restored`).
   */
  stateChange: {
    name: string;
    from: CircuitState;
    to: CircuitState;
    reason: TransitionReason;
    at: number;
    mode: SharedBreakerMode;
  };
  /** A call was refused. */
  rejected: { name: string; state: CircuitState; retryAfterMs: number | undefined; mode: SharedBreakerMode };
  /** Redis failed or did not answer in time; the local breaker decides until Redis answers again. */
  sharedStateUnavailable: { name: string; error: unknown; at: number };
  /** Redis answered again after `unavailableMs`; decisions follow the shared state again. */
  sharedStateRestored: { name: string; at: number; unavailableMs: number };
}

/** A snapshot of a {@link SharedCircuitBreaker}, from {@link SharedCircuitBreaker.metrics}. */
export interface SharedCircuitBreakerMetrics {
  name: string;
  state: CircuitState;
  mode: SharedBreakerMode;
  /** Transitions of the shared state since its epoch began (0 before the first sync). */
  generation: number;
  /** Time spent in the current state, in ms. */
  timeInStateMs: number;
  /** For an open circuit, ms until it probes; otherwise 0. */
  retryAfterMs: number;
  /**
   * Calls in the window: fleet-wide as of the last sync plus this instance's since (shared mode), or the
   * local breaker's window (local mode).
   */
  calls: number;
  failures: number;
  slowCalls: number;
  /** 0..1 */
  failureRate: number;
  /** 0..1 */
  slowCallRate: number;
  /** Outcomes this instance counted and has not written to Redis yet. */
  unsyncedCalls: number;
  /** Probes in flight and successes of the current half-open period (fleet-wide as of the last Redis answer). */
  halfOpen: { inFlight: number; successes: number };
  /** This instance's calls since creation. */
  totals: CircuitBreakerTotals;
  /** Clock time of the last successful sync, if any. */
  lastSyncAt: number | undefined;
}

/** Exported state of a {@link SharedCircuitBreaker}, from {@link SharedCircuitBreaker.toJSON}. */
export interface SharedCircuitBreakerSnapshot {
  version: 1;
  name: string;
  mode: SharedBreakerMode;
  state: CircuitState;
  /** Clock time at which the shared state began (shared mode). */
  since: number;
  /** Clock time at which an open circuit starts probing (shared mode). */
  openUntil: number;
  /** Identity of the shared state's lifetime in Redis ('' before the first sync). */
  epoch: string;
  generation: number;
  totals: CircuitBreakerTotals;
}

const SHARED = 0;
const LOCAL = 1;
const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
type SharedCode = 0 | 1 | 2;
const SHARED_NAMES: readonly CircuitState[] = ['closed', 'open', 'half-open'];
const CODE_OF: Record<SharedBreakerReply['state'], SharedCode> = { closed: CLOSED, open: OPEN, 'half-open': HALF_OPEN };
const REASONS: ReadonlySet<string> = new Set<TransitionReason>([
  'failure-rate',
  'failure-count',
  'slow-call-rate',
  'consecutive-failures',
  'open-elapsed',
  'probe-failed',
  'probes-succeeded',
  'half-open-timeout',
  'manual',
  'restored',
]);
const countEveryError = (): boolean => true;
const ignore = (): void => {};

/** Raised (internally, carried by `sharedStateUnavailable`) when the connection is down: nothing was sent. */
class RedisNotReadyError extends Error {
  constructor(status: string) {
    super(`Redis connection is ${status}`);
  }
}

/** A state change as broadcast on the bus. */
interface BusState {
  e: string;
  g: number;
  s: SharedBreakerReply['state'];
  u: number;
  t: number;
  r: string;
  n: number;
}

/**
 * A circuit breaker whose state is shared by every instance of a service through Redis: N instances
 * calling one dependency open, probe and close one circuit together.
 *
 * - **Closed**: calls never wait for Redis. Outcomes are counted locally per time bucket and written every
 *   `syncIntervalMs` by one atomic script that adds them to the fleet's window, judges the thresholds
 *   (`failureRateThreshold`, `failureThreshold`, `slowCallRateThreshold` after `minimumCalls`) and opens the
 *   circuit for everyone; it answers with the shared state, which the instance caches and acts on. A
 *   failure that would cross a threshold syncs at once.
 * - **Open**: refused locally with {@link BrokenCircuitError} (`retryAfterMs` from the shared `openUntil`).
 * - **Half-open**: each probe takes a permit in Redis (at most `halfOpen.maxCalls` in flight fleet-wide;
 *   a permit expires after `halfOpen.permitTtlMs` so a dead instance cannot hold it) and reports its
 *   outcome at once: `halfOpen.successes` successes close the circuit for all, a failure re-opens it.
 * - **Redis unavailable** (a script fails or takes longer than `redisTimeoutMs`): the instance switches to
 *   a local {@link CircuitBreaker} with the same options, started from the last shared state and window,
 *   emits `sharedStateUnavailable`, keeps counting, and returns to the shared state (`sharedStateRestored`)
 *   at the first sync Redis answers. A call never fails because Redis did.
 *
 * Sync is a housekeeping timer (it never keeps the process alive) started by the first call or
 * {@link start}; {@link dispose} stops it. State changes go out on `bus` when given.
 *
 * Semantics worth knowing: thresholds are judged when a sync brings a failure or a slow call (as a local
 * breaker judges on a failure); outcomes of calls admitted before a transition do not count after it; an
 * instance that missed a whole period (say half-open) between two syncs announces only the state it
 * finds. Counts handed to a Redis that then did not answer are never sent again (lost rather than
 * counted twice). Every instance must use the same options for one `name`, and their clocks must be
 * roughly in sync: bucket times, `openUntil` and permit expiry are the callers' clock readings.
 *
 * @example
 * ```ts
 * const breaker = new SharedCircuitBreaker({
 *   client: redis, name: 'pricing', bus: new RedisBus({ client: redis }),
 *   window: { type: 'time', ms: 10_000, buckets: 10 }, failureRateThreshold: 0.5, minimumCalls: 20,
 *   openMs: 30_000, halfOpen: { maxCalls: 2, successes: 2 },
 * });
 * breaker.on('sharedStateUnavailable', ({ error }) => log.warn('breaker state is local', error));
 * const price = await breaker.execute(({ signal }) => fetchPrice(sku, { signal }));
 * ```
 */
export class SharedCircuitBreaker implements Policy {
  /** Name of the circuit, shared by the fleet. */
  readonly name: string;
  private readonly client: RedisClient;
  private readonly clock: Clock;
  private readonly coarseNow: () => number;
  private readonly keys: readonly string[];
  private readonly channel: string;
  private readonly bus: Bus | undefined;
  private readonly instanceId = randomUUID();
  private readonly events: EventEmitter<SharedCircuitBreakerEvents>;
  private readonly local: CircuitBreaker;

  private readonly buckets: number;
  private readonly bucketMs: number;
  private readonly failureRateThreshold: number;
  private readonly failureThreshold: number;
  private readonly minimumCalls: number;
  private readonly slowCallMs: number;
  private readonly slowCallRateThreshold: number;
  private readonly openMs: number;
  private readonly halfOpenMaxCalls: number;
  private readonly halfOpenSuccesses: number;
  private readonly halfOpenMaxWaitMs: number;
  private readonly permitTtlMs: number;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly rejectionStackTraces: boolean;
  private readonly syncIntervalMs: number;
  private readonly redisTimeoutMs: number;
  private readonly stateTtlMs: number;
  private readonly windowTtlMs: number;
  private readonly permitsTtlMs: number;

  private modeCode: 0 | 1 = SHARED;
  /** The shared state as last read. */
  private st: SharedCode = CLOSED;
  private epoch = '';
  private generation = -1;
  private since: number;
  private openUntil = 0;
  /** Why the shared state last changed, as stored in Redis. */
  private reason = '';
  private probeSuccesses = 0;
  private probesInFlight = 0;
  /** Window of the last sync: sums and buckets (index, calls, failures, slow calls, repeated). */
  private windowCalls = 0;
  private windowFailures = 0;
  private windowSlowCalls = 0;
  private windowBuckets: number[] = [];
  /** The state last announced by `stateChange`. */
  private reported: CircuitState = 'closed';

  /** Outcomes not yet sent, and those of the sync in flight. */
  private pending: SharedBreakerCounts;
  private sending: SharedBreakerCounts;
  private flushTail: Promise<void> = Promise.resolve();
  private flushQueued = false;
  /** Scripts sent and not yet settled (a hung server keeps them). */
  private outstanding = 0;
  private timer: TimerHandle | undefined;
  private started = false;
  private disposed = false;
  private firstSync: Promise<void> = Promise.resolve();
  private lastSyncAt: number | undefined;
  private unavailableSince = 0;
  private restoringLocal = false;
  /** Probes this instance is running or asking a permit for. */
  private localProbes = 0;
  /** Until when a refused permit request is not repeated (the fleet's probes are taken); reset by any news. */
  private probeDeniedUntil = -Infinity;
  private permitSequence = 0;
  private readonly unsubscribes: Unsubscribe[] = [];
  private readonly totals: CircuitBreakerTotals = {
    calls: 0,
    successes: 0,
    failures: 0,
    ignored: 0,
    rejections: 0,
    slowCalls: 0,
  };
  /** Outcome handlers of untimed closed calls, bound to the current generation (made on first use). */
  private fastSuccess: ((value: unknown) => unknown) | undefined;
  private fastFailure: ((error: unknown) => never) | undefined;
  private readonly onTick = (): void => this.tick();

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: SharedCircuitBreakerOptions) {
    validate(options);
    this.name = options.name;
    this.client = options.client;
    this.clock = options.clock ?? systemClock;
    this.coarseNow = coarseNowOf(this.clock);
    const base = `${options.prefix ?? 'antifragile:breaker:'}{${options.name}}`;
    this.keys = [`${base}:state`, `${base}:window`, `${base}:probes`];
    this.channel = `circuit-breaker:${base}`;
    this.bus = options.bus;
    this.events = new EventEmitter('shared-circuit-breaker', this.name);
    const window = options.window ?? { type: 'time', ms: 10_000, buckets: 10 };
    this.buckets = window.buckets ?? 10;
    this.bucketMs = window.ms / this.buckets;
    this.failureRateThreshold = options.failureRateThreshold ?? 0.5;
    this.failureThreshold = options.failureThreshold ?? Infinity;
    this.minimumCalls = options.minimumCalls ?? 20;
    this.slowCallMs = options.slowCallMs ?? Infinity;
    this.slowCallRateThreshold = options.slowCallRateThreshold ?? 1;
    this.openMs = Math.ceil(options.openMs ?? 30_000);
    this.halfOpenMaxCalls = options.halfOpen?.maxCalls ?? 1;
    this.halfOpenSuccesses = options.halfOpen?.successes ?? 1;
    this.halfOpenMaxWaitMs = Math.ceil(options.halfOpen?.maxWaitMs ?? 60_000);
    this.permitTtlMs = Math.ceil(options.halfOpen?.permitTtlMs ?? Math.min(10_000, this.halfOpenMaxWaitMs));
    this.isFailure = options.isFailure ?? countEveryError;
    this.rejectionStackTraces = options.rejectionStackTraces ?? false;
    this.syncIntervalMs = options.syncIntervalMs ?? 250;
    this.redisTimeoutMs = options.redisTimeoutMs ?? 250;
    // Key lifetimes only collect garbage (judgements use the callers' clock): generous on purpose.
    this.windowTtlMs = Math.ceil(2 * window.ms + 60_000);
    this.stateTtlMs = Math.ceil(2 * Math.max(window.ms, this.openMs + this.halfOpenMaxWaitMs) + 60_000);
    this.permitsTtlMs = Math.ceil(Math.max(this.permitTtlMs, this.halfOpenMaxWaitMs) + 60_000);
    this.pending = new SharedBreakerCounts(this.buckets);
    this.sending = new SharedBreakerCounts(this.buckets);
    this.since = this.clock.now();

    const localOptions: CircuitBreakerOptions = {
      name: this.name,
      clock: this.clock,
      window: { type: 'time', ms: window.ms, buckets: this.buckets },
      failureRateThreshold: this.failureRateThreshold,
      minimumCalls: this.minimumCalls,
      slowCallRateThreshold: this.slowCallRateThreshold,
      openMs: this.openMs,
      halfOpen: { maxCalls: this.halfOpenMaxCalls, successes: this.halfOpenSuccesses, maxWaitMs: this.halfOpenMaxWaitMs },
      isFailure: this.isFailure,
      rejectionStackTraces: this.rejectionStackTraces,
    };
    if (options.failureThreshold !== undefined) localOptions.failureThreshold = options.failureThreshold;
    if (options.slowCallMs !== undefined) localOptions.slowCallMs = options.slowCallMs;
    this.local = new CircuitBreaker(localOptions);
    // The local breaker runs calls only in local mode; what it sees is counted for the fleet too.
    this.local.on('success', ({ slow }) => this.onLocalOutcome(false, slow, false));
    this.local.on('failure', ({ slow }) => this.onLocalOutcome(true, slow, false));
    this.local.on('ignored', () => this.onLocalOutcome(false, false, true));
    this.local.on('rejected', ({ state, retryAfterMs }) => {
      this.totals.rejections++;
      if (this.events.wants('rejected')) this.events.emit('rejected', { name: this.name, state, retryAfterMs, mode: 'local' });
    });
    this.local.on('stateChange', ({ to, reason, at }) => {
      if (this.modeCode === LOCAL && !this.restoringLocal) this.announce(to, reason, at);
    });
  }

  /**
   * The state this instance acts on. In shared mode an open circuit whose `openUntil` has passed reads as
   * `half-open` (its next call asks for a probe permit); in local mode it is the local breaker's state.
   */
  get state(): CircuitState {
    if (this.modeCode === LOCAL) return this.local.state;
    if (this.st === OPEN && this.clock.now() >= this.openUntil) return 'half-open';
    return SHARED_NAMES[this.st] as CircuitState;
  }

  /** `'shared'` while Redis answers, `'local'` while the local breaker decides. */
  get mode(): SharedBreakerMode {
    return this.modeCode === SHARED ? 'shared' : 'local';
  }

  /**
   * Starts syncing (the first call does it too) and resolves once the first sync has answered or failed;
   * never rejects. A no-op after {@link dispose}.
   */
  start(): Promise<void> {
    if (this.started || this.disposed) return this.firstSync;
    this.started = true;
    if (this.bus !== undefined) {
      this.unsubscribes.push(
        this.bus.subscribe(this.channel, (message) => this.onBusMessage(message)),
        this.bus.onStatusChange((status) => {
          // Messages may have been missed while the bus was down.
          if (status === 'connected') this.requestFlush();
        }),
      );
    }
    this.timer = this.clock.schedule(this.onTick, this.syncIntervalMs, { keepAlive: false });
    this.firstSync = this.sync();
    return this.firstSync;
  }

  /**
   * Writes this instance's counts and reads the shared state now (queued behind a sync in flight).
   * Resolves when done; never rejects: a failure switches to the local breaker. In local mode it does
   * nothing while an earlier script is still unanswered (a hung server).
   */
  sync(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    const run = this.flushTail.then(() => this.flushOnce());
    this.flushTail = run;
    return run;
  }

  /** Stops syncing, leaves the bus and removes every event listener. Calls are still decided, from the last state read. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.timer?.cancel();
    this.timer = undefined;
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.events.removeAllListeners();
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof SharedCircuitBreakerEvents>(event: K, listener: Listener<SharedCircuitBreakerEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Runs `fn` if the circuit lets it through; otherwise rejects with {@link BrokenCircuitError} (with
   * `retryAfterMs` when open). A call aborted by the caller's own signal is neither a success nor a
   * failure. Closed-circuit calls never wait for Redis; a half-open probe waits at most `redisTimeoutMs`
   * for its permit and as much for its report (a caller's abort during the permit wait is honoured when
   * the wait ends).
   */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    if (!this.started) void this.start();
    if (this.modeCode === LOCAL) return this.local.execute(fn, options);
    if (this.st === CLOSED) {
      if (this.slowCallMs === Infinity) {
        const signal = options === undefined ? undefined : peekSignal(contextOf(options));
        if (signal === undefined || signal === neverAbortedSignal) {
          if (this.fastFailure === undefined) this.makeFastHandlers();
          // Both taken before `fn` runs: `fn` may change the state (and so the handlers) synchronously.
          const onSuccess = this.fastSuccess as (value: T) => T;
          const onFailure = this.fastFailure as (error: unknown) => never;
          return callWithHandlers(fn, options === undefined ? defaultContext : contextOf(options), onSuccess, onFailure);
        }
      }
      return this.executeClosed(fn, contextOf(options));
    }
    const now = this.clock.now();
    if (this.st === OPEN && now < this.openUntil) return Promise.reject(this.rejection(now));
    return this.executeProbe(fn, contextOf(options));
  }

  /** A snapshot of state, window counts and this instance's totals. */
  metrics(): SharedCircuitBreakerMetrics {
    const now = this.clock.now();
    const state = this.state;
    const unsyncedCalls = this.pending.calls + this.sending.calls;
    if (this.modeCode === LOCAL) {
      const m = this.local.metrics();
      return {
        name: this.name,
        state,
        mode: 'local',
        generation: Math.max(0, this.generation),
        timeInStateMs: m.timeInStateMs,
        retryAfterMs: m.retryAfterMs,
        calls: m.calls,
        failures: m.failures,
        slowCalls: m.slowCalls,
        failureRate: m.failureRate,
        slowCallRate: m.slowCallRate,
        unsyncedCalls,
        halfOpen: { ...m.halfOpen },
        totals: { ...this.totals },
        lastSyncAt: this.lastSyncAt,
      };
    }
    let calls = 0;
    let failures = 0;
    let slowCalls = 0;
    if (this.st === CLOSED) {
      const oldest = Math.floor(now / this.bucketMs) - this.buckets;
      const b = this.windowBuckets;
      for (let i = 0; i + 3 < b.length; i += 4) {
        if ((b[i] as number) <= oldest) continue;
        calls += b[i + 1] as number;
        failures += b[i + 2] as number;
        slowCalls += b[i + 3] as number;
      }
      const add = (index: number, c: number, f: number, s: number): void => {
        if (index <= oldest) return;
        calls += c;
        failures += f;
        slowCalls += s;
      };
      this.pending.forEach(add);
      this.sending.forEach(add);
    }
    return {
      name: this.name,
      state,
      mode: 'shared',
      generation: Math.max(0, this.generation),
      timeInStateMs: Math.max(0, now - this.since),
      retryAfterMs: this.st === OPEN ? Math.max(0, this.openUntil - now) : 0,
      calls,
      failures,
      slowCalls,
      failureRate: calls === 0 ? 0 : failures / calls,
      slowCallRate: calls === 0 ? 0 : slowCalls / calls,
      unsyncedCalls,
      halfOpen: { inFlight: this.probesInFlight, successes: this.probeSuccesses },
      totals: { ...this.totals },
      lastSyncAt: this.lastSyncAt,
    };
  }

  /** The state this instance acts on, for logs and admin pages. */
  toJSON(): SharedCircuitBreakerSnapshot {
    return {
      version: 1,
      name: this.name,
      mode: this.modeCode === SHARED ? 'shared' : 'local',
      state: this.state,
      since: this.since,
      openUntil: this.openUntil,
      epoch: this.epoch,
      generation: Math.max(0, this.generation),
      totals: { ...this.totals },
    };
  }

  // ---------------------------------------------------------------------------------------------------
  // Calls

  /** Outcome handlers for untimed closed calls, bound to the current generation. */
  private makeFastHandlers(): void {
    const generation = this.generation;
    this.fastSuccess = (value) => {
      this.totals.calls++;
      this.totals.successes++;
      if (generation === this.generation) this.count(false, false);
      return value;
    };
    this.fastFailure = (error) => {
      const totals = this.totals;
      totals.calls++;
      const failed = this.judgeFailure(error);
      if (failed) totals.failures++;
      else totals.ignored++;
      if (generation === this.generation) this.count(failed, false);
      throw error;
    };
  }

  /** The general closed path: abortable signals, exact timing for slow calls. */
  private async executeClosed<T>(fn: PolicyFunction<T>, context: PolicyContext): Promise<T> {
    if (isContextAborted(context)) throw context.signal.reason;
    const generation = this.generation;
    const start = this.clock.now();
    let result: T;
    try {
      result = await fn(context);
    } catch (error) {
      const verdict = this.classify(error, context, start);
      if (verdict !== undefined && generation === this.generation) this.count(verdict.failed, verdict.slow);
      throw error;
    }
    const slow = this.clock.now() - start >= this.slowCallMs;
    this.countSuccess(slow);
    if (generation === this.generation) this.count(false, slow);
    return result;
  }

  /** A call while open past `openUntil` or half-open: runs only with a fleet-wide probe permit. */
  private async executeProbe<T>(fn: PolicyFunction<T>, context: PolicyContext): Promise<T> {
    if (isContextAborted(context)) throw context.signal.reason;
    const asked = this.clock.now();
    if (this.localProbes >= this.halfOpenMaxCalls || asked < this.probeDeniedUntil) throw this.rejection(asked);
    this.localProbes++;
    const permit = `${this.instanceId}:${++this.permitSequence}`;
    let reply: SharedBreakerReply;
    try {
      reply = await this.runScript(sharedBreakerScripts.acquire, this.acquireArgs(asked, permit), true);
    } catch (error) {
      this.localProbes--;
      this.enterLocal(error, undefined);
      return this.local.execute(fn, context);
    }
    this.adopt(reply, undefined);
    if (!reply.granted) {
      this.localProbes--;
      if (this.modeCode === LOCAL) return this.local.execute(fn, context);
      if (this.st === CLOSED) return this.executeClosed(fn, context);
      const now = this.clock.now();
      if (this.st === HALF_OPEN) this.probeDeniedUntil = now + this.syncIntervalMs;
      throw this.rejection(now);
    }
    const epoch = reply.epoch;
    const generation = reply.generation;
    if (isContextAborted(context)) {
      this.localProbes--;
      void this.reportProbe(permit, epoch, generation, 'r');
      throw context.signal.reason;
    }
    const start = this.clock.now();
    let result: T;
    try {
      result = await fn(context);
    } catch (error) {
      const verdict = this.classify(error, context, start);
      this.localProbes--;
      await this.reportProbe(permit, epoch, generation, verdict === undefined ? 'r' : verdict.failed || verdict.slow ? 'f' : 's');
      throw error;
    }
    const slow = this.clock.now() - start >= this.slowCallMs;
    this.countSuccess(slow);
    this.localProbes--;
    // A slow probe is a failed probe, as for a local breaker.
    await this.reportProbe(permit, epoch, generation, slow ? 'f' : 's');
    return result;
  }

  /** Counts a success in the totals. */
  private countSuccess(slow: boolean): void {
    this.totals.calls++;
    this.totals.successes++;
    if (slow) this.totals.slowCalls++;
  }

  /**
   * Counts an error in the totals and judges it: `undefined` when the caller aborted (the outcome says
   * nothing about the dependency), else whether it failed (`isFailure`) and was slow.
   */
  private classify(error: unknown, context: PolicyContext, start: number): { failed: boolean; slow: boolean } | undefined {
    const totals = this.totals;
    totals.calls++;
    if (isContextAborted(context) && !isTimeoutError(context.signal.reason)) {
      totals.ignored++;
      return undefined;
    }
    if (!this.judgeFailure(error)) {
      totals.ignored++;
      return { failed: false, slow: false };
    }
    const slow = this.clock.now() - start >= this.slowCallMs;
    totals.failures++;
    if (slow) totals.slowCalls++;
    return { failed: true, slow };
  }

  /** `isFailure`, guarded: a predicate that throws is reported and its call counted as a failure. */
  private judgeFailure(error: unknown): boolean {
    try {
      return this.isFailure(error);
    } catch (predicateError) {
      reportCallbackError(predicateError, `SharedCircuitBreaker "${this.name}" option isFailure`);
      return true;
    }
  }

  /** Counts a closed-circuit outcome for the next sync; syncs at once when it may cross a threshold. */
  private count(failed: boolean, slow: boolean): void {
    const pending = this.pending;
    pending.record(Math.floor(this.coarseNow() / this.bucketMs), failed, slow);
    if ((failed || slow) && this.modeCode === SHARED && this.st === CLOSED && this.mayOpen()) this.requestFlush();
  }

  /** Whether the last shared window plus unsent counts reach a threshold (a hint: Redis judges). */
  private mayOpen(): boolean {
    const calls = this.windowCalls + this.pending.calls + this.sending.calls;
    if (calls < this.minimumCalls || calls === 0) return false;
    const failures = this.windowFailures + this.pending.failures + this.sending.failures;
    if (failures >= this.failureThreshold || failures / calls >= this.failureRateThreshold) return true;
    if (this.slowCallMs === Infinity) return false;
    return (this.windowSlowCalls + this.pending.slowCalls + this.sending.slowCalls) / calls >= this.slowCallRateThreshold;
  }

  /** An outcome of a call the local breaker ran (local mode): counted for the fleet and in the totals. */
  private onLocalOutcome(failed: boolean, slow: boolean, ignored: boolean): void {
    const totals = this.totals;
    totals.calls++;
    if (ignored) totals.ignored++;
    else if (failed) totals.failures++;
    else totals.successes++;
    if (slow) totals.slowCalls++;
    this.pending.record(Math.floor(this.coarseNow() / this.bucketMs), failed, slow);
  }

  /** Counts and reports a refused call and builds its error. */
  private rejection(now: number): BrokenCircuitError {
    this.totals.rejections++;
    const open = this.st === OPEN && now < this.openUntil;
    const retryAfterMs = open ? this.openUntil - now : undefined;
    const state: CircuitState = open ? 'open' : 'half-open';
    if (this.events.wants('rejected')) this.events.emit('rejected', { name: this.name, state, retryAfterMs, mode: 'shared' });
    const message = open ? `Circuit "${this.name}" is open` : `Circuit "${this.name}" is half-open and its probes are taken`;
    const options = retryAfterMs === undefined ? { isolated: false } : { retryAfterMs, isolated: false };
    if (this.rejectionStackTraces) return new BrokenCircuitError(message, options);
    // Capturing a stack costs ten times the rest of a refusal and would only point into the breaker.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new BrokenCircuitError(message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Redis

  private tick(): void {
    this.timer = undefined;
    if (this.disposed) return;
    this.requestFlush();
    this.timer = this.clock.schedule(this.onTick, this.syncIntervalMs, { keepAlive: false });
  }

  /** Queues one sync unless one is already queued. */
  private requestFlush(): void {
    if (this.flushQueued || this.disposed) return;
    this.flushQueued = true;
    void this.sync();
  }

  /** One sync; never rejects. */
  private async flushOnce(): Promise<void> {
    this.flushQueued = false;
    // A hung server still holds an earlier script: another would only queue behind it.
    if (this.modeCode === LOCAL && this.outstanding > 0) return;
    const now = Math.floor(this.clock.now());
    const sending = this.pending;
    this.pending = this.sending;
    this.sending = sending;
    const wasLocal = this.modeCode === LOCAL;
    let reply: SharedBreakerReply;
    try {
      reply = await this.runScript(sharedBreakerScripts.sync, this.syncArgs(now, sending, wasLocal), false);
    } catch (error) {
      if (error instanceof RedisNotReadyError) {
        // Nothing was sent: the counts wait for the next sync.
        this.pending.addAll(sending);
        this.enterLocal(error, undefined);
      } else {
        // Sent, fate unknown (a late reply may still apply them): never sent twice.
        this.enterLocal(error, sending);
      }
      sending.clear();
      return;
    }
    sending.clear();
    this.lastSyncAt = now;
    this.adopt(reply, undefined);
  }

  private syncArgs(now: number, counts: SharedBreakerCounts, local: boolean): (string | number)[] {
    const nowIndex = Math.floor(now / this.bucketMs);
    const args: (string | number)[] = [
      now,
      this.instanceId,
      this.stateTtlMs,
      this.openMs,
      this.halfOpenMaxWaitMs,
      local ? '' : this.epoch,
      local ? -1 : this.generation,
      nowIndex,
      this.buckets,
      this.minimumCalls,
      this.failureRateThreshold,
      this.failureThreshold === Infinity ? 0 : this.failureThreshold,
      this.slowCallMs === Infinity ? -1 : this.slowCallRateThreshold,
      counts.failures + counts.slowCalls > 0 ? 1 : 0,
      this.windowTtlMs,
    ];
    counts.appendTo(args, nowIndex - this.buckets);
    return args;
  }

  private acquireArgs(now: number, permit: string): (string | number)[] {
    return [
      Math.floor(now),
      this.instanceId,
      this.stateTtlMs,
      this.openMs,
      this.halfOpenMaxWaitMs,
      permit,
      this.permitTtlMs,
      this.halfOpenMaxCalls,
      this.permitsTtlMs,
    ];
  }

  /** Reports a probe's outcome (`s`, `f`, or `r` to only return the permit); never rejects. */
  private async reportProbe(permit: string, epoch: string, generation: number, outcome: 's' | 'f' | 'r'): Promise<void> {
    const args = [
      Math.floor(this.clock.now()),
      this.instanceId,
      this.stateTtlMs,
      this.openMs,
      this.halfOpenMaxWaitMs,
      permit,
      epoch,
      generation,
      outcome,
      this.halfOpenSuccesses,
    ];
    let reply: SharedBreakerReply;
    try {
      reply = await this.runScript(sharedBreakerScripts.report, args, true);
    } catch (error) {
      this.enterLocal(error, undefined);
      return;
    }
    this.adopt(reply, undefined);
  }

  /**
   * Runs a script, failing fast when the connection is down and after `redisTimeoutMs` when the server
   * does not answer. The script's own promise is always handled, however late it settles. A connection
   * still (re)connecting is given the script (ioredis queues it) unless Redis is already known to be
   * unavailable: then only a ready connection is, so counts never wait in a queue that may drop them.
   */
  private runScript(script: RedisScript, args: (string | number)[], keepAlive: boolean): Promise<SharedBreakerReply> {
    const status = this.client.status;
    if (
      status === 'reconnecting' ||
      status === 'close' ||
      status === 'end' ||
      (this.modeCode === LOCAL && (status === 'connecting' || status === 'connect'))
    ) {
      return Promise.reject(new RedisNotReadyError(status));
    }
    this.outstanding++;
    const sent = script.run(this.client, this.keys, args);
    return new Promise<SharedBreakerReply>((resolve, reject) => {
      const timer = this.clock.schedule(() => reject(new TimeoutError(this.redisTimeoutMs)), this.redisTimeoutMs, { keepAlive });
      sent.then(
        (raw) => {
          this.outstanding--;
          timer.cancel();
          try {
            resolve(parseSharedBreakerReply(raw));
          } catch (error) {
            reject(error);
          }
        },
        (error: unknown) => {
          this.outstanding--;
          timer.cancel();
          reject(error);
        },
      );
    });
  }

  /**
   * Takes over a shared state from a script reply (with its window) or a bus message (`fromBus`). An older
   * period of the same epoch is ignored; a new epoch (Redis lost the state) is always taken. A reply while
   * in local mode means Redis answers again: back to shared mode.
   */
  private adopt(state: SharedBreakerReply, fromBus: BusState | undefined): void {
    const wasLocal = this.modeCode === LOCAL;
    if (wasLocal && fromBus !== undefined) return;
    if (!wasLocal && state.epoch === this.epoch && state.generation < this.generation) return;
    const newPeriod = state.epoch !== this.epoch || state.generation !== this.generation;
    if (newPeriod) {
      // Outcomes of calls admitted in an earlier period do not count in this one.
      if (!wasLocal && this.generation !== -1) this.pending.clear();
      this.fastSuccess = this.fastFailure = undefined;
    }
    // Fresh news of the permits: a refused probe may ask again.
    this.probeDeniedUntil = -Infinity;
    this.epoch = state.epoch;
    this.generation = state.generation;
    this.st = CODE_OF[state.state];
    this.since = state.since;
    this.openUntil = state.openUntil;
    this.reason = state.reason;
    this.probeSuccesses = state.probeSuccesses;
    this.probesInFlight = state.probesInFlight;
    if (fromBus === undefined) {
      this.windowCalls = state.calls;
      this.windowFailures = state.failures;
      this.windowSlowCalls = state.slowCalls;
      this.windowBuckets = state.buckets;
    } else if (newPeriod) {
      // Every transition empties the window.
      this.windowCalls = this.windowFailures = this.windowSlowCalls = 0;
      this.windowBuckets = [];
    }
    if (wasLocal) {
      this.modeCode = SHARED;
      const at = this.clock.now();
      if (this.events.wants('sharedStateRestored')) {
        this.events.emit('sharedStateRestored', { name: this.name, at, unavailableMs: Math.max(0, at - this.unavailableSince) });
      }
      this.announce(SHARED_NAMES[this.st] as CircuitState, 'restored', at);
    } else {
      const reason = REASONS.has(state.reason) ? (state.reason as TransitionReason) : 'restored';
      this.announce(SHARED_NAMES[this.st] as CircuitState, reason, state.since);
    }
    if (state.changed && fromBus === undefined) this.broadcast();
  }

  /** Switches to the local breaker, started from the last shared state (a no-op when already local). */
  private enterLocal(error: unknown, sent: SharedBreakerCounts | undefined): void {
    if (this.modeCode === LOCAL || this.disposed) return;
    this.modeCode = LOCAL;
    const now = this.clock.now();
    this.unavailableSince = now;
    this.probeDeniedUntil = -Infinity;
    const buckets = this.buckets;
    const data = new Array<number>(buckets * 3).fill(0);
    const nowIndex = Math.floor(this.coarseNow() / this.bucketMs);
    if (this.st === CLOSED) {
      const add = (index: number, calls: number, failures: number, slowCalls: number): void => {
        if (index <= nowIndex - buckets || index > nowIndex) return;
        const base = (((index % buckets) + buckets) % buckets) * 3;
        data[base] = (data[base] as number) + calls;
        data[base + 1] = (data[base + 1] as number) + failures;
        data[base + 2] = (data[base + 2] as number) + slowCalls;
      };
      const b = this.windowBuckets;
      for (let i = 0; i + 3 < b.length; i += 4) add(b[i] as number, b[i + 1] as number, b[i + 2] as number, b[i + 3] as number);
      this.pending.forEach(add);
      sent?.forEach(add);
    }
    this.restoringLocal = true;
    try {
      this.local.restoreState({
        version: 1,
        name: this.name,
        state: SHARED_NAMES[this.st] as CircuitState,
        since: this.since,
        openUntil: this.openUntil,
        window: { kind: 'time', data, mark: nowIndex * buckets + (((nowIndex % buckets) + buckets) % buckets) },
        totals: { calls: 0, successes: 0, failures: 0, ignored: 0, rejections: 0, slowCalls: 0 },
      });
    } finally {
      this.restoringLocal = false;
    }
    if (this.events.wants('sharedStateUnavailable')) {
      this.events.emit('sharedStateUnavailable', { name: this.name, error, at: now });
    }
    // Reading the state applies a due open -> half-open, announced through the local breaker's event.
    this.announce(this.local.state, 'restored', now);
  }

  /** Emits `stateChange` when the state this instance acts on differs from the last one announced. */
  private announce(to: CircuitState, reason: TransitionReason, at: number): void {
    const from = this.reported;
    if (to === from) return;
    this.reported = to;
    if (this.events.wants('stateChange')) {
      this.events.emit('stateChange', { name: this.name, from, to, reason, at, mode: this.modeCode === SHARED ? 'shared' : 'local' });
    }
  }

  private broadcast(): void {
    const bus = this.bus;
    if (bus === undefined || this.disposed) return;
    const message: BusState = {
      e: this.epoch,
      g: this.generation,
      s: SHARED_NAMES[this.st] as BusState['s'],
      u: this.openUntil,
      t: this.since,
      r: this.reason,
      n: this.probeSuccesses,
    };
    try {
      bus.publish(this.channel, message).catch(ignore);
    } catch {
      // A bus that throws instead of rejecting: the next sync spreads the state anyway.
    }
  }

  private onBusMessage(message: unknown): void {
    if (this.disposed || this.modeCode === LOCAL) return;
    const m = message as Partial<BusState> | null;
    if (
      typeof m !== 'object' ||
      m === null ||
      typeof m.e !== 'string' ||
      typeof m.g !== 'number' ||
      typeof m.u !== 'number' ||
      typeof m.t !== 'number' ||
      typeof m.s !== 'string' ||
      !(m.s in CODE_OF)
    ) {
      return;
    }
    if (m.e !== this.epoch) {
      // Another epoch (Redis lost the state, or this instance is behind): let Redis say which is current.
      this.requestFlush();
      return;
    }
    if (m.g <= this.generation) return;
    const state: SharedBreakerReply = {
      state: m.s,
      epoch: m.e,
      generation: m.g,
      openUntil: m.u,
      since: m.t,
      reason: typeof m.r === 'string' ? m.r : '',
      probeSuccesses: typeof m.n === 'number' ? m.n : 0,
      probesInFlight: 0,
      changed: false,
      granted: false,
      calls: 0,
      failures: 0,
      slowCalls: 0,
      buckets: [],
    };
    this.adopt(state, m as BusState);
  }
}

function validate(options: SharedCircuitBreakerOptions): void {
  const v = new OptionsValidator('SharedCircuitBreaker');
  if (typeof options !== 'object' || options === null) {
    v.fail('options', 'an object', options);
    v.throwIfInvalid();
  }
  if (v.required('client', options.client, 'an ioredis client')) {
    const client = options.client as { evalsha?: unknown } | null;
    if (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function') {
      v.fail('client', 'an ioredis client', options.client);
    }
  }
  if (v.required('name', options.name, 'a non-empty string')) {
    if (typeof options.name !== 'string' || options.name === '') v.fail('name', 'a non-empty string', options.name);
  }
  v.string('prefix', options.prefix);
  const window = options.window as Partial<Record<string, unknown>> | undefined;
  if (v.object('window', window) && window !== undefined) {
    if (window.type !== 'time') v.fail('window.type', '"time" (only time windows can be shared)', window.type);
    v.required('window.ms', window.ms, 'a number > 0');
    v.duration('window.ms', window.ms, true);
    v.number('window.buckets', window.buckets, { integer: true, min: 1, max: 1000 });
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
    v.duration('halfOpen.permitTtlMs', options.halfOpen.permitTtlMs, true);
  }
  v.func('isFailure', options.isFailure);
  v.boolean('rejectionStackTraces', options.rejectionStackTraces);
  v.duration('syncIntervalMs', options.syncIntervalMs, true);
  v.duration('redisTimeoutMs', options.redisTimeoutMs, true);
  if (options.bus !== undefined) {
    const bus = options.bus as { publish?: unknown; subscribe?: unknown; onStatusChange?: unknown } | null;
    if (
      typeof bus !== 'object' ||
      bus === null ||
      typeof bus.publish !== 'function' ||
      typeof bus.subscribe !== 'function' ||
      typeof bus.onStatusChange !== 'function'
    ) {
      v.fail('bus', 'a Bus (publish, subscribe, onStatusChange)', options.bus);
    }
  }
  v.clock('clock', options.clock);
  v.throwIfInvalid();
}
