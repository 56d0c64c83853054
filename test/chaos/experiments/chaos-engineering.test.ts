import { afterEach, describe, expect, it, vi } from 'vitest';
import { isChaosRefusedError } from '../../../src/core/errors.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { ChaosEngineering, ChaosExperiments, type ExperimentRun } from '../../../src/chaos/experiments/index.js';
import { GracefulDegradation } from '../../../src/degradation/graceful-degradation.js';
import { SelfHealer } from '../../../src/healing/self-healer.js';
import { CircuitBreakerManager } from '../../../src/policies/circuit-breaker-manager.js';
import { pipeline } from '../../../src/policies/pipeline.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { errorOf, track } from '../../support/promises.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

afterEach(() => {
  vi.restoreAllMocks();
});

describe('ChaosEngineering (seed 002)', () => {
  it('runs the README example as written', async () => {
    const clock = new VirtualClock();
    // The README's components and its `chaos` config block, switched on (it ships disabled) with an approver.
    const circuitBreakers = new CircuitBreakerManager({ clock });
    const degradation = new GracefulDegradation({ clock });
    const selfHealer = new SelfHealer({ clock });
    const chaosConfig = {
      enabled: true,
      safeMode: true,
      allowedFaults: ['latency', 'error'],
      maxConcurrentExperiments: 1,
      defaultDuration: 60000,
      requireApproval: true,
      approve: () => true,
      clock,
    };
    const lines: unknown[][] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args));

    const readme = async (): Promise<void> => {
      // --- from the README, unchanged ---
      const chaos = new ChaosEngineering(chaosConfig);
      chaos.setComponents(circuitBreakers, degradation, selfHealer);

      // Run predefined experiment
      const latencyExperiment = ChaosExperiments.latencySpike('api-service', 2000, 60000);
      const experiment = await chaos.runExperiment(
        latencyExperiment.name,
        latencyExperiment.faultType,
        latencyExperiment.target,
        latencyExperiment.config,
        latencyExperiment.duration
      );

      // Analyze results
      console.log(`Experiment completed: ${experiment.status}`);
      console.log(`Observations:`, experiment.results?.observations);
      console.log(`Recommendations:`, experiment.results?.recommendations);
      // --- end ---
    };
    const done = track(readme());
    await clock.advanceAsync(59_999);
    expect(done.state).toBe('pending');
    await clock.advanceAsync(1);
    expect(done.state).toBe('resolved');
    expect(lines).toEqual([
      ['Experiment completed: succeeded'],
      ['Observations:', ['no call to "api-service" met the injected fault', 'no weakness observed']],
      [
        'Recommendations:',
        ['put registry.injector("api-service") in the pipeline of "api-service" and send traffic during the experiment: the fault tested nothing'],
      ],
    ]);
    selfHealer.dispose();
  });

  it('refuses with the seed config block as shipped (disabled, approval required)', async () => {
    const chaos = new ChaosEngineering({
      enabled: false,
      safeMode: true,
      allowedFaults: ['latency', 'error'],
      maxConcurrentExperiments: 1,
      defaultDuration: 60000,
      requireApproval: true,
    });
    expect(chaos.isSafeToRunChaos()).toBe(false);
    const t = ChaosExperiments.latencySpike('api-service', 2000, 60000);
    const error = await errorOf(chaos.runExperiment(t.name, t.faultType, t.target, t.config, t.duration));
    expect(isChaosRefusedError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'Chaos experiment "latency-api-service" refused: chaos engineering is disabled (enabled: false); the chaos kill switch is off (ChaosControl not enabled)',
    );
  });

  it('never switches on in production unless allowed', () => {
    const chaos = new ChaosEngineering({ enabled: true, environment: 'production' });
    expect(chaos.control.enabled).toBe(false);
    expect(chaos.checkSafety().reasons).toEqual(['environment "production" is production and allowInProduction is not set']);
    const allowed = new ChaosEngineering({ enabled: true, environment: 'production', allowInProduction: true });
    expect(allowed.isSafeToRunChaos()).toBe(true);
  });

  it('injects through its registry, checks allowedFaults, records to the store', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore({ clock });
    const chaos = new ChaosEngineering({ enabled: true, allowedFaults: ['latency', 'error'], clock, store });
    const callApi = pipeline(chaos.registry.injector('api-service'));
    const errors: unknown[] = [];
    // The seed's config names are accepted: `errorRate` for the rate.
    const run = track(chaos.runExperiment('api-errors', 'error', 'api-service', { errorRate: 1 }, 1_000));
    await clock.advanceAsync(0);
    await callApi.execute(() => 'ok').catch((e: unknown) => errors.push(e));
    expect(chaos.getActiveExperiments().map((r) => r.name)).toEqual(['api-errors']);
    await clock.advanceAsync(1_000);
    const result = run.value as ExperimentRun;
    expect(errors).toHaveLength(1);
    expect(result.results.injections).toEqual({ 'api-service': 1 });
    expect(chaos.getExperiment(result.id)?.status).toBe('succeeded');
    expect(chaos.getExperimentHistory()).toHaveLength(1);
    expect((await store.getChaosExperiments()).map((r) => r.name)).toEqual(['api-errors']);
    expect(await callApi.execute(() => 'ok')).toBe('ok');

    const refused = (await errorOf(chaos.runExperiment('burn', 'cpu-pressure', 'process', { percent: 10 }, 1_000))) as Error;
    expect(refused.message).toMatch(/fault kind "cpu-pressure" is not allowed \(allowed: latency, error\)/);
    await expect(chaos.runExperiment('x', 'nope' as never, 'api', {}, 1_000)).rejects.toThrow(InvalidOptionsError);
    await expect(chaos.runExperiment('x', 'latency', 'api', {}, 1_000)).rejects.toThrow(/config.latencyMs: expected a duration in ms/);
  });

  it('emergencyStop() aborts running experiments and switches chaos off', async () => {
    const clock = new VirtualClock();
    const chaos = new ChaosEngineering({ enabled: true, clock });
    const run = track(chaos.run(ChaosExperiments.latencySpike('api', 100, 60_000)));
    await clock.advanceAsync(10);
    chaos.emergencyStop('pager went off');
    await clock.advanceAsync(0);
    expect((run.value as ExperimentRun).status).toBe('aborted');
    expect((run.value as ExperimentRun).halt).toMatchObject({ cause: 'kill-switch', reason: 'chaos switched off (pager went off)' });
    expect(chaos.control.enabled).toBe(false);
    expect(chaos.registry.active()).toEqual([]);
  });
});
