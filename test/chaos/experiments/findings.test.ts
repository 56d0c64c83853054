import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { ChaosControl } from '../../../src/chaos/chaos-control.js';
import { ChaosRegistry } from '../../../src/chaos/chaos-registry.js';
import { ChaosExperiments, ExperimentRunner, type ExperimentRun, type ExperimentTraffic } from '../../../src/chaos/experiments/index.js';
import { GracefulDegradation } from '../../../src/degradation/graceful-degradation.js';
import { SelfHealer } from '../../../src/healing/self-healer.js';
import { CircuitBreakerManager } from '../../../src/policies/circuit-breaker-manager.js';
import { Fallback } from '../../../src/policies/fallback.js';
import { pipeline } from '../../../src/policies/pipeline.js';
import type { Policy } from '../../../src/policies/policy.js';
import { Timeout } from '../../../src/policies/timeout.js';
import { track } from '../../support/promises.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/** A real breaker for `pricing` and the chaos injector in its pipeline, on a virtual clock. */
function setup(breakerConfig: { failureThreshold: number } = { failureThreshold: 5 }) {
  const clock = new VirtualClock();
  const control = new ChaosControl({ environment: 'test', enabled: true });
  const registry = new ChaosRegistry({ control, clock });
  const circuitBreakers = new CircuitBreakerManager({ clock });
  const breaker = circuitBreakers.getOrCreate('pricing', { ...breakerConfig, timeout: 60_000 });
  const runner = new ExperimentRunner({ registry, clock, components: { circuitBreakers } });
  const traffic = (...outer: Policy<unknown>[]): ExperimentTraffic => {
    const callPricing = pipeline(...outer, breaker, registry.injector('pricing'));
    return { target: 'pricing', intervalMs: 100, call: (signal) => callPricing.execute(() => 'fresh price', { signal }) };
  };
  return { clock, control, registry, circuitBreakers, breaker, runner, traffic };
}

async function complete(clock: VirtualClock, promise: Promise<ExperimentRun>): Promise<ExperimentRun> {
  const run = track(promise);
  await clock.runAllAsync();
  expect(run.state).toBe('resolved');
  return run.value as ExperimentRun;
}

describe('findings derived from what a run observed', () => {
  it('an error burst without a fallback: the breaker opens, and errors reached the callers', async () => {
    const { clock, runner, traffic } = setup();
    const run = await complete(clock, runner.run(ChaosExperiments.errorBurst('pricing', 1, 5_000, { traffic: [traffic()] })));
    expect(run.status).toBe('succeeded');
    expect(run.results.injections).toEqual({ pricing: 5 });
    expect(run.results.breakerChanges).toMatchObject([{ name: 'pricing', from: 'closed', to: 'open', at: 400 }]);
    expect(run.results.traffic).toMatchObject([{ target: 'pricing', calls: 50, succeeded: 0, failed: 50, injectedErrors: 5, circuitOpen: 45 }]);
    expect(run.results.observations).toEqual(
      expect.arrayContaining([
        'injected faults reached 5 calls to "pricing"',
        expect.stringMatching(/^breaker "pricing" opened 400 ms after the injection \(failure-/),
        'breaker "pricing" was still open at the end',
      ]),
    );
    expect(run.results.weaknesses).toEqual(['no fallback on "pricing": 50 of 50 calls failed for the caller (5 INJECTED_FAULT, 45 CIRCUIT_OPEN)']);
    expect(run.results.recommendations).toEqual(['add a Fallback (a cached or default answer) to the pipeline of "pricing"']);
  });

  it('with a Fallback in the pipeline, the callers were shielded and no weakness is found', async () => {
    const { clock, runner, traffic } = setup();
    const cached = new Fallback({ fallback: () => 'cached price' });
    const run = await complete(clock, runner.run(ChaosExperiments.errorBurst('pricing', 1, 5_000, { traffic: [traffic(cached)] })));
    expect(run.results.traffic).toMatchObject([{ calls: 50, succeeded: 50, failed: 0 }]);
    expect(run.results.weaknesses).toEqual([]);
    expect(run.results.recommendations).toEqual([]);
    expect(run.results.observations).toEqual(
      expect.arrayContaining(['callers of "pricing" were shielded: all 50 calls succeeded under the fault', 'no weakness observed']),
    );
  });

  it('a breaker whose thresholds the burst never reaches: "breaker never opened"', async () => {
    const { clock, runner, traffic } = setup({ failureThreshold: 1_000 });
    const cached = new Fallback({ fallback: () => 'cached price' });
    const run = await complete(clock, runner.run(ChaosExperiments.errorBurst('pricing', 1, 5_000, { traffic: [traffic(cached)] })));
    expect(run.results.breakerChanges).toEqual([]);
    expect(run.results.weaknesses).toEqual(['breaker "pricing" never opened (50 injected failures)']);
    expect(run.results.recommendations).toEqual([
      'lower the thresholds of breaker "pricing" (failureThreshold, minimumCalls, failureRateThreshold) or check that it wraps the calls of "pricing"',
    ]);
  });

  it('a dependency without a breaker, and a fault no call met', async () => {
    const { clock, runner, registry } = setup();
    const callInventory = pipeline(registry.injector('inventory'));
    const withTraffic = await complete(
      clock,
      runner.run(
        ChaosExperiments.dependencyOutage('inventory', 1_000, {
          severity: 'medium',
          traffic: [{ target: 'inventory', call: (signal) => callInventory.execute(() => 1, { signal }), intervalMs: 250 }],
        }),
      ),
    );
    expect(withTraffic.results.weaknesses).toEqual(
      expect.arrayContaining(['no circuit breaker on "inventory"', expect.stringMatching(/^no fallback on "inventory": 4 of 4 calls failed for the caller \(4 INJECTED_FAULT\)$/)]),
    );
    const unreached = await complete(clock, runner.run(ChaosExperiments.errorBurst('shipping', 1, 1_000)));
    expect(unreached.results.observations).toContain('no call to "shipping" met the injected fault');
    expect(unreached.results.recommendations).toEqual([
      'put registry.injector("shipping") in the pipeline of "shipping" and send traffic during the experiment: the fault tested nothing',
    ]);
  });

  it('latency with no timeout: callers waited the whole injected latency; with a Timeout, timeouts cut them', async () => {
    const { clock, runner, traffic } = setup();
    const slow = await complete(clock, runner.run(ChaosExperiments.latencySpike('pricing', 2_000, 10_000, { traffic: [traffic()] })));
    expect(slow.results.traffic).toMatchObject([{ maxLatencyMs: 2_000, failed: 0 }]);
    expect(slow.results.weaknesses).toEqual(['no timeout on "pricing": callers waited up to 2000 ms']);
    expect(slow.results.recommendations).toEqual(['add a Timeout shorter than 2000 ms to the pipeline of "pricing"']);

    const bounded = await complete(
      clock,
      runner.run(ChaosExperiments.latencySpike('pricing', 2_000, 10_000, { traffic: [traffic(new Timeout({ ms: 500, clock }))] })),
    );
    // Each timed-out call counts as a failure of the breaker, which opens after five of them.
    expect(bounded.results.traffic).toMatchObject([{ calls: 75, maxLatencyMs: 500, timeouts: 5, circuitOpen: 70 }]);
    expect(bounded.results.observations).toEqual(
      expect.arrayContaining(['timeouts cut 5 calls to "pricing"', 'breaker "pricing" opened 2900 ms after the injection (failure-count)']),
    );
    expect(bounded.results.weaknesses).toEqual(['no fallback on "pricing": 75 of 75 calls failed for the caller (5 TIMEOUT, 70 CIRCUIT_OPEN)']);
  });

  it('notes degradation level changes and self-healer recoveries', async () => {
    const { clock, runner, circuitBreakers, traffic } = setup();
    const degradation = new GracefulDegradation({ clock, minDwellMs: 0 });
    const selfHealer = new SelfHealer({
      clock,
      resetBreakerOnRecovery: false,
      strategyMap: { 'circuit-breaker': { name: 'warm-standby', type: 'fallback', recover: async () => 'switched to the standby' } },
    });
    selfHealer.setCircuitBreakers(circuitBreakers);
    selfHealer.start();
    circuitBreakers.on('stateChange', ({ name, to }) => {
      if (to === 'open') void degradation.degrade('reduced', `breaker ${name} open`);
    });
    runner.setComponents({ degradation, selfHealer });
    const cached = new Fallback({ fallback: () => 'cached price' });
    // The healer's sweep repeats forever: advance a bounded time instead of running every timer.
    const pending = track(runner.run(ChaosExperiments.errorBurst('pricing', 1, 2_000, { traffic: [traffic(cached)] })));
    await clock.advanceAsync(2_000);
    expect(pending.state).toBe('resolved');
    const run = pending.value as ExperimentRun;
    expect(run.results.degradationChanges).toMatchObject([{ from: 'full', to: 'reduced', reason: 'breaker pricing open', at: 400 }]);
    expect(run.results.observations).toEqual(
      expect.arrayContaining([
        'degradation went from "full" to "reduced" 400 ms after the injection (breaker pricing open)',
        'degradation was still at "reduced" at the end (it was "full")',
        'self-healer detected a failure of "pricing"',
        expect.stringMatching(/^self-healer recovered "pricing" with warm-standby in \d+ ms$/),
      ]),
    );
    expect(run.results.healing.map((h) => h.type)).toEqual(['failure-detected', 'recovery-succeeded']);
    selfHealer.dispose();
  });
});
