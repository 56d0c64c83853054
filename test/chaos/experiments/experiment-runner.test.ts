import { describe, expect, it, vi } from 'vitest';
import { isChaosRefusedError } from '../../../src/core/errors.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { ChaosControl } from '../../../src/chaos/chaos-control.js';
import { ChaosRegistry } from '../../../src/chaos/chaos-registry.js';
import {
  ExperimentRunner,
  type ExperimentAction,
  type ExperimentDefinition,
  type ExperimentRunnerOptions,
  type ExperimentRun,
} from '../../../src/chaos/experiments/index.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { errorOf, track } from '../../support/promises.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

function setup(options: ExperimentRunnerOptions = {}) {
  const clock = new VirtualClock(1_000);
  const control = new ChaosControl({ environment: 'test', enabled: true });
  const registry = new ChaosRegistry({ control, clock });
  const runner = new ExperimentRunner({ registry, clock, ...options });
  return { clock, control, registry, runner };
}

/** An action logging its injection and rollback into `log`. */
function action(log: string[], name: string, behaviour: { injectThrows?: boolean; rollbackThrows?: boolean } = {}): ExperimentAction {
  return {
    name,
    kind: 'error',
    inject: () => {
      if (behaviour.injectThrows) throw new Error(`${name} cannot inject`);
      log.push(`inject ${name}`);
      return () => {
        log.push(`rollback ${name}`);
        if (behaviour.rollbackThrows) throw new Error(`${name} cannot roll back`);
      };
    },
  };
}

function experiment(method: ExperimentAction[], extra: Partial<ExperimentDefinition> = {}): ExperimentDefinition {
  return { name: 'exp', method, durationMs: 10_000, ...extra };
}

/** Runs to the end on the virtual clock. */
async function finish(clock: VirtualClock, promise: Promise<ExperimentRun>): Promise<ExperimentRun> {
  const settled = track(promise);
  for (let i = 0; i < 1_000 && settled.state === 'pending'; i++) await clock.runAllAsync();
  if (settled.state === 'rejected') throw settled.error;
  expect(settled.state).toBe('resolved');
  return settled.value as ExperimentRun;
}

describe('ExperimentRunner: rollbacks always run', () => {
  it('runs the method for its duration, then the rollbacks in reverse order', async () => {
    const { clock, runner } = setup();
    const log: string[] = [];
    const run = track(runner.run(experiment([action(log, 'a'), action(log, 'b'), action(log, 'c')])));
    await clock.advanceAsync(0);
    expect(log).toEqual(['inject a', 'inject b', 'inject c']);
    await clock.advanceAsync(9_999);
    expect(run.state).toBe('pending');
    await clock.advanceAsync(1);
    expect(run.state).toBe('resolved');
    expect(log).toEqual(['inject a', 'inject b', 'inject c', 'rollback c', 'rollback b', 'rollback a']);
    const result = run.value as ExperimentRun;
    expect(result.status).toBe('succeeded');
    expect(result.startedAt).toBe(1_000);
    expect(result.endedAt).toBe(11_000);
    expect(result.actions.map((a) => [a.name, a.injectedAt, a.rolledBackAt])).toEqual([
      ['a', 1_000, 11_000],
      ['b', 1_000, 11_000],
      ['c', 1_000, 11_000],
    ]);
  });

  it('when an action throws mid-method, rolls back the earlier ones in reverse order and fails', async () => {
    const { clock, runner } = setup();
    const log: string[] = [];
    const run = await finish(clock, runner.run(experiment([action(log, 'a'), action(log, 'b'), action(log, 'c', { injectThrows: true }), action(log, 'd')])));
    expect(log).toEqual(['inject a', 'inject b', 'rollback b', 'rollback a']);
    expect(run.status).toBe('failed');
    expect(run.error).toBe('injection "c" failed: Error: c cannot inject');
    expect(run.actions[2]).toMatchObject({ name: 'c', error: 'Error: c cannot inject' });
    expect(run.actions[3]?.injectedAt).toBeUndefined();
    expect(run.endedAt).toBe(1_000); // it did not wait for the duration
  });

  it('when a rollback throws, still runs the others and records the failure', async () => {
    const { clock, runner } = setup();
    const log: string[] = [];
    const run = await finish(clock, runner.run(experiment([action(log, 'a'), action(log, 'b', { rollbackThrows: true }), action(log, 'c')])));
    expect(log).toEqual(['inject a', 'inject b', 'inject c', 'rollback c', 'rollback b', 'rollback a']);
    expect(run.status).toBe('failed');
    expect(run.actions[1]?.rollbackError).toBe('Error: b cannot roll back');
    expect(run.actions[0]?.rollbackError).toBeUndefined();
    expect(run.results.weaknesses).toContain('rollback of "b" failed: Error: b cannot roll back; the fault may still be in place');
  });

  it('bounds a hung rollback by rollbackTimeoutMs and goes on with the next', async () => {
    const { clock, runner } = setup({ rollbackTimeoutMs: 500 });
    const log: string[] = [];
    const hung: ExperimentAction = { name: 'hung', kind: 'error', inject: () => () => new Promise(() => undefined) };
    const run = await finish(clock, runner.run(experiment([action(log, 'a'), hung])));
    expect(log).toEqual(['inject a', 'rollback a']);
    expect(run.actions[1]?.rollbackError).toBe('Error: rollback did not finish within 500 ms');
    expect(run.actions[0]?.rolledBackAt).toBe(11_500);
  });

  it('runs a rollback declared on the action even when its injection throws part-way', async () => {
    const { clock, runner } = setup();
    const log: string[] = [];
    const halfApplied: ExperimentAction = {
      name: 'half',
      kind: 'error',
      rollback: () => void log.push('rollback half'),
      inject: () => {
        log.push('inject half (part of it)');
        throw new Error('boom');
      },
    };
    const run = await finish(clock, runner.run(experiment([action(log, 'a'), halfApplied])));
    expect(log).toEqual(['inject a', 'inject half (part of it)', 'rollback half', 'rollback a']);
    expect(run.status).toBe('failed');
  });

  it('on an abort signal, stops waiting and rolls back', async () => {
    const { clock, runner } = setup();
    const log: string[] = [];
    const controller = new AbortController();
    const run = track(runner.run(experiment([action(log, 'a'), action(log, 'b')]), { signal: controller.signal }));
    await clock.advanceAsync(3_000);
    controller.abort(new Error('operator said stop'));
    await clock.advanceAsync(0);
    expect(run.state).toBe('resolved');
    expect(log).toEqual(['inject a', 'inject b', 'rollback b', 'rollback a']);
    const result = run.value as ExperimentRun;
    expect(result.status).toBe('aborted');
    expect(result.halt).toEqual({ cause: 'signal', reason: 'Error: operator said stop', at: 4_000 });
    expect(result.endedAt).toBe(4_000);
  });

  it('aborts while an injection is in progress: rolls back what that injection returns once it finishes', async () => {
    const { clock, runner } = setup();
    const log: string[] = [];
    let finishInjection!: () => void;
    const slow: ExperimentAction = {
      name: 'slow',
      kind: 'error',
      inject: () =>
        new Promise((resolve) => {
          finishInjection = () => resolve(() => void log.push('rollback slow'));
        }),
    };
    const controller = new AbortController();
    const run = track(runner.run(experiment([action(log, 'a'), slow]), { signal: controller.signal }));
    await clock.advanceAsync(0);
    controller.abort(new Error('stop'));
    await clock.advanceAsync(0);
    expect(run.state).toBe('resolved');
    expect(log).toEqual(['inject a', 'rollback a']);
    finishInjection();
    await clock.advanceAsync(0);
    expect(log).toEqual(['inject a', 'rollback a', 'rollback slow']);
    expect((run.value as ExperimentRun).status).toBe('aborted');
  });

  it('abort(id) and the kill switch stop runs in progress', async () => {
    const { clock, control, runner } = setup({ maxConcurrentExperiments: 2 });
    const log: string[] = [];
    const first = track(runner.run(experiment([action(log, 'a')], { name: 'first' })));
    const second = track(runner.run(experiment([action(log, 'b')], { name: 'second' })));
    await clock.advanceAsync(0);
    const [one] = runner.running();
    expect(runner.running().map((r) => r.status)).toEqual(['running', 'running']);
    expect(runner.abort(one?.id as string, 'enough')).toBe(true);
    await clock.advanceAsync(0);
    expect(first.state).toBe('resolved');
    expect((first.value as ExperimentRun).halt).toMatchObject({ cause: 'abort', reason: 'enough' });
    control.disable('incident');
    await clock.advanceAsync(0);
    expect((second.value as ExperimentRun).halt).toMatchObject({ cause: 'kill-switch', reason: 'chaos switched off (incident)' });
    expect(log).toEqual(['inject a', 'inject b', 'rollback a', 'rollback b']);
    expect(runner.abort('unknown')).toBe(false);
  });
});

describe('ExperimentRunner: probes and halt conditions', () => {
  it('a halt condition stops the run early and rolls back', async () => {
    const { clock, runner } = setup();
    const log: string[] = [];
    let errorRate = 0;
    const run = await (async () => {
      const pending = track(
        runner.run(
          experiment([action(log, 'a')], {
            probeIntervalMs: 1_000,
            probes: [{ name: 'error-rate-slo', probe: () => errorRate, tolerance: { max: 0.05 }, halt: true, haltAfter: 2 }],
          }),
        ),
      );
      await clock.advanceAsync(2_000);
      errorRate = 0.2;
      await clock.advanceAsync(1_000);
      expect(pending.state).toBe('pending'); // one breach: haltAfter is 2
      await clock.advanceAsync(1_000);
      expect(pending.state).toBe('resolved');
      return pending.value as ExperimentRun;
    })();
    expect(log).toEqual(['inject a', 'rollback a']);
    expect(run.status).toBe('aborted');
    expect(run.endedAt).toBe(5_000);
    expect(run.halt).toEqual({ cause: 'halt-condition', probe: 'error-rate-slo', reason: '"error-rate-slo" out of tolerance: read 0.2', at: 5_000 });
    expect(run.probes).toEqual([{ name: 'error-rate-slo', readings: 4, breaches: 2, halted: true, lastValue: 0.2, firstBreachAt: 4_000 }]);
    expect(run.results.weaknesses).toContain('halt condition "error-rate-slo" broke 3000 ms after the injection');
  });

  it('a probe that throws counts as out of tolerance; one that hangs is cut by probeTimeoutMs', async () => {
    const { clock, runner } = setup({ probeTimeoutMs: 200 });
    const log: string[] = [];
    const run = await finish(
      clock,
      runner.run(
        experiment([action(log, 'a')], {
          durationMs: 2_000,
          probes: [
            { name: 'throws', probe: () => { throw new Error('health endpoint down'); } },
            { name: 'hangs', probe: () => new Promise<boolean>(() => undefined) },
          ],
        }),
      ),
    );
    expect(run.status).toBe('deviated');
    expect(run.probes).toMatchObject([
      { name: 'throws', breaches: 2, halted: false, lastError: 'Error: health endpoint down' },
      { name: 'hangs', breaches: 2, halted: false, lastError: 'Error: probe did not answer within 200 ms' },
    ]);
    expect(run.results.weaknesses).toContain('probe "throws" was out of tolerance in 2 of 2 readings');
  });

  it('does not inject when the steady state does not hold before', async () => {
    const { clock, runner } = setup();
    const log: string[] = [];
    const run = await finish(
      clock,
      runner.run(experiment([action(log, 'a')], { steadyState: [{ name: 'healthy', probe: () => false }, { name: 'p99', probe: () => 120, tolerance: { max: 200 } }] })),
    );
    expect(log).toEqual([]);
    expect(run.status).toBe('failed');
    expect(run.error).toBe('steady state not met before injecting');
    expect(run.steadyStateBefore).toEqual({
      met: false,
      at: 1_000,
      readings: [
        { name: 'healthy', value: false, ok: false },
        { name: 'p99', value: 120, ok: true },
      ],
    });
    expect(run.steadyStateAfter).toBeUndefined();
  });

  it('waits for the steady state to come back after the rollbacks, and reports how long it took', async () => {
    const { clock, runner } = setup();
    const log: string[] = [];
    let healthyAt = Infinity;
    const run = await (async () => {
      const pending = track(
        runner.run(
          experiment([action(log, 'a')], {
            durationMs: 1_000,
            steadyState: [{ name: 'healthy', probe: () => clock.now() >= healthyAt || clock.now() < 1_500 }],
            recovery: { timeoutMs: 5_000, intervalMs: 500 },
          }),
        ),
      );
      healthyAt = 3_200;
      await clock.runAllAsync();
      return pending.value as ExperimentRun;
    })();
    expect(run.status).toBe('succeeded');
    expect(run.results.recovery).toEqual({ recovered: true, timeMs: 1_500 });
    expect(run.steadyStateAfter).toMatchObject({ met: true, at: 3_500 });
    expect(run.results.observations).toContain('steady state restored 1500 ms after the rollbacks');
  });

  it('ends deviated when the steady state does not come back', async () => {
    const { clock, runner } = setup();
    let broken = false;
    const run = await finish(
      clock,
      runner.run(
        experiment(
          [{ name: 'break', kind: 'error', inject: () => { broken = true; return () => undefined; } }],
          { durationMs: 1_000, steadyState: [{ name: 'healthy', probe: () => !broken }], recovery: { timeoutMs: 2_000, intervalMs: 1_000 } },
        ),
      ),
    );
    expect(run.status).toBe('deviated');
    expect(run.results.recovery).toEqual({ recovered: false });
    expect(run.results.weaknesses).toContain('steady state not restored after the rollbacks (healthy = false)');
  });
});

describe('ExperimentRunner: refusals', () => {
  const one = (log: string[] = []) => experiment([action(log, 'a')]);

  it('refuses when the control is off, the runner disabled, or the environment is production', async () => {
    const off = setup();
    off.control.disable();
    const e1 = await errorOf(off.runner.run(one()));
    expect(isChaosRefusedError(e1)).toBe(true);
    expect((e1 as Error).message).toBe('Chaos experiment "exp" refused: the chaos kill switch is off (ChaosControl not enabled)');

    const disabled = setup({ enabled: false });
    expect((await errorOf(disabled.runner.run(one()))) as Error).toHaveProperty('code', 'CHAOS_REFUSED');
    expect(disabled.runner.checkSafety().reasons).toEqual(['chaos engineering is disabled (enabled: false)']);

    const production = new ExperimentRunner({ control: new ChaosControl({ environment: 'production' }), clock: new VirtualClock() });
    expect(production.isSafeToRunChaos()).toBe(false);
    expect(production.checkSafety().reasons).toEqual(['environment "production" is production and allowInProduction is not set']);
    const log: string[] = [];
    expect(isChaosRefusedError(await errorOf(production.run(one(log))))).toBe(true);
    expect(log).toEqual([]);
  });

  it('refuses fault kinds not allowed', async () => {
    const { runner } = setup({ allowedFaults: ['latency'] });
    const error = (await errorOf(runner.run(one()))) as Error;
    expect(error.message).toBe('Chaos experiment "exp" refused: fault kind "error" is not allowed (allowed: latency)');
  });

  it('refuses beyond maxConcurrentExperiments, here and in the fleet', async () => {
    const { clock, runner } = setup({ maxConcurrentExperiments: 1 });
    const first = track(runner.run(one()));
    await clock.advanceAsync(0);
    expect(runner.isSafeToRunChaos()).toBe(false);
    const error = (await errorOf(runner.run({ ...one(), name: 'second' }))) as Error;
    expect(error.message).toMatch(/maxConcurrentExperiments \(1\) reached: 1 running here/);
    await clock.runAllAsync();
    expect(first.state).toBe('resolved');
    expect(runner.isSafeToRunChaos()).toBe(true);

    const published: string[] = [];
    const fleet = {
      active: [{ id: 'elsewhere', status: 'running' }],
      publishExperiment: async (state: { name: string; status: string }) => void published.push(`${state.name}:${state.status}`),
      current() {
        return this.active;
      },
    };
    const withFleet = setup({ fleet });
    expect(withFleet.runner.checkSafety().reasons).toEqual(['maxConcurrentExperiments (1) reached: 1 active elsewhere in the fleet']);
    fleet.active = [];
    await finish(withFleet.clock, withFleet.runner.run(one()));
    expect(published).toEqual(['exp:running', 'exp:completed']);
  });

  it('refuses when approval is denied, fails, or is required without a hook', async () => {
    const requests: unknown[] = [];
    const denied = setup({ approve: (request) => (requests.push(request), false) });
    expect(((await errorOf(denied.runner.run({ ...one(), description: 'd', severity: 'low' }))) as Error).message).toMatch(/approval denied$/);
    expect(requests).toEqual([{ id: expect.any(String), name: 'exp', description: 'd', category: 'custom', severity: 'low', kinds: ['error'], targets: [], durationMs: 10_000 }]);
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const failing = setup({ approve: () => Promise.reject(new Error('approver offline')) });
    expect(((await errorOf(failing.runner.run(one()))) as Error).message).toMatch(/the approval hook failed: Error: approver offline$/);
    warn.mockRestore();
    const noHook = setup({ requireApproval: true });
    expect(((await errorOf(noHook.runner.run(one()))) as Error).message).toMatch(/approval is required but no approve hook is configured$/);
    const approved = setup({ requireApproval: true, approve: async () => true });
    expect((await finish(approved.clock, approved.runner.run(one()))).status).toBe('succeeded');
    // A refused run frees its slot.
    expect(denied.runner.isSafeToRunChaos()).toBe(true);
  });

  it('refuses on bad health or an already degraded system, and what safe mode does not allow', async () => {
    let health = { overall: 'unhealthy', score: 20 };
    const { runner } = setup({ health: { getSystemHealth: () => health } });
    expect(runner.checkSafety().reasons).toEqual(['system health is already unhealthy (score 20)']);
    health = { overall: 'degraded', score: 70 };
    expect(runner.checkSafety().reasons).toEqual(['system health is degraded (score 70) and safe mode is on']);
    const unsafeMode = setup({ safeMode: false, health: { getSystemHealth: () => health } });
    expect(unsafeMode.runner.isSafeToRunChaos()).toBe(true);

    const degraded = setup({
      components: { degradation: { getCurrentState: () => ({ level: 'reduced', levelIndex: 1 }), on: () => () => undefined } },
    });
    expect(degraded.runner.checkSafety().reasons).toEqual(['the system is already degraded (level "reduced")']);

    const safe = setup({ safeModeMaxDurationMs: 60_000 });
    expect(safe.runner.checkSafety({ ...one(), severity: 'critical', durationMs: 120_000 }).reasons).toEqual([
      'severity "critical" is above what safe mode allows ("medium")',
      'duration 120000 ms is above what safe mode allows (60000 ms)',
    ]);
    const e = (await errorOf(safe.runner.run({ ...one(), severity: 'high' }))) as Error;
    expect(e.message).toMatch(/severity "high" is above what safe mode allows/);
  });

  it('validates options and definitions, listing every problem', async () => {
    expect(() => new ExperimentRunner({ maxConcurrentExperiments: 0, safeModeMaxSeverity: 'huge' as never, rollbackTimeoutMs: -1 })).toThrow(InvalidOptionsError);
    try {
      new ExperimentRunner({ maxConcurrentExperiments: 0, safeModeMaxSeverity: 'huge' as never, rollbackTimeoutMs: -1 });
    } catch (error) {
      expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['safeModeMaxSeverity', 'maxConcurrentExperiments', 'rollbackTimeoutMs']);
    }
    const { runner } = setup();
    const error = (await errorOf(runner.run({ name: '', method: [{ name: 'x', kind: '', inject: 1 as never }], probes: [{ name: 'p', probe: () => true, haltAfter: 0 }] }))) as InvalidOptionsError;
    expect(error.issues.map((i) => i.path)).toEqual(['name', 'method[0].kind', 'method[0].inject', 'probes[0].haltAfter']);
    await expect(runner.run('nope')).rejects.toThrow(RangeError);
  });
});

describe('ExperimentRunner: records', () => {
  it('records the run and its timeline to the store, and keeps a bounded history', async () => {
    const store = new MemoryStore({ clock: new VirtualClock() });
    const { clock, runner } = setup({ store, maxHistory: 2 });
    const log: string[] = [];
    const run = await finish(clock, runner.run(experiment([action(log, 'a')], { probes: [{ name: 'ok', probe: () => true }], durationMs: 2_000 })));
    const [stored] = await store.getChaosExperiments();
    expect(stored).toMatchObject({ id: run.id, name: 'exp', status: 'succeeded', startedAt: 1_000, endedAt: 3_000 });
    expect(stored?.data).toEqual(run);
    const events = await store.getChaosEvents({ experimentId: run.id });
    expect(events.map((e) => e.type).reverse()).toEqual(['started', 'steady-state-before', 'injected', 'rolled-back', 'steady-state-after', 'finished']);
    expect(events.find((e) => e.type === 'finished')).toMatchObject({ at: 3_000, data: { status: 'succeeded' } });

    await expect(runner.run(experiment([action(log, 'b')], { name: 'refused-one', severity: 'critical' }))).rejects.toThrow(/refused/);
    const refused = await store.getChaosExperiments({ status: 'refused' });
    expect(refused).toMatchObject([{ name: 'refused-one', data: { reasons: ['severity "critical" is above what safe mode allows ("medium")'] } }]);

    await finish(clock, runner.run(experiment([action(log, 'c')], { name: 'second' })));
    await finish(clock, runner.run(experiment([action(log, 'd')], { name: 'third' })));
    expect(runner.getHistory().map((r) => r.name)).toEqual(['second', 'third']);
  });

  it('emits events for each step', async () => {
    const { clock, runner } = setup();
    const seen: string[] = [];
    for (const event of ['started', 'injected', 'rolledBack', 'probeBreached', 'halted', 'finished', 'refused'] as const) {
      runner.on(event, () => seen.push(event));
    }
    await finish(clock, runner.run(experiment([action([], 'a')], { probes: [{ name: 'bad', probe: () => false, halt: true }] })));
    expect(seen).toEqual(['started', 'injected', 'probeBreached', 'halted', 'rolledBack', 'finished']);
  });

  it('registers experiments by name', async () => {
    const { clock, runner } = setup();
    const log: string[] = [];
    runner.register(experiment([action(log, 'a')], { name: 'registered' }));
    expect(runner.names()).toEqual(['registered']);
    expect(runner.checkSafety('registered').safe).toBe(true);
    expect(runner.checkSafety('missing').reasons).toEqual(['unknown experiment "missing"']);
    const run = await finish(clock, runner.run('registered', { durationMs: 50 }));
    expect(run.durationMs).toBe(50);
    expect(runner.unregister('registered')).toBe(true);
  });
});
