import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioJournal } from '../../src/scenario/journal.js';
import { startTestTarget, type TestTarget } from '../fixtures/scenarios/test-target.mjs';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { ROOT, runCli } from './support/run-cli.js';

failOnUnhandledRejections();

let target: TestTarget;

beforeAll(async () => {
  target = await startTestTarget({ report: 'partial' });
});

afterAll(async () => {
  await target.close();
});

const readJournal = (dir: string, name: string): ScenarioJournal => JSON.parse(readFileSync(join(dir, 'antifragile-report', `${name}.json`), 'utf8')) as ScenarioJournal;

describe('antifragile run: the seed scenario file, unchanged, with --time-scale', () => {
  it('runs all three scenarios, fails exactly the criteria the target does not report, and exits 1', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'af-seed-'));
    const { code, stdout, stderr } = await runCli(['run', join(ROOT, 'test/fixtures/scenarios/seed-001.yaml'), '--target', target.url, '--time-scale', '3600'], {
      cwd,
      env: { ANTIFRAGILE_TOKEN: target.token },
    });
    expect({ code, stderr: code === 1 ? '' : stderr }).toEqual({ code: 1, stderr: '' });
    const verdicts = stdout.split('\n').filter((l) => /^ {2}(PASS|FAIL) /.test(l)).map((l) => l.trim().split(' ').slice(0, 2).join(' '));
    expect(verdicts).toEqual([
      'PASS availability',
      'PASS p95_latency',
      'PASS order_completion',
      'FAIL failover_time',
      'FAIL data_loss',
      'FAIL user_impact',
      'PASS self_healing',
      'PASS degradation_activated',
      'FAIL core_functionality',
    ]);
    expect(stdout).toContain('FAIL failover_time < 60s: no value (target does not report metric failover_time (no metrics.failover_time in its status))');
    expect(stdout).toContain('PASS degradation_activated true: true (degradation level went from normal to reduced)');
    expect(readdirSync(join(cwd, 'antifragile-report')).sort()).toEqual([
      'black-friday-simulation.html',
      'black-friday-simulation.json',
      'cascading-failure.html',
      'cascading-failure.json',
      'region-failure.html',
      'region-failure.json',
    ]);

    const friday = readJournal(cwd, 'black-friday-simulation');
    expect(friday).toMatchObject({ version: 1, status: 'completed', verdict: 'pass', deviated: false, timeScale: 3600, scenario: { name: 'Black Friday Simulation', format: 'seed' } });
    expect(friday.target).toEqual({ url: target.url, kind: 'url', baseline: false });
    expect(friday.phases.map((p) => [p.name, p.rate, p.faults])).toEqual([
      ['warm-up', 10, []],
      ['chaos', 100, ['service_failure(payment)', 'database_slowdown(database)']],
      ['recovery', 10, []],
    ]);
    const [warm, chaos, recovery] = friday.phases;
    expect((warm?.endMs ?? 0) - (warm?.startMs ?? 0)).toBeGreaterThanOrEqual(200);
    expect((chaos?.endMs ?? 0) - (chaos?.startMs ?? 0)).toBeGreaterThanOrEqual(1_400);
    expect((recovery?.endMs ?? 0) - (recovery?.startMs ?? 0)).toBeGreaterThanOrEqual(400);
    expect(chaos?.load.sent).toBeGreaterThan(100);
    expect(friday.faultWindows.map((w) => [w.name, w.kind, w.target])).toEqual([
      ['service_failure(payment)', 'error', 'payment'],
      ['database_slowdown(database)', 'latency', 'database'],
    ]);
    expect(friday.activities.find((a) => a.name === 'inject database_slowdown(database)')?.output).toMatchObject({ latencyMs: 10, baseline: { ms: 2, source: 'metrics.database_latency_ms' } });
    expect(friday.steadyStateBefore).toEqual([{ name: 'target answers', value: 200, ok: true, detail: `GET ${target.url} answered 200 (expected 2xx or 3xx)` }]);
    expect(friday.series.length).toBeGreaterThanOrEqual(2);

    const cascade = readJournal(cwd, 'cascading-failure');
    expect(cascade.verdict).toBe('fail');
    expect(cascade.faultWindows.map((w) => w.kind)).toEqual(['error', 'resource:cpu', 'resource:memory']);
    expect(cascade.timelines.degradation.map((d) => d.level)).toEqual(['normal', 'reduced', 'normal']);

    // every fault and resource fault was removed, newest first within each scenario
    expect(target.registry.active()).toEqual([]);
    expect(target.resources.size).toBe(0);
    expect(target.log).toEqual([
      'add payment error',
      'add database latency',
      'remove database latency removed',
      'remove payment error removed',
      'add payment error',
      'add database error',
      'add redis error',
      'remove redis error removed',
      'remove database error removed',
      'remove payment error removed',
      'add redis error',
      'start resource cpu 80',
      'start resource memory 90',
      'stop resource memory',
      'stop resource cpu',
      'remove redis error removed',
    ]);
  });

  it('exits 0 on a variant of the seed file whose criteria the target all reports', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'af-seed-ok-'));
    const { code, stdout } = await runCli(['run', join(ROOT, 'test/fixtures/scenarios/seed-001-reportable.yaml'), '--target', target.url, '--time-scale', '3600', '--quiet'], {
      cwd,
      env: { ANTIFRAGILE_TOKEN: target.token },
    });
    expect({ code, stdout }).toMatchObject({ code: 0 });
    expect(stdout.split('\n').filter((l) => /^ {2}verdict: /.test(l))).toEqual(['  verdict: PASS', '  verdict: PASS']);
    expect(stdout).not.toContain('FAIL');
    const payment = readJournal(cwd, 'payment-degradation');
    expect(payment.criteria.map((c) => [c.name, c.passed])).toEqual([
      ['availability', true],
      ['error_rate', true],
      ['p95_latency', true],
      ['order_completion', true],
      ['degradation_activated', true],
      ['self_healing', true],
    ]);
    expect(target.registry.active()).toEqual([]);
  });
});
