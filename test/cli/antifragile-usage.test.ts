import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { CLI, ROOT, runCli } from './support/run-cli.js';

failOnUnhandledRejections();

const FIXTURES = 'test/fixtures/scenarios';

describe('antifragile (built CLI): invalid scenarios and usage exit with code 2', () => {
  it('starts with a node shebang', () => {
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('prints every problem of a bad native file with its line, and writes nothing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'af-cli-'));
    const { code, stdout, stderr } = await runCli(['run', `${FIXTURES}/bad-native.yaml`, '--target', 'http://127.0.0.1:1', '--journal', join(out, 'j.json')]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toBe(`Invalid scenario ${FIXTURES}/bad-native.yaml (14 problems):`);
    expect(lines).toHaveLength(15);
    expect(lines.slice(1).map((l) => /^ {2}test\/fixtures\/scenarios\/bad-native\.yaml:(\d+):\d+ /.exec(l)?.[1])).toEqual(['3', '6', '7', '10', '14', '17', '17', '18', '19', '23', '25', '26', '27', '29']);
    expect(stderr).toContain('laod: expected one of the fields name, description, target, load, steadyState, phases, halt, criteria (did you mean "load"?), received unknown field "laod"');
    expect(existsSync(join(out, 'j.json'))).toBe(false);
  });

  it('prints every problem of a bad seed file and of a file that is not YAML', async () => {
    const seed = await runCli(['run', `${FIXTURES}/bad-seed.yaml`]);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain(`Invalid scenario ${FIXTURES}/bad-seed.yaml (9 problems):`);
    expect(seed.stderr).toContain(`${FIXTURES}/bad-seed.yaml:5:9 scenarios[0].chaos[0].traffic_spik: expected one of the fields traffic_spike,`);
    const syntax = await runCli(['validate', `${FIXTURES}/bad-syntax.yaml`, `${FIXTURES}/native-example.yaml`]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/bad-syntax\.yaml:4:\d+ \(document\): expected valid YAML, received a syntax error: /);
    expect(syntax.stdout).toBe(`${FIXTURES}/native-example.yaml: valid native file, 1 scenario(s): "Payment outage game day" (warm-up, payment-outage, recovery)\n`);
  });

  it('refuses bad command lines', async () => {
    const cases: [string[], RegExp][] = [
      [['run', `${FIXTURES}/native-example.yaml`, '--time-scale', '0'], /--time-scale: expected a number > 0, received "0"/],
      [['run', `${FIXTURES}/native-example.yaml`, '--frobnicate'], /unknown option '--frobnicate'/],
      [['run'], /missing required argument 'scenario'/],
      [['run', `${FIXTURES}/missing.yaml`, '--target', 'http://127.0.0.1:1'], /cannot read test\/fixtures\/scenarios\/missing\.yaml: ENOENT/],
      [['run', `${FIXTURES}/native-example.yaml`, '--target', 'http://127.0.0.1:1', '--token', 'x', '--phase', 'warm-up,chaos'], /--phase: scenario "Payment outage game day" has no phase "chaos" \(its phases: warm-up, payment-outage, recovery\)/],
      [['run', `${FIXTURES}/seed-001.yaml`, '--target', 'http://127.0.0.1:1', '--token', 'x', '--scenario', 'Black Friday'], /--scenario: no scenario "Black Friday" in the file/],
      [['run', `${FIXTURES}/native-example.yaml`, '--target', 'http://127.0.0.1:1'], /injects faults through the target's chaos admin endpoint: give --token or set ANTIFRAGILE_TOKEN/],
      [['run', `${FIXTURES}/native-example.yaml`, '--target', 'ftp://x', '--token', 'x'], /--target: expected an http\(s\) URL, received "ftp:\/\/x"/],
      [['run', `${FIXTURES}/native-example.yaml`, '--target', 'http://127.0.0.1:1', '--token', 'x', '--baseline'], /--baseline with a URL target needs --baseline-target <url>/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((result, i) => {
      expect({ args: cases[i]?.[0], code: result.code }).toEqual({ args: cases[i]?.[0], code: 2 });
      expect(result.stderr).toMatch(cases[i]?.[1] as RegExp);
    });
  });

  it('shows its help and version with code 0', async () => {
    const help = await runCli(['run', '--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--target', '--token', '--time-scale', '--phase', '--scenario', '--journal', '--report', '--baseline', '--baseline-target', '--proxy-api']) expect(help.stdout).toContain(flag);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });
});

describe('antifragile without --target', () => {
  it('exits 2 with a clear message when the bundled example service is not installed', async () => {
    const packageRoot = mkdtempSync(join(tmpdir(), 'af-no-example-'));
    const out = { stdout: '', stderr: '' };
    const io: CliIo = {
      stdout: { write: (s: string) => (out.stdout += s) },
      stderr: { write: (s: string) => (out.stderr += s) },
      env: {},
      cwd: ROOT,
      packageRoot,
      onInterrupt: () => () => undefined,
    };
    expect(await main(['run', `${FIXTURES}/seed-001.yaml`, '--time-scale', '3600'], io)).toBe(2);
    expect(out.stderr).toBe(
      'antifragile: no --target given and the bundled example service (examples/quote-service/launcher.mjs) is not available in this installation; give --target <url>\n',
    );
  });
});
