import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import { ComponentHistory, type HealthTrend } from './component-history.js';
import {
  isHealthStatus,
  statusScore,
  worseStatus,
  type HealthCheckDetails,
  type HealthCheckFunction,
  type HealthCheckOptions,
  type HealthCheckResult,
  type HealthStatus,
  type ObservedStatus,
} from './health-check.js';
import {
  buildHealthReport,
  type HealthReport,
  type HealthReportInfo,
  type HealthReportView,
  type ReportThresholdInput,
} from './health-report.js';
import {
  METRIC_UNIT,
  severityStatus,
  thresholdSeverity,
  validateThreshold,
  type HealthThreshold,
  type ThresholdSeverity,
} from './health-threshold.js';

/**
 * Configuration of a {@link HealthMonitor}: the seed's `healthMonitor` section plus a clock and bounds.
 * Percentages (availability, error rate) are 0..100 as in the seed; durations are milliseconds.
 */
export interface HealthMonitorConfig {
  /** When false, `start()` schedules nothing (checks still run on `runCheck` / `runAll`). @default true */
  enabled?: boolean;
  /** Default interval between two runs of a check, in milliseconds (> 0). @default 10_000 */
  checkInterval?: number;
  /** Components known in advance; listed (as `unknown` until a check reports) in `getSystemHealth()`. @default [] */
  components?: string[];
  /** Thresholds per component, e.g. `{ api: { metric: 'availability', warning: 95, critical: 80, fatal: 50 } }`. @default {} */
  thresholds?: Record<string, HealthThreshold>;
  /** Whether `onEvent` listeners get `component-degraded` events when a component gets worse. @default true */
  alertOnDegradation?: boolean;
  /** History entries older than this many days are dropped (> 0). @default 7 */
  retentionDays?: number;
  /** Results kept per component (integer >= 1). @default 100 */
  historySize?: number;
  /** Newest results a trend looks at (integer >= 4). @default 20 */
  trendWindow?: number;
  /** Score points (0..100) by which the newer half must differ from the older for a trend. @default 10 */
  trendSensitivity?: number;
  /** Weight of a critical check in the score (>= 1); other checks weigh 1. @default 3 */
  criticalWeight?: number;
  /** Default time budget of one run in milliseconds, capped at the check's interval. @default 10_000 */
  timeoutMs?: number;
  /** Most checks that may be registered (integer >= 1). @default 10_000 */
  maxChecks?: number;
  /** Service fields copied into every {@link HealthMonitor.report}. */
  service?: HealthReportInfo;
  /** Instance name in diagnostics_channel messages. @default 'health-monitor' */
  name?: string;
  /** Source of time and timers. @default systemClock */
  clock?: Clock;
}

/** Health of one component. */
export interface ComponentHealth {
  component: string;
  /**
   * The worse of its checks' latest statuses and of its threshold status; `unknown` until a check reported.
   */
  status: ObservedStatus;
  /** Which threshold the component's metric crossed (`ok` without thresholds or history). */
  severity: ThresholdSeverity;
  /** Response time of the newest result, in milliseconds (0 without results). */
  responseTime: number;
  /** Mean response time over the history, in milliseconds (0 without results). */
  averageResponseTime: number;
  /** Percentage (0..100) of healthy results in the history (100 without results). */
  availability: number;
  /** Percentage (0..100) of unhealthy results in the history (0 without results). */
  errorRate: number;
  trend: HealthTrend;
  /** Unhealthy results in a row, newest last. */
  consecutiveFailures: number;
  /** Whether any of its checks is critical. */
  critical: boolean;
  /** When the newest result arrived. */
  lastChecked: Date | undefined;
  /** The latest result of each of its checks. */
  checks: HealthCheckResult[];
}

/** Result of {@link HealthMonitor.getSystemHealth}. */
export interface SystemHealth {
  overall: HealthStatus;
  /** 0..100; see {@link HealthMonitor.getSystemHealth} for the formula. */
  score: number;
  components: ComponentHealth[];
  timestamp: Date;
}

/** Payload of the `statusChange` event. */
export interface HealthStatusChange {
  component: string;
  /** Registered name of the check. */
  check: string;
  from: ObservedStatus;
  to: HealthStatus;
  result: HealthCheckResult;
}

/** Payload of the `componentStatusChange` event. */
export interface ComponentStatusChange {
  component: string;
  from: ObservedStatus;
  to: ObservedStatus;
  health: ComponentHealth;
}

/** Events of {@link HealthMonitor}, by name. */
export interface HealthMonitorEvents {
  /** A check's status differs from its previous result (`unknown` before its first). */
  statusChange: HealthStatusChange;
  /** A component's status (thresholds included) changed. */
  componentStatusChange: ComponentStatusChange;
  /** A run finished (its result, already recorded). */
  checkCompleted: HealthCheckResult;
  /** A scheduled run was skipped because the previous run of the check is still in progress. */
  checkSkipped: { check: string; component: string };
}

/** Types of the seed-shaped events delivered by {@link HealthMonitor.onEvent}. */
export type HealthMonitorEventType = 'health-check-completed' | 'health-status-changed' | 'component-degraded' | 'component-recovered';

/** A monitor event in the seed's `{ type, component, timestamp, data }` shape. */
export interface HealthMonitorEvent {
  type: HealthMonitorEventType;
  component: string;
  timestamp: Date;
  data: { check?: string; from?: ObservedStatus; to?: ObservedStatus; result?: HealthCheckResult };
}

interface CheckRecord {
  readonly name: string;
  readonly fn: HealthCheckFunction;
  readonly component: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly critical: boolean;
  readonly liveness: boolean;
  readonly measurement: string | undefined;
  timer: TimerHandle | undefined;
  /** The pending run's result, until the run finishes or times out. */
  run: PendingRun | undefined;
  /** Calls of the check function that have not settled yet (one may outlive its run after a timeout). */
  busy: number;
  last: HealthCheckResult | undefined;
  hasPassed: boolean;
  removed: boolean;
}

interface PendingRun {
  promise: Promise<HealthCheckResult>;
  /** Ends the run without recording anything (monitor stopped or check removed). */
  cancel(): void;
}

interface ComponentRecord {
  readonly name: string;
  readonly history: ComponentHistory;
  readonly configured: boolean;
  readonly checks: Set<CheckRecord>;
  status: ObservedStatus;
  lastResult: HealthCheckResult | undefined;
}

const DAY_MS = 86_400_000;

/**
 * Runs health checks on schedules, keeps a bounded history per component and rates the system.
 *
 * - Each check runs every `intervalMs` (fixed rate, re-armed with `clock.schedule`), with its own timeout;
 *   a run never overlaps the previous one of the same check (the tick is skipped and `checkSkipped` emitted),
 *   and the latest result is cached between runs.
 * - Per component: status, response time, availability and error rate over the history, trend, consecutive
 *   failures, and thresholds (`warning` degrades, `critical` / `fatal` make it unhealthy).
 * - `getSystemHealth()` gives an overall status and a 0..100 score weighted by criticality.
 * - `report(view)` gives `application/health+json` for health, liveness, readiness and startup probes.
 *
 * The result's `lastChecked` is the monitor's clock when the run finished; `responseTime` is the check's
 * own value when it returned a finite non-negative number, else the time the monitor measured.
 *
 * @example
 * ```ts
 * const monitor = new HealthMonitor({ checkInterval: 5_000, thresholds: { db: { metric: 'availability', warning: 95, critical: 80, fatal: 50 } } });
 * monitor.registerCheck('db', sqlSelectOneCheck(pool), { critical: true, timeoutMs: 1_000 });
 * monitor.on('statusChange', ({ check, from, to }) => log.warn({ check, from, to }));
 * monitor.start();
 * ```
 */
export class HealthMonitor {
  private readonly clock: Clock;
  private readonly enabled: boolean;
  private readonly checkInterval: number;
  private readonly thresholds: Map<string, HealthThreshold>;
  private readonly alertOnDegradation: boolean;
  private readonly retentionMs: number;
  private readonly historySize: number;
  private readonly trendWindow: number;
  private readonly trendSensitivity: number;
  private readonly criticalWeight: number;
  private readonly timeoutMs: number;
  private readonly maxChecks: number;
  private readonly service: HealthReportInfo;
  private readonly events: EventEmitter<HealthMonitorEvents>;
  private readonly seedEvents: EventEmitter<{ event: HealthMonitorEvent }>;
  private readonly checks = new Map<string, CheckRecord>();
  private readonly components = new Map<string, ComponentRecord>();
  private running = false;

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(config: HealthMonitorConfig = {}) {
    const v = new OptionsValidator('HealthMonitor');
    const c: Partial<Record<keyof HealthMonitorConfig, unknown>> = config;
    if (v.object('config', c)) {
      v.boolean('enabled', c.enabled);
      v.duration('checkInterval', c.checkInterval, true);
      if (c.components !== undefined) {
        if (!Array.isArray(c.components)) v.fail('components', 'an array of strings', c.components);
        else c.components.forEach((name, i) => { if (typeof name !== 'string' || name === '') v.fail(`components[${i}]`, 'a non-empty string', name); });
      }
      if (v.object('thresholds', c.thresholds)) {
        for (const [component, t] of Object.entries(c.thresholds as Record<string, unknown>)) validateThreshold(v, `thresholds.${component}`, t);
      }
      v.boolean('alertOnDegradation', c.alertOnDegradation);
      v.number('retentionDays', c.retentionDays, { minExclusive: 0 });
      v.integer('historySize', c.historySize, 1);
      v.integer('trendWindow', c.trendWindow, 4);
      v.number('trendSensitivity', c.trendSensitivity, { min: 0, max: 100 });
      v.number('criticalWeight', c.criticalWeight, { min: 1 });
      v.duration('timeoutMs', c.timeoutMs, true);
      v.integer('maxChecks', c.maxChecks, 1);
      if (v.object('service', c.service)) {
        const s = c.service as Record<string, unknown>;
        for (const key of ['serviceId', 'version', 'releaseId', 'description']) v.string(`service.${key}`, s[key]);
      }
      v.string('name', c.name);
      v.clock('clock', c.clock);
    }
    v.throwIfInvalid();
    this.clock = config.clock ?? systemClock;
    this.enabled = config.enabled ?? true;
    this.checkInterval = config.checkInterval ?? 10_000;
    this.thresholds = new Map(Object.entries(config.thresholds ?? {}));
    this.alertOnDegradation = config.alertOnDegradation ?? true;
    this.retentionMs = (config.retentionDays ?? 7) * DAY_MS;
    this.historySize = config.historySize ?? 100;
    this.trendWindow = config.trendWindow ?? 20;
    this.trendSensitivity = config.trendSensitivity ?? 10;
    this.criticalWeight = config.criticalWeight ?? 3;
    this.timeoutMs = config.timeoutMs ?? 10_000;
    this.maxChecks = config.maxChecks ?? 10_000;
    this.service = { ...config.service };
    const name = config.name ?? 'health-monitor';
    this.events = new EventEmitter('health-monitor', name);
    this.seedEvents = new EventEmitter('health-monitor-seed', name);
    for (const component of config.components ?? []) this.componentRecord(component, true);
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof HealthMonitorEvents>(event: K, listener: Listener<HealthMonitorEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Subscribes to every event in the seed's `{ type, component, timestamp, data }` shape; returns an unsubscribe. */
  onEvent(listener: (event: HealthMonitorEvent) => void): Unsubscribe {
    return this.seedEvents.on('event', listener);
  }

  /** Whether `start()` is in effect. */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Registers (or replaces) the check `name`. `fn` may return a {@link HealthCheckResult} (or part of one),
   * a boolean, or nothing; a throw or a timeout is unhealthy. When the monitor is running, the first run
   * is scheduled at once. Returns a function that unregisters the check.
   * @throws InvalidOptionsError on invalid arguments; RangeError when `maxChecks` checks are registered.
   */
  registerCheck(name: string, fn: HealthCheckFunction, options: HealthCheckOptions = {}): Unsubscribe {
    const v = new OptionsValidator('HealthMonitor.registerCheck');
    if (typeof name !== 'string' || name === '') v.fail('name', 'a non-empty string', name);
    if (typeof fn !== 'function') v.fail('fn', 'a function', fn);
    const o: Partial<Record<keyof HealthCheckOptions, unknown>> = options;
    if (v.object('options', o)) {
      v.duration('intervalMs', o.intervalMs, true);
      v.duration('timeoutMs', o.timeoutMs, true);
      v.boolean('critical', o.critical);
      v.boolean('liveness', o.liveness);
      v.string('component', o.component);
      if (o.component === '') v.fail('component', 'a non-empty string', o.component);
      v.string('measurement', o.measurement);
    }
    v.throwIfInvalid();
    if (this.checks.has(name)) this.unregisterCheck(name);
    else if (this.checks.size >= this.maxChecks) {
      throw new RangeError(`HealthMonitor: cannot register "${name}": maxChecks (${this.maxChecks}) checks are registered`);
    }
    const intervalMs = options.intervalMs ?? this.checkInterval;
    const record: CheckRecord = {
      name,
      fn,
      component: options.component ?? name,
      intervalMs,
      timeoutMs: options.timeoutMs ?? Math.min(this.timeoutMs, intervalMs),
      critical: options.critical ?? false,
      liveness: options.liveness ?? false,
      measurement: options.measurement ?? (typeof fn.measurement === 'string' ? fn.measurement : undefined),
      timer: undefined,
      run: undefined,
      busy: 0,
      last: undefined,
      hasPassed: false,
      removed: false,
    };
    this.checks.set(name, record);
    this.componentRecord(record.component, false).checks.add(record);
    if (this.running) this.arm(record, 0);
    return () => {
      if (this.checks.get(name) === record) this.unregisterCheck(name);
    };
  }

  /** Removes the check `name` (cancelling its schedule and any run in progress); returns whether it existed. */
  unregisterCheck(name: string): boolean {
    const record = this.checks.get(name);
    if (record === undefined) return false;
    this.checks.delete(name);
    record.removed = true;
    record.timer?.cancel();
    record.timer = undefined;
    record.run?.cancel();
    this.disposeCheck(record);
    const component = this.components.get(record.component);
    if (component !== undefined) {
      component.checks.delete(record);
      if (component.checks.size === 0 && !component.configured) this.components.delete(record.component);
      else this.refreshComponent(component);
    }
    return true;
  }

  /** Names of the registered checks. */
  getCheckNames(): string[] {
    return [...this.checks.keys()];
  }

  /** The cached latest result of the check `name`, if it has run. */
  getLastResult(name: string): HealthCheckResult | undefined {
    return this.checks.get(name)?.last;
  }

  /** Starts running every check on its schedule (first runs at once). Idempotent; a no-op when not `enabled`. */
  start(): void {
    if (this.running || !this.enabled) return;
    this.running = true;
    for (const record of this.checks.values()) this.arm(record, 0);
  }

  /** Stops every schedule and ends runs in progress without recording them. Idempotent. */
  stop(): void {
    this.running = false;
    for (const record of this.checks.values()) {
      record.timer?.cancel();
      record.timer = undefined;
      record.run?.cancel();
    }
  }

  /** Stops, unregisters every check (disposing built-in ones) and removes every listener. */
  dispose(): void {
    this.stop();
    for (const name of [...this.checks.keys()]) this.unregisterCheck(name);
    this.events.removeAllListeners();
    this.seedEvents.removeAllListeners();
  }

  /**
   * Runs the check `name` now and resolves with its result (never rejects for a failing check). While a
   * run is in progress, resolves with that run's result instead of starting another; while a timed-out
   * run's function is still pending, resolves with the cached timeout result.
   * @throws Error (as a rejection) when no check has that name.
   */
  runCheck(name: string): Promise<HealthCheckResult> {
    const record = this.checks.get(name);
    if (record === undefined) return Promise.reject(new Error(`HealthMonitor: no check named "${name}"`));
    if (record.run !== undefined) return record.run.promise;
    if (record.busy > 0) {
      return Promise.resolve(record.last ?? this.failure(record, this.clock.now(), `Health check "${name}" is still in progress`));
    }
    return this.startRun(record, true).promise;
  }

  /** Runs every check now (see {@link runCheck}) and resolves with their results in registration order. */
  runAll(): Promise<HealthCheckResult[]> {
    return Promise.all([...this.checks.keys()].map((name) => this.runCheck(name)));
  }

  /** Health of `component`, or undefined when it is neither configured nor has checks. */
  getComponentHealth(component: string): ComponentHealth | undefined {
    const record = this.components.get(component);
    if (record === undefined) return undefined;
    record.history.prune(this.clock.now() - this.retentionMs);
    return this.componentHealth(record);
  }

  /**
   * Health of the whole system.
   *
   * Score: `round(Σ wᵢ·sᵢ / Σ wᵢ)` over every check that has a result, where `sᵢ` is 100 / 50 / 0 for an
   * effective status healthy / degraded / unhealthy (the worse of the check's latest status and its
   * component's threshold status) and `wᵢ` is `criticalWeight` (default 3) for a critical check, else 1.
   * With no result at all the score is 100.
   *
   * Overall: `unhealthy` when a critical check is effectively unhealthy or the score is below 50;
   * `degraded` when any check is effectively not healthy; else `healthy`.
   */
  getSystemHealth(): SystemHealth {
    const cutoff = this.clock.now() - this.retentionMs;
    const components: ComponentHealth[] = [];
    const thresholdStatus = new Map<string, HealthStatus>();
    for (const record of this.components.values()) {
      record.history.prune(cutoff);
      const health = this.componentHealth(record);
      components.push(health);
      thresholdStatus.set(record.name, severityStatus(health.severity));
    }
    let weighted = 0;
    let weights = 0;
    let criticalDown = false;
    let anyDown = false;
    for (const check of this.checks.values()) {
      if (check.last === undefined) continue;
      const status = worseStatus(check.last.status, thresholdStatus.get(check.component) ?? 'healthy');
      const w = check.critical ? this.criticalWeight : 1;
      weighted += w * statusScore(status);
      weights += w;
      if (status !== 'healthy') anyDown = true;
      if (status === 'unhealthy' && check.critical) criticalDown = true;
    }
    const score = weights === 0 ? 100 : Math.round(weighted / weights);
    const overall: HealthStatus = criticalDown || score < 50 ? 'unhealthy' : anyDown ? 'degraded' : 'healthy';
    return { overall, score, components, timestamp: new Date(this.clock.now()) };
  }

  /** Results of `component`, oldest first: the newest `limit` when given. Empty for an unknown component. */
  getHistory(component: string, limit?: number): HealthCheckResult[] {
    const record = this.components.get(component);
    if (record === undefined) return [];
    record.history.prune(this.clock.now() - this.retentionMs);
    return record.history.toArray(limit);
  }

  /** Forgets the history of `component`, or of every component (cached latest results stay). */
  clearHistory(component?: string): void {
    for (const record of this.components.values()) {
      if (component !== undefined && record.name !== component) continue;
      record.history.clear();
      this.refreshComponent(record);
    }
  }

  /**
   * A report in the `application/health+json` shape (serve it with {@link HEALTH_JSON_CONTENT_TYPE} and
   * `healthReportHttpStatus`). See {@link HealthReportView} for what each view checks.
   * @param view which probe the report answers. @default 'health'
   */
  report(view: HealthReportView = 'health'): HealthReport {
    const system = this.getSystemHealth();
    const thresholds: ReportThresholdInput[] = [];
    for (const health of system.components) {
      const t = this.thresholds.get(health.component);
      if (t === undefined || health.lastChecked === undefined) continue;
      const value = t.metric === 'availability' ? health.availability : t.metric === 'errorRate' ? health.errorRate : health.averageResponseTime;
      thresholds.push({ component: health.component, metric: t.metric, unit: METRIC_UNIT[t.metric], value, severity: health.severity, time: health.lastChecked });
    }
    const checks = [...this.checks.values()].map((c) => ({
      name: c.name,
      component: c.component,
      critical: c.critical,
      liveness: c.liveness,
      measurement: c.measurement,
      last: c.last,
      hasPassed: c.hasPassed,
    }));
    return buildHealthReport(view, checks, thresholds, system.overall, this.service);
  }

  private componentRecord(name: string, configured: boolean): ComponentRecord {
    let record = this.components.get(name);
    if (record === undefined) {
      record = { name, history: new ComponentHistory(this.historySize), configured, checks: new Set(), status: 'unknown', lastResult: undefined };
      this.components.set(name, record);
    }
    return record;
  }

  private arm(record: CheckRecord, delayMs: number): void {
    record.timer = this.clock.schedule(() => this.tick(record), delayMs, { keepAlive: false });
  }

  private tick(record: CheckRecord): void {
    record.timer = undefined;
    if (!this.running || record.removed) return;
    if (record.busy > 0) {
      if (this.events.wants('checkSkipped')) this.events.emit('checkSkipped', { check: record.name, component: record.component });
    } else {
      void this.startRun(record, false).promise;
    }
    if (this.running && !record.removed) this.arm(record, record.intervalMs);
  }

  private startRun(record: CheckRecord, awaited: boolean): PendingRun {
    const started = this.clock.now();
    const controller = new AbortController();
    let settled = false;
    let resolveRun!: (result: HealthCheckResult) => void;
    const promise = new Promise<HealthCheckResult>((resolve) => (resolveRun = resolve));
    const finish = (result: HealthCheckResult, record_: boolean): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      if (record.run === run) record.run = undefined;
      if (record_ && !record.removed) this.record(record, result);
      resolveRun(result);
    };
    const timer = this.clock.schedule(
      () => {
        const message = `Health check "${record.name}" timed out after ${record.timeoutMs} ms`;
        controller.abort(new Error(message));
        finish(this.failure(record, started, message, { timedOut: true }), true);
      },
      record.timeoutMs,
      { keepAlive: awaited },
    );
    const run: PendingRun = {
      promise,
      cancel: () => {
        if (settled) return;
        const message = `Health check "${record.name}" cancelled`;
        controller.abort(new Error(message));
        finish(this.failure(record, started, message), false);
      },
    };
    record.run = run;
    record.busy++;
    let pending: unknown;
    try {
      pending = record.fn({ signal: controller.signal, name: record.name, component: record.component });
    } catch (error) {
      pending = Promise.reject(error);
    }
    Promise.resolve(pending).then(
      (value) => {
        record.busy--;
        finish(this.normalize(record, started, value), true);
      },
      (error: unknown) => {
        record.busy--;
        finish(this.failure(record, started, error instanceof Error ? error.message : String(error)), true);
      },
    );
    return run;
  }

  private failure(record: CheckRecord, started: number, error: string, details?: HealthCheckDetails): HealthCheckResult {
    const now = this.clock.now();
    const result: HealthCheckResult = {
      name: record.name,
      component: record.component,
      status: 'unhealthy',
      lastChecked: new Date(now),
      responseTime: now - started,
      error,
      check: record.name,
    };
    if (details !== undefined) result.details = details;
    return result;
  }

  private normalize(record: CheckRecord, started: number, value: unknown): HealthCheckResult {
    if (value === false) return this.failure(record, started, 'check returned false');
    const now = this.clock.now();
    const result: HealthCheckResult = {
      name: record.name,
      component: record.component,
      status: 'healthy',
      lastChecked: new Date(now),
      responseTime: now - started,
      check: record.name,
    };
    if (typeof value !== 'object' || value === null) return result;
    const given = value as Partial<Record<keyof HealthCheckResult, unknown>>;
    if (!('status' in given) && !('error' in given)) return result;
    if (given.status !== undefined && !isHealthStatus(given.status)) {
      return this.failure(record, started, `check returned an invalid status: ${String(given.status)}`);
    }
    if (isHealthStatus(given.status)) result.status = given.status;
    else if (typeof given.error === 'string') result.status = 'unhealthy';
    if (typeof given.name === 'string' && given.name !== '') result.name = given.name;
    if (typeof given.responseTime === 'number' && Number.isFinite(given.responseTime) && given.responseTime >= 0) {
      result.responseTime = given.responseTime;
    }
    if (typeof given.error === 'string') result.error = given.error;
    if (typeof given.details === 'object' && given.details !== null) result.details = given.details as HealthCheckDetails;
    return result;
  }

  private record(check: CheckRecord, result: HealthCheckResult): void {
    const from: ObservedStatus = check.last?.status ?? 'unknown';
    check.last = result;
    if (result.status !== 'unhealthy') check.hasPassed = true;
    const component = this.componentRecord(check.component, false);
    component.history.prune(this.clock.now() - this.retentionMs);
    component.history.push(result);
    component.lastResult = result;
    this.events.emit('checkCompleted', result);
    this.emitSeed('health-check-completed', check.component, { check: check.name, result });
    if (from !== result.status) {
      this.events.emit('statusChange', { component: check.component, check: check.name, from, to: result.status, result });
      this.emitSeed('health-status-changed', check.component, { check: check.name, from, to: result.status, result });
    }
    this.refreshComponent(component);
  }

  /** Recomputes a component's status and emits its change, if any. */
  private refreshComponent(component: ComponentRecord): void {
    const health = this.componentHealth(component);
    const from = component.status;
    if (health.status === from) return;
    component.status = health.status;
    this.events.emit('componentStatusChange', { component: component.name, from, to: health.status, health });
    const rank = { unknown: 0, healthy: 0, degraded: 1, unhealthy: 2 } as const;
    if (rank[health.status] > rank[from]) {
      if (this.alertOnDegradation) this.emitSeed('component-degraded', component.name, { from, to: health.status });
    } else if (health.status === 'healthy' && from !== 'unknown') {
      this.emitSeed('component-recovered', component.name, { from, to: health.status });
    }
  }

  private componentHealth(record: ComponentRecord): ComponentHealth {
    const history = record.history;
    let status: ObservedStatus = 'unknown';
    let critical = false;
    const latest: HealthCheckResult[] = [];
    for (const check of record.checks) {
      if (check.critical) critical = true;
      if (check.last === undefined) continue;
      latest.push(check.last);
      status = worseStatus<ObservedStatus>(status, check.last.status);
    }
    const availability = history.availability() ?? 100;
    const errorRate = history.errorRate() ?? 0;
    const averageResponseTime = history.meanResponseTime() ?? 0;
    let severity: ThresholdSeverity = 'ok';
    const threshold = this.thresholds.get(record.name);
    if (threshold !== undefined && history.length > 0) {
      const value = threshold.metric === 'availability' ? availability : threshold.metric === 'errorRate' ? errorRate : averageResponseTime;
      severity = thresholdSeverity(threshold, value);
      if (status !== 'unknown') status = worseStatus<ObservedStatus>(status, severityStatus(severity));
    }
    return {
      component: record.name,
      status,
      severity,
      responseTime: record.lastResult?.responseTime ?? 0,
      averageResponseTime,
      availability,
      errorRate,
      trend: history.trend(this.trendWindow, this.trendSensitivity),
      consecutiveFailures: history.consecutiveFailures,
      critical,
      lastChecked: record.lastResult?.lastChecked,
      checks: latest,
    };
  }

  private emitSeed(type: HealthMonitorEventType, component: string, data: HealthMonitorEvent['data']): void {
    if (!this.seedEvents.wants('event')) return;
    this.seedEvents.emit('event', { type, component, timestamp: new Date(this.clock.now()), data });
  }

  private disposeCheck(record: CheckRecord): void {
    if (typeof record.fn.dispose !== 'function') return;
    try {
      record.fn.dispose();
    } catch (error) {
      reportCallbackError(error, `HealthMonitor check "${record.name}" dispose`);
    }
  }
}
