import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// Runs against the BUILT package (`npm test` builds first).
const FIXTURE = fileURLToPath(new URL('../../fixtures/chaos-resource-exit.mjs', import.meta.url));

describe('resource faults and process exit', () => {
  it('never keep the process alive: a process that started them and is otherwise done exits', async () => {
    // The faults are set to last 60 s; the 10 s limit is a hang guard, not a timing assertion.
    const { stdout } = await promisify(execFile)(process.execPath, [FIXTURE], { timeout: 10_000 });
    expect(stdout).toBe('started\n');
  });
});
