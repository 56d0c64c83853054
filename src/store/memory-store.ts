import { systemClock, type Clock } from '../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import type { CircuitBreakerState } from '../policies/circuit-breaker.js';
import { breakerStateProblems, recordProblems, refuseInvalidRecord, type RecordOperation } from './record-validation.js';
import { RingBuffer } from './ring-buffer.js';
import { StoreError, reportStoreError } from './store-error.js';
import { DEFAULT_CLEANUP_INTERVAL_MS, PeriodicTask, validateStoreOptions, type StoreOptions } from './store-options.js';
import type {
  AuditInput,
  AuditRecord,
  BreakerTransitionInput,
  BreakerTransitionRecord,
  ChaosEventInput,
  ChaosEventRecord,
  ChaosExperimentRecord,
  ComponentSummaryRecord,
  DegradationHistoryRecord,
  DegradationStateRecord,
  FeatureFlagRecord,
  HealthCheckInput,
  HealthCheckRecord,
  HealthSnapshotInput,
  HealthSnapshotRecord,
  QueryFilter,
  RecoveryEventInput,
  RecoveryEventRecord,
  Store,
  StoreEvents,
  StoredRow,
} from './store.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions extends StoreOptions {
  /** Rows kept per history table; older rows are dropped first. @default 10_000 */
  maxRows?: number;
  /** Entries kept per state table (breakers, summaries, flags, experiments); the least recently saved goes first. @default 10_000 */
  maxKeys?: number;
  /** @default Infinity (the ring buffers bound memory) */
  retentionMs?: number;
}

/** Default page size of history queries. @internal */
export const DEFAULT_QUERY_LIMIT = 100;

/**
 * A {@link Store} in memory: bounded ring buffers per history table and bounded maps for state. The default
 * store, and the one to use in tests. Records are copied shallowly (a `data` object is kept by reference).
 *
 * @example
 * ```ts
 * const store = new MemoryStore({ maxRows: 1_000 });
 * store.recordRecoveryEvent({ component: 'db', category: 'database', severity: 'high', strategy: 'retry', outcome: 'success', durationMs: 120 });
 * const recent = await store.getRecoveryEvents({ component: 'db', limit: 10 });
 * ```
 */
export class MemoryStore implements Store {
  private readonly clock: Clock;
  private readonly maxKeys: number;
  private readonly events = new EventEmitter<StoreEvents>('store', 'memory');
  private readonly breakers = new Map<string, CircuitBreakerState>();
  private readonly summaries = new Map<string, ComponentSummaryRecord>();
  private readonly flags = new Map<string, FeatureFlagRecord>();
  private readonly experiments = new Map<string, ChaosExperimentRecord>();
  private degradation: DegradationStateRecord | undefined;
  private readonly transitions: RingBuffer<BreakerTransitionRecord>;
  private readonly checks: RingBuffer<HealthCheckRecord>;
  private readonly recoveries: RingBuffer<RecoveryEventRecord>;
  private readonly degradations: RingBuffer<DegradationHistoryRecord>;
  private readonly snapshots: RingBuffer<HealthSnapshotRecord>;
  private readonly chaosEvents: RingBuffer<ChaosEventRecord>;
  private readonly audit: RingBuffer<AuditRecord>;
  private nextId = 1;
  private closed = false;
  private readonly retention: PeriodicTask | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    const v = new OptionsValidator('MemoryStore');
    validateStoreOptions(v, options);
    v.integer('maxRows', options.maxRows, 1);
    v.integer('maxKeys', options.maxKeys, 1);
    v.throwIfInvalid();
    this.clock = options.clock ?? systemClock;
    const maxRows = options.maxRows ?? 10_000;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.transitions = new RingBuffer(maxRows);
    this.checks = new RingBuffer(maxRows);
    this.recoveries = new RingBuffer(maxRows);
    this.degradations = new RingBuffer(maxRows);
    this.snapshots = new RingBuffer(maxRows);
    this.chaosEvents = new RingBuffer(maxRows);
    this.audit = new RingBuffer(maxRows);
    const retentionMs = options.retentionMs ?? Infinity;
    if (retentionMs !== Infinity) {
      this.retention = new PeriodicTask(this.clock, options.cleanupIntervalMs ?? DEFAULT_CLEANUP_INTERVAL_MS, () => {
        this.removeOlderThan(retentionMs);
      });
      this.retention.start();
    }
  }

  saveBreakerState(name: string, state: CircuitBreakerState): void {
    if (this.refuse('saveBreakerState') || refuseInvalidRecord(this.events, 'MemoryStore', 'saveBreakerState', breakerStateProblems(name, state))) return;
    this.put(this.breakers, name, structuredClone(state));
  }

  async loadBreakerStates(): Promise<Map<string, CircuitBreakerState>> {
    return new Map([...this.breakers].map(([name, state]) => [name, structuredClone(state)]));
  }

  recordBreakerTransition(transition: BreakerTransitionInput): void {
    if (this.refuse('recordBreakerTransition') || this.invalid('recordBreakerTransition', transition)) return;
    this.transitions.push(this.row(transition));
  }

  recordHealthCheck(result: HealthCheckInput): void {
    if (this.refuse('recordHealthCheck') || this.invalid('recordHealthCheck', result)) return;
    this.checks.push(this.row(result));
  }

  saveComponentSummary(summary: ComponentSummaryRecord): void {
    if (this.refuse('saveComponentSummary') || this.invalid('saveComponentSummary', summary)) return;
    this.put(this.summaries, summary.component, { ...summary });
  }

  async loadComponentSummaries(): Promise<ComponentSummaryRecord[]> {
    return [...this.summaries.values()].map((s) => ({ ...s }));
  }

  recordRecoveryEvent(event: RecoveryEventInput): void {
    if (this.refuse('recordRecoveryEvent') || this.invalid('recordRecoveryEvent', event)) return;
    this.recoveries.push(this.row(event));
  }

  saveDegradationState(state: DegradationStateRecord): void {
    if (this.refuse('saveDegradationState') || this.invalid('saveDegradationState', state)) return;
    this.degradation = { ...state };
    this.degradations.push({ ...state, id: this.nextId++, at: state.since });
  }

  async loadDegradationState(): Promise<DegradationStateRecord | undefined> {
    return this.degradation === undefined ? undefined : { ...this.degradation };
  }

  saveFeatureFlags(flags: readonly FeatureFlagRecord[]): void {
    if (this.refuse('saveFeatureFlags')) return;
    if (!Array.isArray(flags)) {
      refuseInvalidRecord(this.events, 'MemoryStore', 'saveFeatureFlags', [`flags: expected an array, received ${typeof flags}`]);
      return;
    }
    for (const flag of flags) {
      if (!this.invalid('saveFeatureFlags', flag)) this.put(this.flags, flag.name, { ...flag });
    }
  }

  async loadFeatureFlags(): Promise<FeatureFlagRecord[]> {
    return [...this.flags.values()].map((f) => ({ ...f }));
  }

  recordHealthSnapshot(snapshot: HealthSnapshotInput): void {
    if (this.refuse('recordHealthSnapshot') || this.invalid('recordHealthSnapshot', snapshot)) return;
    this.snapshots.push(this.row(snapshot));
  }

  recordChaosExperiment(experiment: ChaosExperimentRecord): void {
    if (this.refuse('recordChaosExperiment') || this.invalid('recordChaosExperiment', experiment)) return;
    this.put(this.experiments, experiment.id, { ...experiment });
  }

  recordChaosEvent(event: ChaosEventInput): void {
    if (this.refuse('recordChaosEvent') || this.invalid('recordChaosEvent', event)) return;
    this.chaosEvents.push(this.row(event));
  }

  recordAudit(entry: AuditInput): void {
    if (this.refuse('recordAudit') || this.invalid('recordAudit', entry)) return;
    this.audit.push(this.row(entry));
  }

  async getBreakerTransitions(filter: QueryFilter & { name?: string } = {}): Promise<BreakerTransitionRecord[]> {
    return select(this.transitions, filter, (r) => filter.name === undefined || r.name === filter.name);
  }

  async getHealthChecks(filter: QueryFilter & { component?: string; status?: string } = {}): Promise<HealthCheckRecord[]> {
    return select(
      this.checks,
      filter,
      (r) => (filter.component === undefined || r.component === filter.component) && (filter.status === undefined || r.status === filter.status),
    );
  }

  async getRecoveryEvents(
    filter: QueryFilter & { component?: string; category?: string; outcome?: string } = {},
  ): Promise<RecoveryEventRecord[]> {
    return select(
      this.recoveries,
      filter,
      (r) =>
        (filter.component === undefined || r.component === filter.component) &&
        (filter.category === undefined || r.category === filter.category) &&
        (filter.outcome === undefined || r.outcome === filter.outcome),
    );
  }

  async getDegradationHistory(filter: QueryFilter = {}): Promise<DegradationHistoryRecord[]> {
    return select(this.degradations, filter, () => true);
  }

  async getHealthSnapshots(filter: QueryFilter = {}): Promise<HealthSnapshotRecord[]> {
    return select(this.snapshots, filter, () => true);
  }

  async getChaosExperiments(filter: QueryFilter & { status?: string } = {}): Promise<ChaosExperimentRecord[]> {
    const limit = filter.limit ?? DEFAULT_QUERY_LIMIT;
    return [...this.experiments.values()]
      .filter(
        (e) =>
          (filter.status === undefined || e.status === filter.status) &&
          (filter.since === undefined || e.startedAt >= filter.since) &&
          (filter.until === undefined || e.startedAt < filter.until),
      )
      .sort((a, b) => b.startedAt - a.startedAt)
      .slice(0, limit)
      .map((e) => ({ ...e }));
  }

  async getChaosEvents(filter: QueryFilter & { experimentId?: string } = {}): Promise<ChaosEventRecord[]> {
    return select(this.chaosEvents, filter, (r) => filter.experimentId === undefined || r.experimentId === filter.experimentId);
  }

  async getAuditLog(filter: QueryFilter & { who?: string; action?: string; target?: string } = {}): Promise<AuditRecord[]> {
    return select(
      this.audit,
      filter,
      (r) =>
        (filter.who === undefined || r.who === filter.who) &&
        (filter.action === undefined || r.action === filter.action) &&
        (filter.target === undefined || r.target === filter.target),
    );
  }

  async cleanup(olderThanMs: number): Promise<number> {
    return this.removeOlderThan(olderThanMs);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    this.retention?.stop();
  }

  on<K extends keyof StoreEvents>(event: K, listener: Listener<StoreEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  private removeOlderThan(olderThanMs: number): number {
    const cutoff = this.clock.now() - olderThanMs;
    const old = (r: StoredRow): boolean => r.at < cutoff;
    let removed =
      this.transitions.removeWhere(old) +
      this.checks.removeWhere(old) +
      this.recoveries.removeWhere(old) +
      this.degradations.removeWhere(old) +
      this.snapshots.removeWhere(old) +
      this.chaosEvents.removeWhere(old) +
      this.audit.removeWhere(old);
    for (const [id, experiment] of this.experiments) {
      if (experiment.endedAt !== undefined && experiment.endedAt < cutoff) {
        this.experiments.delete(id);
        removed++;
      }
    }
    if (removed > 0 && this.events.wants('cleanup')) this.events.emit('cleanup', { removed, cutoff });
    return removed;
  }

  private row<T extends { at?: number }>(input: T): Omit<T, 'at'> & StoredRow {
    return { ...input, id: this.nextId++, at: input.at ?? this.clock.now() };
  }

  private put<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > this.maxKeys) map.delete(map.keys().next().value as string);
  }

  /** Reports and refuses a record a required field of which is missing or not storable. */
  private invalid(operation: RecordOperation, record: unknown): boolean {
    return refuseInvalidRecord(this.events, 'MemoryStore', operation, recordProblems(operation, record));
  }

  private refuse(operation: string): boolean {
    if (!this.closed) return false;
    reportStoreError(this.events, {
      operation,
      error: new StoreError('STORE_CLOSED', `MemoryStore: ${operation} after close()`),
      droppedRows: 1,
    });
    return true;
  }
}

function select<T extends StoredRow>(rows: RingBuffer<T>, filter: QueryFilter, match: (row: T) => boolean): T[] {
  const limit = filter.limit ?? DEFAULT_QUERY_LIMIT;
  const out: T[] = [];
  if (limit <= 0) return out;
  rows.visitNewestFirst((row) => {
    if ((filter.since === undefined || row.at >= filter.since) && (filter.until === undefined || row.at < filter.until) && match(row)) {
      out.push({ ...row });
    }
    return out.length < limit;
  });
  return out;
}
