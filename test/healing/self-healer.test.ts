import { describe, expect, it } from 'vitest';
import { EventEmitter } from '../../src/core/events.js';
import { isTimeoutError } from '../../src/core/errors.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { CircuitBreakerManager } from '../../src/policies/circuit-breaker-manager.js';
import { isRecoveryFailedError, isRecoveryRefusedError, type RecoveryFailedError } from '../../src/healing/errors.js';
import type { HealthSource, HealthStatusName } from '../../src/healing/health-source.js';
import { RecoveryStrategyFactory } from '../../src/healing/recovery-strategy-factory.js';
import { SelfHealer, type HealerEvent } from '../../src/healing/self-healer.js';
import { healingStrategies } from '../../src/healing/built-in-healing-strategies.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { errorOf, track } from '../support/promises.js';

failOnUnhandledRejections();

/** A health source whose check results the test sets. */
class FakeHealth implements HealthSource {
  readonly status = new Map<string, HealthStatusName>();
  readonly runs: string[] = [];
  private readonly events = new EventEmitter<{ statusChange: { component: string; to: HealthStatusName; check?: string } }>('test', 'health');
  on(event: 'statusChange', fn: (e: { component: string; to: HealthStatusName }) => void): () => void {
    return this.events.on(event, fn);
  }
  set(component: string, to: HealthStatusName): void {
    const from = this.status.get(component);
    this.status.set(component, to);
    if (from !== to) this.events.emit('statusChange', { component, to });
  }
  async runCheck(name: string): Promise<{ status: string }> {
    this.runs.push(name);
    const status = this.status.get(name);
    if (status === undefined) throw new Error(`no check ${name}`);
    return { status };
  }
  getComponentHealth(component: string): { status: string } | undefined {
    const status = this.status.get(component);
    return status === undefined ? undefined : { status };
  }
}

function collect(healer: SelfHealer): HealerEvent[] {
  const events: HealerEvent[] = [];
  healer.onEvent((e) => events.push(e));
  return events;
}

const neverSettles = { name: 'hang', type: 'retry' as const, recover: () => new Promise<never>(() => undefined) };

describe('SelfHealer.executeWithHealing', () => {
  it('runs the category strategy (a retry runs fn again) and returns its result', async () => {
    const clock = new VirtualClock();
    const healer = new SelfHealer({
      clock,
      strategyMap: { network: RecoveryStrategyFactory.createRetry({ name: 'net', maxAttempts: 3, initialDelay: 100, clock }) },
    });
    const events = collect(healer);
    let calls = 0;
    const result = track(healer.executeWithHealing('payment', async () => { if (++calls < 3) throw new Error('ECONNRESET'); return 'paid'; }, 'network', 'high'));
    await clock.runAllAsync();
    expect(result).toMatchObject({ state: 'resolved', value: 'paid' });
    expect(calls).toBe(3); // the failed call, then the retry strategy's 2 attempts
    expect(events.map((e) => e.type)).toEqual(['failure-detected', 'recovery-started', 'recovery-succeeded']);
    const stats = healer.getStatistics();
    expect(stats).toMatchObject({ failuresDetected: 1, attempts: 1, successes: 1, failures: 0, successRate: 1, meanTimeToRecoveryMs: 100 });
    expect(stats.byComponent.payment).toMatchObject({ attempts: 1, successes: 1, consecutiveFailures: 0 });
    expect(stats.byCategory.network).toMatchObject({ attempts: 1, successes: 1 });
  });

  it('a fallback strategy replaces the failed call; an escalation strategy notifies and rejects', async () => {
    const escalation = RecoveryStrategyFactory.createEscalation({ name: 'page', notificationChannels: ['ops'] });
    const paged: string[] = [];
    escalation.registerHandler('ops', (m) => void paged.push(m));
    const healer = new SelfHealer({
      strategyMap: {
        database: RecoveryStrategyFactory.createFallback({ name: 'replica', fallbackChain: [{ name: 'replica', priority: 1, execute: () => 'from-replica' }] }),
        service: escalation,
      },
    });
    const events = collect(healer);
    expect(await healer.executeWithHealing('db', () => Promise.reject(new Error('primary down')), 'database')).toBe('from-replica');
    const e = (await errorOf(healer.executeWithHealing('billing', () => Promise.reject(new Error('500')), 'service'))) as RecoveryFailedError;
    expect(isRecoveryFailedError(e)).toBe(true);
    expect(e.escalated).toBe(true);
    expect(paged).toEqual(['[HIGH] page: billing: 500']);
    expect(events.filter((x) => x.type === 'escalated').map((x) => x.component)).toEqual(['billing']);
    expect(healer.getStatistics()).toMatchObject({ attempts: 2, successes: 1, failures: 1, escalations: 1, successRate: 0.5 });
  });

  it('refuses recoveries beyond maxConcurrentRecoveries (not queued)', async () => {
    const healer = new SelfHealer({ maxConcurrentRecoveries: 2, defaultStrategy: neverSettles, clock: new VirtualClock() });
    const fail = (): Promise<never> => Promise.reject(new Error('down'));
    const a = track(healer.executeWithHealing('a', fail));
    const b = track(healer.executeWithHealing('b', fail));
    const original = new Error('c down');
    const c = await errorOf(healer.executeWithHealing('c', () => Promise.reject(original)));
    expect(isRecoveryRefusedError(c)).toBe(true);
    expect((c as Error).cause).toBe(original);
    expect(a.state).toBe('pending');
    expect(b.state).toBe('pending');
    expect(healer.getStatistics()).toMatchObject({ activeRecoveries: 2, refused: 1, attempts: 2 });
    healer.stop(); // aborts the hung recoveries
    await new Promise((r) => setImmediate(r));
    expect(a.state).toBe('rejected');
    expect(healer.getStatistics().activeRecoveries).toBe(0);
  });

  it('bounds each recovery by recoveryTimeout', async () => {
    const clock = new VirtualClock();
    const healer = new SelfHealer({ clock, recoveryTimeout: 5_000, defaultStrategy: neverSettles });
    const p = track(healer.executeWithHealing('slow', () => Promise.reject(new Error('down'))));
    await clock.advanceAsync(4_999);
    expect(p.state).toBe('pending');
    await clock.advanceAsync(1);
    expect(p.state).toBe('rejected');
    expect(isTimeoutError((p.error as Error).cause)).toBe(true);
    const [record] = healer.getHistory();
    expect(record).toMatchObject({ status: 'failed', timedOut: true, durationMs: 5_000 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('a healing strategy heals, then the call runs again as its verification', async () => {
    let broken = true;
    const healer = new SelfHealer({
      strategyMap: { pool: healingStrategies.connectionExhaustion({ resetPool: () => void (broken = false) }) },
    });
    const r = await healer.executeWithHealing('db', async () => { if (broken) throw new Error('pool exhausted'); return 'rows'; }, 'pool');
    expect(r).toBe('rows');
    expect(healer.getHistory()[0]).toMatchObject({ status: 'succeeded', strategyType: 'healing', steps: [{ step: 'reset-pool', verified: true }] });
  });
});

describe('SelfHealer.detectFailure', () => {
  it('escalates after escalationThreshold failed recoveries of a component', async () => {
    const escalation = RecoveryStrategyFactory.createEscalation({ name: 'ops', notificationChannels: ['log'] });
    const sent: string[] = [];
    escalation.registerHandler('log', (m, ctx) => void sent.push(`${m} after ${String(ctx.failedRecoveries)}`));
    const failing = { name: 'nope', type: 'retry' as const, recover: () => Promise.reject(new Error('still down')) };
    const healer = new SelfHealer({ escalationThreshold: 2, escalation, defaultStrategy: failing });
    const events = collect(healer);
    expect((await healer.detectFailure('cache', 'redis', new Error('ECONNREFUSED'), 'high')).status).toBe('failed');
    expect(events.some((e) => e.type === 'escalated')).toBe(false);
    await healer.detectFailure('cache', 'redis', new Error('ECONNREFUSED'), 'high');
    await new Promise((r) => setImmediate(r));
    const escalated = events.filter((e) => e.type === 'escalated');
    expect(escalated).toHaveLength(1);
    expect(escalated[0]).toMatchObject({ component: 'cache', failedRecoveries: 2 });
    expect(sent).toEqual(['[HIGH] ops: cache: ECONNREFUSED after 2']);
    expect(healer.getStatistics().byComponent.cache).toMatchObject({ failures: 2, escalations: 1, consecutiveFailures: 0 });
    expect(healer.getOpenFailures()).toMatchObject([{ component: 'cache', escalated: true }]);
  });

  it('is verified by the health check passing again, and fails when it does not', async () => {
    const health = new FakeHealth();
    health.status.set('database', 'unhealthy');
    let fixed = false;
    const healer = new SelfHealer({
      strategyMap: { postgres: { name: 'reconnect', steps: [{ name: 'reconnect', run: () => void (fixed = true) }] } },
    });
    healer.setHealthMonitor(health);
    const events = collect(healer);
    // The step "works" but the check still fails: not healed.
    const failed = await healer.detectFailure('database', 'postgres', new Error('Connection timeout'), 'critical');
    expect(fixed).toBe(true);
    expect(failed).toMatchObject({ status: 'failed', verified: false });
    expect(health.runs).toEqual(['database']);
    // Now the check passes.
    health.status.set('database', 'healthy');
    const ok = await healer.detectFailure('database', 'postgres', new Error('Connection timeout'), 'critical');
    expect(ok).toMatchObject({ status: 'succeeded', verified: true });
    expect(events.filter((e) => e.type === 'recovery-succeeded')[0]).toMatchObject({ verified: true });
  });

  it('the default strategy without a check or operation fails honestly', async () => {
    const healer = new SelfHealer({ clock: new VirtualClock() });
    const record = await healer.detectFailure('database', 'postgres', new Error('Connection timeout'), 'critical');
    expect(record.status).toBe('failed');
    expect((record.error as Error).message).toMatch(/no operation to retry and no health check/);
  });

  it('joins a running recovery of the same component', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    const healer = new SelfHealer({ defaultStrategy: { name: 'slow', type: 'restore', recover: async () => { runs++; await gate; } } });
    const a = healer.detectFailure('x', 'c', new Error('1'));
    const b = healer.detectFailure('x', 'c', new Error('2'));
    release();
    expect(await a).toBe(await b);
    expect(runs).toBe(1);
    expect(healer.getStatistics().failuresDetected).toBe(2);
  });
});

describe('SelfHealer wiring', () => {
  it('an unhealthy component triggers healing while started; verified by its check', async () => {
    const clock = new VirtualClock();
    const health = new FakeHealth();
    const healer = new SelfHealer({
      clock,
      strategyMap: { health: { name: 'flush', steps: [{ name: 'flush', run: () => void health.status.set('queue', 'healthy') }] } },
    });
    healer.setHealthMonitor(health);
    const events = collect(healer);
    health.set('queue', 'unhealthy'); // not started: ignored
    expect(events).toEqual([]);
    health.set('queue', 'healthy');
    healer.start();
    health.set('queue', 'unhealthy');
    await new Promise((r) => setImmediate(r));
    expect(events.map((e) => e.type)).toEqual(['failure-detected', 'recovery-started', 'healing-step', 'recovery-succeeded']);
    expect(events[3]).toMatchObject({ component: 'queue', trigger: 'health', verified: true });
    healer.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('an opened breaker becomes a failure to heal, and the healed component gets its breaker reset', async () => {
    const clock = new VirtualClock();
    const manager = new CircuitBreakerManager({ clock });
    const breaker = manager.getOrCreate('pricing', { failureThreshold: 2, timeout: 60_000 });
    const health = new FakeHealth();
    health.status.set('pricing', 'unhealthy');
    const healer = new SelfHealer({
      clock,
      strategyMap: { 'circuit-breaker': { name: 'restart-pricing', steps: [{ name: 'restart', run: () => void health.status.set('pricing', 'healthy') }] } },
    });
    healer.setCircuitBreakers(manager);
    healer.setHealthMonitor(health);
    healer.start();
    const events = collect(healer);
    for (let i = 0; i < 2; i++) await breaker.execute(() => Promise.reject(new Error('503'))).catch(() => undefined);
    expect(breaker.state).toBe('open');
    await new Promise((r) => setImmediate(r));
    expect(events.map((e) => e.type)).toEqual([
      'circuit-opened', 'failure-detected', 'recovery-started', 'healing-step', 'circuit-closed', 'breaker-reset', 'recovery-succeeded',
    ]);
    expect(breaker.state).toBe('closed');
    expect(healer.getOpenFailures()).toEqual([]);
    healer.dispose();
  });

  it('the periodic sweep retries refused or failed recoveries and closes failures that got healthy', async () => {
    const clock = new VirtualClock();
    const health = new FakeHealth();
    let attempts = 0;
    const healer = new SelfHealer({
      clock,
      healthCheckInterval: 1_000,
      escalationThreshold: 10,
      defaultStrategy: { name: 'flaky', type: 'restore', recover: async () => { if (++attempts < 3) throw new Error('not yet'); } },
    });
    healer.setHealthMonitor(health);
    healer.start();
    await healer.detectFailure('worker', 'jobs', new Error('stuck'));
    expect(attempts).toBe(1);
    await clock.advanceAsync(1_000);
    expect(attempts).toBe(2);
    await clock.advanceAsync(1_000);
    expect(attempts).toBe(3);
    expect(healer.getOpenFailures()).toEqual([]);
    await clock.advanceAsync(5_000);
    expect(attempts).toBe(3);
    // A failure whose component became healthy is closed by the sweep without a recovery.
    health.status.set('api', 'unhealthy');
    const stuck = new SelfHealer({ clock, healthCheckInterval: 1_000, autoRecover: false });
    stuck.setHealthMonitor(health);
    stuck.start();
    await stuck.detectFailure('api', 'x', new Error('down'));
    health.status.set('api', 'healthy');
    const events = collect(stuck);
    await clock.advanceAsync(1_000);
    expect(events).toMatchObject([{ type: 'failure-resolved', component: 'api', resolvedBy: 'health' }]);
    healer.stop();
    stuck.stop();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('SelfHealer preventive actions, history, options', () => {
  it('runs registered preventive actions once per cooldown', async () => {
    const clock = new VirtualClock();
    const restarts: string[] = [];
    const healer = new SelfHealer({ clock, preventiveCooldownMs: 60_000, restarter: { requestRollingRestart: async (r) => void restarts.push(r) } });
    const scaled: unknown[] = [];
    healer.registerPreventiveAction('scale-horizontally', (req) => void scaled.push(req.prediction));
    const request = { component: 'api', action: 'scale-horizontally', reason: 'heap trend', prediction: { probability: 0.85 } };
    expect(await healer.requestPreventiveAction(request)).toEqual({ status: 'succeeded' });
    expect(await healer.requestPreventiveAction(request)).toEqual({ status: 'cooldown' });
    clock.advance(60_000);
    expect(await healer.requestPreventiveAction(request)).toEqual({ status: 'succeeded' });
    expect(scaled).toEqual([{ probability: 0.85 }, { probability: 0.85 }]);
    expect(await healer.requestPreventiveAction({ ...request, action: 'nope' })).toEqual({ status: 'unknown-action' });
    expect(await healer.requestPreventiveAction({ component: 'api', action: 'rolling-restart', reason: 'leak predicted' })).toEqual({ status: 'succeeded' });
    expect(restarts).toEqual(['leak predicted']);
    const cleared: string[] = [];
    healer.registerCache('quotes', { clear: () => void cleared.push('quotes') });
    expect((await healer.requestPreventiveAction({ component: 'api', action: 'clear-caches', reason: 'r' })).status).toBe('succeeded');
    expect(cleared).toEqual(['quotes']);
    expect(healer.getStatistics().preventiveActions).toEqual({ requested: 6, succeeded: 4, failed: 0, skipped: 2 });
  });

  it('keeps a bounded history and clears it by date', async () => {
    const clock = new VirtualClock(1_000);
    const ok = { name: 'ok', type: 'restore' as const, recover: async () => undefined };
    const healer = new SelfHealer({ clock, maxHistory: 3, defaultStrategy: ok });
    for (let i = 0; i < 5; i++) {
      await healer.detectFailure(`c${i}`, 'x', new Error('e'));
      clock.advance(1_000);
    }
    expect(healer.getHistory().map((r) => r.component)).toEqual(['c2', 'c3', 'c4']);
    expect(healer.clearHistory(new Date(4_000))).toBe(1);
    expect(healer.getHistory().map((r) => r.component)).toEqual(['c3', 'c4']);
    expect(healer.clearHistory()).toBe(2);
  });

  it('validates its config with every bad field by path', () => {
    try {
      new SelfHealer({ maxConcurrentRecoveries: 0, recoveryTimeout: -1, strategyMap: { network: {} as never }, escalationThreshold: 0.5, healthCheckInterval: 0 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidOptionsError);
      expect((e as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
        'maxConcurrentRecoveries', 'recoveryTimeout', 'strategyMap.network', 'escalationThreshold', 'healthCheckInterval',
      ]);
    }
  });

  it('disabled: executeWithHealing only runs fn', async () => {
    const healer = new SelfHealer({ enabled: false });
    const err = new Error('x');
    expect(await errorOf(healer.executeWithHealing('a', () => Promise.reject(err)))).toBe(err);
    expect((await healer.detectFailure('a', 'b', err)).status).toBe('skipped');
    expect(healer.getStatistics().attempts).toBe(0);
  });
});

describe('seed README: Self-Healing and event subscription', () => {
  it('runs the snippets with only the import changed', async () => {
    const clock = new VirtualClock();
    const retryStrategy = RecoveryStrategyFactory.createRetry({ name: 'exponential-retry', maxAttempts: 3, initialDelay: 1000, clock });
    const fallbackStrategy = RecoveryStrategyFactory.createFallback({ name: 'f', fallbackChain: [{ name: 'cache', priority: 1, execute: async () => 'cached' }] });
    const escalationStrategy = RecoveryStrategyFactory.createEscalation({ name: 'e', notificationChannels: ['slack'] });
    const healerConfig = {
      enabled: true,
      autoRecover: true,
      maxConcurrentRecoveries: 10,
      recoveryTimeout: 30000,
      defaultStrategy: retryStrategy,
      strategyMap: { network: retryStrategy, database: fallbackStrategy, service: escalationStrategy },
      escalationThreshold: 3,
      healthCheckInterval: 5000,
      clock,
    };
    const selfHealer = new SelfHealer(healerConfig);
    const circuitBreakers = new CircuitBreakerManager({ clock });
    const healthMonitor = new FakeHealth();
    selfHealer.setCircuitBreakers(circuitBreakers);
    selfHealer.setHealthMonitor(healthMonitor);
    selfHealer.start();

    const metrics = { counts: new Map<string, number>(), increment(k: string) { this.counts.set(k, (this.counts.get(k) ?? 0) + 1); } };
    const alerts = { sent: [] as string[], send(title: string, component: string) { this.sent.push(`${title}: ${component}`); } };
    const unsubscribe = selfHealer.onEvent((event) => {
      switch (event.type) {
        case 'recovery-started':
          metrics.increment('recovery.started');
          break;
        case 'recovery-succeeded':
          metrics.increment('recovery.succeeded');
          break;
        case 'circuit-opened':
          alerts.send('Circuit opened', event.component);
          break;
      }
    });

    let tries = 0;
    const order = { id: 1 };
    const processPayment = async (o: { id: number }) => {
      if (++tries < 2) throw new Error('ETIMEDOUT');
      return { paid: o.id };
    };
    // Execute with automatic recovery
    const pending = selfHealer.executeWithHealing(
      'payment-service',
      async () => {
        return await processPayment(order);
      },
      'network',
      'high'
    );
    const result = await pending;
    expect(result).toEqual({ paid: 1 });

    // Manual failure detection
    await selfHealer.detectFailure(
      'database',
      'postgres',
      new Error('Connection timeout'),
      'critical'
    );

    // Get statistics
    const stats = selfHealer.getStatistics();
    expect(`Success rate: ${(stats.successRate * 100).toFixed(2)}%`).toBe('Success rate: 50.00%');

    circuitBreakers.getOrCreate('api-service').open();
    expect(alerts.sent).toEqual(['Circuit opened: api-service']);
    expect(metrics.counts.get('recovery.succeeded')).toBe(1);

    // Clear old history
    selfHealer.clearHistory(new Date(Date.now() - 86400000)); // 24h ago
    unsubscribe();
    selfHealer.stop();
  });
});
