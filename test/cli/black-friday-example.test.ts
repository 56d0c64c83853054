import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScenarioJournal } from '../../src/scenario/journal.js';
import { runCli } from './support/run-cli.js';

// The main job as README gives it, shortened with --time-scale: the CLI starts the bundled example (its
// dependencies in another process, a private redis-server), runs scenarios/black-friday.yaml against it
// protected and then unprotected, and gates on the criteria.
describe('npx antifragile run scenarios/black-friday.yaml (the main job)', () => {
  it('the protected example holds availability >= 99% through Black Friday while the baseline does not', { timeout: 120_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'af-black-friday-'));
    const { code, stdout } = await runCli([
      'run', 'scenarios/black-friday.yaml', '--time-scale', '10', '--baseline', '--journal', join(out, 'journal.json'), '--report', join(out, 'report.html'), '-q',
    ]);
    expect(code, stdout).toBe(0);
    const journal = JSON.parse(readFileSync(join(out, 'journal.json'), 'utf8')) as ScenarioJournal;
    expect(journal.target.kind).toBe('example');
    expect(journal.verdict).toBe('pass');
    expect(journal.phases.map((p) => p.name)).toEqual(['warm-up', 'black-friday', 'redis-outage', 'recovery']);
    expect(journal.totals.availability).toBeGreaterThanOrEqual(0.99);
    expect(journal.faultWindows.map((w) => w.name).sort()).toEqual(['database 5x slower', 'pricing failures', 'redis down']);
    const baseline = journal.baseline as ScenarioJournal;
    expect(baseline.target.baseline).toBe(true);
    // Without protection, 30% of pricing calls failing reaches the users.
    expect(baseline.totals.availability).toBeLessThan(0.95);
    expect(baseline.verdict).toBe('fail');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('Black Friday');
  });
});
