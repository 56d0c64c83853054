import { describe, expect, it } from 'vitest';
import { EventEmitter } from '../../src/core/events.js';
import { isTimeoutError } from '../../src/core/errors.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { CircuitBreakerManager } from '../../src/policies/circuit-breaker-manager.js';
import { isRecoveryFailedError, isRecoveryRefusedError, type RecoveryFailedError } from '../../src/healing/errors.js';
import type { HealthSource, HealthStatusName } from '../../src/healing/health-source.js';
import type { RecoveryStrategy } from '../../src/healing/recovery-strategy.js';
import { RecoveryStrategyFactory } from '../../src/healing/recovery-strategy-factory.js';
import { SelfHealer, type BreakerManagerSource, type HealerEvent } from '../../src/healing/self-healer.js';
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
/** Runs until its signal aborts. */
const untilAborted: RecoveryStrategy = {
  name: 'until-aborted',
  type: 'retry',
  recover: ({ signal }) => new Promise<never>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true })),
};

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
    const healer = new SelfHealer({ maxConcurrentRecoveries: 2, defaultStrategy: untilAborted, clock: new VirtualClock() });
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

  it('regression: a timed-out recovery keeps its concurrency slot until the strategy itself settles', async () => {
    const clock = new VirtualClock();
    let finish!: () => void;
    const stubborn: RecoveryStrategy = { name: 'stubborn', type: 'restore', recover: () => new Promise<void>((r) => (finish = r)) };
    const healer = new SelfHealer({ clock, recoveryTimeout: 1_000, maxConcurrentRecoveries: 1, defaultStrategy: stubborn });
    const p = track(healer.executeWithHealing('slow', () => Promise.reject(new Error('down'))));
    await clock.advanceAsync(1_000);
    // The caller gets the timeout at the deadline...
    expect(p.state).toBe('rejected');
    expect(isTimeoutError((p.error as Error).cause)).toBe(true);
    // ...but the strategy still runs, so its slot is still taken: the next recovery is refused.
    expect(healer.getStatistics().activeRecoveries).toBe(1);
    expect(isRecoveryRefusedError(await errorOf(healer.executeWithHealing('other', () => Promise.reject(new Error('x')))))).toBe(true);
    finish();
    await new Promise((r) => setImmediate(r));
    expect(healer.getStatistics().activeRecoveries).toBe(0);
    const next = track(healer.executeWithHealing('other', () => Promise.reject(new Error('x'))));
    await new Promise((r) => setImmediate(r));
    expect(healer.getStatistics().activeRecoveries).toBe(1);
    finish();
    await new Promise((r) => setImmediate(r));
    expect(next.state).toBe('resolved');
    expect(healer.getStatistics().activeRecoveries).toBe(0);
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

  it('regression: escalation at the threshold is cancelled by stop(), leaving no handler timer', async () => {
    const clock = new VirtualClock();
    const escalation = RecoveryStrategyFactory.createEscalation({ name: 'page', notificationChannels: ['ops'], handlerTimeoutMs: 60_000, clock });
    let handlerSignal: AbortSignal | undefined;
    escalation.registerHandler('ops', (_m, ctx) => new Promise<void>(() => void (handlerSignal = ctx.signal)));
    const failing: RecoveryStrategy = { name: 'nope', type: 'restore', recover: () => Promise.reject(new Error('still down')) };
    const healer = new SelfHealer({ clock, escalationThreshold: 1, escalation, defaultStrategy: failing });
    const events = collect(healer);
    healer.start();
    await healer.detectFailure('cache', 'redis', new Error('ECONNREFUSED'));
    expect(handlerSignal?.aborted).toBe(false);
    expect(clock.pendingTimers).toBeGreaterThan(0);
    healer.stop();
    expect(handlerSignal?.aborted).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(events.filter((e) => e.type === 'escalated')).toMatchObject([{ component: 'cache', failedRecoveries: 1 }]);
  });

  it('regression: the sweep keeps the original trigger, so a failure from a breaker closed silently is resolved', async () => {
    const clock = new VirtualClock();
    let state = 'open';
    let emitChange!: (e: { name: string; from: string; to: string; reason: string }) => void;
    const breakers: BreakerManagerSource = {
      get: (name) => (name === 'pricing' ? { state, reset: () => undefined } : undefined),
      on: (_event, fn) => {
        emitChange = fn;
        return () => undefined;
      },
    };
    const failing: RecoveryStrategy = { name: 'nope', type: 'restore', recover: () => Promise.reject(new Error('still down')) };
    const healer = new SelfHealer({ clock, healthCheckInterval: 1_000, escalationThreshold: 10, defaultStrategy: failing });
    healer.setCircuitBreakers(breakers);
    healer.start();
    const events = collect(healer);
    emitChange({ name: 'pricing', from: 'closed', to: 'open', reason: 'failure-count' });
    await clock.advanceAsync(1_000); // the sweep retries it
    expect(healer.getHistory().map((r) => r.trigger)).toEqual(['circuit-breaker', 'periodic']);
    state = 'closed'; // closed without an event
    await clock.advanceAsync(1_000);
    expect(events.filter((e) => e.type === 'failure-resolved')).toMatchObject([{ component: 'pricing', resolvedBy: 'circuit-breaker' }]);
    expect(healer.getOpenFailures()).toEqual([]);
    healer.stop();
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

describe('SelfHealer with a HealthMonitor: components with several checks', () => {
  it('regression: a recovery is not reported verified while the check that failed is still unhealthy, and the failure closes only when the component turns healthy', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock, checkInterval: 1_000 });
    let pingOk = false;
    // Component "db" has two checks: "db-ping" fails, "db-latency" is fine.
    monitor.registerCheck('db-ping', () => pingOk, { component: 'db' });
    monitor.registerCheck('db-latency', () => true, { component: 'db' });
    const noop: RecoveryStrategy = { name: 'noop', type: 'restore', recover: async () => undefined };
    const healer = new SelfHealer({ clock, defaultStrategy: noop, strategyMap: { health: noop } });
    healer.setHealthMonitor(monitor);
    healer.start();
    const runs: string[] = [];
    const runCheck = monitor.runCheck.bind(monitor);
    monitor.runCheck = (name) => (runs.push(name), runCheck(name));
    const events = collect(healer);

    await monitor.runAll();
    await clock.advanceAsync(10);
    runs.splice(0, 2); // runAll's own runs
    expect(monitor.getComponentHealth('db')?.status).toBe('unhealthy');
    // Verification ran the check that failed (not "db-latency", which turned healthy after it).
    expect(runs).toEqual(['db-ping']);
    expect(events.filter((e) => e.type === 'recovery-succeeded')).toEqual([]);
    expect(healer.getHistory()).toMatchObject([{ component: 'db', status: 'failed', verified: false }]);
    expect(healer.getOpenFailures().map((f) => f.component)).toEqual(['db']);
    expect(events.some((e) => e.type === 'failure-resolved')).toBe(false);

    // The failing check passes: the component turns healthy and the failure is resolved.
    pingOk = true;
    await monitor.runCheck('db-ping');
    expect(events.filter((e) => e.type === 'failure-resolved')).toMatchObject([{ component: 'db', resolvedBy: 'health' }]);
    expect(healer.getOpenFailures()).toEqual([]);
    healer.dispose();
    monitor.dispose();
  });

  it('never asks for a check named after a component whose only check has another name', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock });
    monitor.registerCheck('db-ping', () => true, { component: 'db' });
    const runs: string[] = [];
    const runCheck = monitor.runCheck.bind(monitor);
    monitor.runCheck = (name) => (runs.push(name), runCheck(name));
    const noop: RecoveryStrategy = { name: 'noop', type: 'restore', recover: async () => undefined };
    const healer = new SelfHealer({ clock, defaultStrategy: noop });
    healer.setHealthMonitor(monitor);
    // No result and no status change yet: nothing known to verify with, so not verified (and "db" not asked for).
    expect(await healer.detectFailure('db', 'x', new Error('down'))).toMatchObject({ status: 'succeeded', verified: false });
    expect(runs).toEqual([]);
    // Once the check has reported, it is the component's known check: verification runs it.
    await monitor.runCheck('db-ping');
    runs.length = 0;
    expect(await healer.detectFailure('db', 'x', new Error('down'))).toMatchObject({ status: 'succeeded', verified: true });
    expect(runs).toEqual(['db-ping']);
    healer.dispose();
    monitor.dispose();
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
