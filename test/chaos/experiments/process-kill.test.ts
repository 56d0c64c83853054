import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ExperimentRun } from '../../../src/chaos/experiments/index.js';

// The experiment runs in a cluster primary (a child process) against the BUILT package: `npm test` builds first.
const FIXTURE = fileURLToPath(new URL('../../fixtures/chaos-process-kill.mjs', import.meta.url));

interface Worker {
  slot: number;
  pid: number;
  ready: boolean;
}

describe('ChaosExperiments.processKill', () => {
  it('kills a supervised worker; the rollback waits for the supervisor to replace it', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [FIXTURE], { timeout: 15_000 });
    const { before, after, run } = JSON.parse(stdout.trim().split('\n').pop() as string) as { before: Worker[]; after: Worker[]; run: ExperimentRun };
    expect(run.status).toBe('succeeded');
    expect(run.actions).toMatchObject([{ name: 'process-kill', kind: 'process-kill', parameters: { slot: 0, signal: 'SIGKILL' } }]);
    expect(run.actions[0]?.rollbackError).toBeUndefined();
    const killed = before.find((w) => w.slot === 0) as Worker;
    const replacement = after.find((w) => w.slot === 0) as Worker;
    expect(replacement.pid).not.toBe(killed.pid);
    expect(replacement.ready).toBe(true);
    expect(after.find((w) => w.slot === 1)?.pid).toBe(before.find((w) => w.slot === 1)?.pid);
    expect(run.results.observations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^worker of slot 0 \\(pid ${killed.pid}\\) killed with SIGKILL; the supervisor replaced it \\(pid ${replacement.pid}\\) in \\d+ ms$`),
        ),
      ]),
    );
    expect(run.steadyStateAfter?.met).toBe(true);
    // The cluster kept serving: the surviving worker took the traffic.
    expect(run.results.traffic[0]?.succeeded).toBeGreaterThan(0);
  });
});
