import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { RunbookEngine } from '../../src/healing/runbook-engine.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const DIR = fileURLToPath(new URL('../../examples/runbooks/', import.meta.url));

describe('examples/runbooks', () => {
  it('load with the actions and checks they name registered, and each runs to the end', async () => {
    const clock = new VirtualClock();
    const engine = new RunbookEngine({ clock, cooldownMs: 0 });
    const calls: string[] = [];
    const actions = [
      'database.killIdleConnections', 'database.resetPool', 'database.scalePool', 'database.pruneIdleConnections',
      'pagerduty.alert', 'runtime.forceGc', 'cache.clearNonCritical', 'supervisor.rollingRestart',
      'circuitBreaker.reset', 'cache.enableAggressiveCaching', 'featureFlags.disable',
      'cache.bypassL2', 'cache.reconnectL2', 'cache.clearL1', 'cache.restoreL2',
      'rateLimiter.tighten', 'ddos.blockTopSources', 'degradation.degrade',
    ];
    for (const name of actions) engine.registerAction(name, () => void calls.push(name));
    engine.registerCheck('circuitBreaker.isClosed', () => false);
    engine.registerCheck('cache.l2Healthy', () => true);
    const loaded = await engine.loadDirectory(DIR);
    expect(loaded.map((r) => r.name).sort()).toEqual([
      'Cache Failure', 'Circuit Breaker Open', 'DDoS Attack', 'Database Connection Pool Exhaustion', 'Memory Exhaustion',
    ]);
    const used = new Set(loaded.flatMap((r) => r.steps.map((s) => s.action)).filter((a) => a !== undefined));
    expect([...used].sort()).toEqual([...actions].sort());

    engine.onMetric('heap_used_ratio', 0.95);
    engine.onMetric('circuit_breakers_open', 2);
    engine.onAlert('CacheFailure');
    engine.onAlert('DDoSAttack');
    engine.onAlert('DatabaseConnectionExhaustion');
    await clock.runAllAsync();
    const runs = engine.getRuns();
    expect(runs).toHaveLength(5);
    expect(Object.fromEntries(runs.map((r) => [r.runbook, r.status]))).toEqual({
      'Memory Exhaustion': 'failed', // the heap never came down: restarted, not paged (steps succeeded)
      'Circuit Breaker Open': 'failed', // circuit still open after 3 checks: cached and degraded
      'Cache Failure': 'succeeded',
      'DDoS Attack': 'failed', // no traffic metric recorded: verification cannot pass
      'Database Connection Pool Exhaustion': 'failed',
    });
    expect(calls).toContain('supervisor.rollingRestart');
    expect(calls.filter((c) => c === 'pagerduty.alert')).toHaveLength(1); // DDoS: any_step_failed
  });
});
