import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import { conditionHolds, ruleName, validateRule, type DegradationRule } from './degradation-rule.js';
import { HEALTH_SCORE_METRIC, type HealthSource } from './health-source.js';

/** The seed's four levels, most capable first. */
export const DEFAULT_DEGRADATION_LEVELS: readonly string[] = ['full', 'reduced', 'minimal', 'emergency'];

/** What caused a level change: the rules (`automatic`) or a person or program calling the API (`manual`). */
export type DegradationTrigger = 'automatic' | 'manual';

/** A feature that degradation turns off (the seed's feature shape). */
export interface DegradationFeature {
  /** Unique name, as passed to `isFeatureEnabled`. */
  name: string;
  /** The feature flag: when false the feature is off at every level. @default true */
  enabled?: boolean;
  /**
   * Levels at which it turns off. A feature is off at the least severe level listed and at every more
   * severe one (listing `['minimal']` also turns it off at `emergency`). @default []
   */
  degradationLevels?: string[];
  /**
   * Importance; higher is more important. Compared with `minPriority` of the level in force.
   * @default 0
   */
  priority?: number;
  /** Features this one needs: it is off whenever any of them is off. @default [] */
  dependencies?: string[];
}

/** Context passed to a level hook. */
export interface LevelHookContext {
  /** The level whose hook runs. */
  level: string;
  /** The step being made (one level apart). */
  from: string;
  to: string;
  /** `degrade` when `to` is more severe than `from`, else `recover`. */
  direction: 'degrade' | 'recover';
  reason: string;
  trigger: DegradationTrigger;
}

/**
 * Hooks of one level; either may return a promise, which the transition awaits (up to `hookTimeoutMs`;
 * after `stop()` the transition in progress no longer awaits them).
 * A hook may request another level change (it retargets the transition) but must not await one: the
 * transition it would wait for is waiting for the hook.
 */
export interface LevelHooks {
  /** Runs right after the level came into force. */
  onEnter?: (context: LevelHookContext) => void | Promise<void>;
  /** Runs right before the level stops being in force. */
  onExit?: (context: LevelHookContext) => void | Promise<void>;
}

/** State to start from, e.g. the one saved before a restart (a store's `DegradationStateRecord` fits). */
export interface DegradationInitialState {
  /** The level in force. */
  level: string;
  /** Since when, in clock milliseconds (clamped to now). @default clock.now() */
  since?: number;
  reason?: string;
  trigger?: string;
  /** Feature flags, as `{ name: enabled }` or as `[{ name, enabled }]` (a store's feature flag records fit). */
  features?: Record<string, boolean> | ReadonlyArray<{ name: string; enabled: boolean }>;
  /** A pinned level, as set by `setOverride` (normally equal to `level`). @default null */
  override?: string | null;
}

/**
 * Configuration of {@link GracefulDegradation}: the seed's `degradation` section plus levels, anti-flapping,
 * capabilities, hooks, restored state and a clock. Durations are milliseconds.
 */
export interface GracefulDegradationConfig {
  /** When false, `start()` schedules nothing and evaluations never change the level (manual control still works). @default true */
  enabled?: boolean;
  /** When false, evaluations never change the level (manual control still works). @default true */
  autoDegrade?: boolean;
  /** Rules of automatic degradation; the most severe matching rule wins. @default [] */
  rules?: DegradationRule[];
  /** Declared features. @default [] */
  features?: DegradationFeature[];
  /** Milliseconds between two evaluations once started (> 0). @default 5_000 */
  recoveryCheckInterval?: number;
  /** Ordered level names, most capable first (at least 2, unique). @default DEFAULT_DEGRADATION_LEVELS */
  levels?: string[];
  /**
   * Margin (in each rule's metric units, >= 0) the metric must clear a rule's threshold by before that
   * rule stops holding a level; a rule's own `hysteresis` wins. @default 0
   */
  hysteresis?: number;
  /**
   * Minimum milliseconds in a level before any automatic change (either way). It counts from the last
   * level change or the restored `initialState.since`; a fresh instance at its first level is not held.
   * Recovery also waits until no rule for the current or a more severe level has held (margin included)
   * for this long, so a metric oscillating across a threshold keeps the level where it is.
   * @default 30_000
   */
  minDwellMs?: number;
  /**
   * Per level, the lowest feature priority that stays on, e.g. `{ emergency: 90 }`. A floor also applies
   * at every more severe level (the highest floor so far wins). @default {}
   */
  minPriority?: Record<string, number>;
  /**
   * Per capability, its level (0..100) per degradation level, e.g. `{ 'parallel-processing': { full: 100, reduced: 50 } }`.
   * See {@link GracefulDegradation.getCapabilityLevel}. @default {}
   */
  capabilities?: Record<string, Record<string, number>>;
  /** Hooks per level, run step by step during transitions. @default {} */
  hooks?: Record<string, LevelHooks>;
  /**
   * Longest a hook's promise is awaited before the transition goes on (> 0); the timer bounding it does not
   * keep the process alive. @default 30_000
   */
  hookTimeoutMs?: number;
  /** State to start from instead of the first level with the configured flags. */
  initialState?: DegradationInitialState;
  /** Most features (declared or added by `setFeatureEnabled`) held (integer >= 1). @default 10_000 */
  maxFeatures?: number;
  /** Most distinct metrics `reportMetric` holds (integer >= 1). @default 1_000 */
  maxMetrics?: number;
  /** Level changes kept by `getHistory` (integer >= 1). @default 100 */
  historySize?: number;
  /** Instance name in events and diagnostics_channel messages. @default 'degradation' */
  name?: string;
  /** Source of time and timers. @default systemClock */
  clock?: Clock;
}

/** One step between two adjacent levels (payload of `levelChange`). */
export interface LevelChange {
  from: string;
  to: string;
  /** Where the transition this step belongs to is heading. */
  target: string;
  reason: string;
  trigger: DegradationTrigger;
  /** Clock milliseconds. */
  at: number;
}

/** Payload of `featureChange`: a feature's availability (flag, level, priority and dependencies combined) changed. */
export interface FeatureChange {
  feature: string;
  enabled: boolean;
}

/** Result of {@link GracefulDegradation.evaluate}. */
export interface DegradationEvaluation {
  /** What the evaluation did. */
  action: 'degrade' | 'recover' | 'hold' | 'none';
  /**
   * Why nothing changed, when `action` is `hold` or `none`: `disabled`, `override`, `transition` (one is in
   * progress), `source-error` (the health source failed), `dwell`, `hysteresis`, or `steady`.
   */
  heldBy?: 'disabled' | 'override' | 'transition' | 'source-error' | 'dwell' | 'hysteresis' | 'steady';
  /** The level before the evaluation. */
  from: string;
  /** The level the evaluation moves to (equal to `from` when nothing changed). */
  to: string;
  /**
   * The rule that decided: the most severe matching one, or when `heldBy` is `hysteresis` the one still
   * holding within its margin. Absent when no rule matched.
   */
  rule?: string;
  /** The metric values used. */
  metrics: Record<string, number>;
}

/** Result of {@link GracefulDegradation.getCurrentState}. */
export interface DegradationState {
  level: string;
  /** 0 for the first (most capable) level, counting up with severity. */
  levelIndex: number;
  /** When the level came into force, clock milliseconds. */
  since: number;
  reason: string;
  trigger: DegradationTrigger;
  /** Availability of every known feature (what `isFeatureEnabled` answers). */
  features: Record<string, boolean>;
  /** Feature flags (what `setFeatureEnabled` set), for persisting and `initialState.features`. */
  flags: Record<string, boolean>;
  /** The pinned level, or null. */
  override: string | null;
}

/** A feature as listed by {@link GracefulDegradation.getFeatures}. */
export interface FeatureInfo {
  name: string;
  /** The feature flag. */
  enabled: boolean;
  /** Whether it is available now (what `isFeatureEnabled` answers). */
  available: boolean;
  priority: number;
  /** Levels at which it is off (after the monotonic rule and rules' `affectedFeatures`). */
  degradationLevels: string[];
  dependencies: string[];
}

/** Result of {@link GracefulDegradation.getStatistics}. */
export interface DegradationStatistics {
  currentLevel: string;
  /** Milliseconds spent in each level since the instance was created, the current stay included. */
  timeInLevel: Record<string, number>;
  /** Times each level was entered (steps through intermediate levels count; the starting level counts once). */
  entries: Record<string, number>;
  /** Level changes (steps) in all. */
  transitions: number;
  automaticTransitions: number;
  manualTransitions: number;
  /** Milliseconds spent in any level but the first. */
  degradedTime: number;
  /** Clock milliseconds of the last level change, if any. */
  lastTransitionAt: number | undefined;
  /** Names of the features that are off now, least important first. */
  disabledFeatures: string[];
  /** Hook calls that threw, rejected or timed out. */
  hookFailures: number;
}

/** Payload of `hookError`. */
export interface HookError {
  level: string;
  hook: 'onEnter' | 'onExit';
  error: unknown;
}

/** Events of {@link GracefulDegradation}, by name. */
export interface GracefulDegradationEvents {
  /** The level changed by one step. */
  levelChange: LevelChange;
  /** A feature's availability changed. */
  featureChange: FeatureChange;
  /** A feature flag was set to a new value (whether or not availability changed). */
  flagChange: FeatureChange;
  /** The override was set or cleared. */
  overrideChange: { override: string | null };
  /** A hook threw, rejected or timed out; the transition went on. */
  hookError: HookError;
}

/** Types of the seed-shaped events delivered by {@link GracefulDegradation.onEvent}. */
export type DegradationEventType = 'degradation-triggered' | 'degradation-recovered' | 'feature-disabled' | 'feature-enabled';

/** A degradation event in the seed's `{ type, component, timestamp, data }` shape. */
export interface DegradationEvent {
  type: DegradationEventType;
  /** The instance name for level changes, the feature name for feature changes. */
  component: string;
  timestamp: Date;
  data: { from?: string; to?: string; reason?: string; trigger?: DegradationTrigger; feature?: string; enabled?: boolean };
}

interface FeatureRecord {
  readonly name: string;
  flag: boolean;
  readonly priority: number;
  /** Index of the least severe level at which it is off (levels.length when none). */
  readonly offFrom: number;
  readonly dependencies: readonly string[];
  available: boolean;
}

interface Step {
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  readonly trigger: DegradationTrigger;
  phase: 'exit' | 'switch' | 'enter';
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

const RESOLVED: Promise<void> = Promise.resolve();

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Graceful degradation by levels: features turn off by level and priority as health drops and back on as it
 * recovers, with capability levels for tuning (parallelism, batch sizes) in between.
 *
 * - Levels are ordered, most capable first (the seed's `full`, `reduced`, `minimal`, `emergency` by default;
 *   any list such as the NestJS plan's five levels works).
 * - Rules compare `health_score` (from the health source, read on each evaluation) or any reported metric
 *   with a threshold. The most severe matching rule's level is entered in one transition (through each
 *   intermediate level); recovery goes up one level per evaluation, and only when no rule for the current
 *   level or a more severe one matches even with the hysteresis margin, and none has for `minDwellMs`.
 *   No automatic change happens before `minDwellMs` in the current level, so an oscillating metric does
 *   not make the level flap.
 * - Transitions are step by step: from `full` to `minimal` passes through `reduced`, running `onExit` of
 *   the level left and `onEnter` of the level entered at each step, in order both ways. A hook that throws,
 *   rejects or outlives `hookTimeoutMs` is reported (`hookError`, process warning) and the transition goes on.
 * - `degrade`, `forceRecover` and `setOverride` are the manual controls; an override pins a level that
 *   automation leaves alone.
 *
 * Undeclared features are treated as priority 0 with no degradation levels: they are on unless a
 * `minPriority` floor above 0 is in force or a rule's `affectedFeatures` names them.
 *
 * @example
 * ```ts
 * const degradation = new GracefulDegradation({
 *   rules: [{ condition: { type: 'threshold', metric: 'health_score', operator: '<', value: 50 }, targetLevel: 'emergency' }],
 *   features: [{ name: 'recommendations', enabled: true, degradationLevels: ['reduced'], priority: 10 }],
 *   hysteresis: 5,
 *   minDwellMs: 60_000,
 * });
 * degradation.setHealthMonitor(healthMonitor);
 * degradation.on('levelChange', ({ from, to, reason }) => log.warn({ from, to, reason }));
 * degradation.start();
 * if (degradation.isFeatureEnabled('recommendations')) res.recommendations = await recommend(user);
 * ```
 */
export class GracefulDegradation {
  private readonly clock: Clock;
  private readonly name: string;
  private readonly enabled: boolean;
  private readonly autoDegrade: boolean;
  private readonly levels: readonly string[];
  private readonly levelIndex: ReadonlyMap<string, number>;
  private readonly rules: readonly { rule: DegradationRule; target: number; name: string; hysteresis: number }[];
  private readonly intervalMs: number;
  private readonly minDwellMs: number;
  /** Per level index, the priority floor in force (monotonic). */
  private readonly floors: readonly number[];
  private readonly capabilities: ReadonlyMap<string, ReadonlyMap<number, number>>;
  private readonly hooks: ReadonlyMap<number, LevelHooks>;
  private readonly hookTimeoutMs: number;
  private readonly maxFeatures: number;
  private readonly maxMetrics: number;
  private readonly historySize: number;
  /** Per undeclared feature named by rules: the least severe level index at which it is off. */
  private readonly implicitOffFrom: ReadonlyMap<string, number>;
  private readonly features = new Map<string, FeatureRecord>();
  private readonly metrics = new Map<string, number>();
  private readonly events: EventEmitter<GracefulDegradationEvents>;
  private readonly seedEvents: EventEmitter<{ event: DegradationEvent }>;
  private healthSource: HealthSource | undefined;

  private current: number;
  private since: number;
  private reason: string;
  private trigger: DegradationTrigger;
  /** When the level last changed (or was restored); undefined while the first level was never left. */
  private lastChangeAt: number | undefined;
  private override: number | undefined;
  /** When an evaluation last found a rule for the current level or a more severe one holding (margin included). */
  private lastHeldAt: number | undefined;

  private target: number;
  private targetReason: string;
  private targetTrigger: DegradationTrigger;
  private step: Step | undefined;
  private busy = false;
  private settled: Deferred | undefined;
  private readonly pendingHooks = new Set<() => void>();
  /**
   * Set by `stop()` while a transition is in progress: its remaining hooks are still called but not awaited
   * (no timeout timer), so the transition reaches its target at once and nothing is left scheduled.
   * Cleared when that transition finishes.
   */
  private abandonHooks = false;

  private timer: TimerHandle | undefined;
  private running = false;

  private readonly createdAt: number;
  private enteredAt: number;
  private readonly timeIn: number[];
  private readonly entries: number[];
  private transitions = 0;
  private automaticTransitions = 0;
  private manualTransitions = 0;
  private lastTransitionAt: number | undefined;
  private hookFailures = 0;
  private readonly history: LevelChange[] = [];

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(config: GracefulDegradationConfig = {}) {
    validateConfig(config);
    this.clock = config.clock ?? systemClock;
    this.name = config.name ?? 'degradation';
    this.enabled = config.enabled ?? true;
    this.autoDegrade = config.autoDegrade ?? true;
    this.levels = [...(config.levels ?? DEFAULT_DEGRADATION_LEVELS)];
    this.levelIndex = new Map(this.levels.map((level, i) => [level, i]));
    const idx = (level: string): number => this.levelIndex.get(level) as number;
    const hysteresis = config.hysteresis ?? 0;
    this.rules = (config.rules ?? []).map((rule) => ({
      rule,
      target: idx(rule.targetLevel),
      name: ruleName(rule),
      hysteresis: rule.hysteresis ?? hysteresis,
    }));
    this.intervalMs = config.recoveryCheckInterval ?? 5_000;
    this.minDwellMs = config.minDwellMs ?? 30_000;
    const floors: number[] = [];
    let floor = -Infinity;
    for (const level of this.levels) {
      floor = Math.max(floor, config.minPriority?.[level] ?? -Infinity);
      floors.push(floor);
    }
    this.floors = floors;
    this.capabilities = new Map(
      Object.entries(config.capabilities ?? {}).map(([name, byLevel]) => [name, new Map(Object.entries(byLevel).map(([level, value]) => [idx(level), value]))]),
    );
    this.hooks = new Map(Object.entries(config.hooks ?? {}).map(([level, hooks]) => [idx(level), hooks]));
    this.hookTimeoutMs = config.hookTimeoutMs ?? 30_000;
    this.maxFeatures = config.maxFeatures ?? 10_000;
    this.maxMetrics = config.maxMetrics ?? 1_000;
    this.historySize = config.historySize ?? 100;
    this.events = new EventEmitter('degradation', this.name);
    this.seedEvents = new EventEmitter('degradation-seed', this.name);

    // Rules' affectedFeatures turn those features off from the rule's level on.
    const ruleOffFrom = new Map<string, number>();
    for (const { rule, target } of this.rules) {
      for (const feature of rule.affectedFeatures ?? []) ruleOffFrom.set(feature, Math.min(ruleOffFrom.get(feature) ?? Infinity, target));
    }
    const declared = new Set((config.features ?? []).map((f) => f.name));
    this.implicitOffFrom = new Map([...ruleOffFrom].filter(([name]) => !declared.has(name)));

    const restored = config.initialState;
    const flags = new Map<string, boolean>();
    if (restored?.features !== undefined) {
      const list = Array.isArray(restored.features)
        ? (restored.features as ReadonlyArray<{ name: string; enabled: boolean }>).map((f) => [f.name, f.enabled] as const)
        : Object.entries(restored.features);
      for (const [name, enabled] of list) flags.set(name, enabled);
    }
    for (const f of config.features ?? []) {
      const own = Math.min(...(f.degradationLevels ?? []).map(idx), this.levels.length);
      this.features.set(f.name, {
        name: f.name,
        flag: flags.get(f.name) ?? f.enabled ?? true,
        priority: f.priority ?? 0,
        offFrom: Math.min(own, ruleOffFrom.get(f.name) ?? Infinity),
        dependencies: [...(f.dependencies ?? [])],
        available: true,
      });
    }
    for (const [name, offFrom] of this.implicitOffFrom) this.features.set(name, this.undeclared(name, flags.get(name) ?? true, offFrom));
    for (const [name, enabled] of flags) {
      if (!this.features.has(name) && this.features.size < this.maxFeatures) this.features.set(name, this.undeclared(name, enabled, this.levels.length));
    }

    const now = this.clock.now();
    this.createdAt = now;
    this.enteredAt = now;
    this.timeIn = this.levels.map(() => 0);
    this.entries = this.levels.map(() => 0);
    if (restored !== undefined) {
      this.current = idx(restored.level);
      this.since = Math.min(restored.since ?? now, now);
      this.reason = restored.reason ?? 'restored';
      this.trigger = restored.trigger === 'automatic' ? 'automatic' : 'manual';
      this.lastChangeAt = this.since;
      this.override = restored.override == null ? undefined : idx(restored.override);
    } else {
      this.current = 0;
      this.since = now;
      this.reason = 'initial';
      this.trigger = 'manual';
      this.lastChangeAt = undefined;
      this.override = undefined;
    }
    this.entries[this.current] = 1;
    this.target = this.current;
    this.targetReason = this.reason;
    this.targetTrigger = this.trigger;
    for (const record of this.features.values()) record.available = this.computeAvailable(record, new Map());
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof GracefulDegradationEvents>(event: K, listener: Listener<GracefulDegradationEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Subscribes to level and feature changes in the seed's `{ type, component, timestamp, data }` shape. */
  onEvent(listener: (event: DegradationEvent) => void): Unsubscribe {
    return this.seedEvents.on('event', listener);
  }

  /** The configured levels, most capable first. */
  getLevels(): string[] {
    return [...this.levels];
  }

  /** Whether `start()` is in effect. */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Sets where `health_score` comes from (a `HealthMonitor` or anything with `getSystemHealth()`); it is
   * read on each evaluation and wins over a `health_score` given to `reportMetric`. Pass null to unset.
   * @throws TypeError when `source` has no `getSystemHealth` function.
   */
  setHealthMonitor(source: HealthSource | null): void {
    if (source !== null && (typeof source !== 'object' || typeof (source as Partial<HealthSource>).getSystemHealth !== 'function')) {
      throw new TypeError('GracefulDegradation.setHealthMonitor: expected an object with a getSystemHealth() function');
    }
    this.healthSource = source ?? undefined;
  }

  /**
   * Records the latest value of a metric that rules may use (e.g. `error_rate`, `p99_ms`). Values persist
   * until replaced.
   * @throws RangeError when `value` is not finite or `maxMetrics` distinct metrics are held.
   */
  reportMetric(name: string, value: number): void {
    if (typeof name !== 'string' || name === '') throw new TypeError('GracefulDegradation.reportMetric: name must be a non-empty string');
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`GracefulDegradation.reportMetric: value of "${name}" must be a finite number, got ${String(value)}`);
    }
    if (!this.metrics.has(name) && this.metrics.size >= this.maxMetrics) {
      throw new RangeError(`GracefulDegradation.reportMetric: cannot add "${name}": maxMetrics (${this.maxMetrics}) metrics are held`);
    }
    this.metrics.set(name, value);
  }

  /**
   * Starts evaluating the rules every `recoveryCheckInterval` milliseconds (housekeeping timer: it does not
   * keep the process alive). A no-op when already running.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.arm();
  }

  /**
   * Stops the evaluations and stops awaiting hooks: the transition in progress, if any, goes on at once to
   * its target, calling the remaining hooks without awaiting them (a later rejection is still reported), so
   * the level ends where the transition was heading and no timer is left. Later transitions await hooks again.
   */
  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    if (this.busy) this.abandonHooks = true;
    for (const abandon of [...this.pendingHooks]) abandon();
  }

  /**
   * Runs one evaluation now: reads the metrics, finds the most severe matching rule and degrades to its
   * level, or recovers one level when allowed. A rule whose metric was never reported does not match.
   * Resolves once any transition it started has finished. Never rejects.
   */
  evaluate(): Promise<DegradationEvaluation> {
    const from = this.levels[this.current] as string;
    const result = (action: DegradationEvaluation['action'], metrics: Record<string, number>, extra: Partial<DegradationEvaluation> = {}): DegradationEvaluation => ({
      action,
      from,
      to: from,
      metrics,
      ...extra,
    });
    const metrics = this.readMetrics();
    if (metrics === undefined) return Promise.resolve(result('none', Object.fromEntries(this.metrics), { heldBy: 'source-error' }));
    const snapshot = Object.fromEntries(metrics);
    if (!this.enabled || !this.autoDegrade) return Promise.resolve(result('none', snapshot, { heldBy: 'disabled' }));
    if (this.override !== undefined) return Promise.resolve(result('none', snapshot, { heldBy: 'override' }));
    if (this.busy) return Promise.resolve(result('none', snapshot, { heldBy: 'transition' }));

    let worst: (typeof this.rules)[number] | undefined;
    let holding: (typeof this.rules)[number] | undefined;
    for (const entry of this.rules) {
      const value = metrics.get(entry.rule.condition.metric);
      if (value === undefined) continue;
      if (holding === undefined && entry.target >= this.current && conditionHolds(entry.rule.condition, value, entry.hysteresis)) holding = entry;
      if (!conditionHolds(entry.rule.condition, value)) continue;
      if (worst === undefined || entry.target > worst.target) worst = entry;
    }
    const now = this.clock.now();
    if (holding !== undefined) this.lastHeldAt = now;
    const ruleField = worst === undefined ? {} : { rule: worst.name };
    const target = worst?.target ?? 0;
    if (target === this.current) return Promise.resolve(result('hold', snapshot, { heldBy: 'steady', ...ruleField }));

    if (worst !== undefined && target > this.current) {
      if (!this.dwellElapsed(now)) return Promise.resolve(result('hold', snapshot, { heldBy: 'dwell', ...ruleField }));
      const value = metrics.get(worst.rule.condition.metric) as number;
      const to = this.levels[target] as string;
      const reason = `rule "${worst.name}" matched (${worst.rule.condition.metric} = ${value})`;
      return this.moveTo(target, reason, 'automatic').then(() => result('degrade', snapshot, { to, ...ruleField }));
    }
    // Recovery: refused while a rule for this level or a more severe one holds within its margin, and
    // until no such rule has held for minDwellMs (and the level has lasted minDwellMs).
    if (holding !== undefined) return Promise.resolve(result('hold', snapshot, { heldBy: 'hysteresis', rule: holding.name }));
    const calmSince = Math.max(this.lastChangeAt ?? -Infinity, this.lastHeldAt ?? -Infinity);
    if (now - calmSince < this.minDwellMs) return Promise.resolve(result('hold', snapshot, { heldBy: 'dwell', ...ruleField }));
    const next = this.current - 1;
    const to = this.levels[next] as string;
    const reason = worst === undefined ? 'no rule matches' : `only rule "${worst.name}" matches`;
    return this.moveTo(next, reason, 'automatic').then(() => result('recover', snapshot, { to, ...ruleField }));
  }

  /**
   * Moves to `level` (the seed's signature), step by step through the levels in between. While an
   * override is set, the override moves to `level` too. Resolves when the transition has finished (at
   * once when no hook returns a promise); never rejects.
   * @throws RangeError when `level` is not a configured level.
   */
  degrade(level: string, reason = 'manual degradation', trigger: DegradationTrigger = 'manual'): Promise<void> {
    const target = this.indexOf(level, 'degrade');
    if (trigger !== 'automatic' && trigger !== 'manual') throw new RangeError(`GracefulDegradation.degrade: trigger must be "automatic" or "manual", got ${String(trigger)}`);
    if (this.override !== undefined && this.override !== target) {
      this.override = target;
      this.events.emit('overrideChange', { override: level });
    }
    return this.moveTo(target, String(reason), trigger);
  }

  /** Clears any override and moves back to the first (most capable) level, step by step. Never rejects. */
  forceRecover(reason = 'forced recovery'): Promise<void> {
    this.setOverrideIndex(undefined);
    return this.moveTo(0, reason, 'manual');
  }

  /**
   * Pins `level` (moving there step by step) so that evaluations leave the level alone, or with null
   * unpins it (the level stays until the next evaluation changes it). Never rejects.
   * @throws RangeError when `level` is not a configured level.
   */
  setOverride(level: string | null): Promise<void> {
    if (level === null) {
      this.setOverrideIndex(undefined);
      return this.busy ? this.settledPromise() : RESOLVED;
    }
    const target = this.indexOf(level, 'setOverride');
    this.setOverrideIndex(target);
    return this.moveTo(target, `override: ${level}`, 'manual');
  }

  /**
   * Whether `name` is available: its flag is on, the level in force is below the levels at which it turns
   * off, its priority meets the level's `minPriority`, and its dependencies are available. Undeclared
   * features count as priority 0 with no degradation levels.
   */
  isFeatureEnabled(name: string): boolean {
    const record = this.features.get(name);
    if (record !== undefined) return record.available;
    return (this.floors[this.current] as number) <= 0;
  }

  /**
   * Sets the flag of feature `name` (adding it as an undeclared feature when unknown) and emits
   * `flagChange` and, when its availability (or a dependent's) changed, `featureChange`.
   * @throws RangeError when adding it would exceed `maxFeatures`.
   */
  setFeatureEnabled(name: string, enabled: boolean): void {
    if (typeof name !== 'string' || name === '') throw new TypeError('GracefulDegradation.setFeatureEnabled: name must be a non-empty string');
    if (typeof enabled !== 'boolean') throw new TypeError('GracefulDegradation.setFeatureEnabled: enabled must be a boolean');
    let record = this.features.get(name);
    if (record === undefined) {
      if (this.features.size >= this.maxFeatures) {
        throw new RangeError(`GracefulDegradation.setFeatureEnabled: cannot add "${name}": maxFeatures (${this.maxFeatures}) features are held`);
      }
      record = this.undeclared(name, enabled, this.levels.length);
      record.available = this.computeAvailable(record, new Map());
      this.features.set(name, record);
      this.events.emit('flagChange', { feature: name, enabled });
      return;
    }
    if (record.flag === enabled) return;
    record.flag = enabled;
    this.events.emit('flagChange', { feature: name, enabled });
    this.refreshFeatures();
  }

  /**
   * The level (0..100) of capability `name` in the current degradation level: 0 when a feature of that
   * name is off; else its configured value for the current level, or for the nearest less severe level
   * that has one; else the default curve `round(100 × (n − i) / n)` for level index `i` of `n` levels
   * (100, 75, 50, 25 with the default four).
   */
  getCapabilityLevel(name: string): number {
    const feature = this.features.get(name);
    if (feature !== undefined && !feature.available) return 0;
    const byLevel = this.capabilities.get(name);
    if (byLevel !== undefined) {
      for (let i = this.current; i >= 0; i--) {
        const value = byLevel.get(i);
        if (value !== undefined) return value;
      }
    }
    const n = this.levels.length;
    return Math.round((100 * (n - this.current)) / n);
  }

  /** The level in force, why, since when, features and override. */
  getCurrentState(): DegradationState {
    const features: Record<string, boolean> = {};
    const flags: Record<string, boolean> = {};
    for (const record of this.features.values()) {
      features[record.name] = record.available;
      flags[record.name] = record.flag;
    }
    return {
      level: this.levels[this.current] as string,
      levelIndex: this.current,
      since: this.since,
      reason: this.reason,
      trigger: this.trigger,
      features,
      flags,
      override: this.override === undefined ? null : (this.levels[this.override] as string),
    };
  }

  /** Every known feature, most important first (ties by name). */
  getFeatures(): FeatureInfo[] {
    return [...this.features.values()]
      .sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((record) => ({
        name: record.name,
        enabled: record.flag,
        available: record.available,
        priority: record.priority,
        degradationLevels: this.levels.slice(record.offFrom),
        dependencies: [...record.dependencies],
      }));
  }

  /** Time in each level, entries per level and transition counts since the instance was created. */
  getStatistics(): DegradationStatistics {
    const now = this.clock.now();
    const timeInLevel: Record<string, number> = {};
    const entries: Record<string, number> = {};
    let degradedTime = 0;
    this.levels.forEach((level, i) => {
      const time = (this.timeIn[i] as number) + (i === this.current ? now - this.enteredAt : 0);
      timeInLevel[level] = time;
      entries[level] = this.entries[i] as number;
      if (i > 0) degradedTime += time;
    });
    return {
      currentLevel: this.levels[this.current] as string,
      timeInLevel,
      entries,
      transitions: this.transitions,
      automaticTransitions: this.automaticTransitions,
      manualTransitions: this.manualTransitions,
      degradedTime,
      lastTransitionAt: this.lastTransitionAt,
      disabledFeatures: [...this.features.values()]
        .filter((f) => !f.available)
        .sort((a, b) => a.priority - b.priority || (a.name < b.name ? -1 : 1))
        .map((f) => f.name),
      hookFailures: this.hookFailures,
    };
  }

  /** The latest level changes (at most `historySize`), oldest first. */
  getHistory(): LevelChange[] {
    return this.history.map((change) => ({ ...change }));
  }

  private arm(): void {
    if (!this.running || !this.enabled) return;
    this.timer = this.clock.schedule(
      () => {
        this.timer = undefined;
        void this.evaluate();
        this.arm();
      },
      this.intervalMs,
      { keepAlive: false },
    );
  }

  private readMetrics(): Map<string, number> | undefined {
    const metrics = new Map(this.metrics);
    if (this.healthSource === undefined) return metrics;
    let score: unknown;
    try {
      score = this.healthSource.getSystemHealth().score;
    } catch (error) {
      reportCallbackError(error, `GracefulDegradation "${this.name}" health source getSystemHealth()`);
      return undefined;
    }
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      reportCallbackError(new TypeError(`score is ${String(score)}, not a finite number`), `GracefulDegradation "${this.name}" health source getSystemHealth()`);
      return undefined;
    }
    metrics.set(HEALTH_SCORE_METRIC, score);
    return metrics;
  }

  private dwellElapsed(now: number): boolean {
    return this.lastChangeAt === undefined || now - this.lastChangeAt >= this.minDwellMs;
  }

  private indexOf(level: string, method: string): number {
    const index = this.levelIndex.get(level);
    if (index === undefined) {
      throw new RangeError(`GracefulDegradation.${method}: unknown level ${JSON.stringify(level)}; levels are ${this.levels.map((l) => JSON.stringify(l)).join(', ')}`);
    }
    return index;
  }

  private setOverrideIndex(index: number | undefined): void {
    if (this.override === index) return;
    this.override = index;
    this.events.emit('overrideChange', { override: index === undefined ? null : (this.levels[index] as string) });
  }

  private undeclared(name: string, flag: boolean, offFrom: number): FeatureRecord {
    return { name, flag, priority: 0, offFrom, dependencies: [], available: true };
  }

  private computeAvailable(record: FeatureRecord, memo: Map<string, boolean>): boolean {
    const known = memo.get(record.name);
    if (known !== undefined) return known;
    let available = record.flag && this.current < record.offFrom && record.priority >= (this.floors[this.current] as number);
    if (available) {
      for (const dependency of record.dependencies) {
        const other = this.features.get(dependency);
        if (other !== undefined && !this.computeAvailable(other, memo)) {
          available = false;
          break;
        }
      }
    }
    memo.set(record.name, available);
    return available;
  }

  /** Recomputes availability; emits turning-off changes least important first, then turning-on most important first. */
  private refreshFeatures(): void {
    const memo = new Map<string, boolean>();
    const changed: FeatureRecord[] = [];
    for (const record of this.features.values()) {
      const available = this.computeAvailable(record, memo);
      if (available !== record.available) {
        record.available = available;
        changed.push(record);
      }
    }
    if (changed.length === 0) return;
    const off = changed.filter((r) => !r.available).sort((a, b) => a.priority - b.priority);
    const on = changed.filter((r) => r.available).sort((a, b) => b.priority - a.priority);
    const at = this.clock.now();
    for (const record of [...off, ...on]) {
      this.events.emit('featureChange', { feature: record.name, enabled: record.available });
      if (this.seedEvents.wants('event')) {
        this.seedEvents.emit('event', {
          type: record.available ? 'feature-enabled' : 'feature-disabled',
          component: record.name,
          timestamp: new Date(at),
          data: { feature: record.name, enabled: record.available },
        });
      }
    }
  }

  // ---- transitions -------------------------------------------------------------------------------

  /** Sets the transition's target; drives it when idle. Synchronous as long as no hook returns a promise. */
  private moveTo(target: number, reason: string, trigger: DegradationTrigger): Promise<void> {
    this.target = target;
    this.targetReason = reason;
    this.targetTrigger = trigger;
    if (this.busy) return this.settledPromise();
    this.busy = true;
    const pending = this.drive();
    if (pending === undefined) {
      this.finishDriving();
      return RESOLVED;
    }
    const settled = this.settledPromise();
    void pending.then(() => this.finishDriving());
    return settled;
  }

  private settledPromise(): Promise<void> {
    if (this.settled === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.settled = { promise, resolve };
    }
    return this.settled.promise;
  }

  private finishDriving(): void {
    this.busy = false;
    this.abandonHooks = false;
    const settled = this.settled;
    this.settled = undefined;
    settled?.resolve();
  }

  /** Runs actions until the target is reached (returns undefined) or one awaits a hook (returns its continuation). */
  private drive(): Promise<void> | undefined {
    for (;;) {
      const action = this.nextAction();
      if (action === undefined) return undefined;
      const pending = action();
      if (pending !== undefined) return pending.then(() => this.drive());
    }
  }

  private nextAction(): (() => Promise<void> | undefined) | undefined {
    if (this.step === undefined) {
      if (this.current === this.target) return undefined;
      const to = this.current + (this.target > this.current ? 1 : -1);
      this.step = { from: this.current, to, reason: this.targetReason, trigger: this.targetTrigger, phase: 'exit' };
    }
    const step = this.step;
    switch (step.phase) {
      case 'exit':
        step.phase = 'switch';
        return () => this.runHook(step.from, 'onExit', step);
      case 'switch':
        step.phase = 'enter';
        return () => this.switchLevel(step);
      case 'enter':
        this.step = undefined;
        return () => this.runHook(step.to, 'onEnter', step);
    }
  }

  private switchLevel(step: Step): undefined {
    const now = this.clock.now();
    this.timeIn[step.from] = (this.timeIn[step.from] as number) + (now - this.enteredAt);
    this.enteredAt = now;
    this.entries[step.to] = (this.entries[step.to] as number) + 1;
    this.current = step.to;
    this.since = now;
    this.reason = step.reason;
    this.trigger = step.trigger;
    this.lastChangeAt = now;
    this.lastTransitionAt = now;
    this.transitions++;
    if (step.trigger === 'automatic') this.automaticTransitions++;
    else this.manualTransitions++;
    const change: LevelChange = {
      from: this.levels[step.from] as string,
      to: this.levels[step.to] as string,
      target: this.levels[this.target] as string,
      reason: step.reason,
      trigger: step.trigger,
      at: now,
    };
    this.history.push(change);
    if (this.history.length > this.historySize) this.history.splice(0, this.history.length - this.historySize);
    this.events.emit('levelChange', change);
    if (this.seedEvents.wants('event')) {
      this.seedEvents.emit('event', {
        type: step.to > step.from ? 'degradation-triggered' : 'degradation-recovered',
        component: this.name,
        timestamp: new Date(now),
        data: { from: change.from, to: change.to, reason: change.reason, trigger: change.trigger },
      });
    }
    this.refreshFeatures();
    return undefined;
  }

  /**
   * Calls a hook; returns a promise only when the hook returned one and hooks are not abandoned (settled,
   * rejected or timed out, never rejecting).
   */
  private runHook(level: number, hook: 'onEnter' | 'onExit', step: Step): Promise<void> | undefined {
    const fn = this.hooks.get(level)?.[hook];
    if (fn === undefined) return undefined;
    const context: LevelHookContext = {
      level: this.levels[level] as string,
      from: this.levels[step.from] as string,
      to: this.levels[step.to] as string,
      direction: step.to > step.from ? 'degrade' : 'recover',
      reason: step.reason,
      trigger: step.trigger,
    };
    let returned: unknown;
    try {
      returned = fn(context);
    } catch (error) {
      this.hookFailed(level, hook, error);
      return undefined;
    }
    if (!isThenable(returned)) return undefined;
    if (this.abandonHooks) {
      // Stopped mid-transition: do not wait (nor arm a timeout); still report a rejection.
      Promise.resolve(returned).then(undefined, (error: unknown) => this.hookFailed(level, hook, error));
      return undefined;
    }
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        timer.cancel();
        this.pendingHooks.delete(finish);
        resolve();
      };
      const timer = this.clock.schedule(
        () => {
          if (done) return;
          this.hookFailed(level, hook, new Error(`timed out after ${this.hookTimeoutMs} ms`));
          finish();
        },
        this.hookTimeoutMs,
        // Housekeeping: the timer only bounds a hook, it must not keep the process alive.
        { keepAlive: false },
      );
      this.pendingHooks.add(finish);
      Promise.resolve(returned).then(finish, (error: unknown) => {
        if (!done) this.hookFailed(level, hook, error);
        finish();
      });
    });
  }

  private hookFailed(level: number, hook: 'onEnter' | 'onExit', error: unknown): void {
    this.hookFailures++;
    const name = this.levels[level] as string;
    reportCallbackError(error, `GracefulDegradation "${this.name}" hook ${name}.${hook}`);
    this.events.emit('hookError', { level: name, hook, error });
  }
}

function validateConfig(config: GracefulDegradationConfig): void {
  const v = new OptionsValidator('GracefulDegradation');
  const c: Partial<Record<keyof GracefulDegradationConfig, unknown>> = config;
  if (!v.object('config', c)) {
    if (c !== undefined) v.throwIfInvalid();
    return;
  }
  v.boolean('enabled', c.enabled);
  v.boolean('autoDegrade', c.autoDegrade);
  v.duration('recoveryCheckInterval', c.recoveryCheckInterval, true);
  v.number('hysteresis', c.hysteresis, { min: 0 });
  v.duration('minDwellMs', c.minDwellMs);
  v.duration('hookTimeoutMs', c.hookTimeoutMs, true);
  v.integer('maxFeatures', c.maxFeatures, 1);
  v.integer('maxMetrics', c.maxMetrics, 1);
  v.integer('historySize', c.historySize, 1);
  v.string('name', c.name);
  v.clock('clock', c.clock);

  let levels: readonly string[] | undefined = DEFAULT_DEGRADATION_LEVELS;
  if (c.levels !== undefined) {
    const ok =
      Array.isArray(c.levels) &&
      c.levels.length >= 2 &&
      c.levels.every((l) => typeof l === 'string' && l !== '') &&
      new Set(c.levels).size === c.levels.length;
    if (ok) levels = c.levels as string[];
    else {
      v.fail('levels', 'an array of at least 2 unique non-empty strings', c.levels);
      levels = undefined;
    }
  }
  const level = (path: string, value: unknown): void => {
    if (levels !== undefined) v.oneOf(path, value, levels);
    else if (typeof value !== 'string') v.fail(path, 'a level name', value);
  };

  if (c.rules !== undefined) {
    if (!Array.isArray(c.rules)) v.fail('rules', 'an array of rules', c.rules);
    else c.rules.forEach((rule: unknown, i) => validateRule(v, `rules[${i}]`, rule, levels));
  }

  const names = new Set<string>();
  const dependencies = new Map<string, string[]>();
  if (c.features !== undefined) {
    if (!Array.isArray(c.features)) v.fail('features', 'an array of features', c.features);
    else {
      c.features.forEach((feature: unknown, i) => {
        const path = `features[${i}]`;
        if (typeof feature !== 'object' || feature === null || Array.isArray(feature)) return v.fail(path, 'an object', feature);
        const f = feature as Record<string, unknown>;
        if (typeof f.name !== 'string' || f.name === '') v.fail(`${path}.name`, 'a non-empty string', f.name);
        else if (names.has(f.name)) v.fail(`${path}.name`, 'a name not used by another feature', f.name);
        else names.add(f.name);
        v.boolean(`${path}.enabled`, f.enabled);
        v.number(`${path}.priority`, f.priority, {});
        if (f.degradationLevels !== undefined) {
          if (!Array.isArray(f.degradationLevels)) v.fail(`${path}.degradationLevels`, 'an array of level names', f.degradationLevels);
          else f.degradationLevels.forEach((l: unknown, j) => level(`${path}.degradationLevels[${j}]`, l));
        }
        if (f.dependencies !== undefined) {
          if (!Array.isArray(f.dependencies)) v.fail(`${path}.dependencies`, 'an array of feature names', f.dependencies);
          else if (typeof f.name === 'string') dependencies.set(f.name, f.dependencies as string[]);
        }
      });
      c.features.forEach((feature: unknown, i) => {
        const f = feature as { name?: unknown; dependencies?: unknown } | null;
        if (typeof f?.name !== 'string' || !Array.isArray(f.dependencies)) return;
        (f.dependencies as unknown[]).forEach((d, j) => {
          if (typeof d !== 'string' || !names.has(d)) v.fail(`features[${i}].dependencies[${j}]`, 'the name of a declared feature', d);
          else if (d === f.name || dependsOn(dependencies, d, f.name as string)) v.fail(`features[${i}].dependencies[${j}]`, 'a feature that does not depend on this one (no cycles)', d);
        });
      });
    }
  }

  if (v.object('minPriority', c.minPriority)) {
    for (const [name, value] of Object.entries(c.minPriority as Record<string, unknown>)) {
      level(`minPriority.${name}`, name);
      v.number(`minPriority.${name}`, value, {});
    }
  }
  if (v.object('capabilities', c.capabilities)) {
    for (const [capability, byLevel] of Object.entries(c.capabilities as Record<string, unknown>)) {
      if (!v.object(`capabilities.${capability}`, byLevel)) {
        if (byLevel === undefined) v.fail(`capabilities.${capability}`, 'an object', byLevel);
        continue;
      }
      for (const [name, value] of Object.entries(byLevel as Record<string, unknown>)) {
        level(`capabilities.${capability}.${name}`, name);
        if (value === undefined) v.fail(`capabilities.${capability}.${name}`, 'a number in 0..100', value);
        v.number(`capabilities.${capability}.${name}`, value, { min: 0, max: 100 });
      }
    }
  }
  if (v.object('hooks', c.hooks)) {
    for (const [name, hooks] of Object.entries(c.hooks as Record<string, unknown>)) {
      level(`hooks.${name}`, name);
      if (!v.object(`hooks.${name}`, hooks)) {
        if (hooks === undefined) v.fail(`hooks.${name}`, 'an object', hooks);
        continue;
      }
      const h = hooks as Record<string, unknown>;
      v.func(`hooks.${name}.onEnter`, h.onEnter);
      v.func(`hooks.${name}.onExit`, h.onExit);
    }
  }
  if (v.object('initialState', c.initialState)) {
    const s = c.initialState as Record<string, unknown>;
    if (v.required('initialState.level', s.level, 'a level name')) level('initialState.level', s.level);
    v.number('initialState.since', s.since, {});
    v.string('initialState.reason', s.reason);
    v.string('initialState.trigger', s.trigger);
    if (s.override !== undefined && s.override !== null) level('initialState.override', s.override);
    if (s.features !== undefined) {
      if (Array.isArray(s.features)) {
        s.features.forEach((f: unknown, i) => {
          const r = f as { name?: unknown; enabled?: unknown } | null;
          if (typeof r !== 'object' || r === null) return v.fail(`initialState.features[${i}]`, 'an object { name, enabled }', f);
          if (typeof r.name !== 'string' || r.name === '') v.fail(`initialState.features[${i}].name`, 'a non-empty string', r.name);
          if (typeof r.enabled !== 'boolean') v.fail(`initialState.features[${i}].enabled`, 'a boolean', r.enabled);
        });
      } else if (v.object('initialState.features', s.features)) {
        for (const [name, enabled] of Object.entries(s.features as Record<string, unknown>)) {
          if (typeof enabled !== 'boolean') v.fail(`initialState.features.${name}`, 'a boolean', enabled);
        }
      }
    }
  }
  v.throwIfInvalid();
}

/** Whether feature `from` depends on `to`, directly or through other features. */
function dependsOn(graph: ReadonlyMap<string, string[]>, from: string, to: string, seen = new Set<string>()): boolean {
  if (seen.has(from)) return false;
  seen.add(from);
  for (const next of graph.get(from) ?? []) {
    if (next === to || dependsOn(graph, next, to, seen)) return true;
  }
  return false;
}
