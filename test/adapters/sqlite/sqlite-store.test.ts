import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/adapters/sqlite/sqlite-store.js';
import { VIEWS } from '../../../src/adapters/sqlite/schema.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { isStoreError } from '../../../src/store/store-error.js';
import type { StoreEvents } from '../../../src/store/store.js';
import { breakerState, describeStoreConformance } from '../../store/store-conformance.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const dir = mkdtempSync(join(tmpdir(), 'antifragile-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const freshPath = (): string => join(dir, `store-${++counter}.db`);

/** Counts rows through a separate read-only connection, as another process would see them. */
function countRows(path: string, table: string): number {
  const reader = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (reader.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    reader.close();
  }
}

describeStoreConformance('SqliteStore', async (clock, options) => {
  const store = new SqliteStore({ path: freshPath(), clock, retentionMs: Infinity, ...options });
  return { store, dispose: () => store.close() };
});

describe('SqliteStore', () => {
  it('creates the schema in an empty file: WAL, user_version, the seed tables and views', async () => {
    const path = freshPath();
    const store = new SqliteStore({ path, clock: new VirtualClock(5) });
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      expect(db.prepare('SELECT version, applied_at FROM schema_migrations').all()).toEqual([{ version: 1, applied_at: 5 }]);
      const names = (db.prepare("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')").all() as { name: string; type: string }[])
        .map((r) => `${r.type}:${r.name}`)
        .sort();
      for (const table of [
        'circuit_breakers',
        'circuit_breaker_state_history',
        'health_checks',
        'component_health_summary',
        'recovery_events',
        'degradation_state',
        'degradation_history',
        'feature_flags',
        'chaos_experiments',
        'chaos_experiment_events',
        'system_health_snapshots',
        'audit_log',
      ]) {
        expect(names).toContain(`table:${table}`);
      }
      for (const view of VIEWS) expect(names).toContain(`view:${view}`);
    } finally {
      db.close();
    }
  });

  it('reopens an existing file without migrating again and keeps its rows', async () => {
    const path = freshPath();
    const first = new SqliteStore({ path, clock: new VirtualClock() });
    first.recordAudit({ who: 'a', action: 'b', target: 'c' });
    await first.close();
    const second = new SqliteStore({ path, clock: new VirtualClock(99) });
    expect(await second.getAuditLog()).toHaveLength(1);
    await second.close();
    expect(countRows(path, 'schema_migrations')).toBe(1);
  });

  it('restores breaker states, the degradation level and feature flags after a restart', async () => {
    const path = freshPath();
    const clock = new VirtualClock(1_000);
    const before = new SqliteStore({ path, clock });
    before.saveBreakerState('pricing', breakerState('pricing', 'closed', 1));
    before.saveBreakerState('pricing', breakerState('pricing', 'open', 2));
    before.saveBreakerState('stock', breakerState('stock', 'half-open', 3));
    before.saveDegradationState({ level: 'reduced', since: 10, reason: 'score 70' });
    before.saveDegradationState({ level: 'minimal', since: 20, trigger: 'manual' });
    before.saveFeatureFlags([
      { name: 'analytics', enabled: false, priority: 10, degradationLevels: ['minimal'] },
      { name: 'checkout', enabled: true, priority: 100 },
    ]);
    await before.close();

    const after = new SqliteStore({ path, clock });
    const states = await after.loadBreakerStates();
    expect(states).toEqual(
      new Map([
        ['pricing', breakerState('pricing', 'open', 2)],
        ['stock', breakerState('stock', 'half-open', 3)],
      ]),
    );
    expect(await after.loadDegradationState()).toEqual({ level: 'minimal', since: 20, trigger: 'manual' });
    expect(await after.loadFeatureFlags()).toEqual([
      { name: 'analytics', enabled: false, priority: 10, degradationLevels: ['minimal'] },
      { name: 'checkout', enabled: true, priority: 100 },
    ]);
    await after.close();
  });

  it('batches writes: nothing reaches the file before the flush interval, all of it in one transaction after', async () => {
    const path = freshPath();
    const clock = new VirtualClock();
    const store = new SqliteStore({ path, clock, flushIntervalMs: 1_000, batchSize: 1_000 });
    const flushes: StoreEvents['flush'][] = [];
    store.on('flush', (f) => flushes.push(f));
    for (let i = 0; i < 250; i++) store.recordHealthCheck({ component: 'db', status: 'healthy', responseTimeMs: i });
    expect(store.pending).toBe(250);
    clock.advance(999);
    expect(countRows(path, 'health_checks')).toBe(0);
    clock.advance(1);
    expect(countRows(path, 'health_checks')).toBe(250);
    expect(flushes).toEqual([{ rows: 250, durationMs: 0 }]);
    clock.advance(5_000);
    expect(flushes).toHaveLength(1); // an empty queue commits nothing
    await store.close();
  });

  it('flushes early when batchSize writes are pending', async () => {
    const path = freshPath();
    const store = new SqliteStore({ path, clock: new VirtualClock(), flushIntervalMs: 60_000, batchSize: 100 });
    const flushes: number[] = [];
    store.on('flush', (f) => flushes.push(f.rows));
    for (let i = 0; i < 250; i++) store.recordAudit({ who: 'w', action: String(i), target: 't' });
    expect(flushes).toEqual([100, 100]);
    expect(countRows(path, 'audit_log')).toBe(200);
    expect(store.pending).toBe(50);
    await store.close();
    expect(countRows(path, 'audit_log')).toBe(250);
  });

  it('reports a failing batch through the error event, never throws, retries, then drops it', async () => {
    const path = freshPath();
    const clock = new VirtualClock();
    const store = new SqliteStore({ path, clock, flushIntervalMs: 100, batchSize: 2 });
    const errors: StoreEvents['error'][] = [];
    store.on('error', (e) => errors.push(e));
    const other = new Database(path);
    other.exec('DROP TABLE audit_log'); // the store's prepared statement now fails
    other.close();
    expect(() => {
      store.recordAudit({ who: 'a', action: 'b', target: 'c' });
      store.recordAudit({ who: 'a', action: 'b', target: 'c' });
      store.recordAudit({ who: 'a', action: 'b', target: 'c' });
    }).not.toThrow();
    expect(errors.map((e) => [e.operation, e.droppedRows])).toEqual([['flush', 0]]);
    expect(isStoreError(errors[0]?.error) && errors[0].error.code).toBe('STORE_WRITE_FAILED');
    expect(store.pending).toBe(3); // no early flush while failing: it waits for the interval
    clock.advance(100);
    clock.advance(100);
    expect(errors.map((e) => e.droppedRows)).toEqual([0, 0, 3]);
    expect(store.pending).toBe(0);
    store.recordHealthCheck({ component: 'db', status: 'healthy', responseTimeMs: 1 });
    await store.flush();
    expect(countRows(path, 'health_checks')).toBe(1);
    await store.close();
  });

  it('drops writes beyond maxPending while flushes fail, and reports how many', async () => {
    const path = freshPath();
    const clock = new VirtualClock();
    const store = new SqliteStore({ path, clock, flushIntervalMs: 100, batchSize: 2, maxPending: 4 });
    const errors: StoreEvents['error'][] = [];
    store.on('error', (e) => errors.push(e));
    const other = new Database(path);
    other.exec('DROP TABLE audit_log');
    other.close();
    for (let i = 0; i < 10; i++) store.recordAudit({ who: 'a', action: 'b', target: 'c' });
    expect(store.pending).toBe(4);
    clock.advance(100);
    expect(errors.map((e) => [e.operation, e.droppedRows])).toEqual([
      ['flush', 0],
      ['append', 6],
      ['flush', 0],
    ]);
    await store.close();
  });

  it('a NaN health check no longer sinks the batch: the valid writes queued with it are committed', async () => {
    // Regression: the whole queue was one transaction, so one row binding NULL into a NOT NULL column failed
    // it three times and every pending write was dropped with it.
    const clock = new VirtualClock();
    const store = new SqliteStore({ path: freshPath(), clock, flushIntervalMs: 100, batchSize: 1_000, retentionMs: Infinity });
    const errors: StoreEvents['error'][] = [];
    store.on('error', (e) => errors.push(e));
    for (let i = 0; i < 100; i++) store.recordAudit({ who: 'ops', action: 'breaker.reset', target: `b${i}` });
    store.recordHealthCheck({ component: 'db', status: 'healthy', responseTimeMs: Number.NaN });
    for (let i = 0; i < 100; i++) store.recordAudit({ who: 'ops', action: 'breaker.reset', target: `c${i}` });
    clock.advance(100);
    clock.advance(100);
    clock.advance(100);
    expect(errors.reduce((n, e) => n + e.droppedRows, 0)).toBeLessThanOrEqual(1);
    expect((await store.getAuditLog({ limit: 1_000 })).length).toBe(200);
    await store.close();
  });

  it('a row SQLite refuses in a batch is dropped alone; the rest of the batch is committed in the same flush', async () => {
    const path = freshPath();
    const clock = new VirtualClock();
    const store = new SqliteStore({ path, clock, flushIntervalMs: 100, batchSize: 1_000 });
    const errors: StoreEvents['error'][] = [];
    const flushes: StoreEvents['flush'][] = [];
    store.on('error', (e) => errors.push(e));
    store.on('flush', (f) => flushes.push(f));
    const other = new Database(path);
    other.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON audit_log WHEN NEW.target LIKE 'poison%'
                BEGIN SELECT RAISE(ABORT, 'poison row'); END`);
    other.close();
    for (let i = 0; i < 50; i++) store.recordAudit({ who: 'ops', action: 'a', target: `t${i}` });
    store.recordAudit({ who: 'ops', action: 'a', target: 'poison-1' });
    store.recordHealthCheck({ component: 'db', status: 'healthy', responseTimeMs: 3 });
    store.recordAudit({ who: 'ops', action: 'a', target: 'poison-2' });
    for (let i = 50; i < 100; i++) store.recordAudit({ who: 'ops', action: 'a', target: `t${i}` });
    clock.advance(100);
    expect(errors.map((e) => [e.operation, e.droppedRows])).toEqual([['flush', 2]]);
    const reported = errors[0]?.error;
    expect(isStoreError(reported) && reported.code).toBe('STORE_WRITE_FAILED');
    expect((reported as Error).message).toContain('write 51 of the batch: poison row');
    expect(((reported as Error).cause as { code?: string }).code).toBe('SQLITE_CONSTRAINT_TRIGGER');
    expect(flushes.map((f) => f.rows)).toEqual([101]);
    expect(store.pending).toBe(0);
    expect(countRows(path, 'audit_log')).toBe(100);
    expect(countRows(path, 'health_checks')).toBe(1);
    // Nothing is left failing: the next writes flush early on batchSize again.
    store.recordAudit({ who: 'ops', action: 'a', target: 'after' });
    await store.flush();
    expect(countRows(path, 'audit_log')).toBe(101);
    await store.close();
  });

  it('drops only the rows whose values cannot be bound (TypeError, NOT NULL) and commits the others', async () => {
    const path = freshPath();
    const clock = new VirtualClock();
    const store = new SqliteStore({ path, clock, flushIntervalMs: 100 });
    const errors: StoreEvents['error'][] = [];
    store.on('error', (e) => errors.push(e));
    // Records that pass validation and change before their parameters are built (a getter), so that only
    // SQLite sees the bad value: an object (better-sqlite3 throws a TypeError) and a NaN (NULL in NOT NULL).
    let componentReads = 0;
    const objectComponent = {
      get component(): string {
        return (componentReads++ === 0 ? 'db' : {}) as string;
      },
      status: 'healthy',
      responseTimeMs: 1,
    };
    let durationReads = 0;
    const nanDuration = {
      component: 'db',
      category: 'database',
      severity: 'high',
      strategy: 'retry',
      outcome: 'success',
      get durationMs(): number {
        return durationReads++ === 0 ? 10 : Number.NaN;
      },
    };
    store.recordAudit({ who: 'a', action: 'b', target: 'c' });
    store.recordHealthCheck(objectComponent);
    store.recordRecoveryEvent(nanDuration);
    store.recordAudit({ who: 'a', action: 'b', target: 'd' });
    clock.advance(100);
    expect(errors.map((e) => [e.operation, e.droppedRows])).toEqual([['flush', 2]]);
    expect(((errors[0]?.error as Error).cause as Error).name).toBe('TypeError');
    expect(countRows(path, 'audit_log')).toBe(2);
    expect(countRows(path, 'health_checks')).toBe(0);
    expect(countRows(path, 'recovery_events')).toBe(0);
    await store.close();
  });

  it('reports a value that cannot be serialised instead of throwing', async () => {
    const store = new SqliteStore({ path: freshPath(), clock: new VirtualClock() });
    const errors: StoreEvents['error'][] = [];
    store.on('error', (e) => errors.push(e));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => store.recordAudit({ who: 'a', action: 'b', target: 'c', data: cyclic })).not.toThrow();
    expect(errors.map((e) => [e.operation, e.droppedRows])).toEqual([['recordAudit', 1]]);
    await store.close();
  });

  it('answers the seed views from stored rows', async () => {
    const path = freshPath();
    const now = Date.now();
    const store = new SqliteStore({ path, clock: new VirtualClock(now) });
    store.saveBreakerState('pricing', breakerState('pricing', 'open', now));
    store.saveBreakerState('stock', breakerState('stock', 'closed', now));
    store.recordHealthCheck({ component: 'db', status: 'healthy', responseTimeMs: 10 });
    store.recordHealthCheck({ component: 'db', status: 'unhealthy', responseTimeMs: 30, message: 'down' });
    store.recordRecoveryEvent({ component: 'db', category: 'database', severity: 'high', strategy: 'retry', outcome: 'success', durationMs: 100 });
    store.recordRecoveryEvent({ component: 'db', category: 'database', severity: 'high', strategy: 'retry', outcome: 'failure', durationMs: 300 });
    store.recordHealthSnapshot({ score: 61, overall: 'degraded' });
    store.saveDegradationState({ level: 'reduced', since: now, reason: 'score' });
    store.saveFeatureFlags([{ name: 'analytics', enabled: false }, { name: 'search', enabled: true }]);
    await store.flush();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare('SELECT name, state FROM active_circuit_breakers').all()).toEqual([{ name: 'pricing', state: 'open' }]);
      expect(db.prepare('SELECT component, status, message FROM recent_health_failures').all()).toEqual([
        { component: 'db', status: 'unhealthy', message: 'down' },
      ]);
      expect(db.prepare('SELECT * FROM recovery_success_rate').all()).toEqual([
        { component: 'db', strategy: 'retry', attempts: 2, successes: 1, success_rate: 50, avg_duration_ms: 200 },
      ]);
      expect(db.prepare('SELECT component, checks, healthy_checks, availability, avg_response_time_ms FROM component_availability_24h').all()).toEqual([
        { component: 'db', checks: 2, healthy_checks: 1, availability: 50, avg_response_time_ms: 20 },
      ]);
      expect(db.prepare('SELECT health_score, overall, active_circuit_breakers, degradation_level FROM current_system_status').get()).toEqual({
        health_score: 61,
        overall: 'degraded',
        active_circuit_breakers: 1,
        degradation_level: 'reduced',
      });
      expect(db.prepare('SELECT level, reason, disabled_features FROM active_degradation').get()).toEqual({
        level: 'reduced',
        reason: 'score',
        disabled_features: '["analytics"]',
      });
    } finally {
      db.close();
    }
    await store.close();
  });

  it('stops its timers on close and leaves none behind', async () => {
    const clock = new VirtualClock();
    const store = new SqliteStore({ path: freshPath(), clock });
    expect(clock.pendingTimers).toBe(2); // flush + retention
    await store.close();
    expect(clock.pendingTimers).toBe(0);
    await expect(store.getAuditLog()).rejects.toSatisfy((e: unknown) => isStoreError(e) && e.code === 'STORE_CLOSED');
  });

  describe('refuses at open with a clear error', () => {
    const openError = (path: string): unknown => {
      try {
        new SqliteStore({ path, clock: new VirtualClock() }).close();
      } catch (error) {
        return error;
      }
      return undefined;
    };

    it('a directory that does not exist', () => {
      const path = join(dir, 'missing', 'x.db');
      const error = openError(path);
      expect(isStoreError(error) && error.code).toBe('STORE_OPEN_FAILED');
      expect((error as Error).message).toContain(path);
    });

    it('a file that is not a database', () => {
      const path = freshPath();
      writeFileSync(path, 'this is not a sqlite file, just some text that is long enough to fill a header '.repeat(20));
      const error = openError(path);
      expect(isStoreError(error) && error.code).toBe('STORE_OPEN_FAILED');
      expect((error as Error).message).toMatch(/not a usable SQLite database: file is not a database/);
      expect((error as Error).message).toContain(path);
    });

    it('a schema newer than this version knows', () => {
      const path = freshPath();
      const db = new Database(path);
      db.pragma('user_version = 99');
      db.close();
      const error = openError(path);
      expect(isStoreError(error) && error.code).toBe('STORE_OPEN_FAILED');
      expect((error as Error).message).toMatch(/schema version 99, newer than this antifragile knows \(1\)/);
    });
  });

  it('validates its options eagerly, naming every bad field', () => {
    let error: unknown;
    try {
      new SqliteStore({ path: '', batchSize: 0, flushIntervalMs: -1, maxPending: 1.5, busyTimeoutMs: 'x' as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path).sort()).toEqual(['batchSize', 'busyTimeoutMs', 'flushIntervalMs', 'maxPending', 'path']);
    expect(() => new SqliteStore(undefined as never)).toThrow(InvalidOptionsError);
  });
});
