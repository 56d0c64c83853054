import { describe, expect, it } from 'vitest';
import type { ActiveFaultInfo } from '../../src/chaos/chaos-registry.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import type { ScenarioJournal } from '../../src/scenario/journal.js';
import type { ProxyToxicApi } from '../../src/scenario/proxy-api-client.js';
import type { Scenario } from '../../src/scenario/scenario.js';
import { loadScenarioFile, parseScenarioFile } from '../../src/scenario/scenario-loader.js';
import { ScenarioRunner, type ScenarioRunOptions } from '../../src/scenario/scenario-runner.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { inMemoryTarget, type InMemoryTargetOptions } from './support/in-memory-target.js';

failOnUnhandledRejections();

const OUTAGE = `
name: payment outage
load: { rate: 10, timeout: 1s }
phases:
  - name: warm-up
    duration: 4s
  - name: outage
    duration: 6s
    multiplier: 2
    faults:
      - dependency: payment
        fault: { kind: error }
      - resource: { kind: cpu, percent: 50 }
  - name: recovery
    duration: 4s
criteria:
  - { name: availability, metric: availability, expect: "> 30%" }
  - { name: outage availability, metric: availability, phase: outage, expect: "< 1%" }
  - { name: warm-up availability, metric: availability, phase: warm-up, expect: "> 99%" }
  - { name: breaker opened, jsonPath: $.breakers.payment, samples: any, expect: open }
  - { name: orders, metric: order_completion, expect: "> 90%" }
`;

const scenarioOf = (text: string): Scenario => parseScenarioFile(text, 'inline.yaml').scenarios[0] as Scenario;

/** Runs `scenario` on a VirtualClock against an in-memory target, advancing time until the run ends. */
async function run(
  scenario: Scenario,
  options: Partial<ScenarioRunOptions> = {},
  target: InMemoryTargetOptions = {},
  during?: (clock: VirtualClock, t: ReturnType<typeof inMemoryTarget>) => void,
): Promise<{ journal: ScenarioJournal; target: ReturnType<typeof inMemoryTarget>; added: ActiveFaultInfo[] }> {
  const clock = new VirtualClock();
  const t = inMemoryTarget(clock, target);
  const added: ActiveFaultInfo[] = [];
  t.registry.on('faultAdded', (f) => added.push(f));
  const runner = new ScenarioRunner(scenario, { url: 'http://target.test/quote', admin: t.admin, transport: t.transport, clock, timeScale: 2, ...options });
  let done = false;
  const promise = runner.run().finally(() => (done = true));
  for (let elapsed = 0; !done && elapsed < 120_000; elapsed += 50) {
    await clock.advanceAsync(50);
    during?.(clock, t);
  }
  return { journal: await promise, target: t, added };
}

describe('ScenarioRunner phases, faults and journal', () => {
  it('runs the phases on time, injects each phase fault at its start and removes it at its end, and journals it all', async () => {
    const { journal, target } = await run(scenarioOf(OUTAGE));
    expect(target.calls).toEqual(['enable', 'inject payment error', 'start cpu', 'stop cpu', 'remove payment', 'disable']);
    expect(target.registry.active()).toEqual([]);
    expect(target.control.enabled).toBe(false);
    expect(journal.status).toBe('completed');
    expect(journal.timeScale).toBe(2);
    expect(journal.scenario).toEqual({ name: 'payment outage', file: 'inline.yaml', format: 'native' });
    expect(journal.target).toEqual({ url: 'http://target.test/quote', kind: 'url', baseline: false });
    expect(journal.phases.map((p) => [p.name, p.startMs, p.endMs, p.rate, p.load.sent, p.load.ok, p.faults])).toEqual([
      ['warm-up', 0, 2_000, 10, 20, 20, []],
      ['outage', 2_000, 5_000, 20, 60, 0, ['error(payment)', 'cpu-resource']],
      ['recovery', 5_000, 7_000, 10, 20, 20, []],
    ]);
    expect(journal.faultWindows).toEqual([
      { name: 'error(payment)', kind: 'error', target: 'payment', startMs: 2_000, endMs: 5_000 },
      { name: 'cpu-resource', kind: 'resource:cpu', target: 'cpu', startMs: 2_000, endMs: 5_000 },
    ]);
    expect(journal.totals).toMatchObject({ sent: 100, ok: 40, failed: 60, availability: 0.4, errors: { '503': 60 } });
    expect(journal.series.map((p) => [p.t, p.phase, p.sent, p.failed])).toEqual([
      [1_000, 'warm-up', 10, 0],
      [2_000, 'warm-up', 10, 0],
      [3_000, 'outage', 20, 20],
      [4_000, 'outage', 20, 20],
      [5_000, 'outage', 20, 20],
      [6_000, 'recovery', 10, 0],
      [7_000, 'recovery', 10, 0],
    ]);
    expect(journal.timelines).toEqual({
      breakers: [
        { t: 0, name: 'payment', state: 'closed' },
        { t: 2_000, name: 'payment', state: 'open' },
        { t: 5_000, name: 'payment', state: 'closed' },
      ],
      degradation: [
        { t: 0, level: 'normal' },
        { t: 2_000, level: 'reduced' },
        { t: 5_000, level: 'normal' },
      ],
    });
    expect(journal.activities.filter((a) => a.type === 'action').map((a) => [a.name, a.startMs, a.status])).toEqual([
      ['read chaos state', 0, 'succeeded'],
      ['enable chaos', 0, 'succeeded'],
      ['phase warm-up: 10 requests/s for 2000 ms', 0, 'succeeded'],
      ['inject error(payment)', 2_000, 'succeeded'],
      ['inject cpu-resource', 2_000, 'succeeded'],
      ['phase outage: 20 requests/s for 3000 ms', 2_000, 'succeeded'],
      ['remove cpu-resource', 5_000, 'succeeded'],
      ['remove error(payment)', 5_000, 'succeeded'],
      ['phase recovery: 10 requests/s for 2000 ms', 5_000, 'succeeded'],
      ['disable chaos', 7_000, 'succeeded'],
    ]);
    expect(journal.durationMs).toBe(7_000);
    expect(journal.startedAt).toBe(new Date(0).toISOString());
    expect(journal.endedAt).toBe(new Date(7_000).toISOString());
  });

  it('evaluates the criteria, and fails one whose metric the target does not report', async () => {
    const { journal } = await run(scenarioOf(OUTAGE));
    expect(journal.criteria).toEqual([
      { name: 'availability', expected: '> 30%', observed: 0.4, passed: true, detail: '40 of 100 requests succeeded during the run' },
      { name: 'outage availability', expected: '< 1%', observed: 0, passed: true, detail: '0 of 60 requests succeeded during phase outage' },
      { name: 'warm-up availability', expected: '> 99%', observed: 1, passed: true, detail: '20 of 20 requests succeeded during phase warm-up' },
      { name: 'breaker opened', expected: 'open', observed: 'open', passed: true, detail: expect.stringMatching(/^held in \d+ of \d+ status samples$/) as unknown as string },
      { name: 'orders', expected: '> 90%', observed: null, passed: false, detail: 'target does not report metric order_completion (no metrics.order_completion in its status)' },
    ]);
    expect(journal.verdict).toBe('fail');
  });

  it('passes when every criterion holds, reading target metrics from the status', async () => {
    const { journal } = await run(scenarioOf(OUTAGE), {}, { status: () => ({ metrics: { order_completion: 0.95 } }) });
    expect(journal.criteria.every((c) => c.passed)).toBe(true);
    expect(journal.criteria[4]).toEqual({ name: 'orders', expected: '> 90%', observed: 0.95, passed: true, detail: 'last of 14 status samples' });
    expect(journal.verdict).toBe('pass');
    expect(journal.deviated).toBe(false);
  });

  it('runs only the phases selected, skipping the criteria of the others', async () => {
    const { journal, target } = await run(scenarioOf(OUTAGE), { phases: ['outage'] });
    expect(journal.phases.map((p) => [p.name, p.startMs, p.endMs, p.load.sent])).toEqual([['outage', 0, 3_000, 60]]);
    expect(journal.criteria.map((c) => c.name)).toEqual(['availability', 'outage availability', 'breaker opened', 'orders']);
    expect(journal.activities.find((a) => a.name === 'criterion warm-up availability')?.output).toBe('skipped: phase warm-up not run');
    expect(target.calls).toEqual(['enable', 'inject payment error', 'start cpu', 'stop cpu', 'remove payment', 'disable']);
  });

  it('leaves chaos on when the target already had it on', async () => {
    const { target } = await run(scenarioOf(OUTAGE), {}, { enabled: true });
    expect(target.calls).toEqual(['inject payment error', 'start cpu', 'stop cpu', 'remove payment']);
    expect(target.control.enabled).toBe(true);
  });
});

describe('ScenarioRunner aborts and always removes its faults', () => {
  const HALTING = `${OUTAGE}
halt:
  - name: collapse
    metric: availability
    window: 1s
    when: "< 50%"
    minRequests: 5
`;

  it('aborts on a halt condition at the first check that sees it, removing every fault newest first', async () => {
    const { journal, target } = await run(scenarioOf(HALTING));
    expect(journal.status).toBe('aborted');
    expect(journal.reason).toBe('halt condition "collapse": availability over the last 1 s = 0 (< 50%)');
    expect(journal.verdict).toBe('fail');
    expect(journal.phases.map((p) => [p.name, p.startMs, p.endMs])).toEqual([
      ['warm-up', 0, 2_000],
      ['outage', 2_000, 3_000],
    ]);
    expect(target.calls).toEqual(['enable', 'inject payment error', 'start cpu', 'stop cpu', 'remove payment', 'disable']);
    expect(target.registry.active()).toEqual([]);
    expect(target.resources.size).toBe(0);
    expect(journal.faultWindows.map((w) => [w.name, w.startMs, w.endMs])).toEqual([
      ['error(payment)', 2_000, 3_000],
      ['cpu-resource', 2_000, 3_000],
    ]);
    expect(journal.activities.filter((a) => a.name.startsWith('halt') || a.name.startsWith('remove')).map((a) => [a.name, a.startMs])).toEqual([
      ['halt collapse', 3_000],
      ['remove cpu-resource', 3_000],
      ['remove error(payment)', 3_000],
    ]);
  });

  it('is interrupted by its signal mid-phase: load stops, faults are removed, status interrupted', async () => {
    const interrupt = new AbortController();
    const { journal, target } = await run(scenarioOf(OUTAGE), { signal: interrupt.signal }, {}, (clock) => {
      if (clock.now() === 3_500) interrupt.abort();
    });
    expect(journal.status).toBe('interrupted');
    expect(journal.reason).toBe('interrupted (SIGINT)');
    expect(journal.verdict).toBe('fail');
    expect(journal.phases.map((p) => [p.name, p.endMs])).toEqual([
      ['warm-up', 2_000],
      ['outage', 3_500],
    ]);
    expect(target.calls).toEqual(['enable', 'inject payment error', 'start cpu', 'stop cpu', 'remove payment', 'disable']);
    expect(target.registry.active()).toEqual([]);
    expect(journal.steadyStateAfter).toEqual([]);
  });

  it('fails the run when a fault cannot be injected, removing the faults already in', async () => {
    const { journal, target } = await run(scenarioOf(OUTAGE), {}, { refuse: (call) => call === 'start cpu' });
    expect(journal.status).toBe('failed');
    expect(journal.reason).toBe('could not inject cpu-resource: refused: start cpu');
    expect(target.calls).toEqual(['enable', 'inject payment error', 'start cpu', 'remove payment', 'disable']);
    expect(target.registry.active()).toEqual([]);
    expect(journal.phases.map((p) => [p.name, p.startMs, p.endMs])).toEqual([
      ['warm-up', 0, 2_000],
      ['outage', 2_000, 2_000],
    ]);
  });

  it('keeps removing the other faults when one removal fails, retries it in the final rollback, and fails the run while it stays', async () => {
    const { journal, target } = await run(scenarioOf(OUTAGE), {}, { refuse: (call) => call === 'stop cpu' });
    expect(target.calls.filter((c) => c !== 'stop cpu')).toEqual(['enable', 'inject payment error', 'start cpu', 'remove payment', 'disable']);
    // Once at the end of the phase, then again in the final rollback.
    expect(target.calls.filter((c) => c === 'stop cpu').length).toBeGreaterThanOrEqual(2);
    expect(target.registry.active()).toEqual([]);
    expect(journal.activities.find((a) => a.name === 'remove cpu-resource')).toMatchObject({ status: 'failed', error: expect.stringContaining('refused: stop cpu') as unknown as string });
    expect(journal.activities.find((a) => a.name === 'remove cpu-resource (rollback)')).toMatchObject({ status: 'failed' });
    // A fault still applied at the end fails the run, whatever the criteria say.
    expect(journal.status).toBe('failed');
    expect(journal.reason).toMatch(/could not remove cpu-resource/);
    expect(journal.verdict).toBe('fail');
  });

  it('does not start when the steady state is not met, and injects nothing', async () => {
    const scenario = scenarioOf(`${OUTAGE}
steadyState:
  - { name: payment breaker closed, jsonPath: $.breakers.payment, expect: closed }
  - { name: service up, http: { path: /health } }
`);
    const fetch = (async () => new Response('down', { status: 503 })) as typeof globalThis.fetch;
    const { journal, target } = await run(scenario, { fetch });
    expect(journal.status).toBe('aborted');
    expect(journal.reason).toMatch(/^steady state not met before the run: service up \(GET http:\/\/target\.test\/quote\/health answered 503/);
    expect(journal.steadyStateBefore.map((p) => [p.name, p.value, p.ok])).toEqual([
      ['payment breaker closed', 'closed', true],
      ['service up', 503, false],
    ]);
    expect(journal.phases).toEqual([]);
    expect(target.calls).toEqual(['enable', 'disable']);
    expect(journal.totals.sent).toBe(0);
  });

  it('marks the run deviated when the steady state differs after it', async () => {
    let after = false;
    const scenario = scenarioOf(`${OUTAGE}
steadyState:
  - { name: queue short, metric: queue_depth, expect: "< 10" }
`);
    const { journal } = await run(scenario, {}, { status: () => ({ metrics: { order_completion: 1, queue_depth: after ? 50 : 1 } }) }, (clock) => {
      if (clock.now() >= 6_000) after = true;
    });
    expect(journal.steadyStateBefore).toEqual([{ name: 'queue short', value: 1, ok: true, detail: '1 (expected < 10)' }]);
    expect(journal.steadyStateAfter).toEqual([{ name: 'queue short', value: 50, ok: false, detail: '50 (expected < 10)' }]);
    expect(journal.deviated).toBe(true);
    expect(journal.verdict).toBe('fail');
  });
});

describe('ScenarioRunner with the fault proxy', () => {
  it('adds a toxic for a proxy fault when its phase starts and removes it by name when it ends', async () => {
    const scenario = scenarioOf('name: proxied\nphases:\n  - name: slow\n    duration: 2s\n    faults:\n      - proxy: redis\n        toxic: { type: latency, attributes: { latency: 100 } }\n');
    const toxics: string[] = [];
    const proxy: ProxyToxicApi = {
      addToxic: async (name, toxic, spec) => void toxics.push(`add ${name} ${toxic} ${spec.type} ${JSON.stringify(spec.attributes)}`),
      removeToxic: async (name, toxic) => {
        toxics.push(`remove ${name} ${toxic}`);
        return true;
      },
    };
    const { journal, target } = await run(scenario, { proxy });
    expect(toxics).toHaveLength(2);
    const name = /^add redis (antifragile-latency-redis-[0-9a-f]{8}) latency \{"latency":100\}$/.exec(toxics[0] ?? '')?.[1];
    expect(name).toBeDefined();
    expect(toxics[1]).toBe(`remove redis ${String(name)}`);
    expect(journal.faultWindows).toEqual([{ name: 'latency(redis)', kind: 'toxic:latency', target: 'redis', startMs: 0, endMs: 1_000 }]);
    expect(target.calls).toEqual([]);
    expect(journal.status).toBe('completed');
  });
});

describe('ScenarioRunner with seed scenarios', () => {
  const ok = (async () => new Response('ok', { status: 200 })) as typeof globalThis.fetch;

  it('takes down the dependencies of the region the target reports', async () => {
    const { scenarios } = await loadScenarioFile('test/fixtures/scenarios/seed-001.yaml');
    const region = scenarios[1] as Scenario;
    const { journal, added, target } = await run(region, { timeScale: 600, fetch: ok }, { status: () => ({ regions: { 'us-east-1': ['payment', 'database'], 'eu-west-1': ['redis'] } }) });
    expect(added.map((f) => [f.dependency, f.spec])).toEqual([
      ['payment', { kind: 'error', rate: 1, message: 'antifragile: region us-east-1 is down', durationMs: 2_100 + 60_000 }],
      ['database', { kind: 'error', rate: 1, message: 'antifragile: region us-east-1 is down', durationMs: 2_100 + 60_000 }],
    ]);
    expect(target.calls).toEqual(['enable', 'inject payment error', 'inject database error', 'remove database', 'remove payment', 'disable']);
    expect(journal.phases.map((p) => [p.name, p.startMs, p.endMs])).toEqual([
      ['warm-up', 0, 300],
      ['chaos', 300, 2_400],
      ['recovery', 2_400, 3_000],
    ]);
    expect(journal.criteria.map((c) => [c.name, c.passed, c.detail])).toEqual([
      ['failover_time', false, 'target does not report metric failover_time (no metrics.failover_time in its status)'],
      ['data_loss', false, 'target does not report metric data_loss (no metrics.data_loss in its status)'],
      ['user_impact', false, 'target does not report metric user_impact (no metrics.user_impact in its status)'],
    ]);
  });

  it('fails the region fault when the target knows other regions only', async () => {
    const { scenarios } = await loadScenarioFile('test/fixtures/scenarios/seed-001.yaml');
    const { journal, target } = await run(scenarios[1] as Scenario, { timeScale: 600, fetch: ok }, { status: () => ({ regions: { 'eu-west-1': ['redis'] } }) });
    expect(journal.status).toBe('failed');
    expect(journal.reason).toBe('could not inject region_failure(us-east-1): the target knows regions eu-west-1, not "us-east-1"');
    expect(target.registry.active()).toEqual([]);
  });

  it('slows the database by factor × the baseline latency the target reports, and multiplies the rate', async () => {
    const { scenarios } = await loadScenarioFile('test/fixtures/scenarios/seed-001.yaml');
    const friday = scenarios[0] as Scenario;
    const { journal, added } = await run(friday, { timeScale: 1_200, fetch: ok }, { protection: true, status: () => ({ metrics: { database_latency_ms: 4, order_completion: 0.99 } }) });
    expect(added.map((f) => [f.dependency, f.kind, (f.spec as { latencyMs?: number; rate?: number }).latencyMs ?? f.spec.rate])).toEqual([
      ['payment', 'error', 0.3],
      ['database', 'latency', 20],
    ]);
    expect(journal.phases.map((p) => [p.name, p.rate, p.endMs - p.startMs])).toEqual([
      ['warm-up', 10, 600],
      ['chaos', 100, 4_200],
      ['recovery', 10, 1_200],
    ]);
    expect(journal.criteria.map((c) => [c.name, c.passed])).toEqual([
      ['availability', true],
      ['p95_latency', true],
      ['order_completion', true],
    ]);
    expect(journal.verdict).toBe('pass');
    expect(journal.activities.find((a) => a.name === 'inject database_slowdown(database)')?.output).toMatchObject({ latencyMs: 20, baseline: { ms: 4, source: 'metrics.database_latency_ms' } });
  });
});

describe('ScenarioRunner options', () => {
  it('refuses unknown phases and faults it has no endpoint for, listing every problem', () => {
    const scenario = scenarioOf(`${OUTAGE.replace('phases:', 'phases:\n  - name: proxied\n    duration: 1s\n    faults:\n      - proxy: redis\n        toxic: { type: timeout }')}`);
    let error: unknown;
    try {
      new ScenarioRunner(scenario, { url: 'ftp://nope', timeScale: 0, phases: ['outage', 'nope', 'proxied'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['url', 'timeScale', 'phases', 'admin', 'proxy']);
    expect((error as InvalidOptionsError).issues[2]?.expected).toBe('names of phases of "payment outage": proxied, warm-up, outage, recovery');
  });
});
