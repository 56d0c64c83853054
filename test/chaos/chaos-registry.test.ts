import { describe, expect, it } from 'vitest';
import { isChaosRefusedError } from '../../src/core/errors.js';
import type { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { CircuitBreaker } from '../../src/policies/circuit-breaker.js';
import { Fallback } from '../../src/policies/fallback.js';
import { pipeline } from '../../src/policies/pipeline.js';
import { ChaosControl } from '../../src/chaos/chaos-control.js';
import { ChaosRegistry } from '../../src/chaos/chaos-registry.js';
import { parseFaultSpec } from '../../src/chaos/fault-spec.js';
import { track } from '../support/promises.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

function setup(): { clock: VirtualClock; control: ChaosControl; registry: ChaosRegistry } {
  const clock = new VirtualClock();
  const control = new ChaosControl({ environment: 'test', enabled: true });
  return { clock, control, registry: new ChaosRegistry({ control, clock }) };
}

describe('ChaosRegistry', () => {
  it('injects faults into a named dependency at run time and removes them', async () => {
    const { registry } = setup();
    const callPricing = pipeline(registry.injector('pricing'));
    expect(await callPricing.execute(() => 42)).toBe(42);
    const fault = registry.inject('pricing', { kind: 'error', message: 'pricing down' });
    await expect(callPricing.execute(() => 42)).rejects.toThrow('pricing down');
    expect(registry.active()).toMatchObject([{ dependency: 'pricing', kind: 'error', injections: 1 }]);
    expect(fault.remove()).toBe(true);
    expect(fault.remove()).toBe(false);
    expect(await callPricing.execute(() => 42)).toBe(42);
    expect(registry.dependencies()).toEqual(['pricing']);
  });

  it('applies several faults of a dependency in injection order', async () => {
    const { clock, registry } = setup();
    registry.inject('db', { kind: 'latency', latencyMs: 100 });
    registry.inject('db', { kind: 'outcome', value: [] });
    const call = track(registry.injector('db').execute(() => ['real']));
    await clock.advanceAsync(99);
    expect(call.state).toBe('pending');
    await clock.advanceAsync(1);
    expect(call).toMatchObject({ state: 'resolved', value: [] });
  });

  it('expires a fault after its duration, exactly', async () => {
    const { clock, registry } = setup();
    const removed: string[] = [];
    registry.on('faultRemoved', ({ reason }) => removed.push(reason));
    registry.inject('cache', { kind: 'error', durationMs: 1_000 });
    clock.advance(999);
    expect(registry.active()).toHaveLength(1);
    clock.advance(1);
    expect(registry.active()).toHaveLength(0);
    expect(removed).toEqual(['expired']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('the kill switch stops every fault at once without removing them', async () => {
    const { control, registry } = setup();
    registry.inject('pricing', { kind: 'error' });
    control.disable();
    expect(await registry.injector('pricing').execute(() => 'ok')).toBe('ok');
    expect(registry.active()).toHaveLength(1);
  });

  it('refuses kinds that are not allowed and more faults than the limit', () => {
    const registry = new ChaosRegistry({ control: new ChaosControl({ environment: 'test' }), allowedKinds: ['latency', 'error'], maxActiveFaults: 1 });
    let error: unknown;
    try {
      registry.inject('x', { kind: 'outcome', value: 1 });
    } catch (e) {
      error = e;
    }
    expect(isChaosRefusedError(error)).toBe(true);
    registry.inject('x', { kind: 'error' });
    expect(() => registry.inject('y', { kind: 'error' })).toThrow(/Too many active faults/);
  });

  it('clear() removes by dependency or all', () => {
    const { registry } = setup();
    registry.inject('a', { kind: 'error' });
    registry.inject('a', { kind: 'error' });
    registry.inject('b', { kind: 'error' });
    expect(registry.clear('a')).toBe(2);
    expect(registry.clear()).toBe(1);
  });

  it('a breaker and a fallback downstream of the injector behave as under a real outage', async () => {
    const { registry } = setup();
    const breaker = new CircuitBreaker({ window: { type: 'consecutive', failures: 3 } });
    const protectedCall = pipeline(new Fallback({ fallback: () => 'cached' }), breaker, registry.injector('pricing'));
    registry.inject('pricing', { kind: 'error' });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await protectedCall.execute(() => 'live'));
    expect(results).toEqual(['cached', 'cached', 'cached', 'cached', 'cached']);
    expect(breaker.state).toBe('open');
  });
});

describe('parseFaultSpec', () => {
  it('accepts the JSON kinds and lists every problem with its path', () => {
    expect(parseFaultSpec({ kind: 'latency', latencyMs: 100, rate: 0.5 })).toEqual({ kind: 'latency', latencyMs: 100, rate: 0.5 });
    let error: InvalidOptionsError | undefined;
    try {
      parseFaultSpec({ kind: 'latency', rate: 3, latncy: 5 }, 'phases[0].faults[1]');
    } catch (e) {
      error = e as InvalidOptionsError;
    }
    expect(error?.issues.map((i) => i.path)).toEqual(['phases[0].faults[1].rate', 'phases[0].faults[1].latencyMs', 'phases[0].faults[1].latncy']);
    expect(() => parseFaultSpec({ kind: 'behavior' })).toThrow(/kind: expected one of "error", "latency", "outcome"/);
    expect(() => parseFaultSpec('error')).toThrow(/expected an object with a kind/);
  });
});
