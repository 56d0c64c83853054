import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import type { CircuitBreakerState } from '../../policies/circuit-breaker.js';
import { DEFAULT_QUERY_LIMIT } from '../../store/memory-store.js';
import { breakerStateProblems, recordProblems, refuseInvalidRecord, type RecordOperation } from '../../store/record-validation.js';
import { StoreError, reportStoreError } from '../../store/store-error.js';
import { DEFAULT_CLEANUP_INTERVAL_MS, PeriodicTask, validateStoreOptions, type StoreOptions } from '../../store/store-options.js';
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
} from '../../store/store.js';
import { HISTORY_TABLES, MIGRATIONS } from './schema.js';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions extends StoreOptions {
  /** Database file (created with its schema when missing), or `':memory:'`. Required. */
  path: string;
  /** Pending writes that trigger a flush before the interval ends. @default 500 */
  batchSize?: number;
  /** Pending writes are committed at least this often, in one transaction (ms). @default 1_000 */
  flushIntervalMs?: number;
  /**
   * Writes held while flushes fail (a locked or full disk); beyond it new writes are dropped and reported.
   * @default 100_000
   */
  maxPending?: number;
  /** History older than this is removed every `cleanupIntervalMs` (ms). @default 2_592_000_000 (30 days, the seed's retentionDays) */
  retentionMs?: number;
  /** How long a write waits for another connection's lock (ms). @default 5_000 */
  busyTimeoutMs?: number;
  /** Runs `PRAGMA quick_check` at open and refuses a damaged file (costs a full read of the file). @default false */
  checkIntegrityOnOpen?: boolean;
}

type Row = Record<string, unknown>;
type Params = unknown[];
/** A write SQLite refused while a batch was committed row by row: its index in the batch and why. */
interface RejectedRow {
  index: number;
  error: unknown;
}

/**
 * After this many failed attempts in a row, a batch is dropped (and reported) so a failing database cannot hold
 * writes forever. Only database-level failures count: a row SQLite refuses is isolated and dropped alone.
 */
const MAX_BATCH_ATTEMPTS = 3;

/**
 * A {@link Store} on SQLite through `better-sqlite3`: WAL journal with `synchronous=NORMAL`, schema
 * migrations tracked in `PRAGMA user_version`, the seed's tables and views, prepared statements, and
 * batched writes: appends and saves queue in memory and are committed in one transaction every
 * `flushIntervalMs`, or as soon as `batchSize` are pending. A crash (even `kill -9`) loses at most the
 * writes not yet committed and never corrupts the file. Reads commit pending writes first, so they see every
 * earlier write. Write failures go to the `error` event, never to the caller. A record with a missing or
 * unstorable required field (e.g. a `NaN` response time) is refused at once (`STORE_INVALID_RECORD`). When
 * SQLite refuses a row of a batch (a constraint, a value it cannot bind), the batch is committed again row by
 * row in savepoints: only the refused rows are dropped and reported. When the database itself fails (locked,
 * full, I/O), the whole batch stays queued and is retried; after three failed flushes in a row it is dropped
 * and reported. Unlike
 * `MemoryStore`, reads after `close()` reject with a `STORE_CLOSED` {@link StoreError}.
 *
 * Opening throws a {@link StoreError} (`STORE_OPEN_FAILED`) naming the path when the directory does not
 * exist, the file is not a SQLite database, or its schema is newer than this version knows.
 *
 * @example
 * ```ts
 * import { SqliteStore } from 'antifragile/sqlite';
 * const store = new SqliteStore({ path: './resilience.db', flushIntervalMs: 5_000, batchSize: 100 });
 * for (const [name, state] of await store.loadBreakerStates()) manager.getOrCreate(name, { initialState: state });
 * store.recordRecoveryEvent({ component: 'db', category: 'database', severity: 'high', strategy: 'retry', outcome: 'success', durationMs: 120 });
 * await store.close();
 * ```
 */
export class SqliteStore implements Store {
  /** The database file's path. */
  readonly path: string;
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly events: EventEmitter<StoreEvents>;
  private readonly batchSize: number;
  private readonly maxPending: number;
  private readonly flushTask: PeriodicTask;
  private readonly retentionTask: PeriodicTask | undefined;
  private readonly statements: Statements;
  private readonly queries = new Map<string, Database.Statement>();
  private readonly commit: (statements: Database.Statement[], params: Params[]) => void;
  private readonly commitEach: (statements: Database.Statement[], params: Params[]) => RejectedRow[];
  private pendingStatements: Database.Statement[] = [];
  private pendingParams: Params[] = [];
  private failedAttempts = 0;
  private droppedSinceReport = 0;
  private closed = false;

  constructor(options: SqliteStoreOptions) {
    const v = new OptionsValidator('SqliteStore');
    if (v.object('', options) || options === undefined) {
      if (v.required('path', options?.path, 'a file path or ":memory:"')) {
        if (typeof options.path !== 'string' || options.path === '') v.fail('path', 'a file path or ":memory:"', options.path);
      }
      if (options !== undefined) {
        validateStoreOptions(v, options);
        v.integer('batchSize', options.batchSize, 1);
        v.duration('flushIntervalMs', options.flushIntervalMs, true);
        v.integer('maxPending', options.maxPending, 1);
        v.duration('busyTimeoutMs', options.busyTimeoutMs);
        v.boolean('checkIntegrityOnOpen', options.checkIntegrityOnOpen);
      }
    }
    v.throwIfInvalid();
    this.path = options.path;
    this.clock = options.clock ?? systemClock;
    this.batchSize = options.batchSize ?? 500;
    this.maxPending = Math.max(options.maxPending ?? 100_000, this.batchSize);
    this.events = new EventEmitter<StoreEvents>('store', `sqlite:${this.path}`);
    this.db = openDatabase(this.path, options.busyTimeoutMs ?? 5_000, options.checkIntegrityOnOpen ?? false, this.clock);
    this.statements = prepareStatements(this.db);
    this.commit = this.db.transaction((statements: Database.Statement[], params: Params[]) => {
      for (let i = 0; i < statements.length; i++) (statements[i] as Database.Statement).run(params[i] as Params);
    });
    // Called inside a transaction, a better-sqlite3 transaction function runs in a savepoint: a row that fails
    // is rolled back alone.
    const runInSavepoint = this.db.transaction((statement: Database.Statement, params: Params) => statement.run(params));
    this.commitEach = this.db.transaction((statements: Database.Statement[], params: Params[]) => {
      const rejected: RejectedRow[] = [];
      for (let i = 0; i < statements.length; i++) {
        try {
          runInSavepoint(statements[i] as Database.Statement, params[i] as Params);
        } catch (error) {
          if (!isRowLevelError(error)) throw error; // the database itself failed: the whole batch is retried
          rejected.push({ index: i, error });
        }
      }
      return rejected;
    });
    this.flushTask = new PeriodicTask(this.clock, options.flushIntervalMs ?? 1_000, () => this.flushNow());
    this.flushTask.start();
    const retentionMs = options.retentionMs ?? 30 * 24 * 3_600_000;
    if (retentionMs !== Infinity) {
      this.retentionTask = new PeriodicTask(this.clock, options.cleanupIntervalMs ?? DEFAULT_CLEANUP_INTERVAL_MS, () => {
        this.removeOlderThan(retentionMs);
      });
      this.retentionTask.start();
    }
  }

  /** Writes queued and not yet committed. */
  get pending(): number {
    return this.pendingStatements.length;
  }

  saveBreakerState(name: string, state: CircuitBreakerState): void {
    if (this.refuseClosed('saveBreakerState')) return;
    if (refuseInvalidRecord(this.events, `SqliteStore "${this.path}"`, 'saveBreakerState', breakerStateProblems(name, state))) return;
    this.enqueue('saveBreakerState', this.statements.upsertBreaker, () => [
      name,
      state.state,
      state.since,
      state.openUntil,
      state.totals.failures,
      state.totals.successes,
      JSON.stringify(state),
      this.clock.now(),
    ]);
  }

  async loadBreakerStates(): Promise<Map<string, CircuitBreakerState>> {
    const rows = this.read('loadBreakerStates', () => this.statements.selectBreakers.all() as Row[]);
    const states = new Map<string, CircuitBreakerState>();
    for (const row of rows) {
      try {
        states.set(row.name as string, JSON.parse(row.data as string) as CircuitBreakerState);
      } catch (error) {
        reportStoreError(this.events, { operation: `loadBreakerStates (${String(row.name)})`, error, droppedRows: 0 });
      }
    }
    return states;
  }

  recordBreakerTransition(t: BreakerTransitionInput): void {
    if (this.invalid('recordBreakerTransition', t)) return;
    this.enqueue('recordBreakerTransition', this.statements.insertTransition, () => [
      t.name,
      t.from,
      t.to,
      t.reason ?? null,
      t.at ?? this.clock.now(),
    ]);
  }

  recordHealthCheck(r: HealthCheckInput): void {
    if (this.invalid('recordHealthCheck', r)) return;
    this.enqueue('recordHealthCheck', this.statements.insertHealthCheck, () => [
      r.component,
      r.status,
      r.responseTimeMs,
      r.message ?? null,
      json(r.data),
      r.at ?? this.clock.now(),
    ]);
  }

  saveComponentSummary(s: ComponentSummaryRecord): void {
    if (this.invalid('saveComponentSummary', s)) return;
    this.enqueue('saveComponentSummary', this.statements.upsertSummary, () => [
      s.component,
      s.status,
      s.availability,
      s.avgResponseTimeMs,
      s.trend ?? null,
      s.consecutiveFailures ?? null,
      s.lastCheckAt,
      json(s.data),
      this.clock.now(),
    ]);
  }

  async loadComponentSummaries(): Promise<ComponentSummaryRecord[]> {
    const rows = this.read('loadComponentSummaries', () => this.statements.selectSummaries.all() as Row[]);
    return rows.map((row) => {
      const s: ComponentSummaryRecord = {
        component: row.component as string,
        status: row.status as string,
        availability: row.availability as number,
        avgResponseTimeMs: row.avg_response_time_ms as number,
        lastCheckAt: row.last_check_at as number,
      };
      if (row.trend !== null) s.trend = row.trend as string;
      if (row.consecutive_failures !== null) s.consecutiveFailures = row.consecutive_failures as number;
      if (row.data !== null) s.data = parse(row.data);
      return s;
    });
  }

  recordRecoveryEvent(e: RecoveryEventInput): void {
    if (this.invalid('recordRecoveryEvent', e)) return;
    this.enqueue('recordRecoveryEvent', this.statements.insertRecovery, () => [
      e.component,
      e.category,
      e.severity,
      e.strategy,
      e.outcome,
      e.durationMs,
      e.error ?? null,
      e.attempts ?? null,
      json(e.data),
      e.at ?? this.clock.now(),
    ]);
  }

  saveDegradationState(state: DegradationStateRecord): void {
    if (this.invalid('saveDegradationState', state)) return;
    this.enqueue('saveDegradationState', this.statements.upsertDegradation, () => [
      state.level,
      state.reason ?? null,
      state.trigger ?? null,
      state.since,
      this.clock.now(),
    ]);
    this.enqueue('saveDegradationState', this.statements.insertDegradationHistory, () => [
      state.level,
      state.reason ?? null,
      state.trigger ?? null,
      state.since,
    ]);
  }

  async loadDegradationState(): Promise<DegradationStateRecord | undefined> {
    const row = this.read('loadDegradationState', () => this.statements.selectDegradation.get() as Row | undefined);
    return row === undefined ? undefined : degradationFromRow(row);
  }

  saveFeatureFlags(flags: readonly FeatureFlagRecord[]): void {
    if (this.refuseClosed('saveFeatureFlags', Array.isArray(flags) ? flags.length : 1)) return;
    if (!Array.isArray(flags)) {
      refuseInvalidRecord(this.events, `SqliteStore "${this.path}"`, 'saveFeatureFlags', [`flags: expected an array, received ${typeof flags}`]);
      return;
    }
    for (const f of flags) {
      if (this.invalid('saveFeatureFlags', f)) continue;
      this.enqueue('saveFeatureFlags', this.statements.upsertFlag, () => [
        f.name,
        f.enabled ? 1 : 0,
        f.priority ?? null,
        f.degradationLevels === undefined ? null : JSON.stringify(f.degradationLevels),
        json(f.data),
        this.clock.now(),
      ]);
    }
  }

  async loadFeatureFlags(): Promise<FeatureFlagRecord[]> {
    const rows = this.read('loadFeatureFlags', () => this.statements.selectFlags.all() as Row[]);
    return rows.map((row) => {
      const f: FeatureFlagRecord = { name: row.name as string, enabled: row.enabled === 1 };
      if (row.priority !== null) f.priority = row.priority as number;
      if (row.degradation_levels !== null) f.degradationLevels = parse(row.degradation_levels) as string[];
      if (row.data !== null) f.data = parse(row.data);
      return f;
    });
  }

  recordHealthSnapshot(s: HealthSnapshotInput): void {
    if (this.invalid('recordHealthSnapshot', s)) return;
    this.enqueue('recordHealthSnapshot', this.statements.insertSnapshot, () => [s.score, s.overall, json(s.data), s.at ?? this.clock.now()]);
  }

  recordChaosExperiment(e: ChaosExperimentRecord): void {
    if (this.invalid('recordChaosExperiment', e)) return;
    this.enqueue('recordChaosExperiment', this.statements.upsertExperiment, () => [
      e.id,
      e.name,
      e.status,
      e.startedAt,
      e.endedAt ?? null,
      json(e.data),
      this.clock.now(),
    ]);
  }

  recordChaosEvent(e: ChaosEventInput): void {
    if (this.invalid('recordChaosEvent', e)) return;
    this.enqueue('recordChaosEvent', this.statements.insertChaosEvent, () => [e.experimentId, e.type, json(e.data), e.at ?? this.clock.now()]);
  }

  recordAudit(e: AuditInput): void {
    if (this.invalid('recordAudit', e)) return;
    this.enqueue('recordAudit', this.statements.insertAudit, () => [e.who, e.action, e.target, json(e.data), e.at ?? this.clock.now()]);
  }

  async getBreakerTransitions(filter: QueryFilter & { name?: string } = {}): Promise<BreakerTransitionRecord[]> {
    return this.history('circuit_breaker_state_history', filter, { name: 'name' }, (row) => {
      const r: BreakerTransitionRecord = {
        id: row.id as number,
        at: row.at as number,
        name: row.name as string,
        from: row.from_state as string,
        to: row.to_state as string,
      };
      if (row.reason !== null) r.reason = row.reason as string;
      return r;
    });
  }

  async getHealthChecks(filter: QueryFilter & { component?: string; status?: string } = {}): Promise<HealthCheckRecord[]> {
    return this.history('health_checks', filter, { component: 'component', status: 'status' }, (row) => {
      const r: HealthCheckRecord = {
        id: row.id as number,
        at: row.at as number,
        component: row.component as string,
        status: row.status as string,
        responseTimeMs: row.response_time_ms as number,
      };
      if (row.message !== null) r.message = row.message as string;
      if (row.data !== null) r.data = parse(row.data);
      return r;
    });
  }

  async getRecoveryEvents(
    filter: QueryFilter & { component?: string; category?: string; outcome?: string } = {},
  ): Promise<RecoveryEventRecord[]> {
    return this.history('recovery_events', filter, { component: 'component', category: 'category', outcome: 'outcome' }, (row) => {
      const r: RecoveryEventRecord = {
        id: row.id as number,
        at: row.at as number,
        component: row.component as string,
        category: row.category as string,
        severity: row.severity as string,
        strategy: row.strategy as string,
        outcome: row.outcome as string,
        durationMs: row.duration_ms as number,
      };
      if (row.error !== null) r.error = row.error as string;
      if (row.attempts !== null) r.attempts = row.attempts as number;
      if (row.data !== null) r.data = parse(row.data);
      return r;
    });
  }

  async getDegradationHistory(filter: QueryFilter = {}): Promise<DegradationHistoryRecord[]> {
    return this.history('degradation_history', filter, {}, (row) => ({
      ...degradationFromRow({ ...row, since: row.at }),
      id: row.id as number,
      at: row.at as number,
    }));
  }

  async getHealthSnapshots(filter: QueryFilter = {}): Promise<HealthSnapshotRecord[]> {
    return this.history('system_health_snapshots', filter, {}, (row) => {
      const r: HealthSnapshotRecord = { id: row.id as number, at: row.at as number, score: row.score as number, overall: row.overall as string };
      if (row.data !== null) r.data = parse(row.data);
      return r;
    });
  }

  async getChaosExperiments(filter: QueryFilter & { status?: string } = {}): Promise<ChaosExperimentRecord[]> {
    return this.history(
      'chaos_experiments',
      filter,
      { status: 'status' },
      (row) => {
        const r: ChaosExperimentRecord = {
          id: row.id as string,
          name: row.name as string,
          status: row.status as string,
          startedAt: row.started_at as number,
        };
        if (row.ended_at !== null) r.endedAt = row.ended_at as number;
        if (row.data !== null) r.data = parse(row.data);
        return r;
      },
      'started_at',
    );
  }

  async getChaosEvents(filter: QueryFilter & { experimentId?: string } = {}): Promise<ChaosEventRecord[]> {
    return this.history('chaos_experiment_events', filter, { experimentId: 'experiment_id' }, (row) => {
      const r: ChaosEventRecord = { id: row.id as number, at: row.at as number, experimentId: row.experiment_id as string, type: row.type as string };
      if (row.data !== null) r.data = parse(row.data);
      return r;
    });
  }

  async getAuditLog(filter: QueryFilter & { who?: string; action?: string; target?: string } = {}): Promise<AuditRecord[]> {
    return this.history('audit_log', filter, { who: 'who', action: 'action', target: 'target' }, (row) => {
      const r: AuditRecord = {
        id: row.id as number,
        at: row.at as number,
        who: row.who as string,
        action: row.action as string,
        target: row.target as string,
      };
      if (row.data !== null) r.data = parse(row.data);
      return r;
    });
  }

  async cleanup(olderThanMs: number): Promise<number> {
    if (!(olderThanMs >= 0)) throw new RangeError(`SqliteStore.cleanup: olderThanMs must be a number >= 0, got ${String(olderThanMs)}`);
    if (this.closed) return 0;
    return this.removeOlderThan(olderThanMs);
  }

  async flush(): Promise<void> {
    this.flushNow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushTask.stop();
    this.retentionTask?.stop();
    this.flushNow();
    this.closed = true;
    if (this.pendingStatements.length > 0) {
      reportStoreError(this.events, {
        operation: 'close',
        error: new StoreError('STORE_WRITE_FAILED', `SqliteStore "${this.path}": writes could not be committed before close`),
        droppedRows: this.pendingStatements.length,
      });
      this.pendingStatements = [];
      this.pendingParams = [];
    }
    try {
      this.db.close();
    } catch (error) {
      reportStoreError(this.events, { operation: 'close', error, droppedRows: 0 });
    }
  }

  on<K extends keyof StoreEvents>(event: K, listener: Listener<StoreEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Reports and refuses a write after `close()`; `false` while open. */
  private refuseClosed(operation: string, rows = 1): boolean {
    if (!this.closed) return false;
    reportStoreError(this.events, {
      operation,
      error: new StoreError('STORE_CLOSED', `SqliteStore "${this.path}": ${operation} after close()`),
      droppedRows: rows,
    });
    return true;
  }

  /** Reports and refuses a write after `close()`, or of a record a required field of which is missing or not storable. */
  private invalid(operation: RecordOperation, record: unknown): boolean {
    return (
      this.refuseClosed(operation) || refuseInvalidRecord(this.events, `SqliteStore "${this.path}"`, operation, recordProblems(operation, record))
    );
  }

  /** Queues one write; builds its parameters now (so later mutation of the input does not leak in) without ever throwing. */
  private enqueue(operation: string, statement: Database.Statement, params: () => Params): void {
    if (this.refuseClosed(operation)) return;
    if (this.pendingStatements.length >= this.maxPending) {
      this.droppedSinceReport++;
      return;
    }
    let values: Params;
    try {
      values = params();
    } catch (error) {
      reportStoreError(this.events, { operation, error, droppedRows: 1 });
      return;
    }
    this.pendingStatements.push(statement);
    this.pendingParams.push(values);
    if (this.pendingStatements.length >= this.batchSize && this.failedAttempts === 0) this.flushNow();
  }

  /** Commits every pending write in one transaction; never throws. */
  private flushNow(): void {
    if (this.droppedSinceReport > 0) {
      const dropped = this.droppedSinceReport;
      this.droppedSinceReport = 0;
      reportStoreError(this.events, {
        operation: 'append',
        error: new StoreError('STORE_WRITE_FAILED', `SqliteStore "${this.path}": ${dropped} writes dropped, ${this.maxPending} already pending`),
        droppedRows: dropped,
      });
    }
    const count = this.pendingStatements.length;
    if (count === 0 || this.closed) return;
    const statements = this.pendingStatements;
    const params = this.pendingParams;
    const started = this.clock.now();
    let rejected: RejectedRow[] = [];
    try {
      this.commit(statements, params);
    } catch (error) {
      if (!isRowLevelError(error)) {
        this.failBatch(count, error);
        return;
      }
      // A row SQLite refuses (a constraint, a value it cannot bind): commit the batch again row by row, each
      // in a savepoint, so only the offending rows are dropped.
      try {
        rejected = this.commitEach(statements, params);
      } catch (retryError) {
        this.failBatch(count, retryError);
        return;
      }
    }
    this.pendingStatements = [];
    this.pendingParams = [];
    this.failedAttempts = 0;
    const first = rejected[0];
    if (first !== undefined) {
      reportStoreError(this.events, {
        operation: 'flush',
        error: new StoreError(
          'STORE_WRITE_FAILED',
          `SqliteStore "${this.path}": SQLite refused ${rejected.length} of ${count} writes, dropped them and committed the others ` +
            `(first refused: write ${first.index + 1} of the batch: ${message(first.error)})`,
          { cause: first.error },
        ),
        droppedRows: rejected.length,
      });
    }
    const rows = count - rejected.length;
    if (rows > 0 && this.events.wants('flush')) this.events.emit('flush', { rows, durationMs: this.clock.now() - started });
  }

  /**
   * A batch failed as a whole (the database is locked, full or failing): it stays queued for the next flush,
   * and is dropped, reported, after {@link MAX_BATCH_ATTEMPTS} failures in a row.
   */
  private failBatch(count: number, error: unknown): void {
    this.failedAttempts++;
    const give = this.failedAttempts >= MAX_BATCH_ATTEMPTS;
    if (give) {
      this.pendingStatements = [];
      this.pendingParams = [];
      this.failedAttempts = 0;
    }
    reportStoreError(this.events, {
      operation: 'flush',
      error: new StoreError('STORE_WRITE_FAILED', `SqliteStore "${this.path}": committing ${count} writes failed`, { cause: error }),
      droppedRows: give ? count : 0,
    });
  }

  /** Runs a read after committing pending writes; a closed store reads as empty. */
  private read<T>(operation: string, run: () => T[]): T[];
  private read<T>(operation: string, run: () => T | undefined): T | undefined;
  private read<T>(operation: string, run: () => T): T | undefined {
    if (this.closed) {
      throw new StoreError('STORE_CLOSED', `SqliteStore "${this.path}": ${operation} after close()`);
    }
    this.flushNow();
    return run();
  }

  private history<T>(
    table: string,
    filter: QueryFilter,
    columns: Record<string, string>,
    fromRow: (row: Row) => T,
    timeColumn = 'at',
  ): T[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.since !== undefined) {
      where.push(`${timeColumn} >= ?`);
      params.push(filter.since);
    }
    if (filter.until !== undefined) {
      where.push(`${timeColumn} < ?`);
      params.push(filter.until);
    }
    for (const key of Object.keys(columns)) {
      const value = (filter as Record<string, unknown>)[key];
      if (value === undefined) continue;
      where.push(`${columns[key] as string} = ?`);
      params.push(value);
    }
    params.push(Math.max(0, Math.floor(filter.limit ?? DEFAULT_QUERY_LIMIT)));
    const order = timeColumn === 'at' ? 'id DESC' : `${timeColumn} DESC, rowid DESC`;
    const sql = `SELECT * FROM ${table}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ?`;
    const rows = this.read(`query ${table}`, () => {
      let statement = this.queries.get(sql);
      if (statement === undefined) {
        statement = this.db.prepare(sql);
        this.queries.set(sql, statement);
      }
      return statement.all(params) as Row[];
    });
    return rows.map(fromRow);
  }

  private removeOlderThan(olderThanMs: number): number {
    const cutoff = this.clock.now() - olderThanMs;
    this.flushNow();
    let removed = 0;
    try {
      this.db.transaction(() => {
        for (const statement of this.statements.deleteOld) removed += statement.run(cutoff).changes;
        removed += this.statements.deleteOldExperiments.run(cutoff).changes;
      })();
    } catch (error) {
      reportStoreError(this.events, { operation: 'cleanup', error, droppedRows: 0 });
      return 0;
    }
    if (removed > 0 && this.events.wants('cleanup')) this.events.emit('cleanup', { removed, cutoff });
    return removed;
  }
}

interface Statements {
  upsertBreaker: Database.Statement;
  selectBreakers: Database.Statement;
  insertTransition: Database.Statement;
  insertHealthCheck: Database.Statement;
  upsertSummary: Database.Statement;
  selectSummaries: Database.Statement;
  insertRecovery: Database.Statement;
  upsertDegradation: Database.Statement;
  insertDegradationHistory: Database.Statement;
  selectDegradation: Database.Statement;
  upsertFlag: Database.Statement;
  selectFlags: Database.Statement;
  insertSnapshot: Database.Statement;
  upsertExperiment: Database.Statement;
  insertChaosEvent: Database.Statement;
  insertAudit: Database.Statement;
  deleteOld: Database.Statement[];
  deleteOldExperiments: Database.Statement;
}

function prepareStatements(db: Database.Database): Statements {
  return {
    upsertBreaker: db.prepare(
      `INSERT INTO circuit_breakers (name, state, since, open_until, failures, successes, data, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET state = excluded.state, since = excluded.since, open_until = excluded.open_until,
         failures = excluded.failures, successes = excluded.successes, data = excluded.data, updated_at = excluded.updated_at`,
    ),
    selectBreakers: db.prepare('SELECT name, data FROM circuit_breakers ORDER BY name'),
    insertTransition: db.prepare('INSERT INTO circuit_breaker_state_history (name, from_state, to_state, reason, at) VALUES (?, ?, ?, ?, ?)'),
    insertHealthCheck: db.prepare('INSERT INTO health_checks (component, status, response_time_ms, message, data, at) VALUES (?, ?, ?, ?, ?, ?)'),
    upsertSummary: db.prepare(
      `INSERT INTO component_health_summary (component, status, availability, avg_response_time_ms, trend, consecutive_failures, last_check_at, data, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (component) DO UPDATE SET status = excluded.status, availability = excluded.availability,
         avg_response_time_ms = excluded.avg_response_time_ms, trend = excluded.trend, consecutive_failures = excluded.consecutive_failures,
         last_check_at = excluded.last_check_at, data = excluded.data, updated_at = excluded.updated_at`,
    ),
    selectSummaries: db.prepare('SELECT * FROM component_health_summary ORDER BY component'),
    insertRecovery: db.prepare(
      `INSERT INTO recovery_events (component, category, severity, strategy, outcome, duration_ms, error, attempts, data, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    upsertDegradation: db.prepare(
      `INSERT INTO degradation_state (id, level, reason, trigger_source, since, updated_at) VALUES (1, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET level = excluded.level, reason = excluded.reason, trigger_source = excluded.trigger_source,
         since = excluded.since, updated_at = excluded.updated_at`,
    ),
    insertDegradationHistory: db.prepare('INSERT INTO degradation_history (level, reason, trigger_source, at) VALUES (?, ?, ?, ?)'),
    selectDegradation: db.prepare('SELECT level, reason, trigger_source, since FROM degradation_state WHERE id = 1'),
    upsertFlag: db.prepare(
      `INSERT INTO feature_flags (name, enabled, priority, degradation_levels, data, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, priority = excluded.priority,
         degradation_levels = excluded.degradation_levels, data = excluded.data, updated_at = excluded.updated_at`,
    ),
    selectFlags: db.prepare('SELECT * FROM feature_flags ORDER BY name'),
    insertSnapshot: db.prepare('INSERT INTO system_health_snapshots (score, overall, data, at) VALUES (?, ?, ?, ?)'),
    upsertExperiment: db.prepare(
      `INSERT INTO chaos_experiments (id, name, status, started_at, ended_at, data, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status, started_at = excluded.started_at,
         ended_at = excluded.ended_at, data = excluded.data, updated_at = excluded.updated_at`,
    ),
    insertChaosEvent: db.prepare('INSERT INTO chaos_experiment_events (experiment_id, type, data, at) VALUES (?, ?, ?, ?)'),
    insertAudit: db.prepare('INSERT INTO audit_log (who, action, target, data, at) VALUES (?, ?, ?, ?, ?)'),
    deleteOld: HISTORY_TABLES.map((table) => db.prepare(`DELETE FROM ${table} WHERE at < ?`)),
    deleteOldExperiments: db.prepare('DELETE FROM chaos_experiments WHERE ended_at IS NOT NULL AND ended_at < ?'),
  };
}

/** Opens the file, sets WAL and runs pending migrations; any failure becomes one clear StoreError. */
function openDatabase(path: string, busyTimeoutMs: number, checkIntegrity: boolean, clock: Clock): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
  } catch (error) {
    throw new StoreError('STORE_OPEN_FAILED', `SqliteStore: cannot open "${path}": ${message(error)}`, { cause: error });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    if (checkIntegrity) {
      const result = db.pragma('quick_check', { simple: true });
      if (result !== 'ok') throw new Error(`quick_check reported: ${String(result)}`);
    }
    migrate(db, clock);
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError('STORE_OPEN_FAILED', `SqliteStore: "${path}" is not a usable SQLite database: ${message(error)}`, { cause: error });
  }
  return db;
}

function migrate(db: Database.Database, clock: Clock): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new StoreError(
      'STORE_OPEN_FAILED',
      `SqliteStore: "${db.name}" has schema version ${version}, newer than this antifragile knows (${MIGRATIONS.length}); upgrade antifragile`,
    );
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(v + 1, Math.round(clock.now()));
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

function degradationFromRow(row: Row): DegradationStateRecord {
  const d: DegradationStateRecord = { level: row.level as string, since: row.since as number };
  if (row.reason !== null) d.reason = row.reason as string;
  if (row.trigger_source !== null) d.trigger = row.trigger_source as string;
  return d;
}

function json(value: unknown): string | null {
  // JSON.stringify answers undefined for a function or a symbol.
  return value === undefined ? null : ((JSON.stringify(value) as string | undefined) ?? null);
}

/**
 * Whether `error` concerns one row rather than the database: a constraint (`SQLITE_CONSTRAINT_*`), a datatype
 * mismatch, a value too big, or a value better-sqlite3 cannot bind (`TypeError`, `RangeError`). Locks, a full
 * disk or I/O errors are database-level: the whole batch is retried.
 */
function isRowLevelError(error: unknown): boolean {
  if (error instanceof TypeError || error instanceof RangeError) return true;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG');
}

function parse(text: unknown): unknown {
  return JSON.parse(text as string);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
