import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioJournal } from '../../src/scenario/journal.js';
import { startTestTarget, type TestTarget } from '../fixtures/scenarios/test-target.mjs';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { spawnCli } from './support/run-cli.js';

failOnUnhandledRejections();

let target: TestTarget;

beforeAll(async () => {
  target = await startTestTarget({ report: 'all' });
});

afterAll(async () => {
  await target.close();
});

describe('antifragile run interrupted by SIGINT', () => {
  it('stops the load, removes every fault it injected, writes the journal and exits 1', async () => {
    const out = mkdtempSync(join(tmpdir(), 'af-sigint-'));
    const child = spawnCli(['run', 'test/fixtures/scenarios/native-example.yaml', '--target', target.base, '--time-scale', '5', '--journal', join(out, 'j.json'), '--report', join(out, 'r.html')], {
      env: { ANTIFRAGILE_TOKEN: target.token },
    });
    // wait (bounded) until the outage phase has its faults in place: two dependency faults and a CPU fault
    for (let i = 0; i < 1_000 && !(target.registry.active().length === 2 && target.resources.size === 1); i++) await delay(10);
    expect(target.registry.active().map((f) => f.dependency).sort()).toEqual(['database', 'payment']);
    expect(target.resources.size).toBe(1);
    expect(target.registry.control.enabled).toBe(true);

    child.kill('SIGINT');
    const code = await child.exited;
    expect(code).toBe(1);
    expect(target.registry.active()).toEqual([]);
    expect(target.resources.size).toBe(0);
    expect(target.registry.control.enabled).toBe(false);
    expect(target.log).toEqual(['add payment error', 'add database latency', 'start resource cpu 50', 'stop resource cpu', 'remove database latency removed', 'remove payment error removed']);
    expect(child.output.stderr).toContain('Interrupted: stopping the load and removing every fault');
    const journal = JSON.parse(readFileSync(join(out, 'j.json'), 'utf8')) as ScenarioJournal;
    expect(journal).toMatchObject({ status: 'interrupted', reason: 'interrupted (SIGINT)', verdict: 'fail' });
    expect(journal.phases.map((p) => p.name)).toEqual(['warm-up', 'payment-outage']);
    expect(child.output.stdout).toContain('  status interrupted: interrupted (SIGINT)\n');
  });
});
