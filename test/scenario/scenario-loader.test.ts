import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Scenario } from '../../src/scenario/scenario.js';
import { isScenarioLoadError, type ScenarioLoadError } from '../../src/scenario/scenario-load-error.js';
import { loadScenarioFile, parseScenarioFile } from '../../src/scenario/scenario-loader.js';
import { formatSourceIssue } from '../../src/scenario/source-issue.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const FIXTURES = 'test/fixtures/scenarios';

function refused(text: string, source = 'game-day.yaml'): ScenarioLoadError {
  try {
    parseScenarioFile(text, source);
  } catch (error) {
    expect(isScenarioLoadError(error)).toBe(true);
    return error as ScenarioLoadError;
  }
  throw new Error('expected the scenario file to be refused');
}

const lines = (error: ScenarioLoadError): string[] => error.issues.map(formatSourceIssue);

describe('the seed scenario file (verbatim from the NestJS plan)', () => {
  it('loads as three scenarios of three phases, with the documented mapping', async () => {
    const file = await loadScenarioFile(`${FIXTURES}/seed-001.yaml`);
    expect(file.format).toBe('seed');
    expect(file.scenarios.map((s) => s.name)).toEqual(['Black Friday Simulation', 'Region Failure', 'Cascading Failure']);
    const [friday, region, cascade] = file.scenarios as [Scenario, Scenario, Scenario];

    // 2 hours: warm-up 10 %, chaos 70 %, recovery 20 %
    expect(friday.phases.map((p) => [p.name, p.durationMs])).toEqual([
      ['warm-up', 720_000],
      ['chaos', 5_040_000],
      ['recovery', 1_440_000],
    ]);
    expect(friday.load).toEqual({ rate: 10, timeoutMs: 5_000, mix: [] });
    const chaos = friday.phases[1];
    expect(chaos?.multiplier).toBe(10);
    expect(chaos?.faults).toEqual([
      { type: 'dependency', name: 'service_failure(payment)', dependency: 'payment', fault: { kind: 'error', rate: 0.3, message: 'antifragile: service_failure of payment' } },
      { type: 'slowdown', name: 'database_slowdown(database)', dependency: 'database', factor: 5 },
    ]);
    expect(friday.phases[0]?.faults).toEqual([]);
    expect(friday.phases[2]?.faults).toEqual([]);
    expect(friday.criteria.map((c) => [c.name, c.expected, c.measure])).toEqual([
      ['availability', '> 99%', { kind: 'metric', name: 'availability', when: 'last' }],
      ['p95_latency', '< 2000ms', { kind: 'metric', name: 'p95_latency', when: 'last' }],
      ['order_completion', '> 90%', { kind: 'metric', name: 'order_completion', when: 'last' }],
    ]);
    expect(friday.criteria[0]?.tolerance).toMatchObject({ kind: 'compare', op: '>', value: 0.99, unit: 'ratio' });
    expect(friday.criteria[1]?.tolerance).toMatchObject({ kind: 'compare', op: '<', value: 2_000, unit: 'ms' });
    expect(friday.steadyState).toHaveLength(1);

    expect(region.phases.map((p) => p.durationMs)).toEqual([180_000, 1_260_000, 360_000]);
    expect(region.phases[1]?.faults).toEqual([{ type: 'region', name: 'region_failure(us-east-1)', region: 'us-east-1' }]);
    expect(region.criteria.map((c) => [c.name, c.tolerance])).toEqual([
      ['failover_time', { kind: 'compare', op: '<', value: 60_000, unit: 'ms', text: '< 60s' }],
      ['data_loss', { kind: 'equals', value: 0, text: '0' }],
      ['user_impact', { kind: 'compare', op: '<', value: 0.1, unit: 'ratio', text: '< 10%' }],
    ]);

    expect(cascade.phases[1]?.faults).toEqual([
      { type: 'dependency', name: 'service_failure(redis)', dependency: 'redis', fault: { kind: 'error', rate: 1, message: 'antifragile: service_failure of redis' } },
      { type: 'resource', name: 'cpu_stress(80%)', resource: { kind: 'cpu', percent: 80 } },
      { type: 'resource', name: 'memory_pressure(90%)', resource: { kind: 'memory', percent: 90 } },
    ]);
    expect(cascade.criteria.map((c) => [c.name, c.tolerance])).toEqual([
      ['self_healing', { kind: 'equals', value: true, text: 'true' }],
      ['degradation_activated', { kind: 'equals', value: true, text: 'true' }],
      ['core_functionality', { kind: 'equals', value: 'available', text: 'available' }],
    ]);
  });
});

describe('the native format', () => {
  it('loads the commented example', async () => {
    const { format, scenarios } = await loadScenarioFile(`${FIXTURES}/native-example.yaml`);
    expect(format).toBe('native');
    const s = scenarios[0] as Scenario;
    expect(s.name).toBe('Payment outage game day');
    expect(s.target).toEqual({ adminPath: '/admin/chaos' });
    expect(s.load.rate).toBe(20);
    expect(s.load.timeoutMs).toBe(2_000);
    expect(s.load.mix.map((m) => [m.name, m.method, m.path, m.weight, m.okStatuses])).toEqual([
      ['quote', 'GET', '/quote', 3, [200]],
      ['health', 'GET', '/health', 1, undefined],
    ]);
    expect(s.steadyState.map((p) => [p.name, p.measure.kind, p.tolerance.text])).toEqual([
      ['health answers', 'http', '2xx or 3xx'],
      ['payment breaker closed', 'status', 'closed'],
    ]);
    expect(s.phases.map((p) => [p.name, p.durationMs, p.multiplier, p.faults.map((f) => f.name)])).toEqual([
      ['warm-up', 10_000, undefined, []],
      ['payment-outage', 30_000, 2, ['error(payment)', 'slow-database', 'cpu-resource']],
      ['recovery', 10_000, undefined, []],
    ]);
    expect(s.halts).toEqual([
      {
        name: 'availability collapse',
        measure: { kind: 'metric', name: 'availability', when: 'last' },
        when: { kind: 'compare', op: '<', value: 0.5, unit: 'ratio', text: '< 50%' },
        windowMs: 10_000,
        minRequests: 5,
      },
    ]);
    expect(s.criteria.map((c) => [c.name, c.measure.kind, c.tolerance.kind, c.phases])).toEqual([
      ['availability', 'metric', 'compare', undefined],
      ['p95 during the outage', 'percentile', 'compare', ['payment-outage']],
      ['breaker opened during the outage', 'status', 'regex', ['payment-outage']],
      ['back to normal', 'status', 'oneOf', undefined],
      ['orders completed', 'metric', 'range', undefined],
      ['database baseline', 'percentile', 'compare', undefined],
    ]);
    expect(s.criteria[2]?.measure).toMatchObject({ kind: 'status', when: 'any', path: { segments: ['breakers', 'payment'] } });
  });

  it('accepts proxy faults, absolute rates and x- keys, and reads YAML anchors', () => {
    const { scenarios } = parseScenarioFile(
      [
        'name: Redis slow',
        'x-fault: &slow { kind: latency, latencyMs: 50 }',
        'target: { url: "http://localhost:3000", proxyApi: "http://127.0.0.1:8474" }',
        'phases:',
        '  - name: slow',
        '    duration: 1.5s',
        '    rate: 7',
        '    faults:',
        '      - proxy: redis',
        '        toxic: { type: latency, stream: upstream, toxicity: 0.5, attributes: { latency: 200 } }',
        '      - dependency: cache',
        '        fault: *slow',
      ].join('\n'),
      'inline.yaml',
    );
    const phase = scenarios[0]?.phases[0];
    expect(scenarios[0]?.target).toEqual({ url: 'http://localhost:3000', proxyApi: 'http://127.0.0.1:8474' });
    expect(phase).toMatchObject({ name: 'slow', durationMs: 1_500, rate: 7 });
    expect(phase?.faults).toEqual([
      { type: 'proxy', name: 'latency(redis)', proxy: 'redis', toxic: { type: 'latency', stream: 'upstream', toxicity: 0.5, attributes: { latency: 200 } } },
      { type: 'dependency', name: 'latency(cache)', dependency: 'cache', fault: { kind: 'latency', latencyMs: 50 } },
    ]);
  });
});

describe('bad scenario files: every problem, with its line, column and path', () => {
  it('reports every problem of a native file', async () => {
    const error = await loadScenarioFile(`${FIXTURES}/bad-native.yaml`).then(
      () => undefined,
      (e: unknown) => e as ScenarioLoadError,
    );
    expect(error?.code).toBe('SCENARIO_INVALID');
    const f = `${FIXTURES}/bad-native.yaml`;
    expect(lines(error as ScenarioLoadError)).toEqual([
      `${f}:3:1 laod: expected one of the fields name, description, target, load, steadyState, phases, halt, criteria (did you mean "load"?), received unknown field "laod"`,
      `${f}:6:9 load.rate: expected a number > 0, received -5`,
      `${f}:7:12 load.timeout: expected a positive duration such as "500ms", "90s", "30 minutes", "2 hours" or "1h30m", received "soon"`,
      `${f}:10:15 phases[0].duration: expected a positive duration such as "500ms", "90s", "30 minutes", "2 hours" or "1h30m", received "10 parsecs"`,
      `${f}:14:5 phases[1].multiplier: expected either rate or multiplier, not both, received both`,
      `${f}:17:24 phases[1].faults[0].fault.kind: expected one of "error", "latency", "outcome", received "explode"`,
      `${f}:17:39 phases[1].faults[0].fault.rate: expected a number in 0..1, received 1.5`,
      `${f}:18:19 phases[1].faults[1].resource: expected a mapping with a kind, e.g. { kind: cpu, percent: 80 }, received a mapping without a kind`,
      `${f}:19:9 phases[1].faults[2].toxic: expected a toxic such as { type: latency, attributes: { latency: 500 } }, received nothing (missing field)`,
      `${f}:23:13 criteria[0].expect: expected a tolerance such as "> 99%", "< 2000ms", "< 60s", ">= 0.9", "0", "true" or "available", or one of { range: [min, max] }, { regex: pattern }, { equals: value }, { oneOf: [values] }, received "more than 99%"`,
      `${f}:25:15 criteria[1].jsonPath: expected a JSON path such as $.breakers.payment or $.metrics["order-rate"], received "breakers.payment"`,
      `${f}:26:12 criteria[1].phase: expected a phase name or a list of them (warm-up, outage) (did you mean "outage"?), received unknown phase "outgae"`,
      `${f}:27:22 criteria[1].expect.regex: expected a valid regular expression, received "(" (Invalid regular expression: /(/: Unterminated group)`,
      `${f}:29:17 criteria[2].percentile: expected a latency percentile the load records: 50, 95, 99, 100 (any percentile with of: <JSON path>), received 90`,
    ]);
    expect((error as ScenarioLoadError).message.split('\n')[0]).toBe(`Invalid scenario ${f} (14 problems):`);
  });

  it('reports every problem of a seed file, with "did you mean" for a misspelt chaos kind', () => {
    const f = `${FIXTURES}/bad-seed.yaml`;
    expect(lines(refused(readFileSync(f, 'utf8'), f))).toEqual([
      `${f}:3:15 scenarios[0].duration: expected a positive duration such as "500ms", "90s", "30 minutes", "2 hours" or "1h30m", received "soon"`,
      `${f}:5:9 scenarios[0].chaos[0].traffic_spik: expected one of the fields traffic_spike, service_failure, database_slowdown, region_failure, cpu_stress, memory_pressure (did you mean "traffic_spike"?), received unknown field "traffic_spik"`,
      `${f}:6:26 scenarios[0].chaos[1].service_failure: expected rate (0..1) or complete: true, received neither`,
      `${f}:7:41 scenarios[0].chaos[2].database_slowdown.extra: expected one of the fields factor, service, received unknown field "extra"`,
      `${f}:8:32 scenarios[0].chaos[3].cpu_stress.percent: expected a number in 1..100, received 180`,
      `${f}:10:23 scenarios[0].success_criteria[0].availability: expected a tolerance such as "> 99%", "< 2000ms", "< 60s", ">= 0.9", "0", "true" or "available", or one of { range: [min, max] }, { regex: pattern }, { equals: value }, { oneOf: [values] }, received "> lots"`,
      `${f}:11:5 scenarios[1].duration: expected a duration such as "500ms", "90s", "30 minutes", "2 hours" or "1h30m", received nothing (missing field)`,
      `${f}:11:5 scenarios[1].success_criteria: expected a non-empty list of criteria such as - availability: "> 99%", received nothing (missing field)`,
      `${f}:11:11 scenarios[1].name: expected a name not used by another scenario (scenarios[0] has it), received "Black Friday"`,
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const f = `${FIXTURES}/bad-syntax.yaml`;
    const issues = refused(readFileSync(f, 'utf8'), f).issues;
    expect(issues.length).toBeGreaterThanOrEqual(1);
    expect(issues[0]).toMatchObject({ source: f, line: 4, path: '', expected: 'valid YAML' });
    expect(issues[0]?.received).toMatch(/^a syntax error: /);
  });

  it('refuses an empty document, a scalar, an unreadable file, and both service_failure forms at once', async () => {
    expect(lines(refused('', 'empty.yaml'))).toEqual(['empty.yaml:1:1 (document): expected a scenario mapping or a scenarios list, received an empty document']);
    expect(lines(refused('just text', 'scalar.yaml'))).toEqual([
      'scalar.yaml:1:1 (document): expected a scenario mapping (name, load, phases, criteria...) or a seed file with a scenarios list, received "just text"',
    ]);
    const missing = await loadScenarioFile(`${FIXTURES}/does-not-exist.yaml`).catch((e: unknown) => e as ScenarioLoadError);
    expect(isScenarioLoadError(missing)).toBe(true);
    expect((missing as ScenarioLoadError).issues[0]?.expected).toBe('a readable scenario file');
    const both = refused(
      ['scenarios:', '  - name: x', '    duration: 1m', '    chaos:', '      - service_failure: { service: a, rate: 0.5, complete: true }', '    success_criteria:', '      - availability: "> 1%"'].join('\n'),
    );
    expect(lines(both)).toEqual(['game-day.yaml:5:51 scenarios[0].chaos[0].service_failure.complete: expected either rate or complete: true, not both, received both']);
  });

  it('does not report a reference to a phase that has problems of its own', () => {
    expect(lines(refused('name: x\nphases:\n  - name: outage\n    duration: forever\ncriteria:\n  - { name: a, metric: availability, phase: outage, expect: "> 99%" }\n'))).toEqual([
      'game-day.yaml:4:15 phases[0].duration: expected a positive duration such as "500ms", "90s", "30 minutes", "2 hours" or "1h30m", received "forever"',
    ]);
  });

  it('reports missing required fields of a native scenario at the mapping that lacks them', () => {
    expect(lines(refused('description: nothing else\n'))).toEqual([
      'game-day.yaml:1:1 name: expected a non-empty string, received nothing (missing field)',
      'game-day.yaml:1:1 phases: expected a non-empty list of phases, received nothing (missing field)',
    ]);
    expect(lines(refused('name: x\nphases:\n  - name: a\n    duration: 1s\n    faults:\n      - dependency: db\n        resource: { kind: cpu }\ncriteria:\n  - name: c\n    metric: p95_latency\n    jsonPath: $.x\n    expect: "< 1s"\n'))).toEqual([
      'game-day.yaml:6:9 phases[0].faults[0]: expected exactly one of dependency (with fault), resource, proxy (with toxic), received dependency and resource',
      'game-day.yaml:9:5 criteria[0]: expected exactly one of metric, percentile, jsonPath, received metric and jsonPath',
    ]);
  });
});
