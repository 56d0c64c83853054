import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { CircuitBreakerManager } from '../../src/policies/circuit-breaker-manager.js';
import { healingStrategies } from '../../src/healing/built-in-healing-strategies.js';
import { createHealingContext, runHealingStrategy, type HealingStrategy } from '../../src/healing/healing-strategy.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { track } from '../support/promises.js';

failOnUnhandledRejections();

describe('runHealingStrategy', () => {
  it('runs steps in order and stops at the first whose verification passes', async () => {
    const log: string[] = [];
    let fixed = false;
    const strategy: HealingStrategy = {
      name: 's',
      steps: [
        { name: 'a', run: () => void log.push('a') },
        { name: 'b', run: () => { log.push('b'); throw new Error('b broke'); } },
        { name: 'c', run: () => { log.push('c'); fixed = true; } },
        { name: 'd', run: () => void log.push('d') },
      ],
    };
    const ctx = createHealingContext({ component: 'x', verify: async () => fixed });
    const run = await runHealingStrategy(strategy, ctx);
    expect(log).toEqual(['a', 'b', 'c']);
    expect(run.healed).toBe(true);
    expect(run.resolvedBy).toBe('c');
    expect(run.steps.map((s) => [s.step, s.ran, s.verified])).toEqual([['a', true, false], ['b', false, undefined], ['c', true, true]]);
    expect((run.steps[1]!.error as Error).message).toBe('b broke');
  });

  it('never reports healed without a verification passing', async () => {
    const run = await runHealingStrategy({ name: 's', steps: [{ name: 'a', run: () => undefined }] }, createHealingContext({ component: 'x' }));
    expect(run.healed).toBe(false);
    expect(run.steps[0]!.verified).toBeUndefined();
    const failing = await runHealingStrategy(
      { name: 's', steps: [{ name: 'a', run: () => undefined, verify: () => { throw new Error('probe down'); } }] },
      createHealingContext({ component: 'x' }),
    );
    expect(failing.healed).toBe(false);
    expect(failing.steps[0]!.verified).toBe(false);
  });

  it('waits settleMs on the clock before verifying', async () => {
    const clock = new VirtualClock();
    const verifiedAt: number[] = [];
    const run = track(
      runHealingStrategy(
        { name: 's', steps: [{ name: 'a', run: () => undefined, settleMs: 500, verify: () => (verifiedAt.push(clock.now()), true) }] },
        createHealingContext({ component: 'x', clock }),
      ),
    );
    await clock.advanceAsync(499);
    expect(verifiedAt).toEqual([]);
    await clock.advanceAsync(1);
    expect(verifiedAt).toEqual([500]);
    expect(run.value?.healed).toBe(true);
  });
});

describe('healingStrategies.memoryLeak', () => {
  it('clears registered caches, verifies the heap dropped below the limit, and stops there', async () => {
    const clock = new VirtualClock();
    let heap = 900;
    const cleared: string[] = [];
    const caches = new Map([
      ['quotes', { clear: () => { cleared.push('quotes'); heap -= 300; } }],
      ['sessions', { clear: async () => void cleared.push('sessions') }],
    ]);
    const restarts: string[] = [];
    const strategy = healingStrategies.memoryLeak({ heapLimitBytes: 700, readHeapUsed: () => heap, settleMs: 1_000 });
    expect(strategy.steps.map((s) => s.name)).toEqual(['clear-caches', 'rolling-restart']);
    const ctx = createHealingContext({ component: 'api', clock, caches, restarter: { requestRollingRestart: async (r) => void restarts.push(r) } });
    const run = track(runHealingStrategy(strategy, ctx));
    await clock.runAllAsync();
    expect(cleared).toEqual(['quotes', 'sessions']);
    expect(run.value).toMatchObject({ healed: true, resolvedBy: 'clear-caches' });
    expect(restarts).toEqual([]);
  });

  it('requests a rolling restart when clearing caches did not bring the heap down', async () => {
    const clock = new VirtualClock();
    const restarts: string[] = [];
    let gcs = 0;
    const strategy = healingStrategies.memoryLeak({ heapLimitBytes: 500e6, readHeapUsed: () => 800e6, gc: () => void gcs++ });
    const ctx = createHealingContext({ component: 'api', clock, caches: new Map(), restarter: { requestRollingRestart: async (r) => void restarts.push(r) } });
    const run = track(runHealingStrategy(strategy, ctx));
    await clock.runAllAsync();
    expect(gcs).toBe(1);
    expect(run.value).toMatchObject({ healed: true, resolvedBy: 'rolling-restart' });
    expect(run.value!.steps.map((s) => [s.step, s.verified])).toEqual([['force-gc', false], ['clear-caches', false], ['rolling-restart', true]]);
    expect(restarts).toEqual(['memory leak on api: heap 800 MB above the 500 MB limit']);
  });

  it('fails when there is no restart requester', async () => {
    const clock = new VirtualClock();
    const run = track(runHealingStrategy(healingStrategies.memoryLeak({ heapLimitBytes: 1, readHeapUsed: () => 2, settleMs: 0 }), createHealingContext({ component: 'api', clock })));
    await clock.runAllAsync();
    expect(run.value?.healed).toBe(false);
    expect((run.value!.steps[1]!.error as Error).message).toMatch(/No restart requester/);
  });

  it('validates its options', () => {
    expect(() => healingStrategies.memoryLeak({ heapLimitBytes: 0, readHeapUsed: 3 as unknown as () => number })).toThrow(/heapLimitBytes[\s\S]*readHeapUsed/);
  });
});

describe('healingStrategies.connectionExhaustion', () => {
  it('kill idle, reset pool, scale pool, verified after each', async () => {
    const pool = { available: 0, size: 10, log: [] as string[] };
    const strategy = healingStrategies.connectionExhaustion({
      killIdleConnections: () => void pool.log.push('kill-idle'),
      resetPool: () => { pool.log.push('reset'); pool.available = 5; },
      scalePool: () => { pool.log.push('scale'); pool.size *= 1.5; pool.available = 20; },
      verify: () => pool.available >= 20,
    });
    const run = await runHealingStrategy(strategy, createHealingContext({ component: 'db' }));
    expect(pool.log).toEqual(['kill-idle', 'reset', 'scale']);
    expect(run.resolvedBy).toBe('scale-pool');
  });
});

describe('healingStrategies.serviceDegradation', () => {
  it('resets the open breaker through the manager first', async () => {
    const clock = new VirtualClock();
    const manager = new CircuitBreakerManager({ clock });
    const breaker = manager.getOrCreate('pricing', { failureThreshold: 1 });
    breaker.open();
    const degraded: string[] = [];
    const strategy = healingStrategies.serviceDegradation({ degradeFeatures: (ctx) => void degraded.push(ctx.component), verify: () => breaker.state === 'closed' });
    const run = await runHealingStrategy(strategy, createHealingContext({ component: 'pricing', breakers: manager, clock }));
    expect(run.resolvedBy).toBe('circuit-reset');
    expect(breaker.state).toBe('closed');
    expect(degraded).toEqual([]);
  });

  it('leaves an isolated breaker alone and moves on to degrading features', async () => {
    const manager = new CircuitBreakerManager();
    const breaker = manager.getOrCreate('pricing');
    breaker.isolate();
    let degraded = false;
    const strategy = healingStrategies.serviceDegradation({ degradeFeatures: () => void (degraded = true), verify: () => degraded });
    const run = await runHealingStrategy(strategy, createHealingContext({ component: 'pricing', breakers: manager }));
    expect(breaker.state).toBe('isolated');
    expect(run.resolvedBy).toBe('feature-degradation');
  });
});
