import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioJournal } from '../../src/scenario/journal.js';
import { startTestTarget, type TestTarget } from '../fixtures/scenarios/test-target.mjs';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { runCli } from './support/run-cli.js';

failOnUnhandledRejections();

const EXAMPLE = 'test/fixtures/scenarios/native-example.yaml';
let target: TestTarget;
let unprotected: TestTarget;

beforeAll(async () => {
  [target, unprotected] = await Promise.all([startTestTarget({ report: 'all' }), startTestTarget({ protection: false })]);
});

afterAll(async () => {
  await Promise.all([target.close(), unprotected.close()]);
});

const json = (path: string): ScenarioJournal => JSON.parse(readFileSync(path, 'utf8')) as ScenarioJournal;

describe('antifragile run: the native format', () => {
  it('runs the commented example, writes the journal and a self-contained HTML report, and exits 0', async () => {
    const out = mkdtempSync(join(tmpdir(), 'af-native-'));
    const journalPath = join(out, 'nested', 'run.json');
    const reportPath = join(out, 'run.html');
    const { code, stdout } = await runCli(['run', EXAMPLE, '--target', target.base, '--time-scale', '50', '--journal', journalPath, '--report', reportPath], {
      env: { ANTIFRAGILE_TOKEN: target.token },
    });
    expect(code).toBe(0);
    expect(stdout).toContain('  verdict: PASS\n');
    expect(stdout).toContain(`  journal: ${journalPath}\n`);
    const journal = json(journalPath);
    expect(journal).toMatchObject({ version: 1, status: 'completed', verdict: 'pass', deviated: false, timeScale: 50, scenario: { name: 'Payment outage game day', format: 'native', file: EXAMPLE } });
    expect(journal.phases.map((p) => [p.name, p.rate, p.faults])).toEqual([
      ['warm-up', 20, []],
      ['payment-outage', 40, ['error(payment)', 'slow-database', 'cpu-resource']],
      ['recovery', 20, []],
    ]);
    expect(journal.criteria.map((c) => [c.name, c.passed])).toEqual([
      ['availability', true],
      ['p95 during the outage', true],
      ['breaker opened during the outage', true],
      ['back to normal', true],
      ['orders completed', true],
      ['database baseline', true],
    ]);
    expect(journal.steadyStateBefore.map((p) => [p.name, p.ok])).toEqual([
      ['health answers', true],
      ['payment breaker closed', true],
    ]);
    expect(journal.steadyStateAfter.map((p) => [p.name, p.ok])).toEqual([
      ['health answers', true],
      ['payment breaker closed', true],
    ]);
    expect(journal.timelines.breakers.map((b) => b.state)).toEqual(['closed', 'open', 'closed']);
    const html = readFileSync(reportPath, 'utf8');
    expect(html.slice(0, 15).toLowerCase()).toBe('<!doctype html>');
    expect(html).toContain('Payment outage game day');
    expect(html).not.toMatch(/<script|<link |src="http/);
    expect(target.registry.active()).toEqual([]);
    expect(target.resources.size).toBe(0);
  });

  it('runs only the phases given with --phase', async () => {
    const out = mkdtempSync(join(tmpdir(), 'af-phase-'));
    const { code } = await runCli(['run', EXAMPLE, '--target', target.base, '--time-scale', '50', '--phase', 'warm-up,recovery', '--journal', join(out, 'j.json'), '--report', join(out, 'r.html'), '-q'], {
      env: { ANTIFRAGILE_TOKEN: target.token },
    });
    const journal = json(join(out, 'j.json'));
    expect(journal.phases.map((p) => p.name)).toEqual(['warm-up', 'recovery']);
    expect(journal.faultWindows).toEqual([]);
    // the criteria about the payment-outage phase were not evaluated; the breaker never opened
    expect(journal.criteria.map((c) => c.name)).toEqual(['availability', 'back to normal', 'orders completed', 'database baseline']);
    expect(code).toBe(0);
  });

  it('aborts on a halt condition with exit code 1, having removed every fault', async () => {
    const out = mkdtempSync(join(tmpdir(), 'af-halt-'));
    const { code, stdout, stderr } = await runCli(['run', 'test/fixtures/scenarios/halting.yaml', '--target', unprotected.base, '--time-scale', '4', '--journal', join(out, 'j.json'), '--report', join(out, 'r.html')], {
      env: { ANTIFRAGILE_TOKEN: unprotected.token },
    });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^ {2}status aborted: halt condition "availability collapse": availability over the last 1 s = 0(\.[0-4]\d*)? \(< 50%\)$/m);
    expect(stderr).toContain('HALT halt condition "availability collapse"');
    const journal = json(join(out, 'j.json'));
    expect(journal.status).toBe('aborted');
    expect(journal.phases.map((p) => p.name)).toEqual(['warm-up', 'outage']);
    expect(journal.durationMs).toBeLessThan(20_000);
    expect(unprotected.registry.active()).toEqual([]);
    expect(unprotected.resources.size).toBe(0);
    expect(unprotected.log).toEqual(['add payment error', 'start resource memory 70', 'stop resource memory', 'remove payment error removed']);
  });
});
