import { LinkedAbortController, sleep } from '../core/abort.js';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { isTimeoutError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import type { PolicyContext } from '../policies/policy.js';
import { Timeout } from '../policies/timeout.js';
import { messageOf, RecoveryFailedError, RecoveryRefusedError } from './errors.js';
import {
  createHealingContext,
  describeRun,
  runHealingStrategy,
  type HealingContext,
  type HealingStepRecord,
  type HealingStrategy,
} from './healing-strategy.js';
import type {
  BreakerRegistry,
  ClearableCache,
  HealthSource,
  HealthSourceComponentStatusChange,
  HealthSourceStatusChange,
  RestartRequester,
} from './health-source.js';
import { RetryRecovery } from './retry-recovery.js';
import {
  type FailureSeverity,
  type RecoveryContext,
  type RecoveryStrategy,
  type RecoveryStrategyType,
} from './recovery-strategy.js';

/** A recovery strategy (`RecoveryStrategyFactory`) or a healing strategy (ordered steps with verification). */
export type RecoverySpec = RecoveryStrategy | HealingStrategy;

/**
 * Who escalates once `escalationThreshold` recoveries of a component failed (an `EscalationRecovery` fits).
 * `options.signal` aborts when the healer stops: the escalation should then stop delivering.
 */
export interface Escalator {
  execute(error: unknown, context: RecoveryContext, options?: { signal?: AbortSignal }): Promise<unknown>;
}

/** What the healer needs from a breaker manager: `CircuitBreakerManager` fits it. */
export interface BreakerManagerSource extends BreakerRegistry {
  on(event: 'stateChange', fn: (e: { name: string; from: string; to: string; reason: string }) => void): () => void;
}

/** Options of {@link SelfHealer}: the seed's `selfHealer` config plus a few of ours. */
export interface SelfHealerConfig {
  /** When false, nothing is healed: `executeWithHealing` only runs `fn`. @default true */
  enabled?: boolean;
  /**
   * Whether detected failures (by `detectFailure`, an opened breaker, an unhealthy check, the periodic
   * sweep) start a recovery. When false they are only recorded; `executeWithHealing` still recovers.
   * @default true
   */
  autoRecover?: boolean;
  /**
   * Most recoveries running at once. One more is refused, not queued: `executeWithHealing` rejects with a
   * `RecoveryRefusedError`, `detectFailure` resolves with status `'refused'` and the failure stays open for
   * the periodic sweep to retry. (Queuing recoveries during an incident only delays them past usefulness.)
   * @default 10
   */
  maxConcurrentRecoveries?: number;
  /** Time each recovery (strategy and verification) has, in milliseconds, > 0. @default 30_000 */
  recoveryTimeout?: number;
  /**
   * Strategy for categories not in `strategyMap`.
   * @default a retry of 3 attempts, exponential from 1 s (the operation, or else the health check)
   */
  defaultStrategy?: RecoverySpec;
  /** Strategy by failure category. @default {} */
  strategyMap?: Readonly<Record<string, RecoverySpec>>;
  /** Failed recoveries in a row of one component that trigger an escalation, >= 1. @default 3 */
  escalationThreshold?: number;
  /**
   * Period of the sweep that re-checks open failures while started, in milliseconds, > 0: resolved ones are
   * closed, others get another recovery (unless escalated).
   * @default 5_000
   */
  healthCheckInterval?: number;
  /** Who is told at the escalation threshold. @default none: only the `'escalated'` event */
  escalation?: Escalator;
  /** Reset a healed component's breaker (same name) if it is open or half-open. @default true */
  resetBreakerOnRecovery?: boolean;
  /** Health check runs when verifying a recovery, >= 1. @default 1 */
  verifyAttempts?: number;
  /** Wait between verification runs, in milliseconds. @default 1_000 */
  verifyIntervalMs?: number;
  /** Category of failures from an opened breaker. @default 'circuit-breaker' */
  breakerCategory?: string;
  /** Category of failures from an unhealthy health check. @default 'health' */
  healthCategory?: string;
  /** Minimum time between two runs of one preventive action for one component, in milliseconds. @default 60_000 */
  preventiveCooldownMs?: number;
  /** Recovery records kept. @default 1_000 */
  maxHistory?: number;
  /** Components (and categories, caches, preventive actions) tracked at most; the oldest is dropped. @default 1_000 */
  maxComponents?: number;
  /** Who carries out rolling restarts (the `Supervisor`). */
  restarter?: RestartRequester;
  /** @default systemClock */
  clock?: Clock;
  /** Instance name for diagnostics. @default 'self-healer' */
  name?: string;
}

/** What started a recovery. */
export type RecoveryTrigger = 'manual' | 'execute' | 'health' | 'circuit-breaker' | 'periodic' | 'preventive';

/** How a recovery ended. */
export type RecoveryStatus = 'succeeded' | 'failed' | 'refused' | 'escalated' | 'skipped';

/** One recovery in the healer's history. */
export interface RecoveryRecord {
  id: number;
  component: string;
  category: string;
  severity: FailureSeverity;
  trigger: RecoveryTrigger;
  /** Name of the strategy (or preventive action) run. */
  strategy: string;
  strategyType: RecoveryStrategyType | 'healing' | 'preventive' | 'none';
  status: RecoveryStatus;
  /** Whether a health check passing again confirmed the recovery. */
  verified: boolean;
  /** Why it failed. */
  error?: unknown;
  /** Whether it failed by running out of `recoveryTimeout`. */
  timedOut: boolean;
  /** Steps of a healing strategy. */
  steps?: HealingStepRecord[];
  startedAt: Date;
  endedAt: Date;
  durationMs: number;
  /** For a success: time from the failure's detection to the recovery, in milliseconds. */
  timeToRecoveryMs?: number;
}

/** Event types of the healer, the seed's names and ours. */
export type HealerEventType =
  | 'failure-detected'
  | 'failure-resolved'
  | 'recovery-started'
  | 'recovery-succeeded'
  | 'recovery-failed'
  | 'recovery-refused'
  | 'verification-failed'
  | 'healing-step'
  | 'escalated'
  | 'circuit-opened'
  | 'circuit-closed'
  | 'breaker-reset'
  | 'preventive-action-started'
  | 'preventive-action-succeeded'
  | 'preventive-action-failed';

const EVENT_TYPES: readonly HealerEventType[] = [
  'failure-detected',
  'failure-resolved',
  'recovery-started',
  'recovery-succeeded',
  'recovery-failed',
  'recovery-refused',
  'verification-failed',
  'healing-step',
  'escalated',
  'circuit-opened',
  'circuit-closed',
  'breaker-reset',
  'preventive-action-started',
  'preventive-action-succeeded',
  'preventive-action-failed',
];

/** A healer event in the seed's shape. */
export interface HealerEvent {
  type: HealerEventType;
  component: string;
  timestamp: Date;
  category?: string;
  severity?: FailureSeverity;
  strategy?: string;
  trigger?: RecoveryTrigger;
  error?: unknown;
  durationMs?: number;
  /** For `recovery-succeeded`: whether a health check confirmed it. */
  verified?: boolean;
  /** For `escalated`: failed recoveries in a row, and what the escalation reported. */
  failedRecoveries?: number;
  escalation?: unknown;
  /** For `healing-step`. */
  step?: HealingStepRecord;
  /** For preventive actions. */
  action?: string;
  reason?: string;
  /** For `failure-resolved`: what showed it resolved. */
  resolvedBy?: string;
}

/** Events of a {@link SelfHealer}, by type. */
export type SelfHealerEvents = { [K in HealerEventType]: HealerEvent & { type: K } };

/** Counters of recoveries. */
export interface RecoveryCounters {
  /** Failures detected (by any trigger). */
  failuresDetected: number;
  /** Recoveries run (refused ones excluded). */
  attempts: number;
  successes: number;
  /** Failed recoveries, escalations by an escalation strategy included. */
  failures: number;
  refused: number;
  escalations: number;
  /** `successes / attempts`, 0 when none. */
  successRate: number;
  /** Mean time from detection to recovery of successful recoveries, in milliseconds; 0 when none. */
  meanTimeToRecoveryMs: number;
}

/** Per-component counters. */
export interface ComponentRecoveryStats extends RecoveryCounters {
  /** Failed recoveries since the last success or escalation. */
  consecutiveFailures: number;
  lastFailureAt: Date | undefined;
  lastRecoveryAt: Date | undefined;
}

/** What {@link SelfHealer.getStatistics} returns. */
export interface HealerStatistics extends RecoveryCounters {
  /** The seed's name for `attempts`. */
  totalRecoveries: number;
  activeRecoveries: number;
  /** Components with a failure not yet resolved. */
  openFailures: number;
  byComponent: Record<string, ComponentRecoveryStats>;
  byCategory: Record<string, RecoveryCounters>;
  preventiveActions: { requested: number; succeeded: number; failed: number; skipped: number };
}

/** A request from a predictor to act before a failure. */
export interface PreventiveActionRequest {
  component: string;
  /** Name of a registered preventive action. */
  action: string;
  reason: string;
  /** The prediction behind it (the `FailurePredictor`'s), passed through. */
  prediction?: unknown;
}

/** A preventive action: receives the request and a healing context (caches, breakers, restarts). */
export type PreventiveAction = (request: PreventiveActionRequest, ctx: HealingContext) => void | PromiseLike<void>;

/** What {@link SelfHealer.requestPreventiveAction} reports. */
export interface PreventiveActionResult {
  status: 'succeeded' | 'failed' | 'refused' | 'unknown-action' | 'cooldown' | 'disabled';
  error?: unknown;
}

interface MutableCounters {
  failuresDetected: number;
  attempts: number;
  successes: number;
  failures: number;
  refused: number;
  escalations: number;
  recoveryMsSum: number;
}
interface MutableComponentStats extends MutableCounters {
  consecutiveFailures: number;
  lastFailureAt: number | undefined;
  lastRecoveryAt: number | undefined;
}
interface OpenFailure {
  category: string;
  severity: FailureSeverity;
  error: unknown;
  since: number;
  /** What detected it (a sweep's retry keeps it: it is not a detection). */
  trigger: RecoveryTrigger;
  escalated: boolean;
}
interface RecoveryJob {
  component: string;
  category: string;
  severity: FailureSeverity;
  error: unknown;
  trigger: RecoveryTrigger;
  /** What detected the failure, when the recovery is a retry by the sweep (`trigger` is then 'periodic'). */
  origin?: RecoveryTrigger;
  since: number;
  operation?: (ctx: PolicyContext) => unknown;
  signal?: AbortSignal | undefined;
}
interface Outcome {
  record: RecoveryRecord;
  value?: unknown;
}

const newCounters = (): MutableCounters => ({ failuresDetected: 0, attempts: 0, successes: 0, failures: 0, refused: 0, escalations: 0, recoveryMsSum: 0 });

function isHealingStrategy(spec: RecoverySpec): spec is HealingStrategy {
  return Array.isArray((spec as Partial<HealingStrategy>).steps);
}

function checkSpec(v: OptionsValidator, path: string, spec: unknown): void {
  if (spec === undefined) return;
  const s = spec as Partial<RecoveryStrategy> & Partial<HealingStrategy>;
  if (typeof s === 'object' && s !== null && typeof s.name === 'string') {
    if (typeof s.recover === 'function' && typeof s.type === 'string') return;
    if (Array.isArray(s.steps) && s.steps.every((st: unknown) => typeof (st as { run?: unknown } | null)?.run === 'function')) return;
  }
  v.fail(path, 'a RecoveryStrategy (RecoveryStrategyFactory) or a HealingStrategy { name, steps }', spec);
}

/**
 * Detects failures and runs recovery strategies for them: the seed's `SelfHealer`. A strategy is chosen by
 * failure category (`strategyMap`, else `defaultStrategy`); at most `maxConcurrentRecoveries` run at once,
 * each within `recoveryTimeout`; after `escalationThreshold` failed recoveries in a row of a component, it
 * escalates. Wired to a breaker manager, an opened breaker becomes a failure to heal and a healed component's
 * breaker is reset; wired to a health monitor, a component turning unhealthy is healed and the recovery
 * counts as verified only once the checks that failed pass again and the component's status is healthy. One recovery per component runs at a
 * time for detected failures (a second detection joins it). Bounded: history, components, categories.
 *
 * @example
 * ```ts
 * const selfHealer = new SelfHealer({ maxConcurrentRecoveries: 10, recoveryTimeout: 30_000,
 *   strategyMap: { network: RecoveryStrategyFactory.createRetry({ name: 'net', maxAttempts: 3 }) } });
 * selfHealer.setCircuitBreakers(circuitBreakers);
 * selfHealer.setHealthMonitor(healthMonitor);
 * selfHealer.start();
 * const result = await selfHealer.executeWithHealing('payment-service', () => processPayment(order), 'network', 'high');
 * ```
 */
export class SelfHealer {
  /** Instance name. */
  readonly name: string;
  private readonly enabled: boolean;
  private readonly autoRecover: boolean;
  private readonly maxConcurrent: number;
  private readonly recoveryTimeoutMs: number;
  private readonly defaultStrategy: RecoverySpec;
  private readonly strategyMap: ReadonlyMap<string, RecoverySpec>;
  private readonly escalationThreshold: number;
  private readonly sweepMs: number;
  private readonly escalator: Escalator | undefined;
  private readonly resetBreakerOnRecovery: boolean;
  private readonly verifyAttempts: number;
  private readonly verifyIntervalMs: number;
  private readonly breakerCategory: string;
  private readonly healthCategory: string;
  private readonly preventiveCooldownMs: number;
  private readonly maxHistory: number;
  private readonly maxComponents: number;
  private readonly clock: Clock;
  private readonly timeout: Timeout;
  private readonly events: EventEmitter<SelfHealerEvents>;

  private restarter: RestartRequester | undefined;
  private health: HealthSource | undefined;
  private offHealth: Unsubscribe | undefined;
  private breakers: BreakerManagerSource | undefined;
  private offBreakers: Unsubscribe | undefined;
  private running = false;
  private sweepTimer: TimerHandle | undefined;
  private master = new AbortController();
  private active = 0;
  private nextId = 1;
  private readonly inflight = new Map<string, Promise<RecoveryRecord>>();
  private readonly openFailures = new Map<string, OpenFailure>();
  private readonly totals = newCounters();
  private readonly byComponent = new Map<string, MutableComponentStats>();
  private readonly byCategory = new Map<string, MutableCounters>();
  private history: RecoveryRecord[] = [];
  private readonly caches = new Map<string, ClearableCache>();
  /** Per component: checks that went unhealthy and are not healthy again (verification runs them). */
  private readonly failingChecks = new Map<string, Set<string>>();
  /** Per component: checks that status changes named. */
  private readonly knownChecks = new Map<string, Set<string>>();
  /** Per component: its last status seen (events of check and component changes are deduplicated by it). */
  private readonly componentStatus = new Map<string, string>();
  private readonly preventiveActions = new Map<string, PreventiveAction>();
  private readonly lastPreventive = new Map<string, number>();
  private readonly preventiveStats = { requested: 0, succeeded: 0, failed: 0, skipped: 0 };

  /** @throws InvalidOptionsError listing every bad option. */
  constructor(config: SelfHealerConfig = {}) {
    const v = new OptionsValidator('SelfHealer');
    if (v.object('config', config)) {
      v.boolean('enabled', config.enabled);
      v.boolean('autoRecover', config.autoRecover);
      v.integer('maxConcurrentRecoveries', config.maxConcurrentRecoveries, 1);
      v.duration('recoveryTimeout', config.recoveryTimeout, true);
      checkSpec(v, 'defaultStrategy', config.defaultStrategy);
      if (v.object('strategyMap', config.strategyMap)) {
        for (const [category, spec] of Object.entries(config.strategyMap as object)) checkSpec(v, `strategyMap.${category}`, spec);
      }
      v.integer('escalationThreshold', config.escalationThreshold, 1);
      v.duration('healthCheckInterval', config.healthCheckInterval, true);
      if (config.escalation !== undefined && typeof (config.escalation as Partial<Escalator> | null)?.execute !== 'function') {
        v.fail('escalation', 'an object with execute(error, context) (an EscalationRecovery)', config.escalation);
      }
      v.boolean('resetBreakerOnRecovery', config.resetBreakerOnRecovery);
      v.integer('verifyAttempts', config.verifyAttempts, 1);
      v.duration('verifyIntervalMs', config.verifyIntervalMs);
      v.string('breakerCategory', config.breakerCategory);
      v.string('healthCategory', config.healthCategory);
      v.duration('preventiveCooldownMs', config.preventiveCooldownMs);
      v.integer('maxHistory', config.maxHistory, 1);
      v.integer('maxComponents', config.maxComponents, 1);
      if (config.restarter !== undefined && typeof (config.restarter as Partial<RestartRequester> | null)?.requestRollingRestart !== 'function') {
        v.fail('restarter', 'an object with requestRollingRestart(reason)', config.restarter);
      }
      v.clock('clock', config.clock);
      v.string('name', config.name);
    }
    v.throwIfInvalid();
    this.name = config.name ?? 'self-healer';
    this.enabled = config.enabled ?? true;
    this.autoRecover = config.autoRecover ?? true;
    this.maxConcurrent = config.maxConcurrentRecoveries ?? 10;
    this.recoveryTimeoutMs = config.recoveryTimeout ?? 30_000;
    this.clock = config.clock ?? systemClock;
    this.defaultStrategy = config.defaultStrategy ?? defaultRetry(this.clock);
    this.strategyMap = new Map(Object.entries(config.strategyMap ?? {}));
    this.escalationThreshold = config.escalationThreshold ?? 3;
    this.sweepMs = config.healthCheckInterval ?? 5_000;
    this.escalator = config.escalation;
    this.resetBreakerOnRecovery = config.resetBreakerOnRecovery ?? true;
    this.verifyAttempts = config.verifyAttempts ?? 1;
    this.verifyIntervalMs = config.verifyIntervalMs ?? 1_000;
    this.breakerCategory = config.breakerCategory ?? 'circuit-breaker';
    this.healthCategory = config.healthCategory ?? 'health';
    this.preventiveCooldownMs = config.preventiveCooldownMs ?? 60_000;
    this.maxHistory = config.maxHistory ?? 1_000;
    this.maxComponents = config.maxComponents ?? 1_000;
    this.restarter = config.restarter;
    this.timeout = new Timeout({ ms: this.recoveryTimeoutMs, strategy: 'aggressive', clock: this.clock, name: this.name });
    this.events = new EventEmitter('self-healer', this.name);
    this.preventiveActions.set('clear-caches', async (_req, ctx) => void (await ctx.clearCaches()));
    this.preventiveActions.set('rolling-restart', (req, ctx) => ctx.requestRollingRestart(req.reason));
  }

  // ---- wiring -------------------------------------------------------------------------------------

  /**
   * Watches a breaker manager: a breaker that opens emits `'circuit-opened'` and, while started, becomes a
   * failure of the component named like the breaker (category `breakerCategory`); one that closes resolves
   * it. Replaces any manager set before.
   */
  setCircuitBreakers(manager: BreakerManagerSource): void {
    this.offBreakers?.();
    this.breakers = manager;
    this.offBreakers = manager.on('stateChange', ({ name, to, reason }) => {
      if (to === 'open') {
        this.emit('circuit-opened', { component: name, reason });
        if (this.running) {
          void this.detect(name, this.breakerCategory, new Error(`Circuit breaker "${name}" opened (${reason})`), 'high', 'circuit-breaker');
        }
      } else if (to === 'closed') {
        this.emit('circuit-closed', { component: name, reason });
        this.resolve(name, 'circuit-breaker');
      }
    });
  }

  /**
   * Watches a health monitor: a component turning unhealthy becomes, while started, a failure (category
   * `healthCategory`); the failure is resolved only when the component's status turns healthy (the
   * monitor's `componentStatusChange` when it emits it, else the component status it reports on each
   * check's `statusChange`, else that check's status). Recoveries of a component that has checks are
   * verified by running the checks that went unhealthy (else its known checks, else the one named like the
   * component when it exists) and then requiring the component's status to be healthy (`verifyAttempts`
   * runs, `verifyIntervalMs` apart); a component with no check to run is not verified (`verified: false`).
   * Replaces any monitor set before.
   */
  setHealthMonitor(monitor: HealthSource): void {
    this.offHealth?.();
    this.health = monitor;
    this.failingChecks.clear();
    this.knownChecks.clear();
    this.componentStatus.clear();
    const offs: Unsubscribe[] = [monitor.on('statusChange', (e) => this.onCheckStatus(monitor, e))];
    try {
      const on = monitor.on as unknown as (event: 'componentStatusChange', fn: (e: HealthSourceComponentStatusChange) => void) => unknown;
      const off = on.call(monitor, 'componentStatusChange', (e) => {
        if (typeof e?.component === 'string' && typeof e.to === 'string') this.onComponentStatus(e.component, e.to);
      });
      if (typeof off === 'function') offs.push(off as Unsubscribe);
    } catch {
      // A source without component events: per-check events only.
    }
    this.offHealth = () => offs.forEach((off) => off());
  }

  /** Sets who carries out rolling restarts (the `Supervisor`). */
  setRestartRequester(restarter: RestartRequester | undefined): void {
    this.restarter = restarter;
  }

  /** Registers a cache that healing steps (`ctx.clearCaches()`) clear; returns a function that unregisters it. */
  registerCache(name: string, cache: ClearableCache): Unsubscribe {
    if (typeof cache?.clear !== 'function') throw new TypeError(`SelfHealer.registerCache: "${name}" needs a clear() method`);
    if (!this.caches.has(name) && this.caches.size >= this.maxComponents) {
      throw new RangeError(`SelfHealer.registerCache: cannot register "${name}", ${this.maxComponents} caches are registered (maxComponents)`);
    }
    this.caches.set(name, cache);
    return () => {
      if (this.caches.get(name) === cache) this.caches.delete(name);
    };
  }

  /**
   * Registers a preventive action run by {@link requestPreventiveAction} (`'clear-caches'` and
   * `'rolling-restart'` are built in and may be replaced). Returns a function that unregisters it.
   */
  registerPreventiveAction(name: string, action: PreventiveAction): Unsubscribe {
    if (typeof action !== 'function') throw new TypeError(`SelfHealer.registerPreventiveAction: "${name}" must be a function`);
    if (!this.preventiveActions.has(name) && this.preventiveActions.size >= this.maxComponents) {
      throw new RangeError(`SelfHealer.registerPreventiveAction: cannot register "${name}" (maxComponents)`);
    }
    this.preventiveActions.set(name, action);
    return () => {
      if (this.preventiveActions.get(name) === action) this.preventiveActions.delete(name);
    };
  }

  /** Starts reacting to breakers and health changes and the periodic sweep of open failures. */
  start(): void {
    if (!this.enabled || this.running) return;
    this.running = true;
    this.armSweep();
  }

  /** Stops the sweep and reactions, and aborts running recoveries. Leaves no timer. */
  stop(): void {
    this.running = false;
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
    const master = this.master;
    this.master = new AbortController();
    master.abort(new Error(`SelfHealer "${this.name}" stopped`));
  }

  /** Stops and detaches from the breaker manager and health monitor. */
  dispose(): void {
    this.stop();
    this.offBreakers?.();
    this.offHealth?.();
    this.offBreakers = this.offHealth = undefined;
    this.breakers = undefined;
    this.health = undefined;
  }

  /** Whether {@link start} was called and not {@link stop}. */
  get isRunning(): boolean {
    return this.running;
  }

  // ---- healing ------------------------------------------------------------------------------------

  /**
   * Records a failure of `component` and, with `autoRecover`, runs the strategy for `category`. Resolves with
   * the recovery's record (never rejects): status `'succeeded'` only once verified when the component has a
   * health check; `'skipped'` when disabled or `autoRecover` is off. A detection while the component is
   * already recovering joins that recovery.
   */
  detectFailure(component: string, category: string, error: unknown, severity: FailureSeverity = 'high'): Promise<RecoveryRecord> {
    return this.detect(component, category, error, severity, 'manual');
  }

  /**
   * Runs `fn`; when it fails, runs the strategy for `category` with `fn` as the operation (a retry runs it
   * again, a fallback replaces it, a healing strategy heals then `fn` runs once more) and resolves with its
   * result. Rejects with a `RecoveryFailedError` (`cause`: why the recovery failed) or, when
   * `maxConcurrentRecoveries` are running, a `RecoveryRefusedError` (`cause`: `fn`'s error).
   */
  async executeWithHealing<T>(
    component: string,
    fn: (ctx: PolicyContext) => PromiseLike<T> | T,
    category = 'unknown',
    severity: FailureSeverity = 'medium',
    options: { signal?: AbortSignal } = {},
  ): Promise<T> {
    const signal = options.signal ?? new AbortController().signal;
    let error: unknown;
    try {
      return await fn({ signal, attempt: 1 });
    } catch (e) {
      if (!this.enabled || signal.aborted) throw e;
      error = e;
    }
    this.countDetection(component, category);
    this.emit('failure-detected', { component, category, severity, error, trigger: 'execute' });
    if (!this.autoRecover) throw error;
    const outcome = await this.recoverJob({
      component,
      category,
      severity,
      error,
      trigger: 'execute',
      since: this.clock.now(),
      operation: fn,
      signal: options.signal,
    });
    const { record } = outcome;
    if (record.status === 'succeeded') return outcome.value as T;
    if (record.status === 'refused') throw new RecoveryRefusedError(component, this.maxConcurrent, error);
    throw new RecoveryFailedError(`Recovery of "${component}" by "${record.strategy}" failed: ${messageOf(record.error ?? error)}`, {
      cause: record.error ?? error,
      component,
      strategy: record.strategy,
      escalated: record.status === 'escalated',
    });
  }

  /**
   * Runs the registered preventive action `request.action` (for the `FailurePredictor`), within
   * `recoveryTimeout` and the concurrency limit, at most once per `preventiveCooldownMs` per action and
   * component. Never rejects: the result says what happened.
   */
  async requestPreventiveAction(request: PreventiveActionRequest): Promise<PreventiveActionResult> {
    this.preventiveStats.requested++;
    const { component, action: name, reason } = request;
    if (!this.enabled) return this.skipPreventive('disabled');
    const action = this.preventiveActions.get(name);
    if (action === undefined) return this.skipPreventive('unknown-action');
    const key = `${name}\u0000${component}`;
    const now = this.clock.now();
    const last = this.lastPreventive.get(key);
    if (last !== undefined && now - last < this.preventiveCooldownMs) return this.skipPreventive('cooldown');
    if (this.active >= this.maxConcurrent) return this.skipPreventive('refused');
    this.lastPreventive.delete(key);
    this.lastPreventive.set(key, now);
    if (this.lastPreventive.size > this.maxComponents) this.lastPreventive.delete(this.lastPreventive.keys().next().value as string);
    this.active++;
    this.emit('preventive-action-started', { component, action: name, reason });
    const record = this.newRecord(component, 'preventive', 'low', 'preventive', name, 'preventive', now);
    try {
      await this.runInSlot(
        async (signal) => action(request, this.healingContext(component, 'preventive', 'low', undefined, signal, undefined)),
        this.master.signal,
      );
      this.preventiveStats.succeeded++;
      this.finish(record, 'succeeded');
      this.emit('preventive-action-succeeded', { component, action: name, reason, durationMs: record.durationMs });
      return { status: 'succeeded' };
    } catch (error) {
      this.preventiveStats.failed++;
      record.timedOut = isTimeoutError(error);
      this.finish(record, 'failed', error);
      this.emit('preventive-action-failed', { component, action: name, reason, error });
      return { status: 'failed', error };
    }
  }

  // ---- observation --------------------------------------------------------------------------------

  /** Subscribes to every event (the seed's `onEvent`); returns a function that unsubscribes. */
  onEvent(listener: (event: HealerEvent) => void): Unsubscribe {
    const offs = EVENT_TYPES.map((type) => this.events.on(type, listener));
    return () => offs.forEach((off) => off());
  }

  /** Subscribes to one event type; returns a function that unsubscribes. */
  on<K extends HealerEventType>(type: K, listener: Listener<SelfHealerEvents[K]>): Unsubscribe {
    return this.events.on(type, listener);
  }

  /** Attempts, successes, failures, success rate and mean time to recovery, in all, by component and by category. */
  getStatistics(): HealerStatistics {
    const byComponent: Record<string, ComponentRecoveryStats> = {};
    for (const [name, s] of this.byComponent) {
      byComponent[name] = {
        ...counters(s),
        consecutiveFailures: s.consecutiveFailures,
        lastFailureAt: s.lastFailureAt === undefined ? undefined : new Date(s.lastFailureAt),
        lastRecoveryAt: s.lastRecoveryAt === undefined ? undefined : new Date(s.lastRecoveryAt),
      };
    }
    const byCategory: Record<string, RecoveryCounters> = {};
    for (const [name, s] of this.byCategory) byCategory[name] = counters(s);
    const totals = counters(this.totals);
    return {
      ...totals,
      totalRecoveries: totals.attempts,
      activeRecoveries: this.active,
      openFailures: this.openFailures.size,
      byComponent,
      byCategory,
      preventiveActions: { ...this.preventiveStats },
    };
  }

  /** Recovery records, oldest first; optionally of one component and only the last `limit`. */
  getHistory(filter: { component?: string; limit?: number } = {}): RecoveryRecord[] {
    let records = filter.component === undefined ? this.history : this.history.filter((r) => r.component === filter.component);
    if (filter.limit !== undefined) records = records.slice(-filter.limit);
    return records.map((r) => ({ ...r }));
  }

  /** Components with a failure not yet resolved. */
  getOpenFailures(): { component: string; category: string; severity: FailureSeverity; since: Date; escalated: boolean }[] {
    return [...this.openFailures].map(([component, f]) => ({
      component,
      category: f.category,
      severity: f.severity,
      since: new Date(f.since),
      escalated: f.escalated,
    }));
  }

  /** Drops records that started before `before` (all of them without an argument); returns how many. */
  clearHistory(before?: Date): number {
    const length = this.history.length;
    this.history = before === undefined ? [] : this.history.filter((r) => r.startedAt.getTime() >= before.getTime());
    return length - this.history.length;
  }

  // ---- internals ----------------------------------------------------------------------------------

  private async detect(
    component: string,
    category: string,
    error: unknown,
    severity: FailureSeverity,
    trigger: RecoveryTrigger,
  ): Promise<RecoveryRecord> {
    const now = this.clock.now();
    if (!this.enabled) return this.newRecord(component, category, severity, trigger, 'none', 'none', now, 'skipped');
    this.countDetection(component, category);
    const open = this.openFailures.get(component);
    if (open === undefined) {
      this.openFailures.set(component, { category, severity, error, since: now, trigger, escalated: false });
      if (this.openFailures.size > this.maxComponents) this.openFailures.delete(this.openFailures.keys().next().value as string);
    } else {
      Object.assign(open, { category, severity, error, trigger });
    }
    this.emit('failure-detected', { component, category, severity, error, trigger });
    if (!this.autoRecover) return this.newRecord(component, category, severity, trigger, 'none', 'none', now, 'skipped');
    return this.recoverOpen(component);
  }

  /** Recovers the open failure of `component`, joining a recovery already running for it. */
  private recoverOpen(component: string, trigger?: RecoveryTrigger): Promise<RecoveryRecord> {
    const running = this.inflight.get(component);
    if (running !== undefined) return running;
    const f = this.openFailures.get(component);
    if (f === undefined) return Promise.resolve(this.newRecord(component, 'unknown', 'low', 'manual', 'none', 'none', this.clock.now(), 'skipped'));
    const job: RecoveryJob = { component, category: f.category, severity: f.severity, error: f.error, trigger: trigger ?? f.trigger, origin: f.trigger, since: f.since };
    const promise = this.recoverJob(job).then(({ record }) => record);
    this.inflight.set(component, promise);
    void promise.finally(() => this.inflight.delete(component));
    return promise;
  }

  /** Runs one recovery; never rejects. */
  private async recoverJob(job: RecoveryJob): Promise<Outcome> {
    const { component, category, severity, trigger } = job;
    const spec = this.strategyMap.get(category) ?? this.defaultStrategy;
    const healing = isHealingStrategy(spec);
    const strategyType = healing ? 'healing' : spec.type;
    const start = this.clock.now();
    const record = this.newRecord(component, category, severity, trigger, spec.name, strategyType, start);
    const stats = [this.totals, this.componentStats(component), this.categoryStats(category)];
    if (this.active >= this.maxConcurrent) {
      for (const s of stats) s.refused++;
      this.finish(record, 'refused');
      this.emit('recovery-refused', { component, category, severity, strategy: spec.name, trigger, error: job.error });
      return { record };
    }
    this.active++;
    for (const s of stats) s.attempts++;
    this.emit('recovery-started', { component, category, severity, strategy: spec.name, trigger });
    const verify = job.operation === undefined ? this.verifierFor(component, job.origin ?? trigger) : undefined;
    const linked = new LinkedAbortController(job.signal);
    const offMaster = onAbort(this.master.signal, () => linked.abort(this.master.signal.reason));
    let escalation: unknown;
    try {
      const value = await this.runInSlot(
        async (signal) => {
          const check = verify === undefined ? undefined : () => verify(signal);
          let result: unknown;
          if (healing) {
            // With an operation, running it again is the default verification, and its result the value.
            const operation = job.operation;
            let operationValue: { value: unknown } | undefined;
            let attempt = 1;
            const verifyByOperation =
              operation === undefined
                ? undefined
                : async (): Promise<boolean> => {
                    try {
                      operationValue = { value: await operation({ signal, attempt: ++attempt }) };
                      return true;
                    } catch {
                      if (signal.aborted) throw signal.reason;
                      return false;
                    }
                  };
            const ctx = this.healingContext(component, category, severity, job.error, signal, check ?? verifyByOperation);
            const run = await runHealingStrategy(spec, ctx, (step) => this.emit('healing-step', { component, category, strategy: spec.name, step }));
            record.steps = run.steps;
            if (!run.healed) {
              throw new RecoveryFailedError(describeRun(run), {
                component,
                strategy: spec.name,
                errors: run.steps.filter((s) => s.error !== undefined).map((s) => ({ name: s.step, error: s.error })),
              });
            }
            if (operation !== undefined) result = operationValue !== undefined ? operationValue.value : await operation({ signal, attempt: ++attempt });
          } else {
            result = await spec.recover({
              error: job.error,
              ...(job.operation === undefined ? {} : { operation: job.operation }),
              ...(check === undefined ? {} : { verify: check }),
              context: { component, category, severity },
              signal,
            });
            if (spec.type === 'escalate') {
              escalation = result;
              return result;
            }
          }
          if (check !== undefined) {
            if (!(await check())) {
              this.emit('verification-failed', { component, category, strategy: spec.name });
              throw new RecoveryFailedError(`"${component}" is still unhealthy after "${spec.name}"`, { component, strategy: spec.name });
            }
            record.verified = true;
          }
          return result;
        },
        linked.signal,
      );
      if (!healing && spec.type === 'escalate') {
        this.onFailed(job, record, stats, 'escalated', new RecoveryFailedError(`"${component}" escalated by "${spec.name}"`, { component, strategy: spec.name, escalated: true, cause: job.error }), escalation);
        return { record };
      }
      this.onSucceeded(job, record, stats);
      return { record, value };
    } catch (error) {
      record.timedOut = isTimeoutError(error) && !linked.signal.aborted;
      this.onFailed(job, record, stats, 'failed', error, undefined);
      return { record };
    } finally {
      offMaster();
      linked.dispose();
    }
  }

  /**
   * Runs `fn` within `recoveryTimeout` in a concurrency slot the caller took (`active++`). The caller gets
   * the timeout at the deadline, but the slot is freed only once `fn`'s own promise settles: a strategy
   * that ignores its signal still counts against `maxConcurrentRecoveries` while it runs.
   */
  private runInSlot<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    let running = false;
    let returned = false;
    let freed = false;
    const free = (): void => {
      if (freed) return;
      freed = true;
      this.active--;
    };
    const strategyDone = (): void => {
      running = false;
      if (returned) free();
    };
    const callerDone = (): void => {
      returned = true;
      if (!running) free();
    };
    const result = this.timeout.execute(
      ({ signal: inner }) => {
        running = true;
        const own = fn(inner);
        void own.then(strategyDone, strategyDone);
        return own;
      },
      { signal },
    );
    // Registered before the caller awaits `result`: the slot is free by the time the caller resumes.
    void result.then(callerDone, callerDone);
    return result;
  }

  private onSucceeded(job: RecoveryJob, record: RecoveryRecord, stats: MutableCounters[]): void {
    const now = this.clock.now();
    const ttr = now - job.since;
    for (const s of stats) {
      s.successes++;
      s.recoveryMsSum += ttr;
    }
    const cs = this.componentStats(job.component);
    cs.consecutiveFailures = 0;
    cs.lastRecoveryAt = now;
    record.timeToRecoveryMs = ttr;
    this.finish(record, 'succeeded');
    this.openFailures.delete(job.component);
    if (this.resetBreakerOnRecovery && this.healingContext(job.component, job.category, job.severity, undefined, this.master.signal, undefined).resetBreaker()) {
      this.emit('breaker-reset', { component: job.component, category: job.category });
    }
    this.emit('recovery-succeeded', {
      component: job.component,
      category: job.category,
      severity: job.severity,
      strategy: record.strategy,
      trigger: job.trigger,
      durationMs: record.durationMs,
      verified: record.verified,
    });
  }

  private onFailed(
    job: RecoveryJob,
    record: RecoveryRecord,
    stats: MutableCounters[],
    status: 'failed' | 'escalated',
    error: unknown,
    escalation: unknown,
  ): void {
    for (const s of stats) s.failures++;
    const cs = this.componentStats(job.component);
    cs.lastFailureAt = this.clock.now();
    this.finish(record, status, error);
    const base = { component: job.component, category: job.category, severity: job.severity, strategy: record.strategy, trigger: job.trigger };
    this.emit('recovery-failed', { ...base, error, durationMs: record.durationMs });
    if (status === 'escalated') {
      for (const s of stats) s.escalations++;
      cs.consecutiveFailures = 0;
      this.markEscalated(job.component);
      this.emit('escalated', { ...base, error: job.error, failedRecoveries: 0, escalation });
      return;
    }
    cs.consecutiveFailures++;
    if (cs.consecutiveFailures >= this.escalationThreshold) {
      const failedRecoveries = cs.consecutiveFailures;
      cs.consecutiveFailures = 0;
      for (const s of stats) s.escalations++;
      this.markEscalated(job.component);
      void this.escalate(job, failedRecoveries, error, base);
    }
  }

  private async escalate(job: RecoveryJob, failedRecoveries: number, lastError: unknown, base: Omit<HealerEvent, 'type' | 'timestamp'>): Promise<void> {
    let escalation: unknown;
    if (this.escalator !== undefined) {
      // stop() aborts it: nothing of the escalation (handler deadlines, webhook requests) outlives the healer.
      const signal = this.master.signal;
      try {
        escalation = await this.escalator.execute(
          job.error,
          { component: job.component, category: job.category, severity: job.severity, failedRecoveries, lastRecoveryError: lastError },
          { signal },
        );
      } catch (error) {
        if (!signal.aborted) reportCallbackError(error, `SelfHealer "${this.name}" escalation`);
      }
    }
    this.emit('escalated', { ...base, error: job.error, failedRecoveries, escalation });
  }

  private markEscalated(component: string): void {
    const open = this.openFailures.get(component);
    if (open !== undefined) open.escalated = true;
  }

  private resolve(component: string, by: string): void {
    if (this.openFailures.delete(component)) this.emit('failure-resolved', { component, resolvedBy: by });
  }

  /**
   * A probe of `component`'s health, when there is a check to run: runs its checks (see {@link checksOf})
   * and passes when they all report healthy and so does the component (when the source reports it).
   */
  private verifierFor(component: string, origin: RecoveryTrigger): ((signal: AbortSignal) => Promise<boolean>) | undefined {
    const health = this.health;
    if (health?.runCheck === undefined) return undefined;
    if (origin !== 'health' && health.getComponentHealth?.(component) === undefined) return undefined;
    if (this.checksOf(health, component) === undefined) return undefined;
    return async (signal) => {
      for (let i = 0; i < this.verifyAttempts; i++) {
        if (i > 0) await sleep(this.clock, this.verifyIntervalMs, signal);
        const names = this.checksOf(health, component) ?? [];
        try {
          const results = await Promise.all(names.map((name) => (health.runCheck as NonNullable<HealthSource['runCheck']>).call(health, name)));
          if (names.length === 0 || results.some((r) => r.status !== 'healthy')) continue;
          if (health.getComponentHealth !== undefined) {
            const status = health.getComponentHealth(component)?.status;
            if (status !== 'healthy') continue;
            this.noteComponentStatus(component, status);
          }
          return true;
        } catch {
          if (signal.aborted) throw signal.reason;
        }
      }
      return false;
    };
  }

  /**
   * Checks to run to verify `component`: those that went unhealthy, else those known for it (from status
   * changes and its reported results), else the one named like it (unless the source lists its checks and
   * there is none of that name); undefined when there is none.
   */
  private checksOf(health: HealthSource, component: string): string[] | undefined {
    const registered = health.getCheckNames === undefined ? undefined : new Set(health.getCheckNames());
    const exists = (name: string): boolean => registered === undefined || registered.has(name);
    const failing = [...(this.failingChecks.get(component) ?? [])].filter(exists);
    if (failing.length > 0) return failing;
    const known = new Set(this.knownChecks.get(component));
    for (const result of health.getComponentHealth?.(component)?.checks ?? []) known.add(result.check ?? result.name);
    const names = [...known].filter(exists);
    if (names.length > 0) return names;
    return exists(component) ? [component] : undefined;
  }

  /** A check's status changed: remember the check, then follow its component's status. */
  private onCheckStatus(health: HealthSource, { component, to, check }: HealthSourceStatusChange): void {
    if (typeof check === 'string') {
      this.addCheck(this.knownChecks, component, check);
      if (to === 'unhealthy') this.addCheck(this.failingChecks, component, check);
      else if (to === 'healthy') this.failingChecks.get(component)?.delete(check);
    }
    let status: string | undefined;
    if (health.getComponentHealth !== undefined) status = health.getComponentHealth(component)?.status;
    else if (typeof check === 'string' && (this.failingChecks.get(component)?.size ?? 0) > 0) status = 'unhealthy';
    this.onComponentStatus(component, status ?? to);
  }

  /** A component's status is `status`: on a change, healthy resolves its failure, unhealthy detects one. */
  private onComponentStatus(component: string, status: string): void {
    if (this.componentStatus.get(component) === status) return;
    this.noteComponentStatus(component, status);
    if (status === 'healthy') {
      this.failingChecks.delete(component);
      this.resolve(component, 'health');
    } else if (status === 'unhealthy' && this.running) {
      void this.detect(component, this.healthCategory, new Error(`Health check reports "${component}" unhealthy`), 'high', 'health');
    }
  }

  private noteComponentStatus(component: string, status: string): void {
    this.componentStatus.delete(component);
    this.componentStatus.set(component, status);
    if (this.componentStatus.size > this.maxComponents) this.componentStatus.delete(this.componentStatus.keys().next().value as string);
  }

  /** Adds `check` to `component`'s set in `map` (both bounded by `maxComponents`). */
  private addCheck(map: Map<string, Set<string>>, component: string, check: string): void {
    let set = map.get(component);
    if (set === undefined) {
      set = new Set();
      map.set(component, set);
      if (map.size > this.maxComponents) map.delete(map.keys().next().value as string);
    }
    set.delete(check);
    set.add(check);
    if (set.size > this.maxComponents) set.delete(set.values().next().value as string);
  }

  private healingContext(
    component: string,
    category: string,
    severity: FailureSeverity,
    error: unknown,
    signal: AbortSignal,
    verify: (() => Promise<boolean>) | undefined,
  ): HealingContext {
    return createHealingContext({
      component,
      category,
      severity,
      error,
      signal,
      clock: this.clock,
      caches: this.caches,
      breakers: this.breakers,
      restarter: this.restarter,
      verify,
    });
  }

  private armSweep(): void {
    this.sweepTimer = this.clock.schedule(
      () => {
        if (!this.running) return;
        this.sweep();
        this.armSweep();
      },
      this.sweepMs,
      { keepAlive: false },
    );
  }

  /** Closes open failures that are healthy again and retries the others (unless escalated). */
  private sweep(): void {
    for (const [component, f] of [...this.openFailures]) {
      if (this.inflight.has(component)) continue;
      const status = this.health?.getComponentHealth?.(component)?.status;
      if (status === 'healthy') {
        this.noteComponentStatus(component, status);
        this.failingChecks.delete(component);
        this.resolve(component, 'health');
        continue;
      }
      if (f.trigger === 'circuit-breaker' && this.breakers?.get(component)?.state === 'closed') {
        this.resolve(component, 'circuit-breaker');
        continue;
      }
      if (!f.escalated && this.autoRecover) void this.recoverOpen(component, 'periodic');
    }
  }

  private countDetection(component: string, category: string): void {
    this.totals.failuresDetected++;
    this.componentStats(component).failuresDetected++;
    this.categoryStats(category).failuresDetected++;
  }

  private componentStats(component: string): MutableComponentStats {
    let s = this.byComponent.get(component);
    if (s === undefined) {
      s = { ...newCounters(), consecutiveFailures: 0, lastFailureAt: undefined, lastRecoveryAt: undefined };
      this.byComponent.set(component, s);
      if (this.byComponent.size > this.maxComponents) this.byComponent.delete(this.byComponent.keys().next().value as string);
    }
    return s;
  }

  private categoryStats(category: string): MutableCounters {
    let s = this.byCategory.get(category);
    if (s === undefined) {
      s = newCounters();
      this.byCategory.set(category, s);
      if (this.byCategory.size > this.maxComponents) this.byCategory.delete(this.byCategory.keys().next().value as string);
    }
    return s;
  }

  private newRecord(
    component: string,
    category: string,
    severity: FailureSeverity,
    trigger: RecoveryTrigger,
    strategy: string,
    strategyType: RecoveryRecord['strategyType'],
    startedAt: number,
    status: RecoveryStatus = 'failed',
  ): RecoveryRecord {
    const at = new Date(startedAt);
    return { id: this.nextId++, component, category, severity, trigger, strategy, strategyType, status, verified: false, timedOut: false, startedAt: at, endedAt: at, durationMs: 0 };
  }

  /** Completes `record` and appends it to the bounded history. */
  private finish(record: RecoveryRecord, status: RecoveryStatus, error?: unknown): void {
    const now = this.clock.now();
    record.status = status;
    record.endedAt = new Date(now);
    record.durationMs = now - record.startedAt.getTime();
    if (error !== undefined) record.error = error;
    this.history.push(record);
    if (this.history.length > this.maxHistory) this.history.splice(0, this.history.length - this.maxHistory);
  }

  private skipPreventive(status: 'disabled' | 'unknown-action' | 'cooldown' | 'refused'): PreventiveActionResult {
    this.preventiveStats.skipped++;
    return { status };
  }

  private emit(type: HealerEventType, fields: Omit<HealerEvent, 'type' | 'timestamp'>): void {
    if (!this.events.wants(type)) return;
    this.events.emit(type, { type, timestamp: new Date(this.clock.now()), ...fields } as SelfHealerEvents[typeof type]);
  }
}

function counters(s: MutableCounters): RecoveryCounters {
  return {
    failuresDetected: s.failuresDetected,
    attempts: s.attempts,
    successes: s.successes,
    failures: s.failures,
    refused: s.refused,
    escalations: s.escalations,
    successRate: s.attempts === 0 ? 0 : s.successes / s.attempts,
    meanTimeToRecoveryMs: s.successes === 0 ? 0 : s.recoveryMsSum / s.successes,
  };
}

function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn();
    return () => undefined;
  }
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}

/** The default strategy: 3 attempts, exponential from 1 s to 30 s. */
function defaultRetry(clock: Clock): RecoveryStrategy {
  return new RetryRecovery({ name: 'default-retry', maxAttempts: 3, backoffStrategy: 'exponential', initialDelay: 1_000, maxDelay: 30_000, clock });
}
