import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import type { CircuitBreakerState } from '../../src/policies/circuit-breaker.js';
import { isStoreError } from '../../src/store/store-error.js';
import type { Store, StoreEvents } from '../../src/store/store.js';

/** What a conformance run needs: a fresh store on `clock`, and a way to dispose of it. */
export interface StoreFixture {
  store: Store;
  dispose(): Promise<void>;
}

/** A breaker state as `CircuitBreaker.toJSON()` exports it. */
export function breakerState(name: string, state: CircuitBreakerState['state'], since: number): CircuitBreakerState {
  return {
    version: 1,
    name,
    state,
    since,
    openUntil: state === 'open' ? since + 30_000 : 0,
    window: { kind: 'consecutive', data: [3], mark: 0 } as unknown as CircuitBreakerState['window'],
    totals: { calls: 10, successes: 7, failures: 3, ignored: 0, rejections: 1, slowCalls: 0 },
  };
}

/**
 * The behaviour every {@link Store} shares, run against each implementation. `create` gets a VirtualClock
 * with retention options off unless the test sets them.
 */
export function describeStoreConformance(
  label: string,
  create: (clock: VirtualClock, options?: { retentionMs?: number; cleanupIntervalMs?: number }) => Promise<StoreFixture>,
): void {
  describe(`${label} (Store conformance)`, () => {
    const withStore = async (fn: (store: Store, clock: VirtualClock) => Promise<void>, options?: { retentionMs?: number; cleanupIntervalMs?: number }) => {
      const clock = new VirtualClock(1_000_000);
      const fixture = await create(clock, options);
      try {
        await fn(fixture.store, clock);
      } finally {
        await fixture.dispose();
      }
    };

    it('saves breaker states by name as upserts and loads them', () =>
      withStore(async (store) => {
        store.saveBreakerState('pricing', breakerState('pricing', 'closed', 1));
        store.saveBreakerState('stock', breakerState('stock', 'open', 2));
        store.saveBreakerState('pricing', breakerState('pricing', 'half-open', 3));
        const states = await store.loadBreakerStates();
        expect([...states.keys()].sort()).toEqual(['pricing', 'stock']);
        expect(states.get('pricing')).toEqual(breakerState('pricing', 'half-open', 3));
        expect(states.get('stock')).toEqual(breakerState('stock', 'open', 2));
      }));

    it('returns history newest first, filtered, limited, with at defaulting to the clock', () =>
      withStore(async (store, clock) => {
        store.recordBreakerTransition({ name: 'a', from: 'closed', to: 'open', reason: 'failure-rate' });
        clock.advance(10);
        store.recordBreakerTransition({ name: 'b', from: 'closed', to: 'open' });
        clock.advance(10);
        store.recordBreakerTransition({ name: 'a', from: 'open', to: 'half-open', reason: 'open-elapsed', at: 5 });
        const all = await store.getBreakerTransitions();
        expect(all.map((t) => [t.name, t.to, t.at])).toEqual([
          ['a', 'half-open', 5],
          ['b', 'open', 1_000_010],
          ['a', 'open', 1_000_000],
        ]);
        expect(all[0]?.id).toBeGreaterThan(all[1]?.id ?? Infinity);
        expect(all[2]).toEqual({ id: all[2]?.id, name: 'a', from: 'closed', to: 'open', reason: 'failure-rate', at: 1_000_000 });
        expect('reason' in (all[1] ?? {})).toBe(false);
        expect((await store.getBreakerTransitions({ name: 'a' })).map((t) => t.to)).toEqual(['half-open', 'open']);
        expect((await store.getBreakerTransitions({ limit: 1 })).map((t) => t.to)).toEqual(['half-open']);
        expect((await store.getBreakerTransitions({ since: 1_000_000, until: 1_000_010 })).map((t) => t.name)).toEqual(['a']);
      }));

    it('records health checks and component summaries', () =>
      withStore(async (store) => {
        store.recordHealthCheck({ component: 'db', status: 'healthy', responseTimeMs: 3.5 });
        store.recordHealthCheck({ component: 'db', status: 'unhealthy', responseTimeMs: 5_000, message: 'timeout', data: { code: 'ETIMEDOUT' } });
        store.recordHealthCheck({ component: 'cache', status: 'healthy', responseTimeMs: 1 });
        const failures = await store.getHealthChecks({ status: 'unhealthy' });
        expect(failures).toHaveLength(1);
        expect(failures[0]).toMatchObject({ component: 'db', message: 'timeout', data: { code: 'ETIMEDOUT' }, responseTimeMs: 5_000 });
        expect((await store.getHealthChecks({ component: 'db' })).map((c) => c.status)).toEqual(['unhealthy', 'healthy']);

        store.saveComponentSummary({ component: 'db', status: 'healthy', availability: 0.99, avgResponseTimeMs: 4, lastCheckAt: 1 });
        store.saveComponentSummary({ component: 'db', status: 'degraded', availability: 0.9, avgResponseTimeMs: 40, trend: 'declining', consecutiveFailures: 2, lastCheckAt: 2 });
        expect(await store.loadComponentSummaries()).toEqual([
          { component: 'db', status: 'degraded', availability: 0.9, avgResponseTimeMs: 40, trend: 'declining', consecutiveFailures: 2, lastCheckAt: 2 },
        ]);
      }));

    it('records recovery events with every field and filters them', () =>
      withStore(async (store) => {
        store.recordRecoveryEvent({ component: 'db', category: 'database', severity: 'high', strategy: 'retry', outcome: 'success', durationMs: 120, attempts: 2 });
        store.recordRecoveryEvent({ component: 'db', category: 'database', severity: 'high', strategy: 'fallback', outcome: 'failure', durationMs: 30, error: 'ECONNREFUSED' });
        store.recordRecoveryEvent({ component: 'api', category: 'network', severity: 'low', strategy: 'retry', outcome: 'success', durationMs: 5 });
        const failed = await store.getRecoveryEvents({ outcome: 'failure' });
        expect(failed).toEqual([
          { id: failed[0]?.id, component: 'db', category: 'database', severity: 'high', strategy: 'fallback', outcome: 'failure', durationMs: 30, error: 'ECONNREFUSED', at: 1_000_000 },
        ]);
        expect((await store.getRecoveryEvents({ component: 'db', category: 'database' })).map((e) => e.strategy)).toEqual(['fallback', 'retry']);
        expect((await store.getRecoveryEvents({ category: 'network' }))[0]).toMatchObject({ component: 'api', durationMs: 5 });
      }));

    it('keeps the degradation state as an upsert and its history', () =>
      withStore(async (store) => {
        expect(await store.loadDegradationState()).toBeUndefined();
        store.saveDegradationState({ level: 'reduced', reason: 'health score 70', trigger: 'rule:score', since: 10 });
        store.saveDegradationState({ level: 'minimal', since: 20 });
        expect(await store.loadDegradationState()).toEqual({ level: 'minimal', since: 20 });
        const history = await store.getDegradationHistory();
        expect(history.map((h) => [h.level, h.at, h.reason, h.trigger])).toEqual([
          ['minimal', 20, undefined, undefined],
          ['reduced', 10, 'health score 70', 'rule:score'],
        ]);
      }));

    it('upserts feature flags by name and keeps the others', () =>
      withStore(async (store) => {
        store.saveFeatureFlags([
          { name: 'analytics', enabled: true, priority: 20, degradationLevels: ['minimal', 'emergency'] },
          { name: 'search', enabled: true },
        ]);
        store.saveFeatureFlags([{ name: 'analytics', enabled: false, priority: 20, degradationLevels: ['minimal', 'emergency'], data: { by: 'rule' } }]);
        const flags = (await store.loadFeatureFlags()).sort((a, b) => a.name.localeCompare(b.name));
        expect(flags).toEqual([
          { name: 'analytics', enabled: false, priority: 20, degradationLevels: ['minimal', 'emergency'], data: { by: 'rule' } },
          { name: 'search', enabled: true },
        ]);
      }));

    it('records snapshots, chaos experiments with their events, and the audit log', () =>
      withStore(async (store) => {
        store.recordHealthSnapshot({ score: 92.5, overall: 'healthy', data: { components: 4 } });
        store.recordHealthSnapshot({ score: 40, overall: 'unhealthy', at: 1_000_100 });
        expect((await store.getHealthSnapshots({ limit: 1 }))[0]).toMatchObject({ score: 40, overall: 'unhealthy', at: 1_000_100 });
        expect((await store.getHealthSnapshots({ until: 1_000_100 }))[0]?.data).toEqual({ components: 4 });

        store.recordChaosExperiment({ id: 'x1', name: 'latency', status: 'running', startedAt: 100, data: { faults: ['latency'] } });
        store.recordChaosExperiment({ id: 'x2', name: 'errors', status: 'running', startedAt: 200 });
        store.recordChaosExperiment({ id: 'x1', name: 'latency', status: 'completed', startedAt: 100, endedAt: 150, data: { verdict: 'pass' } });
        expect(await store.getChaosExperiments()).toEqual([
          { id: 'x2', name: 'errors', status: 'running', startedAt: 200 },
          { id: 'x1', name: 'latency', status: 'completed', startedAt: 100, endedAt: 150, data: { verdict: 'pass' } },
        ]);
        expect((await store.getChaosExperiments({ status: 'completed' })).map((e) => e.id)).toEqual(['x1']);
        store.recordChaosEvent({ experimentId: 'x1', type: 'fault-injected', data: { ms: 200 } });
        store.recordChaosEvent({ experimentId: 'x2', type: 'started' });
        expect((await store.getChaosEvents({ experimentId: 'x1' })).map((e) => [e.type, e.data])).toEqual([['fault-injected', { ms: 200 }]]);

        store.recordAudit({ who: 'alice', action: 'breaker.reset', target: 'pricing' });
        store.recordAudit({ who: 'bob', action: 'degradation.force', target: 'minimal', data: { reason: 'drill' } });
        expect((await store.getAuditLog({ who: 'bob' }))[0]).toMatchObject({ action: 'degradation.force', target: 'minimal', data: { reason: 'drill' } });
        expect((await store.getAuditLog({ action: 'breaker.reset', target: 'pricing' })).map((a) => a.who)).toEqual(['alice']);
      }));

    it('cleanup(olderThanMs) removes old history and ended experiments, keeps state', () =>
      withStore(async (store, clock) => {
        store.saveBreakerState('pricing', breakerState('pricing', 'open', 0));
        store.saveFeatureFlags([{ name: 'f', enabled: true }]);
        store.saveDegradationState({ level: 'reduced', since: clock.now() });
        store.recordHealthCheck({ component: 'db', status: 'healthy', responseTimeMs: 1 });
        store.recordAudit({ who: 'a', action: 'x', target: 't' });
        store.recordChaosExperiment({ id: 'old', name: 'n', status: 'completed', startedAt: clock.now(), endedAt: clock.now() });
        store.recordChaosExperiment({ id: 'live', name: 'n', status: 'running', startedAt: clock.now() });
        clock.advance(1_000);
        store.recordHealthCheck({ component: 'db', status: 'degraded', responseTimeMs: 2 });
        expect(await store.cleanup(500)).toBe(4);
        expect((await store.getHealthChecks()).map((c) => c.status)).toEqual(['degraded']);
        expect(await store.getAuditLog()).toEqual([]);
        expect(await store.getDegradationHistory()).toEqual([]);
        expect((await store.getChaosExperiments()).map((e) => e.id)).toEqual(['live']);
        expect((await store.loadBreakerStates()).size).toBe(1);
        expect(await store.loadFeatureFlags()).toHaveLength(1);
        expect(await store.loadDegradationState()).toEqual({ level: 'reduced', since: 1_000_000 });
      }));

    it('runs retention on its interval on the clock', () =>
      withStore(
        async (store, clock) => {
          const cleanups: StoreEvents['cleanup'][] = [];
          store.on('cleanup', (e) => cleanups.push(e));
          store.recordHealthCheck({ component: 'db', status: 'healthy', responseTimeMs: 1 });
          await store.flush();
          clock.advance(60_000);
          store.recordHealthCheck({ component: 'db', status: 'degraded', responseTimeMs: 1 });
          await store.flush();
          clock.advance(59_999);
          expect(cleanups).toEqual([]);
          clock.advance(1); // t = 1_120_000: the first check (t = 1_000_000) is older than 100 s
          expect(cleanups).toEqual([{ removed: 1, cutoff: 1_020_000 }]);
          expect((await store.getHealthChecks()).map((c) => c.status)).toEqual(['degraded']);
          clock.advance(60_000);
          expect(cleanups).toEqual([
            { removed: 1, cutoff: 1_020_000 },
            { removed: 1, cutoff: 1_080_000 },
          ]);
          expect(await store.getHealthChecks()).toEqual([]);
          clock.advance(60_000);
          expect(cleanups).toHaveLength(2);
        },
        { retentionMs: 100_000, cleanupIntervalMs: 60_000 },
      ));

    it('refuses a record with a missing or unstorable required field at once, reports it, never throws', () =>
      withStore(async (store) => {
        const errors: StoreEvents['error'][] = [];
        store.on('error', (e) => errors.push(e));
        const bad = <T>(record: unknown): T => record as T;
        expect(() => {
          store.recordHealthCheck({ component: 'db', status: 'healthy', responseTimeMs: Number.NaN });
          store.recordHealthCheck({ component: 'db', status: 'healthy', responseTimeMs: 5 });
          store.recordRecoveryEvent(bad({ component: 'db', category: 'x', severity: 'high', strategy: 'retry', outcome: 'success' }));
          store.recordAudit(bad({ who: 'a', action: 'b', target: 'c', at: Infinity }));
          store.recordAudit(bad(null));
          store.recordHealthSnapshot({ score: Number.POSITIVE_INFINITY, overall: 'healthy' });
          store.saveComponentSummary(bad({ component: 'db', status: 'healthy', availability: 1, avgResponseTimeMs: 'fast', lastCheckAt: 1 }));
          store.saveDegradationState(bad({ level: 'reduced' }));
          store.saveFeatureFlags([{ name: 'search', enabled: true }, bad({ name: 'recs', enabled: 'yes' })]);
          store.saveBreakerState('pricing', { ...breakerState('pricing', 'open', 1), since: Number.NaN });
          store.recordChaosExperiment(bad({ id: 'x1', name: 'latency', status: 'running' }));
          store.recordChaosEvent(bad({ experimentId: 7, type: 'fault-injected' }));
          store.recordBreakerTransition(bad({ name: 'pricing', from: 'closed', to: 'open', reason: 42 }));
        }).not.toThrow();
        expect(errors.map((e) => [e.operation, e.droppedRows])).toEqual([
          ['recordHealthCheck', 1],
          ['recordRecoveryEvent', 1],
          ['recordAudit', 1],
          ['recordAudit', 1],
          ['recordHealthSnapshot', 1],
          ['saveComponentSummary', 1],
          ['saveDegradationState', 1],
          ['saveFeatureFlags', 1],
          ['saveBreakerState', 1],
          ['recordChaosExperiment', 1],
          ['recordChaosEvent', 1],
          ['recordBreakerTransition', 1],
        ]);
        expect(errors.every((e) => isStoreError(e.error) && e.error.code === 'STORE_INVALID_RECORD')).toBe(true);
        expect((errors[0]?.error as Error).message).toContain('responseTimeMs: expected a finite number, received NaN');
        expect((errors[2]?.error as Error).message).toContain('at: expected a finite number or nothing, received Infinity');
        await store.flush();
        expect((await store.getHealthChecks()).map((c) => c.responseTimeMs)).toEqual([5]);
        expect(await store.getRecoveryEvents()).toEqual([]);
        expect(await store.getAuditLog()).toEqual([]);
        expect(await store.getHealthSnapshots()).toEqual([]);
        expect(await store.loadComponentSummaries()).toEqual([]);
        expect(await store.loadDegradationState()).toBeUndefined();
        expect((await store.loadFeatureFlags()).map((f) => f.name)).toEqual(['search']);
        expect((await store.loadBreakerStates()).size).toBe(0);
        expect(await store.getChaosExperiments()).toEqual([]);
        expect(await store.getChaosEvents()).toEqual([]);
        expect(await store.getBreakerTransitions()).toEqual([]);
      }));

    it('reports writes after close through the error event and never throws', () =>
      withStore(async (store) => {
        const errors: StoreEvents['error'][] = [];
        store.on('error', (e) => errors.push(e));
        await store.close();
        await store.close();
        expect(() => store.recordAudit({ who: 'a', action: 'b', target: 'c' })).not.toThrow();
        expect(errors).toHaveLength(1);
        expect(errors[0]?.operation).toBe('recordAudit');
        expect(errors[0]?.droppedRows).toBe(1);
        expect(isStoreError(errors[0]?.error) && errors[0].error.code).toBe('STORE_CLOSED');
      }));
  });
}
