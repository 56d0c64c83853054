import type { Unsubscribe, Listener } from '../core/events.js';
import type { CircuitBreakerState } from '../policies/circuit-breaker.js';

/**
 * Rows every append-only record gets once stored: an id increasing in insertion order (per table) and the
 * time it happened, in clock milliseconds (`at` defaults to the store's `clock.now()` when omitted).
 */
export interface StoredRow {
  /** Increasing per table, in insertion order. */
  id: number;
  /** When it happened, clock milliseconds. */
  at: number;
}

/** A breaker's state change (table `circuit_breaker_state_history`). */
export interface BreakerTransitionInput {
  /** Breaker name. */
  name: string;
  /** State left, e.g. `closed`. */
  from: string;
  /** State entered, e.g. `open`. */
  to: string;
  /** Why, e.g. `failure-rate` (the breaker's `TransitionReason`). */
  reason?: string;
  /** When, clock ms. @default clock.now() */
  at?: number;
}
/** A stored {@link BreakerTransitionInput}. */
export type BreakerTransitionRecord = Omit<BreakerTransitionInput, 'at'> & StoredRow;

/** One health check result (table `health_checks`). */
export interface HealthCheckInput {
  /** Component checked. */
  component: string;
  /** `healthy`, `degraded` or `unhealthy` (any string the monitor uses). */
  status: string;
  /** How long the check took, ms. */
  responseTimeMs: number;
  /** Human-readable detail or the error message. */
  message?: string;
  /** Extra JSON-serialisable detail. */
  data?: unknown;
  /** When, clock ms. @default clock.now() */
  at?: number;
}
/** A stored {@link HealthCheckInput}. */
export type HealthCheckRecord = Omit<HealthCheckInput, 'at'> & StoredRow;

/** Aggregated health of one component (table `component_health_summary`, one row per component, upserted). */
export interface ComponentSummaryRecord {
  component: string;
  /** Current status. */
  status: string;
  /** Availability over the monitor's window, 0..1. */
  availability: number;
  /** Mean response time, ms. */
  avgResponseTimeMs: number;
  /** `improving`, `stable` or `declining`. */
  trend?: string;
  /** Failures in a row. */
  consecutiveFailures?: number;
  /** Time of the last check, clock ms. */
  lastCheckAt: number;
  /** Extra JSON-serialisable detail. */
  data?: unknown;
}

/** One healing attempt (table `recovery_events`). */
export interface RecoveryEventInput {
  /** Component healed. */
  component: string;
  /** Failure category, e.g. `network`. */
  category: string;
  /** Severity, e.g. `high`. */
  severity: string;
  /** Strategy used, e.g. `retry`. */
  strategy: string;
  /** Outcome, e.g. `success`, `failure`, `timeout`, `escalated`. */
  outcome: string;
  /** How long the recovery took, ms. */
  durationMs: number;
  /** Error message when it failed (or the failure being healed). */
  error?: string;
  /** Attempts made. */
  attempts?: number;
  /** Extra JSON-serialisable detail. */
  data?: unknown;
  /** When, clock ms. @default clock.now() */
  at?: number;
}
/** A stored {@link RecoveryEventInput}. */
export type RecoveryEventRecord = Omit<RecoveryEventInput, 'at'> & StoredRow;

/** The degradation level in force (table `degradation_state`, one row, upserted; every save is also kept in `degradation_history`). */
export interface DegradationStateRecord {
  /** Level name, e.g. `reduced`. */
  level: string;
  /** Why it is in force. */
  reason?: string;
  /** What triggered it, e.g. a rule name or `manual`. */
  trigger?: string;
  /** When the level began, clock ms. */
  since: number;
}
/** A stored past {@link DegradationStateRecord} (`at` equals `since`). */
export type DegradationHistoryRecord = DegradationStateRecord & StoredRow;

/** A feature flag (table `feature_flags`, upserted by name). */
export interface FeatureFlagRecord {
  name: string;
  enabled: boolean;
  /** Higher is more important. */
  priority?: number;
  /** Levels at which the feature turns off. */
  degradationLevels?: readonly string[];
  /** Extra JSON-serialisable detail. */
  data?: unknown;
}

/** A chaos experiment (table `chaos_experiments`, upserted by id). */
export interface ChaosExperimentRecord {
  id: string;
  name: string;
  /** e.g. `running`, `completed`, `aborted`. */
  status: string;
  /** Clock ms. */
  startedAt: number;
  /** Clock ms, once finished. */
  endedAt?: number;
  /** JSON-serialisable definition and results. */
  data?: unknown;
}

/** An event in a chaos experiment's timeline (table `chaos_experiment_events`). */
export interface ChaosEventInput {
  experimentId: string;
  /** e.g. `fault-injected`, `aborted`. */
  type: string;
  data?: unknown;
  /** When, clock ms. @default clock.now() */
  at?: number;
}
/** A stored {@link ChaosEventInput}. */
export type ChaosEventRecord = Omit<ChaosEventInput, 'at'> & StoredRow;

/** A point-in-time system health snapshot (table `system_health_snapshots`). */
export interface HealthSnapshotInput {
  /** Health score 0..100. */
  score: number;
  /** Overall status, e.g. `healthy`. */
  overall: string;
  /** JSON-serialisable detail (components, breakers, ...). */
  data?: unknown;
  /** When, clock ms. @default clock.now() */
  at?: number;
}
/** A stored {@link HealthSnapshotInput}. */
export type HealthSnapshotRecord = Omit<HealthSnapshotInput, 'at'> & StoredRow;

/** An admin/audit log entry (table `audit_log`). */
export interface AuditInput {
  /** Who acted (user, token name, `system`). */
  who: string;
  /** What they did, e.g. `breaker.reset`. */
  action: string;
  /** What it was done to, e.g. a breaker name. */
  target: string;
  data?: unknown;
  /** When, clock ms. @default clock.now() */
  at?: number;
}
/** A stored {@link AuditInput}. */
export type AuditRecord = Omit<AuditInput, 'at'> & StoredRow;

/** Filters shared by every history query. Results come newest first. */
export interface QueryFilter {
  /** Only rows with `at >= since` (clock ms). */
  since?: number;
  /** Only rows with `at < until` (clock ms). */
  until?: number;
  /** At most this many rows. @default 100 */
  limit?: number;
}

/** Events of a {@link Store}. */
export interface StoreEvents {
  /** A batch was written. `durationMs` is measured on the store's clock. */
  flush: { rows: number; durationMs: number };
  /** Rows older than the retention were removed. */
  cleanup: { removed: number; cutoff: number };
  /**
   * Something failed. Never thrown into the caller's path; when nobody listens, a process warning
   * (`ANTIFRAGILE_STORE_ERROR`) is emitted instead. `droppedRows` counts rows lost because of it.
   */
  error: { operation: string; error: unknown; droppedRows: number };
}

/**
 * Where the watch-and-heal capabilities keep history and state that must survive a restart. Appends and
 * saves are synchronous and cheap (an implementation may batch them); reads see every earlier write;
 * `flush()` makes pending writes durable; `close()` flushes and releases the store. Write failures are
 * reported through the `error` event, never thrown at the caller.
 *
 * Implementations: {@link MemoryStore} (default, bounded ring buffers) and `SqliteStore` from
 * `antifragile/sqlite`.
 */
export interface Store {
  /** Saves (upserts) a breaker's exported state under `name`. */
  saveBreakerState(name: string, state: CircuitBreakerState): void;
  /** Every saved breaker state, by name. */
  loadBreakerStates(): Promise<Map<string, CircuitBreakerState>>;
  /** Appends a breaker transition. */
  recordBreakerTransition(transition: BreakerTransitionInput): void;
  /** Appends a health check result. */
  recordHealthCheck(result: HealthCheckInput): void;
  /** Saves (upserts) a component's health summary. */
  saveComponentSummary(summary: ComponentSummaryRecord): void;
  /** Every saved component summary. */
  loadComponentSummaries(): Promise<ComponentSummaryRecord[]>;
  /** Appends a healing attempt. */
  recordRecoveryEvent(event: RecoveryEventInput): void;
  /** Saves (upserts) the degradation level in force and appends it to the degradation history. */
  saveDegradationState(state: DegradationStateRecord): void;
  /** The last saved degradation state, if any. */
  loadDegradationState(): Promise<DegradationStateRecord | undefined>;
  /** Saves (upserts by name) feature flags; flags not listed are kept. */
  saveFeatureFlags(flags: readonly FeatureFlagRecord[]): void;
  /** Every saved feature flag. */
  loadFeatureFlags(): Promise<FeatureFlagRecord[]>;
  /** Appends a system health snapshot. */
  recordHealthSnapshot(snapshot: HealthSnapshotInput): void;
  /** Saves (upserts by id) a chaos experiment. */
  recordChaosExperiment(experiment: ChaosExperimentRecord): void;
  /** Appends an event to a chaos experiment's timeline. */
  recordChaosEvent(event: ChaosEventInput): void;
  /** Appends an audit log entry. */
  recordAudit(entry: AuditInput): void;

  /** Recent breaker transitions, newest first. */
  getBreakerTransitions(filter?: QueryFilter & { name?: string }): Promise<BreakerTransitionRecord[]>;
  /** Recent health checks, newest first. */
  getHealthChecks(filter?: QueryFilter & { component?: string; status?: string }): Promise<HealthCheckRecord[]>;
  /** Recent recovery events, newest first. */
  getRecoveryEvents(filter?: QueryFilter & { component?: string; category?: string; outcome?: string }): Promise<RecoveryEventRecord[]>;
  /** Past degradation states, newest first. */
  getDegradationHistory(filter?: QueryFilter): Promise<DegradationHistoryRecord[]>;
  /** Recent system health snapshots, newest first. */
  getHealthSnapshots(filter?: QueryFilter): Promise<HealthSnapshotRecord[]>;
  /** Chaos experiments, most recently started first; `since`/`until` apply to `startedAt`. */
  getChaosExperiments(filter?: QueryFilter & { status?: string }): Promise<ChaosExperimentRecord[]>;
  /** Chaos experiment events, newest first. */
  getChaosEvents(filter?: QueryFilter & { experimentId?: string }): Promise<ChaosEventRecord[]>;
  /** Audit log entries, newest first. */
  getAuditLog(filter?: QueryFilter & { who?: string; action?: string; target?: string }): Promise<AuditRecord[]>;

  /**
   * Removes history rows (transitions, checks, recovery events, degradation history, snapshots, chaos events,
   * audit entries, and chaos experiments that ended) older than `olderThanMs` before now. State rows are kept.
   * Resolves to the number of rows removed.
   */
  cleanup(olderThanMs: number): Promise<number>;
  /** Makes every pending write durable. */
  flush(): Promise<void>;
  /** Flushes, stops timers and releases the store; later writes are dropped and reported. Idempotent. */
  close(): Promise<void>;
  /** Subscribes to a store event; returns an unsubscribe function. */
  on<K extends keyof StoreEvents>(event: K, listener: Listener<StoreEvents[K]>): Unsubscribe;
}
