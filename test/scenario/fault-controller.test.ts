import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { FaultController } from '../../src/scenario/fault-controller.js';
import type { ProxyToxicApi } from '../../src/scenario/proxy-api-client.js';
import type { ScenarioFault } from '../../src/scenario/scenario.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { inMemoryTarget } from './support/in-memory-target.js';

failOnUnhandledRejections();

const context = { phaseRemainingMs: 10_000, timeScale: 1, loadMedianMs: 0 };
const toxicFault = (name: string, proxy: string): ScenarioFault => ({ type: 'proxy', name, proxy, toxic: { type: 'latency', attributes: { latency: 100 } } });

/** A proxy API whose calls on `stuck` proxies never answer unless aborted; every toxic it holds in `toxics`. */
function proxyApi(stuck: (proxy: string, call: 'add' | 'remove') => boolean): ProxyToxicApi & { toxics: Set<string> } {
  const toxics = new Set<string>();
  const hang = (signal: AbortSignal | undefined): Promise<never> =>
    new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
  return {
    toxics,
    addToxic: async (proxy, name, _toxic, signal) => {
      toxics.add(`${proxy}/${name}`);
      if (stuck(proxy, 'add')) await hang(signal);
    },
    removeToxic: async (proxy, name, signal) => {
      if (stuck(proxy, 'remove')) await hang(signal);
      return toxics.delete(`${proxy}/${name}`);
    },
  };
}

describe('FaultController.emergencyCleanup', () => {
  it('removes every known toxic side by side, also one still being added, and gives up on the rest at the deadline exactly', async () => {
    const clock = new VirtualClock();
    const proxy = proxyApi((p, call) => (p === 'pg' && call === 'remove') || (p === 'http' && call === 'add'));
    const faults = new FaultController(undefined, proxy, clock, 'antifragile-run:t');
    await faults.apply(toxicFault('redis lag', 'redis'), context);
    await faults.apply(toxicFault('pg lag', 'pg'), context);
    void faults.apply(toxicFault('http lag', 'http'), context).catch(() => undefined); // its answer never comes
    await clock.advanceAsync(0);
    expect([...proxy.toxics].map((t) => t.split('/')[0])).toEqual(['redis', 'pg', 'http']);

    let settled = false;
    const cleanup = faults.emergencyCleanup(2_000).finally(() => (settled = true));
    await clock.advanceAsync(1_999);
    expect(settled).toBe(false);
    await clock.advanceAsync(1);
    const report = await cleanup;
    expect(report.timedOut).toBe(true);
    expect(report.steps.map((s) => [s.what.replace(/-\w{8} /, ' '), s.ok, s.error])).toEqual([
      ['remove toxic antifragile-http-lag of proxy http', true, undefined],
      ['remove toxic antifragile-redis-lag of proxy redis', true, undefined],
      ['remove toxic antifragile-pg-lag of proxy pg', false, 'no answer within 2000 ms'],
    ]);
    expect([...proxy.toxics].map((t) => t.split('/')[0])).toEqual(['pg']);
  });

  it('resolves as soon as everything answered, and sweeps the faults tagged with the run at the admin endpoint', async () => {
    const clock = new VirtualClock();
    const target = inMemoryTarget(clock);
    const tagged = target.registry.inject('payment', { kind: 'error' });
    const admin = {
      ...target.admin,
      state: async () => ({ ...(await target.admin.state()), faults: target.registry.active().map((f) => (f.id === tagged.id ? { ...f, tag: 'antifragile-run:t' } : f)) }),
    };
    const other = target.registry.inject('database', { kind: 'error' });
    const faults = new FaultController(admin, undefined, clock, 'antifragile-run:t');
    await faults.apply({ type: 'dependency', name: 'redis down', dependency: 'redis', fault: { kind: 'error' } }, context);
    const report = await faults.emergencyCleanup(2_000);
    expect(report.timedOut).toBe(false);
    expect(report.steps.filter((s) => s.ok).map((s) => s.what.replace(/[0-9a-f-]{36}/, 'ID'))).toEqual([
      'remove fault ID on redis',
      'remove every fault tagged antifragile-run:t',
      'remove fault ID on payment (tagged antifragile-run:t)',
    ]);
    expect(target.registry.active().map((f) => f.id)).toEqual([other.id]);
  });
});
