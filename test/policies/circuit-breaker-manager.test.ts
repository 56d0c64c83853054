import { describe, expect, it } from 'vitest';
import { CircuitBreakerManager } from '../../src/policies/circuit-breaker-manager.js';
import { CircuitBreakerError, type CircuitBreakerEvent } from '../../src/policies/managed-circuit-breaker.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { isBrokenCircuitError } from '../../src/core/errors.js';
import { InvalidOptionsError } from '../../src/core/options.js';

const fail = (): Promise<never> => Promise.reject(new Error('down'));

describe('CircuitBreakerManager (seed API)', () => {
  it('maps the seed options: N failures in monitorWindow open it; timeout; successThreshold closes', async () => {
    const clock = new VirtualClock();
    const manager = new CircuitBreakerManager({ clock });
    const breaker = manager.getOrCreate('api-service', {
      failureThreshold: 3,
      successThreshold: 2,
      timeout: 1_000,
      monitorWindow: 10_000,
      halfOpenRequests: 1,
    });
    expect(manager.getOrCreate('api-service')).toBe(breaker);
    const events: CircuitBreakerEvent[] = [];
    breaker.onEvent((e) => events.push(e));
    for (let i = 0; i < 10; i++) await breaker.execute(() => 'ok');
    await breaker.execute(fail).catch(() => undefined);
    await breaker.execute(fail).catch(() => undefined);
    clock.advance(10_000); // the two failures leave the window
    await breaker.execute(fail).catch(() => undefined);
    expect(breaker.getState()).toMatchObject({ state: 'closed', failures: 1 });
    await breaker.execute(fail).catch(() => undefined);
    await breaker.execute(fail).catch(() => undefined);
    expect(breaker.getState().state).toBe('open');

    let error: unknown;
    try {
      await breaker.execute(async () => 'never');
    } catch (e) {
      error = e;
    }
    expect((error as Error).name).toBe('CircuitBreakerError');
    expect(error).toBeInstanceOf(CircuitBreakerError);
    expect(isBrokenCircuitError(error)).toBe(true);
    expect((error as CircuitBreakerError).component).toBe('api-service');

    clock.advance(1_000);
    await breaker.execute(() => 'probe 1');
    expect(breaker.getState().state).toBe('half-open');
    await breaker.execute(() => 'probe 2');
    expect(breaker.getState().state).toBe('closed');
    expect(events.map((e) => e.type)).toEqual(['circuit-opened', 'call-rejected', 'circuit-half-opened', 'circuit-closed']);
    expect(events[0]?.component).toBe('api-service');
  });

  it('reports metrics and fleet health, forwards state changes, and forgets removed breakers', async () => {
    const clock = new VirtualClock();
    const manager = new CircuitBreakerManager({ clock, defaults: { failureThreshold: 1 } });
    const changes: string[] = [];
    manager.on('stateChange', ({ name, to }) => changes.push(`${name}:${to}`));
    manager.getOrCreate('a');
    const b = manager.getOrCreate('b');
    await b.execute(fail).catch(() => undefined);
    expect(Object.keys(manager.getAllMetrics())).toEqual(['a', 'b']);
    expect(manager.getAllMetrics().b?.state).toBe('open');
    expect(manager.healthCheck()).toEqual({ healthy: false, total: 2, open: ['b'], halfOpen: [], isolated: [], score: 50 });
    expect(changes).toEqual(['b:open']);
    expect(manager.remove('b')).toBe(true);
    expect(manager.remove('b')).toBe(false);
    b.close(); // a removed breaker no longer reaches the manager's listeners
    expect(changes).toEqual(['b:open']);
    expect(manager.get('b')).toBeUndefined();
    expect(manager.healthCheck().healthy).toBe(true);
    manager.dispose();
    expect(manager.size).toBe(0);
  });

  it('is bounded and validates seed options by name', () => {
    const manager = new CircuitBreakerManager({ maxBreakers: 2 });
    manager.getOrCreate('a');
    manager.getOrCreate('b');
    expect(() => manager.getOrCreate('c')).toThrow(/limit of 2 breakers/);
    expect(() => manager.getOrCreate('', {})).toThrow(TypeError);
    expect(() => new CircuitBreakerManager().getOrCreate('x', { failureThreshold: 0, timeout: -5 })).toThrow(InvalidOptionsError);
    try {
      new CircuitBreakerManager().getOrCreate('x', { failureThreshold: 0, timeout: -5 });
    } catch (e) {
      expect((e as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['failureThreshold', 'timeout']);
    }
  });

  it('validates its defaults and clock when constructed, not on first getOrCreate', () => {
    try {
      new CircuitBreakerManager({ defaults: { failureThreshold: -1, timeout: -5 }, clock: {} as never, maxBreakers: 0 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidOptionsError);
      expect((e as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
        'maxBreakers',
        'defaults.failureThreshold',
        'defaults.timeout',
        'clock',
      ]);
    }
    expect(() => new CircuitBreakerManager({ defaults: [] as never })).toThrow(/defaults: expected an object/);
    expect(() => new CircuitBreakerManager(null as never)).toThrow(/options: expected an object/);
    expect(() => new CircuitBreakerManager({ defaults: { failureThreshold: 3 }, clock: new VirtualClock() })).not.toThrow();
  });

  it('regression: a name inside the config never overrides the name asked for', () => {
    const manager = new CircuitBreakerManager();
    const breaker = manager.getOrCreate('payments', { name: 'other' } as never);
    expect(breaker.name).toBe('payments');
    expect(manager.get('payments')).toBe(breaker);
  });

  it('lets core options override the seed mapping', async () => {
    const clock = new VirtualClock();
    const manager = new CircuitBreakerManager({ clock });
    const breaker = manager.getOrCreate('c', { window: { type: 'consecutive', failures: 2 }, openMs: 5 });
    await breaker.execute(fail).catch(() => undefined);
    await breaker.execute(fail).catch(() => undefined);
    expect(breaker.state).toBe('open');
    clock.advance(5);
    expect(breaker.state).toBe('half-open');
  });
});
