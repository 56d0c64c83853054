import { describe, expect, it } from 'vitest';
import { HealthEndpoints } from '../../../src/adapters/http/health-endpoints.js';
import { Readiness } from '../../../src/adapters/http/readiness.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { CircuitBreakerManager } from '../../../src/policies/circuit-breaker-manager.js';

describe('HealthEndpoints', () => {
  it('answers only its own paths, under a custom base path', () => {
    const health = new HealthEndpoints({ basePath: '/ops/health/' });
    expect(health.basePath).toBe('/ops/health');
    expect(['/ops/health', '/ops/health/live', '/ops/health/ready', '/ops/health/startup', '/ops/health/x', '/health'].map((p) => health.viewOf(p))).toEqual([
      'health',
      'live',
      'ready',
      'startup',
      undefined,
      undefined,
    ]);
    expect(health.respond('/health')).toBeUndefined();
    const reply = health.respond('/ops/health/live');
    expect(reply).toMatchObject({ status: 200, headers: { 'content-type': 'application/health+json', 'cache-control': 'no-store' } });
    expect(JSON.parse(reply?.body ?? '')).toEqual({ status: 'pass', notes: ['view: live'], checks: {} });
  });

  it('puts breaker metrics, cache metrics and the newest chaos runs in the antifragility block', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock });
    monitor.registerCheck('db', () => true, { critical: true });
    await monitor.runAll();
    const manager = new CircuitBreakerManager({ clock });
    manager.getOrCreate('pricing');
    const runs = Array.from({ length: 30 }, (_, i) => ({ id: i }));
    const health = new HealthEndpoints({ monitor, breakers: manager, cache: { getMetrics: () => ({ hits: 3 }) }, chaos: { getHistory: () => runs }, chaosHistoryLimit: 2 });
    const report = health.report('health') as { antifragility: { circuitBreakers: Record<string, { state: string }>; cacheMetrics: unknown; chaosHistory: unknown[] } };
    expect(report.antifragility.circuitBreakers.pricing?.state).toBe('closed');
    expect(report.antifragility.cacheMetrics).toEqual({ hits: 3 });
    expect(report.antifragility.chaosHistory).toEqual([{ id: 28 }, { id: 29 }]);
    expect(health.report('ready')).not.toHaveProperty('antifragility');
  });

  it('leaves a throwing source out of the block and reports it', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    const health = new HealthEndpoints({ cache: { getMetrics: () => { throw new Error('cache gone'); } }, chaos: { getHistory: () => [] } });
    const reply = health.respond('/health');
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(reply?.status).toBe(200);
    expect(JSON.parse(reply?.body ?? '').antifragility).toEqual({ chaosHistory: [] });
    expect(warnings).toContain('HealthEndpoints source cache.getMetrics threw: cache gone');
  });

  it('fails readiness while draining, keeping the monitor output', async () => {
    const monitor = new HealthMonitor();
    monitor.registerCheck('db', () => false, { critical: true });
    await monitor.runAll();
    const readiness = new Readiness();
    const health = new HealthEndpoints({ monitor, readiness });
    readiness.drain('SIGTERM');
    readiness.drain('second call ignored');
    const reply = health.respond('/health/ready');
    expect(reply?.status).toBe(503);
    expect(JSON.parse(reply?.body ?? '').output).toMatch(/^draining: SIGTERM; db: /);
  });

  it('reports every bad option with its path', () => {
    let error: unknown;
    try {
      new HealthEndpoints({ monitor: {} as never, breakers: 1 as never, cache: {} as never, chaos: {} as never, readiness: {} as never, basePath: 'health', chaosHistoryLimit: -1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['monitor', 'breakers', 'cache', 'chaos', 'readiness', 'basePath', 'chaosHistoryLimit']);
  });
});
