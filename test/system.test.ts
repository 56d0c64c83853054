import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResilience } from '../src/system.js';
import { VirtualClock } from '../src/core/virtual-clock.js';
import { InvalidOptionsError } from '../src/core/options.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { openSqliteStore } from '../src/adapters/sqlite/index.js';
import { failOnUnhandledRejections } from './support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('createResilience', () => {
  it('refuses a bad config with one error listing every bad field by path', () => {
    let error: unknown;
    try {
      createResilience({
        circuitBreakers: { api: { failureThreshold: 0, timeout: -1 } },
        healthMonitor: { checkInterval: -5 },
        degradation: { levels: [] },
        persistence: { snapshotIntervalMs: 0 },
        healthMonitr: {},
      } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    const paths = (error as InvalidOptionsError).issues.map((i) => i.path);
    expect(paths).toContain('healthMonitr');
    expect(paths).toContain('persistence.snapshotIntervalMs');
    expect(paths).toContain('circuitBreakers.api.failureThreshold');
    expect(paths).toContain('circuitBreakers.api.timeout');
    expect(paths.some((p) => p.startsWith('healthMonitor.'))).toBe(true);
    expect(paths.some((p) => p.startsWith('degradation.'))).toBe(true);
  });

  it('asks for a store opener when given a database path', () => {
    expect(() => createResilience({ persistence: { databasePath: '/tmp/x.db' } })).toThrow(/persistence\.databasePath/);
  });

  it('wires breakers, health, healing and degradation to each other and to the store', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore({ clock });
    const resilience = createResilience({
      clock,
      circuitBreakers: { pricing: { name: 'pricing', failureThreshold: 2, timeout: 1_000 } },
      healthMonitor: { checkInterval: 1_000 },
      degradation: {
        minDwellMs: 0,
        recoveryCheckInterval: 1_000,
        rules: [{ condition: { type: 'threshold', metric: 'health_score', operator: '<', value: 50 }, targetLevel: 'minimal' }],
        features: [{ name: 'recommendations', enabled: true, degradationLevels: ['minimal'], priority: 10 }],
      },
      persistence: { store, snapshotIntervalMs: 5_000 },
    });
    let databaseUp = true;
    resilience.healthMonitor.registerCheck('database', async () => databaseUp, { critical: true });
    await resilience.start();
    await clock.advanceAsync(0);

    const pricing = resilience.circuitBreakers.get('pricing');
    for (let i = 0; i < 2; i++) await pricing?.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(pricing?.state).toBe('open');
    expect((await store.getBreakerTransitions({ name: 'pricing' }))[0]).toMatchObject({ from: 'closed', to: 'open' });
    expect((await store.loadBreakerStates()).get('pricing')?.state).toBe('open');

    databaseUp = false;
    await clock.advanceAsync(1_000); // the check fails: health score drops
    await clock.advanceAsync(1_000); // degradation evaluates
    await clock.advanceAsync(1_000);
    expect(resilience.healthMonitor.getSystemHealth().overall).toBe('unhealthy');
    expect(resilience.degradation.getCurrentState().level).toBe('minimal');
    expect(resilience.degradation.isFeatureEnabled('recommendations')).toBe(false);
    expect((await store.loadDegradationState())?.level).toBe('minimal');
    expect((await store.getHealthChecks({ component: 'database' })).some((r) => r.status === 'unhealthy')).toBe(true);

    await clock.advanceAsync(5_000);
    expect((await store.getHealthSnapshots()).length).toBeGreaterThan(0);

    await resilience.stop();
    expect(resilience.running).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('restores breaker states, the degradation level and feature flags after a restart (SQLite)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'antifragile-system-'));
    dirs.push(dir);
    const databasePath = join(dir, 'resilience.db');
    const config = {
      circuitBreakers: { pricing: { failureThreshold: 1, timeout: 3_600_000 } },
      degradation: { features: [{ name: 'exports', enabled: true, priority: 5 }] },
      persistence: { databasePath },
    };
    const first = createResilience(config, { openStore: openSqliteStore });
    await first.start();
    await first.circuitBreakers.get('pricing')?.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    await first.degradation.degrade('reduced', 'load shedding', 'manual');
    first.degradation.setFeatureEnabled('exports', false);
    await first.stop();

    const second = createResilience(config, { openStore: openSqliteStore });
    expect(second.circuitBreakers.get('pricing')?.state).toBe('closed');
    await second.start();
    expect(second.circuitBreakers.get('pricing')?.state).toBe('open');
    expect(second.degradation.getCurrentState().level).toBe('reduced');
    expect(second.degradation.isFeatureEnabled('exports')).toBe(false);
    await second.stop();
  });

  it('regression: keeps recording after stop() then start() (an owned store is opened again)', async () => {
    const clock = new VirtualClock();
    const resilience = createResilience({ clock, circuitBreakers: { api: { failureThreshold: 1, timeout: 1_000 } } });
    await resilience.start();
    await resilience.stop();
    await resilience.start();
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    resilience.healthMonitor.registerCheck('db', () => true);
    await resilience.healthMonitor.runCheck('db');
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(warnings.filter((w) => /after close/.test(w))).toEqual([]);
    expect((await resilience.store.getHealthChecks()).length).toBe(1);
    await resilience.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not record the restore itself as new transitions', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore({ clock });
    const config = { clock, circuitBreakers: { api: { failureThreshold: 1, timeout: 60_000 } }, persistence: { store } };
    const first = createResilience(config);
    await first.start();
    await first.circuitBreakers.get('api')?.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    await first.stop();
    const second = createResilience(config);
    await second.start();
    expect(second.circuitBreakers.get('api')?.state).toBe('open');
    expect(await store.getBreakerTransitions({ name: 'api' })).toHaveLength(1);
    await second.stop();
  });
});
