import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/cli-io.js';
import { main } from '../../src/cli/main.js';
import type { ScenarioJournal } from '../../src/scenario/journal.js';
import { startTestTarget, type TestTarget } from '../fixtures/scenarios/test-target.mjs';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { ROOT, runCli } from './support/run-cli.js';

failOnUnhandledRejections();

let protectedTarget: TestTarget;
let unprotected: TestTarget;

beforeAll(async () => {
  [protectedTarget, unprotected] = await Promise.all([startTestTarget({ report: 'all' }), startTestTarget({ protection: false, report: 'all' })]);
});

afterAll(async () => {
  await Promise.all([protectedTarget.close(), unprotected.close()]);
});

describe('antifragile run --baseline', () => {
  it('runs the same load against the unprotected deployment and puts both in one journal and report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'af-baseline-'));
    const { code, stdout } = await runCli(
      ['run', 'test/fixtures/scenarios/native-example.yaml', '--target', protectedTarget.base, '--baseline-target', unprotected.base, '--time-scale', '50', '--journal', join(out, 'j.json'), '--report', join(out, 'r.html'), '-q'],
      { env: { ANTIFRAGILE_TOKEN: protectedTarget.token } },
    );
    expect(code).toBe(0);
    const journal = JSON.parse(readFileSync(join(out, 'j.json'), 'utf8')) as ScenarioJournal;
    expect(journal.target).toEqual({ url: protectedTarget.base, kind: 'url', baseline: false });
    expect(journal.verdict).toBe('pass');
    const baseline = journal.baseline as ScenarioJournal;
    expect(baseline.target).toEqual({ url: unprotected.base, kind: 'url', baseline: true });
    expect(baseline.phases.map((p) => p.name)).toEqual(['warm-up', 'payment-outage', 'recovery']);
    // without protection the payment faults reach the users
    expect(baseline.totals.availability).toBeLessThan(0.95);
    expect(journal.totals.availability).toBe(1);
    expect(baseline.criteria.find((c) => c.name === 'availability')?.passed).toBe(false);
    expect(stdout).toMatch(/^ {2}baseline \(protection off\): status completed, \d+ requests, availability \d+\.\d+%/m);
    expect(unprotected.registry.active()).toEqual([]);
    expect(protectedTarget.registry.active()).toEqual([]);
  });
});

describe('antifragile run without --target: the bundled example launcher', () => {
  it('starts the example (protected, then unprotected with --baseline) through its launcher, and runs the seed file', async () => {
    const packageRoot = mkdtempSync(join(tmpdir(), 'af-example-'));
    mkdirSync(join(packageRoot, 'examples', 'quote-service'), { recursive: true });
    const fixture = pathToFileURL(join(ROOT, 'test/fixtures/scenarios/test-target.mjs')).href;
    writeFileSync(join(packageRoot, 'examples', 'quote-service', 'launcher.mjs'), `export { start } from ${JSON.stringify(fixture)};\n`);
    const cwd = mkdtempSync(join(tmpdir(), 'af-example-out-'));
    const out = { stdout: '', stderr: '' };
    const io: CliIo = {
      stdout: { write: (s: string) => (out.stdout += s) },
      stderr: { write: (s: string) => (out.stderr += s) },
      env: {},
      cwd,
      packageRoot,
      onInterrupt: () => () => undefined,
    };
    const code = await main(['run', join(ROOT, 'test/fixtures/scenarios/seed-001.yaml'), '--scenario', 'Cascading Failure', '--time-scale', '3600', '--baseline', '--quiet'], io);
    expect({ code, stderr: out.stderr }).toEqual({ code: 0, stderr: '' });
    const journal = JSON.parse(readFileSync(join(cwd, 'antifragile-report', 'cascading-failure.json'), 'utf8')) as ScenarioJournal;
    expect(journal.target.kind).toBe('example');
    expect(journal.target.baseline).toBe(false);
    expect(journal.criteria.map((c) => [c.name, c.passed])).toEqual([
      ['self_healing', true],
      ['degradation_activated', true],
      ['core_functionality', true],
    ]);
    expect(journal.baseline?.target).toMatchObject({ kind: 'example', baseline: true });
    expect(journal.baseline?.target.url).not.toBe(journal.target.url);
    expect(readFileSync(join(cwd, 'antifragile-report', 'cascading-failure.html'), 'utf8')).toContain('Cascading Failure');
  });
});
