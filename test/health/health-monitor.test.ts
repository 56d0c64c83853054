import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/core/abort.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import type { HealthCheckContext, HealthCheckResult, HealthStatus } from '../../src/health/health-check.js';
import {
  HealthMonitor,
  type ComponentStatusChange,
  type HealthMonitorEvent,
  type HealthStatusChange,
} from '../../src/health/health-monitor.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/** A check whose next outcomes the test sets; each run takes `delayMs` on the clock. */
function scripted(clock: VirtualClock, delayMs = 0) {
  const state = { status: 'healthy' as HealthStatus, calls: 0, delayMs };
  const fn = async (): Promise<Partial<HealthCheckResult>> => {
    state.calls++;
    if (state.delayMs > 0) await sleep(clock, state.delayMs);
    if (state.status === 'unhealthy') throw new Error('down');
    return { status: state.status };
  };
  return { state, fn };
}

/** Runs `name` once per status in `statuses`, in order. */
async function feed(monitor: HealthMonitor, check: ReturnType<typeof scripted>, name: string, statuses: HealthStatus[]): Promise<void> {
  for (const status of statuses) {
    check.state.status = status;
    await monitor.runCheck(name);
  }
}

describe('HealthMonitor scheduling', () => {
  it('runs each check at start and then every intervalMs, re-armed on the clock', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock, checkInterval: 5_000 });
    const a = scripted(clock);
    const b = scripted(clock);
    monitor.registerCheck('a', a.fn, { intervalMs: 1_000 });
    monitor.registerCheck('b', b.fn);
    monitor.start();
    await clock.advanceAsync(0);
    expect([a.state.calls, b.state.calls]).toEqual([1, 1]);
    await clock.advanceAsync(999);
    expect(a.state.calls).toBe(1);
    await clock.advanceAsync(1);
    expect(a.state.calls).toBe(2);
    await clock.advanceAsync(4_000);
    expect([a.state.calls, b.state.calls]).toEqual([6, 2]);
    monitor.stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advanceAsync(10_000);
    expect([a.state.calls, b.state.calls]).toEqual([6, 2]);
  });

  it('a check registered while running starts at once; enabled: false schedules nothing', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock, checkInterval: 1_000 });
    monitor.start();
    const a = scripted(clock);
    monitor.registerCheck('a', a.fn);
    await clock.advanceAsync(0);
    expect(a.state.calls).toBe(1);
    monitor.stop();

    const off = new HealthMonitor({ clock, enabled: false });
    const b = scripted(clock);
    off.registerCheck('b', b.fn);
    off.start();
    expect(off.isRunning).toBe(false);
    await clock.advanceAsync(60_000);
    expect(b.state.calls).toBe(0);
    await off.runCheck('b');
    expect(b.state.calls).toBe(1);
  });

  it('never overlaps a check with itself: ticks during a run are skipped and reported', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock });
    const slow = scripted(clock, 2_500);
    const skipped: string[] = [];
    monitor.on('checkSkipped', ({ check }) => skipped.push(check));
    monitor.registerCheck('slow', slow.fn, { intervalMs: 1_000, timeoutMs: 5_000 });
    monitor.start();
    await clock.advanceAsync(2_000);
    expect(slow.state.calls).toBe(1);
    expect(skipped).toEqual(['slow', 'slow']);
    await clock.advanceAsync(500); // t = 2500: the first run ends
    expect(monitor.getLastResult('slow')?.responseTime).toBe(2_500);
    await clock.advanceAsync(500); // t = 3000: the next tick runs
    expect(slow.state.calls).toBe(2);
    // A manual run during a scheduled one joins it instead of starting another.
    const joined = monitor.runCheck('slow');
    expect(slow.state.calls).toBe(2);
    await clock.advanceAsync(2_500);
    expect((await joined).lastChecked.getTime()).toBe(5_500);
    monitor.stop();
  });

  it('gives each check its own timeout: the run is unhealthy at timeoutMs and its signal aborts', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock });
    let signal: AbortSignal | undefined;
    monitor.registerCheck(
      'hang',
      (ctx: HealthCheckContext) =>
        new Promise((_, reject) => {
          signal = ctx.signal;
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
        }),
      { timeoutMs: 300 },
    );
    monitor.registerCheck('fast', () => true, { timeoutMs: 100 });
    const pending = monitor.runAll();
    await clock.advanceAsync(299);
    expect(signal?.aborted).toBe(false);
    await clock.advanceAsync(1);
    const [hang, fast] = await pending;
    expect(signal?.aborted).toBe(true);
    expect(hang).toMatchObject({
      status: 'unhealthy',
      responseTime: 300,
      error: 'Health check "hang" timed out after 300 ms',
      details: { timedOut: true },
    });
    expect(fast?.status).toBe('healthy');
  });

  it('skips ticks while a timed-out check that ignores its signal is still pending', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock });
    let release: (() => void) | undefined;
    let calls = 0;
    monitor.registerCheck(
      'stuck',
      () => {
        calls++;
        return new Promise<void>((resolve) => (release = resolve));
      },
      { intervalMs: 1_000, timeoutMs: 500 },
    );
    const skipped: string[] = [];
    monitor.on('checkSkipped', ({ check }) => skipped.push(check));
    monitor.start();
    await clock.advanceAsync(3_000);
    expect(calls).toBe(1);
    expect(monitor.getLastResult('stuck')?.details?.timedOut).toBe(true);
    expect(skipped).toEqual(['stuck', 'stuck', 'stuck']);
    expect(await monitor.runCheck('stuck')).toBe(monitor.getLastResult('stuck'));
    release?.();
    await clock.advanceAsync(1_000);
    expect(calls).toBe(2);
    monitor.stop();
  });

  it('default timeout is min(timeoutMs, intervalMs)', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock, timeoutMs: 700 });
    monitor.registerCheck('a', () => new Promise(() => {}), { intervalMs: 10_000 });
    monitor.registerCheck('b', () => new Promise(() => {}), { intervalMs: 400 });
    const results = monitor.runAll();
    await clock.advanceAsync(700);
    expect((await results).map((r) => r.responseTime)).toEqual([700, 400]);
  });

  it('stop() cancels runs in progress without recording them and leaves no timer', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock });
    const slow = scripted(clock, 1_000);
    monitor.registerCheck('slow', slow.fn, { intervalMs: 5_000 });
    monitor.start();
    await clock.advanceAsync(0);
    const pending = monitor.runCheck('slow');
    monitor.stop();
    expect((await pending).error).toBe('Health check "slow" cancelled');
    expect(monitor.getLastResult('slow')).toBeUndefined();
    expect(monitor.getHistory('slow')).toEqual([]);
    await clock.runAllAsync();
    expect(clock.pendingTimers).toBe(0);
  });

  it('unregister (by name or by the returned function) cancels the schedule and disposes the check', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock, checkInterval: 1_000 });
    let disposed = 0;
    const fn = Object.assign(() => true, { dispose: () => void disposed++ });
    const off = monitor.registerCheck('a', fn);
    monitor.registerCheck('b', () => true);
    monitor.start();
    await clock.advanceAsync(0);
    off();
    off();
    expect(disposed).toBe(1);
    expect(monitor.unregisterCheck('b')).toBe(true);
    expect(monitor.unregisterCheck('b')).toBe(false);
    expect(monitor.getCheckNames()).toEqual([]);
    expect(monitor.getComponentHealth('a')).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
    await expect(monitor.runCheck('a')).rejects.toThrow('no check named "a"');
  });

  it('re-registering a name replaces the check; maxChecks bounds the registry', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock, maxChecks: 2 });
    monitor.registerCheck('a', () => false);
    monitor.registerCheck('a', () => true);
    monitor.registerCheck('b', () => true);
    expect((await monitor.runCheck('a')).status).toBe('healthy');
    expect(() => monitor.registerCheck('c', () => true)).toThrow(RangeError);
  });
});

describe('HealthMonitor results', () => {
  it('maps what a check returns or throws to a result', async () => {
    const clock = new VirtualClock(1_000);
    const monitor = new HealthMonitor({ clock });
    monitor.registerCheck('nothing', () => undefined);
    monitor.registerCheck('true', () => true);
    monitor.registerCheck('false', () => false);
    monitor.registerCheck('value', () => 'PONG');
    monitor.registerCheck('throws', () => {
      throw new Error('boom');
    });
    monitor.registerCheck('rejects', () => Promise.reject(new Error('refused')));
    monitor.registerCheck('degraded', () => ({ status: 'degraded', error: 'slow replica', details: { lagMs: 40 } }));
    monitor.registerCheck('bad', () => ({ status: 'fine' }));
    monitor.registerCheck('errorOnly', () => ({ error: 'no status given' }));
    const results = await monitor.runAll();
    const summary = Object.fromEntries(results.map((r) => [r.check, [r.status, r.error]]));
    expect(summary).toEqual({
      nothing: ['healthy', undefined],
      true: ['healthy', undefined],
      false: ['unhealthy', 'check returned false'],
      value: ['healthy', undefined],
      throws: ['unhealthy', 'boom'],
      rejects: ['unhealthy', 'refused'],
      degraded: ['degraded', 'slow replica'],
      bad: ['unhealthy', 'check returned an invalid status: fine'],
      errorOnly: ['unhealthy', 'no status given'],
    });
    expect(results[6]).toEqual({
      name: 'degraded',
      component: 'degraded',
      check: 'degraded',
      status: 'degraded',
      lastChecked: new Date(1_000),
      responseTime: 0,
      error: 'slow replica',
      details: { lagMs: 40 },
    });
  });

  it('runs the seed README health check unchanged and caches its result', async () => {
    const clock = new VirtualClock();
    const healthMonitor = new HealthMonitor({ clock, checkInterval: 5_000, components: ['database'] });
    const db = { ping: async () => 'PONG' };
    const start = Date.now();
    healthMonitor.registerCheck('database', async () => {
      try {
        await db.ping();
        return {
          name: 'db-ping',
          component: 'database',
          status: 'healthy',
          lastChecked: new Date(),
          responseTime: Date.now() - start,
        };
      } catch (error) {
        return {
          name: 'db-ping',
          component: 'database',
          status: 'unhealthy',
          lastChecked: new Date(),
          responseTime: Date.now() - start,
          error: (error as Error).message,
        };
      }
    });
    healthMonitor.start();
    await clock.advanceAsync(0);
    const health = healthMonitor.getSystemHealth();
    expect(`System health: ${health.overall} (score: ${health.score})`).toBe('System health: healthy (score: 100)');
    const cached = healthMonitor.getLastResult('database');
    expect(cached).toMatchObject({ name: 'db-ping', component: 'database', status: 'healthy', lastChecked: new Date(0) });
    expect(healthMonitor.getComponentHealth('database')?.checks).toEqual([cached]);
    healthMonitor.stop();
  });

  it('the component comes from the registration, not the result', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock });
    monitor.registerCheck('replica', () => ({ status: 'healthy', component: 'elsewhere' }), { component: 'database' });
    const result = await monitor.runCheck('replica');
    expect(result.component).toBe('database');
    expect(monitor.getHistory('database')).toEqual([result]);
    expect(monitor.getComponentHealth('elsewhere')).toBeUndefined();
  });
});

describe('HealthMonitor events', () => {
  it('emits statusChange on every change of a check, and checkCompleted on every run', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock });
    const check = scripted(clock);
    monitor.registerCheck('api', check.fn, { component: 'edge' });
    const changes: Omit<HealthStatusChange, 'result'>[] = [];
    let completed = 0;
    monitor.on('statusChange', ({ component, check, from, to, result }) => {
      expect(result.status).toBe(to);
      changes.push({ component, check, from, to });
    });
    monitor.on('checkCompleted', () => void completed++);
    await feed(monitor, check, 'api', ['healthy', 'healthy', 'unhealthy', 'unhealthy', 'degraded', 'healthy']);
    expect(completed).toBe(6);
    expect(changes).toEqual([
      { component: 'edge', check: 'api', from: 'unknown', to: 'healthy' },
      { component: 'edge', check: 'api', from: 'healthy', to: 'unhealthy' },
      { component: 'edge', check: 'api', from: 'unhealthy', to: 'degraded' },
      { component: 'edge', check: 'api', from: 'degraded', to: 'healthy' },
    ]);
  });

  it('emits componentStatusChange and seed-shaped onEvent events; alertOnDegradation gates component-degraded', async () => {
    for (const alertOnDegradation of [true, false]) {
      const clock = new VirtualClock();
      const monitor = new HealthMonitor({ clock, alertOnDegradation });
      const a = scripted(clock);
      const b = scripted(clock);
      monitor.registerCheck('a', a.fn, { component: 'db' });
      monitor.registerCheck('b', b.fn, { component: 'db' });
      const component: Omit<ComponentStatusChange, 'health'>[] = [];
      const seed: Pick<HealthMonitorEvent, 'type' | 'component'>[] = [];
      monitor.on('componentStatusChange', ({ component: c, from, to }) => component.push({ component: c, from, to }));
      const off = monitor.onEvent((e) => {
        expect(e.timestamp).toEqual(new Date(0));
        if (e.type !== 'health-check-completed') seed.push({ type: e.type, component: e.component });
      });
      await feed(monitor, a, 'a', ['healthy']);
      await feed(monitor, b, 'b', ['degraded', 'unhealthy', 'healthy']);
      expect(component).toEqual([
        { component: 'db', from: 'unknown', to: 'healthy' },
        { component: 'db', from: 'healthy', to: 'degraded' },
        { component: 'db', from: 'degraded', to: 'unhealthy' },
        { component: 'db', from: 'unhealthy', to: 'healthy' },
      ]);
      const degradedEvents = alertOnDegradation
        ? [
            { type: 'component-degraded', component: 'db' },
            { type: 'health-status-changed', component: 'db' },
            { type: 'component-degraded', component: 'db' },
          ]
        : [{ type: 'health-status-changed', component: 'db' }];
      expect(seed).toEqual([
        { type: 'health-status-changed', component: 'db' },
        { type: 'health-status-changed', component: 'db' },
        ...degradedEvents,
        { type: 'health-status-changed', component: 'db' },
        { type: 'component-recovered', component: 'db' },
      ]);
      off();
    }
  });
});

describe('HealthMonitor component metrics', () => {
  it('tracks response time, availability, error rate and consecutive failures over the history', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock });
    const check = scripted(clock, 100);
    monitor.registerCheck('db', check.fn, { critical: true });
    const run = async (status: HealthStatus, delayMs: number): Promise<void> => {
      check.state.status = status;
      check.state.delayMs = delayMs;
      const pending = monitor.runCheck('db');
      await clock.advanceAsync(delayMs);
      await pending;
    };
    await run('healthy', 100);
    await run('healthy', 300);
    await run('degraded', 200);
    await run('unhealthy', 400);
    await run('unhealthy', 500);
    expect(monitor.getComponentHealth('db')).toMatchObject({
      component: 'db',
      status: 'unhealthy',
      severity: 'ok',
      responseTime: 500,
      averageResponseTime: 300,
      availability: 40,
      errorRate: 40,
      consecutiveFailures: 2,
      critical: true,
      lastChecked: new Date(1_500),
    });
    await run('healthy', 0);
    expect(monitor.getComponentHealth('db')).toMatchObject({ status: 'healthy', consecutiveFailures: 0, availability: 50 });
  });

  it('configured components are listed as unknown until a check reports', () => {
    const monitor = new HealthMonitor({ clock: new VirtualClock(), components: ['api', 'queue'] });
    expect(monitor.getComponentHealth('queue')).toMatchObject({
      status: 'unknown',
      availability: 100,
      errorRate: 0,
      trend: 'stable',
      consecutiveFailures: 0,
      lastChecked: undefined,
      checks: [],
    });
    expect(monitor.getSystemHealth().components.map((c) => c.component)).toEqual(['api', 'queue']);
  });

  it('computes the trend from the older and newer halves of the trend window', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock, trendWindow: 6, trendSensitivity: 10 });
    const check = scripted(clock);
    monitor.registerCheck('svc', check.fn);
    const trend = (): string | undefined => monitor.getComponentHealth('svc')?.trend;
    await feed(monitor, check, 'svc', ['unhealthy', 'unhealthy', 'unhealthy']);
    expect(trend()).toBe('stable'); // fewer than 4 results
    await feed(monitor, check, 'svc', ['healthy', 'healthy', 'healthy']);
    expect(trend()).toBe('improving'); // older half 0, newer half 100
    await feed(monitor, check, 'svc', ['degraded', 'degraded', 'unhealthy']);
    // window: healthy healthy healthy | degraded degraded unhealthy -> 100 vs 33.3
    expect(trend()).toBe('declining');
    await feed(monitor, check, 'svc', ['degraded']);
    // window: healthy healthy degraded | degraded unhealthy degraded -> 83.3 vs 33.3
    expect(trend()).toBe('declining');
    await feed(monitor, check, 'svc', ['healthy', 'unhealthy', 'degraded']);
    // window: degraded unhealthy degraded | healthy unhealthy degraded -> 33.3 vs 50: +16.7
    expect(trend()).toBe('improving');
    await feed(monitor, check, 'svc', ['degraded', 'unhealthy', 'healthy']);
    // window: healthy unhealthy degraded | degraded unhealthy healthy -> 50 vs 50
    expect(trend()).toBe('stable');
  });

  it('bounds the history to historySize and getHistory returns the newest, oldest first', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock, historySize: 5 });
    monitor.registerCheck('a', () => true, { intervalMs: 1_000 });
    monitor.start();
    await clock.advanceAsync(11_000); // 12 runs at t = 0..11000
    const times = (limit?: number): number[] => monitor.getHistory('a', limit).map((r) => r.lastChecked.getTime());
    expect(times()).toEqual([7_000, 8_000, 9_000, 10_000, 11_000]);
    expect(times(2)).toEqual([10_000, 11_000]);
    expect(monitor.getHistory('nope')).toEqual([]);
    monitor.stop();
  });

  it('drops entries older than retentionDays', async () => {
    const DAY = 86_400_000;
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock, retentionDays: 1 });
    const check = scripted(clock);
    monitor.registerCheck('a', check.fn);
    await feed(monitor, check, 'a', ['unhealthy', 'unhealthy']);
    clock.advance(DAY / 2);
    await feed(monitor, check, 'a', ['healthy']);
    expect(monitor.getComponentHealth('a')?.availability).toBeCloseTo(100 / 3, 10);
    clock.advance(DAY / 2); // the first two are exactly one day old: kept
    expect(monitor.getHistory('a')).toHaveLength(3);
    clock.advance(1);
    expect(monitor.getHistory('a').map((r) => r.lastChecked.getTime())).toEqual([DAY / 2]);
    expect(monitor.getComponentHealth('a')).toMatchObject({ availability: 100, consecutiveFailures: 0 });
  });

  it('clearHistory forgets one component or all, keeping the cached results', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock });
    monitor.registerCheck('a', () => false);
    monitor.registerCheck('b', () => false);
    await monitor.runAll();
    await monitor.runAll();
    monitor.clearHistory('a');
    expect(monitor.getHistory('a')).toEqual([]);
    expect(monitor.getHistory('b')).toHaveLength(2);
    expect(monitor.getComponentHealth('a')).toMatchObject({ status: 'unhealthy', consecutiveFailures: 0, availability: 100 });
    monitor.clearHistory();
    expect(monitor.getHistory('b')).toEqual([]);
    expect(monitor.getLastResult('b')?.status).toBe('unhealthy');
  });
});

describe('HealthMonitor thresholds', () => {
  it('availability: warning degrades, critical and fatal make the component unhealthy', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({
      clock,
      historySize: 20,
      thresholds: { api: { metric: 'availability', warning: 95, critical: 80, fatal: 50 } },
    });
    const check = scripted(clock);
    monitor.registerCheck('api', check.fn);
    await feed(monitor, check, 'api', ['unhealthy', ...Array<HealthStatus>(19).fill('healthy')]);
    expect(monitor.getComponentHealth('api')).toMatchObject({ availability: 95, severity: 'ok', status: 'healthy' });
    // The oldest (unhealthy) slides out: 18 of 20, and the latest result is healthy.
    await feed(monitor, check, 'api', ['unhealthy', 'unhealthy', 'healthy', 'healthy']);
    expect(monitor.getComponentHealth('api')).toMatchObject({ availability: 90, severity: 'warning', status: 'degraded' });
    await feed(monitor, check, 'api', ['unhealthy', 'unhealthy', 'degraded']); // 15 of 20
    expect(monitor.getComponentHealth('api')).toMatchObject({ availability: 75, severity: 'critical', status: 'unhealthy' });
    await feed(monitor, check, 'api', Array<HealthStatus>(6).fill('degraded'));
    expect(monitor.getComponentHealth('api')).toMatchObject({ availability: 45, severity: 'fatal', status: 'unhealthy' });
  });

  it('responseTime and errorRate thresholds rise the other way', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({
      clock,
      thresholds: {
        slow: { metric: 'responseTime', warning: 100, critical: 500, fatal: 1_000 },
        flaky: { metric: 'errorRate', warning: 10, critical: 25, fatal: 50 },
      },
    });
    const slow = scripted(clock, 100);
    monitor.registerCheck('slow', slow.fn, { timeoutMs: 10_000 });
    let pending = monitor.runCheck('slow');
    await clock.advanceAsync(100);
    await pending;
    expect(monitor.getComponentHealth('slow')).toMatchObject({ averageResponseTime: 100, severity: 'ok', status: 'healthy' });
    slow.state.delayMs = 300;
    pending = monitor.runCheck('slow');
    await clock.advanceAsync(300);
    await pending;
    expect(monitor.getComponentHealth('slow')).toMatchObject({ averageResponseTime: 200, severity: 'warning', status: 'degraded' });

    const flaky = scripted(clock);
    monitor.registerCheck('flaky', flaky.fn);
    await feed(monitor, flaky, 'flaky', ['unhealthy', 'healthy', 'healthy', 'healthy']);
    expect(monitor.getComponentHealth('flaky')).toMatchObject({ errorRate: 25, severity: 'warning', status: 'degraded' });
    await feed(monitor, flaky, 'flaky', ['unhealthy']);
    expect(monitor.getComponentHealth('flaky')).toMatchObject({ errorRate: 40, severity: 'critical', status: 'unhealthy' });
  });
});

describe('HealthMonitor.getSystemHealth score', () => {
  async function system(statuses: Record<string, [HealthStatus, boolean]>, criticalWeight?: number) {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor(criticalWeight === undefined ? { clock } : { clock, criticalWeight });
    for (const [name, [status, critical]] of Object.entries(statuses)) monitor.registerCheck(name, () => ({ status }), { critical });
    await monitor.runAll();
    const { overall, score } = monitor.getSystemHealth();
    return { overall, score };
  }

  it('is 100 and healthy with no results', () => {
    const monitor = new HealthMonitor({ clock: new VirtualClock() });
    monitor.registerCheck('never-run', () => true);
    expect(monitor.getSystemHealth()).toMatchObject({ overall: 'healthy', score: 100, timestamp: new Date(0) });
  });

  it('weighs critical checks criticalWeight (default 3) times', async () => {
    // (3*100 + 1*0 + 1*50) / 5 = 70
    expect(await system({ a: ['healthy', true], b: ['unhealthy', false], c: ['degraded', false] })).toEqual({ overall: 'degraded', score: 70 });
    // (3*0 + 100 + 100) / 5 = 40, and a critical check is down
    expect(await system({ a: ['unhealthy', true], b: ['healthy', false], c: ['healthy', false] })).toEqual({ overall: 'unhealthy', score: 40 });
    // (3*100 + 3*50 + 0) / 7 = 64.29 -> 64
    expect(await system({ a: ['healthy', true], b: ['degraded', true], c: ['unhealthy', false] })).toEqual({ overall: 'degraded', score: 64 });
    // weight 1: (0 + 100 + 100) / 3 = 66.67 -> 67
    expect(await system({ a: ['unhealthy', true], b: ['healthy', false], c: ['healthy', false] }, 1)).toEqual({ overall: 'unhealthy', score: 67 });
    // no critical check down but the score is below 50: (0 + 0 + 100) / 3 = 33
    expect(await system({ a: ['unhealthy', false], b: ['unhealthy', false], c: ['healthy', false] })).toEqual({ overall: 'unhealthy', score: 33 });
    expect(await system({ a: ['healthy', true], b: ['healthy', false] })).toEqual({ overall: 'healthy', score: 100 });
  });

  it('counts a check at its component threshold status when that is worse', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock, thresholds: { api: { metric: 'errorRate', warning: 10, critical: 60, fatal: 90 } } });
    const api = scripted(clock);
    monitor.registerCheck('api', api.fn, { critical: true });
    monitor.registerCheck('cache', () => true);
    await feed(monitor, api, 'api', ['unhealthy', 'healthy']); // error rate 50%: warning -> degraded
    await monitor.runCheck('cache');
    // (3*50 + 100) / 4 = 62.5 -> 63
    expect(monitor.getSystemHealth()).toMatchObject({ overall: 'degraded', score: 63 });
  });
});

describe('HealthMonitor options', () => {
  it('accepts the seed README configuration as is', () => {
    const config = {
      healthMonitor: {
        enabled: true,
        checkInterval: 5000,
        components: ['api', 'database', 'cache', 'queue'],
        thresholds: {
          api: { metric: 'availability', warning: 95, critical: 80, fatal: 50 },
          database: { metric: 'availability', warning: 95, critical: 80, fatal: 50 },
        },
        alertOnDegradation: true,
        retentionDays: 7,
      },
    } as const;
    const monitor = new HealthMonitor({ ...config.healthMonitor, components: [...config.healthMonitor.components] });
    expect(monitor.getSystemHealth().components.map((c) => [c.component, c.status])).toEqual([
      ['api', 'unknown'],
      ['database', 'unknown'],
      ['cache', 'unknown'],
      ['queue', 'unknown'],
    ]);
  });

  it('lists every invalid config field by path', () => {
    let error: unknown;
    try {
      new HealthMonitor({
        checkInterval: -1,
        components: ['ok', ''],
        thresholds: {
          api: { metric: 'latency' as 'availability', warning: 95, critical: 80, fatal: 50 },
          db: { metric: 'availability', warning: 50, critical: 80, fatal: 10 },
          rt: { metric: 'responseTime', warning: -1, critical: 1, fatal: 2 },
        },
        retentionDays: 0,
        historySize: 0,
        trendWindow: 2,
        criticalWeight: 0.5,
        clock: {} as VirtualClock,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
      'checkInterval',
      'components[1]',
      'thresholds.api.metric',
      'thresholds.db.critical',
      'thresholds.rt.warning',
      'retentionDays',
      'historySize',
      'trendWindow',
      'criticalWeight',
      'clock',
    ]);
  });

  it('validates registerCheck arguments', () => {
    const monitor = new HealthMonitor({ clock: new VirtualClock() });
    let error: unknown;
    try {
      monitor.registerCheck('', 'nope' as unknown as () => boolean, { intervalMs: 0, timeoutMs: -5, critical: 'yes' as unknown as boolean, component: '' });
    } catch (e) {
      error = e;
    }
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['name', 'fn', 'intervalMs', 'timeoutMs', 'critical', 'component']);
  });
});
