import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { isRunbookRunError, RunbookEngine, type RunbookRun } from '../../src/healing/runbook-engine.js';
import { isRunbookLoadError } from '../../src/healing/runbook-loader.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const SEED_DB_RUNBOOK = fileURLToPath(new URL('../../examples/runbooks/db-connection-pool.yaml', import.meta.url));

/** An engine whose actions record `name@time` and fail when listed in `failing`. */
function setup(failing: string[] = []) {
  const clock = new VirtualClock();
  const engine = new RunbookEngine({ clock, cooldownMs: 60_000 });
  const calls: string[] = [];
  for (const name of ['database.killIdleConnections', 'database.resetPool', 'database.scalePool', 'pagerduty.alert']) {
    engine.registerAction(name, (params) => {
      calls.push(`${name}@${clock.now()}${Object.keys(params).length > 0 ? ` ${JSON.stringify(params)}` : ''}`);
      if (failing.includes(name)) throw new Error(`${name} broke`);
      return 'ok';
    });
  }
  const completed: RunbookRun[] = [];
  engine.on('runCompleted', ({ run }) => completed.push(run));
  return { clock, engine, calls, completed };
}

describe('RunbookEngine with the seed runbook', () => {
  it('starts on the metric trigger and runs the steps in order, waiting exactly 10 s before verifying', async () => {
    const { clock, engine, calls, completed } = setup();
    await engine.loadFile(SEED_DB_RUNBOOK);
    const stepEvents: string[] = [];
    engine.on('stepStarted', ({ step, startedAt }) => stepEvents.push(`start ${step}@${startedAt}`));
    engine.on('stepCompleted', ({ step }) => stepEvents.push(`${step.outcome} ${step.name}`));

    expect(engine.onMetric('db_connections_available', 7)).toEqual([]); // "< 5" does not hold
    expect(engine.onMetric('db_connections_available', 3)).toEqual(['run-1']);
    await clock.advanceAsync(9_999);
    expect(calls).toEqual(['database.killIdleConnections@0 {"idle_time":"5m"}']);
    await clock.advanceAsync(1);
    expect(calls).toEqual([
      'database.killIdleConnections@0 {"idle_time":"5m"}',
      'database.resetPool@10000',
      'database.scalePool@10000 {"factor":1.5}',
    ]);
    expect(stepEvents).toEqual([
      'start Kill Idle Connections@0',
      'succeeded Kill Idle Connections',
      'start Check Recovery@0',
      'failed Check Recovery',
      'start Reset Connection Pool@10000',
      'succeeded Reset Connection Pool',
      'start Scale Connection Pool@10000',
      'succeeded Scale Connection Pool',
      'skipped Alert On-Call',
    ]);
    const run = completed[0]!;
    expect(run).toMatchObject({ id: 'run-1', runbook: 'Database Connection Pool Exhaustion', status: 'failed', startedAt: 0, endedAt: 10_000 });
    expect(run.trigger).toEqual({ kind: 'metric', metric: 'db_connections_available', value: 3, condition: '< 5' });
    expect(run.steps[1]).toMatchObject({ outcome: 'failed', durationMs: 10_000, verifyAttempts: 1, reason: 'verification failed: db_connections_available = 3, expected > 20' });
    expect(run.steps[4]).toMatchObject({ outcome: 'skipped', reason: 'condition all_steps_failed not met' });
    expect(engine.getRuns()).toEqual([run]);
  });

  it('ends the run as resolved when verification passes', async () => {
    const { clock, engine, calls, completed } = setup();
    await engine.loadFile(SEED_DB_RUNBOOK);
    engine.onAlert('DatabaseConnectionExhaustion', { severity: 'page' });
    engine.onMetric('db_connections_available', 25); // no trigger, but the value the verification reads
    await clock.advanceAsync(10_000);
    expect(calls).toEqual(['database.killIdleConnections@0 {"idle_time":"5m"}']);
    expect(completed[0]?.status).toBe('succeeded');
    expect(completed[0]?.trigger).toEqual({ kind: 'alert', alert: 'DatabaseConnectionExhaustion', data: { severity: 'page' } });
    expect(completed[0]?.steps.slice(2).map((s) => s.reason)).toEqual(Array(3).fill('run completed: an earlier step resolved the problem'));
  });

  it('pages on-call only when every previous step failed', async () => {
    const { clock, engine, calls, completed } = setup(['database.killIdleConnections', 'database.resetPool', 'database.scalePool']);
    await engine.loadFile(SEED_DB_RUNBOOK);
    const done = engine.run('Database Connection Pool Exhaustion');
    await clock.advanceAsync(10_000);
    const run = await done;
    expect(calls.at(-1)).toBe('pagerduty.alert@10000 {"severity":"high","message":"Manual intervention required for DB connection exhaustion"}');
    expect(run.steps.map((s) => s.outcome)).toEqual(['failed', 'failed', 'failed', 'failed', 'succeeded']);
    expect(run.steps[0]?.reason).toBe('action "database.killIdleConnections" failed: database.killIdleConnections broke');
    expect(run.status).toBe('failed');
    expect(completed).toHaveLength(1);
  });

  it('does not start a running runbook twice and honours the cooldown after a run', async () => {
    const { clock, engine, completed } = setup();
    await engine.loadFile(SEED_DB_RUNBOOK);
    const suppressed: string[] = [];
    engine.on('triggerSuppressed', ({ reason }) => suppressed.push(`${reason}@${clock.now()}`));
    expect(engine.onMetric('db_connections_available', 1)).toEqual(['run-1']);
    await clock.advanceAsync(5_000);
    expect(engine.onAlert('DatabaseConnectionExhaustion')).toEqual([]);
    await expect(engine.run('Database Connection Pool Exhaustion')).rejects.toSatisfy(isRunbookRunError);
    await clock.advanceAsync(5_000); // the run ends at 10 000
    expect(completed).toHaveLength(1);
    await clock.advanceAsync(59_999);
    expect(engine.onMetric('db_connections_available', 1)).toEqual([]);
    await clock.advanceAsync(1);
    expect(engine.onMetric('db_connections_available', 1)).toEqual(['run-2']);
    expect(suppressed).toEqual(['running@5000', 'cooldown@69999']);
    await clock.runAllAsync();
  });
});

describe('RunbookEngine steps', () => {
  it('retries a check verification at its interval and fails the step after the last retry', async () => {
    const clock = new VirtualClock();
    const engine = new RunbookEngine({ clock });
    const checks: number[] = [];
    engine.registerAction('fix', () => undefined);
    engine.registerCheck('healthy', () => {
      checks.push(clock.now());
      return checks.length === 3;
    });
    engine.loadString(
      ['name: r', 'steps:', '  - name: fix', '    action: fix', '    wait: 2s', '    verify: { check: healthy, retries: 3, interval: 500ms }'].join('\n'),
      'r.yaml',
    );
    const done = engine.run('r');
    await clock.runAllAsync();
    const run = await done;
    expect(checks).toEqual([2_000, 2_500, 3_000]);
    expect(run.steps[0]).toMatchObject({ outcome: 'succeeded', verifyAttempts: 3, durationMs: 3_000 });

    checks.length = 0;
    engine.registerCheck('healthy', () => (checks.push(clock.now()), 0));
    const second = engine.run('r');
    await clock.runAllAsync();
    expect((await second).steps[0]).toMatchObject({ outcome: 'failed', verifyAttempts: 4, reason: 'verification failed: check "healthy" returned 0' });
    expect(checks).toEqual([5_000, 5_500, 6_000, 6_500]);
  });

  it('times an action out on the clock and aborts its signal', async () => {
    const clock = new VirtualClock();
    const engine = new RunbookEngine({ clock, stepTimeoutMs: 1_000 });
    const signals: AbortSignal[] = [];
    engine.registerAction('hang', (_params, ctx) => {
      signals.push(ctx.signal);
      return new Promise(() => undefined);
    });
    engine.loadString('name: r\nsteps:\n  - name: a\n    action: hang\n    timeout: 3s\n  - name: b\n    action: hang', 'r.yaml');
    const done = engine.run('r');
    await clock.advanceAsync(2_999);
    expect(signals.map((s) => s.aborted)).toEqual([false]);
    await clock.advanceAsync(1);
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
    await clock.advanceAsync(1_000);
    const run = await done;
    expect(run.steps.map((s) => [s.outcome, s.durationMs, s.reason])).toEqual([
      ['failed', 3_000, 'action "hang" failed: Operation timed out after 3000 ms'],
      ['failed', 1_000, 'action "hang" failed: Operation timed out after 1000 ms'],
    ]);
  });

  it('on_failure: abort skips the rest but reaches guarded steps; a jump skips forward; a runbook hand-over runs first', async () => {
    const clock = new VirtualClock();
    const engine = new RunbookEngine({ clock });
    const calls: string[] = [];
    engine.registerAction('ok', (p) => void calls.push(String(p['id'])));
    engine.registerAction('fail', (p) => {
      calls.push(String(p['id']));
      throw new Error('no');
    });
    engine.loadString(
      [
        'name: main',
        'steps:',
        '  - { name: s1, action: fail, params: { id: s1 }, on_failure: { step: s3 } }',
        '  - { name: s2, action: ok, params: { id: s2 } }',
        '  - { name: s3, action: fail, params: { id: s3 }, on_failure: { runbook: other } }',
        '  - { name: s4, action: ok, params: { id: s4 } }',
        '  - { name: page, action: ok, params: { id: page }, condition: all_steps_failed }',
      ].join('\n'),
      'main.yaml',
    );
    engine.loadString('name: other\nsteps:\n  - { name: o1, action: ok, params: { id: o1 }, wait: 1m }', 'other.yaml');
    const done = engine.run('main');
    await clock.runAllAsync();
    const run = await done;
    expect(calls).toEqual(['s1', 's3', 'o1', 'page']);
    expect(run.status).toBe('aborted');
    expect(run.steps.map((s) => `${s.name}:${s.outcome}`)).toEqual(['s1:failed', 's2:skipped', 's3:failed', 's4:skipped', 'page:succeeded']);
    expect(run.steps.find((s) => s.name === 's3')).toMatchObject({ handoffRunId: 'run-2', durationMs: 0 });
    const other = engine.getRuns().find((r) => r.id === 'run-2');
    expect(other).toMatchObject({ runbook: 'other', status: 'succeeded', trigger: { kind: 'runbook', parentRunId: 'run-1', step: 's3' }, startedAt: 0, endedAt: 60_000 });
  });

  it('stop() cancels a waiting run; history is bounded', async () => {
    const clock = new VirtualClock();
    const engine = new RunbookEngine({ clock, maxHistory: 2 });
    engine.registerAction('ok', () => 1);
    engine.loadString('name: r\nsteps:\n  - { name: a, action: ok, wait: 1h }\n  - { name: b, action: ok }', 'r.yaml');
    const done = engine.run('r');
    await clock.advanceAsync(1_000);
    await engine.stop();
    expect((await done).status).toBe('cancelled');
    expect((await done).steps.map((s) => s.outcome)).toEqual(['failed', 'skipped']);
    expect(clock.pendingTimers).toBe(0);
    engine.loadString('name: q\nsteps:\n  - { name: a, action: ok }', 'q.yaml');
    for (let i = 0; i < 3; i++) await engine.run('q');
    expect(engine.getRuns().map((r) => r.id)).toEqual(['run-3', 'run-4']);
  });

  it('refuses a runbook that names an action registered after loading, and bad options', () => {
    const engine = new RunbookEngine();
    try {
      engine.loadString('name: r\nsteps:\n  - name: a\n    action: later', 'r.yaml');
      expect.unreachable();
    } catch (error) {
      expect(isRunbookLoadError(error)).toBe(true);
      expect((error as Error).message).toContain('r.yaml:4: steps[0].action: unknown action "later" (registered: (none))');
    }
    expect(() => new RunbookEngine({ cooldownMs: -1, maxHistory: 1.5 })).toThrow(/cooldownMs[\s\S]*maxHistory/);
  });
});
