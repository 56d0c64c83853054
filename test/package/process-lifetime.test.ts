import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

function run(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The kill timeout only detects a hang (a ref'd housekeeping timer would keep the program alive for an hour).
    execFile(process.execPath, [file], { timeout: 15_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describe('process lifetime (built package, real processes)', () => {
  it('a program using the library exits by itself when its work is done', async () => {
    const result = await run(fixture('exits-when-done.mjs'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('done pending=1');
  });

  it('an awaited library timer keeps the process alive like setTimeout', async () => {
    const result = await run(fixture('awaited-timer-keeps-alive.mjs'));
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('resolved');
  });
});

describe('CommonJS consumers', () => {
  it('require() loads the package and antifragile/opossum', async () => {
    const result = await run(fixture('require-from-commonjs.cjs'));
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/Error/);
    expect(JSON.parse(result.stdout.trim())).toEqual({ value: 42, doubled: 42, opossumIsClass: true });
  });
});
