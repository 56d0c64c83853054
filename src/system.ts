import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { systemClock, type Clock, type TimerHandle } from './core/clock.js';
import { InvalidOptionsError, OptionsValidator, type OptionIssue } from './core/options.js';
import { reportCallbackError } from './core/report-callback-error.js';
import { GracefulDegradation, type GracefulDegradationConfig } from './degradation/graceful-degradation.js';
import { SelfHealer, type SelfHealerConfig } from './healing/self-healer.js';
import { HealthMonitor, type HealthMonitorConfig } from './health/health-monitor.js';
import { AnomalyDetector, type AnomalyDetectorOptions } from './insight/anomaly-detector.js';
import { FailurePredictor, type FailurePredictorOptions } from './insight/failure-predictor.js';
import { CircuitBreakerManager, type ManagedBreakerConfig } from './policies/circuit-breaker-manager.js';
import { MemoryStore } from './store/memory-store.js';
import type { DegradationStateRecord, FeatureFlagRecord, Store } from './store/store.js';
import type { CircuitBreakerState } from './policies/circuit-breaker.js';

/** The seed's `persistence` section, plus a ready store. */
export interface PersistenceConfig {
  /** A store to use as is (a `SqliteStore` from `antifragile/sqlite`, say). */
  store?: Store;
  /**
   * A SQLite file to open through `openStore` (pass `openSqliteStore` from `antifragile/sqlite`); the core
   * package never loads a database driver by itself.
   */
  databasePath?: string;
  /** Rows older than this are cleaned up. */
  retentionDays?: number;
  /** Flush interval of batched writes, ms. */
  flushInterval?: number;
  /** Rows per batch. */
  batchSize?: number;
  /** How often a system health snapshot is stored, ms. @default 60_000 */
  snapshotIntervalMs?: number;
}

/** Insight: anomaly detection and failure prediction on the process's own vital signs. */
export interface InsightConfig {
  anomaly?: AnomalyDetectorOptions;
  prediction?: FailurePredictorOptions;
  /**
   * How often heap use (`heap`) and event-loop delay (`eventLoop.delayMs`, mean over the interval) are
   * sampled into the anomaly detector and the failure predictor, ms. @default 10_000
   */
  sampleIntervalMs?: number;
}

/**
 * Everything {@link createResilience} builds, in the seed's `ResilienceConfig` shape. Each section takes
 * the options of the component it configures; `chaos` is kept for the chaos engineering capability.
 */
export interface ResilienceConfig {
  /** Breakers to create up front, by name, in the seed's option names (or the core breaker's). */
  circuitBreakers?: Record<string, ManagedBreakerConfig & { name?: string }>;
  healthMonitor?: HealthMonitorConfig;
  selfHealer?: SelfHealerConfig;
  degradation?: GracefulDegradationConfig;
  persistence?: PersistenceConfig;
  insight?: InsightConfig;
  /** Chaos engineering settings (used by the chaos capability; accepted and kept here). */
  chaos?: Record<string, unknown>;
  /** Time source for every component. @default systemClock */
  clock?: Clock;
}

/** Options of {@link createResilience} that are not configuration. */
export interface CreateResilienceOptions {
  /** Opens a store for `persistence.databasePath` (e.g. `openSqliteStore` from `antifragile/sqlite`). */
  openStore?: (persistence: PersistenceConfig & { databasePath: string; clock: Clock }) => Store;
}

/** The wired system returned by {@link createResilience}. */
export interface Resilience {
  readonly circuitBreakers: CircuitBreakerManager;
  readonly healthMonitor: HealthMonitor;
  readonly selfHealer: SelfHealer;
  readonly degradation: GracefulDegradation;
  readonly anomalyDetector: AnomalyDetector;
  readonly failurePredictor: FailurePredictor;
  /** The store in use (a new one after `stop()` then `start()` when this system opened it). */
  readonly store: Store;
  /** The chaos section, untouched. */
  readonly chaosConfig: Record<string, unknown> | undefined;
  /** Whether `start()` is in effect. */
  readonly running: boolean;
  /**
   * Restores saved state (breaker states, the degradation level and feature flags) from the store, then
   * starts the monitor, the degradation rules, the healer and the housekeeping timers.
   */
  start(): Promise<void>;
  /**
   * Stops everything and closes the store when this system opened it (a store passed in
   * `persistence.store` is flushed, not closed: its owner closes it). Leaves no timer or handle; `start()`
   * may be called again (an owned store is opened again).
   */
  stop(): Promise<void>;
}

const SECTIONS = ['circuitBreakers', 'healthMonitor', 'selfHealer', 'degradation', 'persistence', 'insight', 'chaos', 'clock'];

/**
 * Builds the whole system from one configuration object and wires it: the self-healer watches the breakers
 * and the health monitor, degradation follows the health score, the failure predictor asks the healer for
 * preventive actions, and every transition, check, recovery and level change is recorded in the store.
 * Invalid configuration throws one {@link InvalidOptionsError} listing every bad field by its path.
 *
 * @example
 * ```ts
 * const resilience = createResilience({
 *   circuitBreakers: { pricing: { failureThreshold: 5, timeout: 30_000 } },
 *   healthMonitor: { checkInterval: 5_000 },
 *   degradation: { rules: [{ condition: { type: 'threshold', metric: 'health_score', operator: '<', value: 50 }, targetLevel: 'minimal' }] },
 * });
 * resilience.healthMonitor.registerCheck('db', sqlSelectOneCheck(pool), { critical: true });
 * await resilience.start();
 * ```
 */
export function createResilience(config: ResilienceConfig = {}, options: CreateResilienceOptions = {}): Resilience {
  const issues: OptionIssue[] = [];
  const top = new OptionsValidator('ResilienceConfig');
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    top.fail('config', 'an object', config);
    top.throwIfInvalid();
  }
  for (const key of Object.keys(config)) {
    if (!SECTIONS.includes(key)) top.fail(key, `a known section (${SECTIONS.join(', ')})`, 'an unknown field');
  }
  top.clock('clock', config.clock);
  for (const section of ['healthMonitor', 'selfHealer', 'degradation', 'persistence', 'insight', 'chaos', 'circuitBreakers'] as const) {
    top.object(section, config[section]);
  }
  const persistence = config.persistence ?? {};
  top.integer('persistence.snapshotIntervalMs', persistence.snapshotIntervalMs, 1);
  top.integer('insight.sampleIntervalMs', config.insight?.sampleIntervalMs, 1);
  if (persistence.store !== undefined && typeof (persistence.store as Partial<Store> | null)?.flush !== 'function') {
    top.fail('persistence.store', 'a Store', persistence.store);
  }
  if (persistence.databasePath !== undefined) {
    top.string('persistence.databasePath', persistence.databasePath);
    if (options.openStore === undefined && persistence.store === undefined) {
      top.fail('persistence.databasePath', "an openStore option to open it (openSqliteStore from 'antifragile/sqlite')", persistence.databasePath);
    }
  }
  collect(issues, '', () => top.throwIfInvalid());

  const clock = config.clock ?? systemClock;
  const withClock = <T extends object>(section: T | undefined): T & { clock: Clock } => ({ ...(section ?? ({} as T)), clock });

  const circuitBreakers = new CircuitBreakerManager({ clock });
  for (const [name, breakerConfig] of Object.entries(config.circuitBreakers ?? {})) {
    collect(issues, `circuitBreakers.${name}`, () => {
      const { name: _ignored, ...rest } = breakerConfig ?? {};
      circuitBreakers.getOrCreate(name, rest);
    });
  }
  const healthMonitor = collect(issues, 'healthMonitor', () => new HealthMonitor(withClock(config.healthMonitor)));
  const selfHealer = collect(issues, 'selfHealer', () => new SelfHealer(withClock(config.selfHealer)));
  const degradation = collect(issues, 'degradation', () => new GracefulDegradation(withClock(config.degradation)));
  const anomalyDetector = collect(issues, 'insight.anomaly', () => new AnomalyDetector(withClock(config.insight?.anomaly)));
  const failurePredictor = collect(issues, 'insight.prediction', () => new FailurePredictor(withClock(config.insight?.prediction)));
  if (issues.length > 0) throw new InvalidOptionsError('ResilienceConfig', issues);
  const { databasePath } = persistence;
  const openStore = options.openStore;
  const storeFactory: (() => Store) | undefined =
    persistence.store !== undefined
      ? undefined
      : databasePath !== undefined && openStore !== undefined
        ? () => openStore({ ...persistence, databasePath, clock })
        : () => new MemoryStore({ clock });
  const store = collect(issues, 'persistence', (): Store => persistence.store ?? (storeFactory as () => Store)());
  if (issues.length > 0) throw new InvalidOptionsError('ResilienceConfig', issues);

  return new WiredResilience(
    {
      circuitBreakers,
      healthMonitor: healthMonitor as HealthMonitor,
      selfHealer: selfHealer as SelfHealer,
      degradation: degradation as GracefulDegradation,
      anomalyDetector: anomalyDetector as AnomalyDetector,
      failurePredictor: failurePredictor as FailurePredictor,
      store: store as Store,
    },
    {
      clock,
      storeFactory,
      snapshotIntervalMs: persistence.snapshotIntervalMs ?? 60_000,
      sampleIntervalMs: config.insight === undefined ? undefined : (config.insight.sampleIntervalMs ?? 10_000),
      chaosConfig: config.chaos,
    },
  );
}

/** Runs `build`, turning an InvalidOptionsError into issues prefixed with `prefix`. */
function collect<T>(issues: OptionIssue[], prefix: string, build: () => T): T | undefined {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof InvalidOptionsError)) throw error;
    for (const issue of error.issues) {
      issues.push({ ...issue, path: prefix === '' ? issue.path : `${prefix}.${issue.path}` });
    }
    return undefined;
  }
}

interface Parts {
  circuitBreakers: CircuitBreakerManager;
  healthMonitor: HealthMonitor;
  selfHealer: SelfHealer;
  degradation: GracefulDegradation;
  anomalyDetector: AnomalyDetector;
  failurePredictor: FailurePredictor;
  store: Store;
}

interface Settings {
  clock: Clock;
  /** Opens the store again after `stop()` closed it; undefined when the caller owns the store. */
  storeFactory: (() => Store) | undefined;
  snapshotIntervalMs: number;
  sampleIntervalMs: number | undefined;
  chaosConfig: Record<string, unknown> | undefined;
}

class WiredResilience implements Resilience {
  readonly circuitBreakers: CircuitBreakerManager;
  readonly healthMonitor: HealthMonitor;
  readonly selfHealer: SelfHealer;
  readonly degradation: GracefulDegradation;
  readonly anomalyDetector: AnomalyDetector;
  readonly failurePredictor: FailurePredictor;
  private currentStore: Store;
  private storeClosed = false;
  /** While restoring saved state, changes it causes are not recorded again. */
  private restoring = false;
  readonly chaosConfig: Record<string, unknown> | undefined;
  private isRunning = false;
  private eventLoopDelay: IntervalHistogram | undefined;
  private readonly unsubscribes: Array<() => void> = [];
  private snapshotTimer: TimerHandle | undefined;
  private sampleTimer: TimerHandle | undefined;

  constructor(
    parts: Parts,
    private readonly settings: Settings,
  ) {
    this.circuitBreakers = parts.circuitBreakers;
    this.healthMonitor = parts.healthMonitor;
    this.selfHealer = parts.selfHealer;
    this.degradation = parts.degradation;
    this.anomalyDetector = parts.anomalyDetector;
    this.failurePredictor = parts.failurePredictor;
    this.currentStore = parts.store;
    this.chaosConfig = settings.chaosConfig;
    this.wire();
  }

  get running(): boolean {
    return this.isRunning;
  }

  get store(): Store {
    return this.currentStore;
  }

  async start(): Promise<void> {
    if (this.isRunning) return;
    if (this.storeClosed && this.settings.storeFactory !== undefined) {
      this.currentStore = this.settings.storeFactory();
      this.storeClosed = false;
    }
    // The healer first, so a breaker restored open is handed to it; then the rest.
    this.selfHealer.start();
    try {
      await this.restore();
    } catch (error) {
      this.selfHealer.stop();
      throw error;
    }
    this.healthMonitor.start();
    this.degradation.start();
    this.isRunning = true;
    this.scheduleSnapshot();
    if (this.settings.sampleIntervalMs !== undefined) {
      this.eventLoopDelay = monitorEventLoopDelay({ resolution: 20 });
      this.eventLoopDelay.enable();
      this.scheduleSample(this.settings.sampleIntervalMs);
    }
  }

  async stop(): Promise<void> {
    if (!this.isRunning) return;
    this.isRunning = false;
    this.snapshotTimer?.cancel();
    this.sampleTimer?.cancel();
    this.snapshotTimer = this.sampleTimer = undefined;
    this.eventLoopDelay?.disable();
    this.eventLoopDelay = undefined;
    this.selfHealer.stop();
    this.degradation.stop();
    this.healthMonitor.stop();
    if (this.settings.storeFactory !== undefined) {
      this.storeClosed = true;
      await this.currentStore.close();
    } else {
      await this.currentStore.flush();
    }
  }

  /** Connects the parts to each other and to the store (once, at construction). */
  private wire(): void {
    const { circuitBreakers, healthMonitor, selfHealer, degradation, failurePredictor } = this;
    selfHealer.setCircuitBreakers(circuitBreakers);
    selfHealer.setHealthMonitor(healthMonitor);
    degradation.setHealthMonitor(healthMonitor);
    failurePredictor.setActionSink(selfHealer);
    // Records go to whatever store is current (a new one after a restart), and not while restoring.
    const guard = (what: string, fn: (store: Store) => void): void => {
      // Nothing is recorded while restoring, nor into a store this system closed (a recovery aborted by
      // stop() may still report after it).
      if (this.restoring || this.storeClosed) return;
      try {
        fn(this.currentStore);
      } catch (error) {
        reportCallbackError(error, `createResilience: recording ${what}`);
      }
    };
    this.unsubscribes.push(
      circuitBreakers.on('stateChange', ({ name, from, to, reason, at }) =>
        guard('a breaker transition', (store) => {
          store.recordBreakerTransition({ name, from, to, reason, at });
          const breaker = circuitBreakers.get(name);
          if (breaker !== undefined) store.saveBreakerState(name, breaker.toJSON());
        }),
      ),
      healthMonitor.on('checkCompleted', (result) =>
        guard('a health check', (store) =>
          store.recordHealthCheck({
            component: result.component,
            status: result.status,
            responseTimeMs: result.responseTime,
            ...(result.error === undefined ? {} : { message: String(result.error) }),
          }),
        ),
      ),
      selfHealer.onEvent((event) => {
        if (event.type === 'escalated') {
          // The failed recovery that led here is already a recovery row; the escalation is an audit entry.
          guard('an escalation', (store) =>
            store.recordAudit({
              who: 'self-healer',
              action: 'escalate',
              target: event.component,
              data: { failedRecoveries: event.failedRecoveries, category: event.category, severity: event.severity },
            }),
          );
          return;
        }
        if (event.type !== 'recovery-succeeded' && event.type !== 'recovery-failed') return;
        guard('a recovery', (store) =>
          store.recordRecoveryEvent({
            component: event.component,
            category: event.category ?? 'unknown',
            severity: event.severity ?? 'unknown',
            strategy: event.strategy ?? 'unknown',
            outcome: event.type === 'recovery-succeeded' ? 'success' : 'failure',
            durationMs: event.durationMs ?? 0,
            ...(event.error === undefined ? {} : { error: event.error instanceof Error ? event.error.message : String(event.error) }),
          }),
        );
      }),
      degradation.on('levelChange', () =>
        guard('the degradation level', (store) => {
          const { level, reason, trigger, since } = degradation.getCurrentState();
          store.saveDegradationState({ level, reason, trigger, since });
        }),
      ),
      degradation.on('flagChange', () =>
        guard('feature flags', (store) =>
          store.saveFeatureFlags(degradation.getFeatures().map(({ name, enabled, priority, degradationLevels }) => ({ name, enabled, priority, degradationLevels }))),
        ),
      ),
    );
  }

  /** Brings back what the store saved before a restart. */
  private async restore(): Promise<void> {
    const [breakers, level, flags] = await Promise.all([
      this.currentStore.loadBreakerStates(),
      this.currentStore.loadDegradationState(),
      this.currentStore.loadFeatureFlags(),
    ]);
    this.restoring = true;
    try {
      await this.apply(breakers, level, flags);
    } finally {
      this.restoring = false;
    }
  }

  private async apply(
    breakers: Map<string, CircuitBreakerState>,
    level: DegradationStateRecord | undefined,
    flags: FeatureFlagRecord[],
  ): Promise<void> {
    for (const [name, state] of breakers) {
      const breaker = this.circuitBreakers.get(name);
      if (breaker === undefined) continue;
      try {
        breaker.restoreState(state);
      } catch (error) {
        reportCallbackError(error, `createResilience: restoring breaker "${name}"`);
      }
    }
    for (const flag of flags) this.degradation.setFeatureEnabled(flag.name, flag.enabled);
    if (level !== undefined && this.degradation.getLevels().includes(level.level) && this.degradation.getCurrentState().level !== level.level) {
      // Through degrade(), so each level's hooks run again and their side effects are re-applied.
      await this.degradation.degrade(level.level, level.reason ?? 'restored after restart', level.trigger === 'automatic' ? 'automatic' : 'manual');
    }
  }

  private scheduleSnapshot(): void {
    this.snapshotTimer = this.settings.clock.schedule(
      () => {
        if (!this.isRunning) return;
        const health = this.healthMonitor.getSystemHealth();
        try {
          this.currentStore.recordHealthSnapshot({
            score: health.score,
            overall: health.overall,
            data: { breakers: this.circuitBreakers.healthCheck(), degradation: this.degradation.getCurrentState().level },
          });
        } catch (error) {
          reportCallbackError(error, 'createResilience: recording a health snapshot');
        }
        this.scheduleSnapshot();
      },
      this.settings.snapshotIntervalMs,
      { keepAlive: false },
    );
  }

  private scheduleSample(intervalMs: number): void {
    this.sampleTimer = this.settings.clock.schedule(
      () => {
        if (!this.isRunning) return;
        const heap = process.memoryUsage().heapUsed;
        this.anomalyDetector.observe('heap', heap);
        this.failurePredictor.observe('heap', heap);
        const delay = this.eventLoopDelay;
        if (delay !== undefined && delay.count > 0) {
          const meanMs = delay.mean / 1e6;
          this.anomalyDetector.observe('eventLoop.delayMs', meanMs);
          this.failurePredictor.observe('eventLoop.delayMs', meanMs);
          delay.reset();
        }
        this.scheduleSample(intervalMs);
      },
      intervalMs,
      { keepAlive: false },
    );
  }
}
