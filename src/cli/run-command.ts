import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, relative, resolve } from 'node:path';
import { InvalidOptionsError } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import { ChaosAdminClient } from '../scenario/chaos-admin-client.js';
import { EXAMPLE_LAUNCHER_PATH, loadExampleTarget, type ExampleTarget, type ExampleTargetInstance } from '../scenario/example-target.js';
import type { ScenarioJournal } from '../scenario/journal.js';
import { ProxyApiClient } from '../scenario/proxy-api-client.js';
import { renderHtmlReport } from '../scenario/report/html-report.js';
import { ProgressView } from '../scenario/report/progress-view.js';
import type { LoadRequestSpec, Scenario } from '../scenario/scenario.js';
import { parseScenarioFile } from '../scenario/scenario-loader.js';
import { ScenarioRunner } from '../scenario/scenario-runner.js';
import type { CliIo } from './cli-io.js';
import { formatJournalSummary } from './format-journal-summary.js';
import { UsageError } from './usage-error.js';

/** Options of `antifragile run`, as parsed from the command line. */
export interface RunCommandOptions {
  /** URL of the service under test; absent: the scenario's `target.url`, else the bundled example. */
  target?: string;
  /** Bearer token of the service's chaos admin endpoint. @default env ANTIFRAGILE_TOKEN */
  token?: string;
  /** Path of the chaos admin endpoint. @default the scenario's target.adminPath, else '/admin/chaos' */
  adminPath?: string;
  /** Base URL of the fault proxy's API. @default the scenario's target.proxyApi */
  proxyApi?: string;
  /** Divide every scenario duration by this. @default 1 */
  timeScale?: number;
  /** Run only these phases. */
  phase?: string[];
  /** Seed files: run only these scenarios (by name). */
  scenario?: string[];
  /** Base request rate, requests per second. */
  rate?: number;
  /** Journal path. @default ./antifragile-report/<scenario>.json */
  journal?: string;
  /** HTML report path. @default ./antifragile-report/<scenario>.html */
  report?: string;
  /** Also run against the service with protection off and show both. @default false */
  baseline?: boolean;
  /** URL of the unprotected deployment (`--baseline` with a URL target). */
  baselineTarget?: string;
  /** Token of the unprotected deployment's admin endpoint. @default the token */
  baselineToken?: string;
  /** Print no progress. @default false */
  quiet?: boolean;
}

/** Where a run goes. */
interface ResolvedTarget {
  kind: 'url' | 'example';
  url: string;
  token: string | undefined;
  adminPath: string;
  mix: LoadRequestSpec[] | undefined;
  stop(): Promise<void>;
}

const DEFAULT_ADMIN_PATH = '/admin/chaos';
/** Time the second Ctrl-C gives the removal of the toxics and faults the run knows before the process exits, ms. */
const EMERGENCY_CLEANUP_MS = 2_000;
/** Exit code after a second Ctrl-C (128 + SIGINT). */
const INTERRUPTED_EXIT_CODE = 130;
const REPORT_DIR = 'antifragile-report';

/**
 * `antifragile run <scenario.yaml>`: loads and validates the file, runs each scenario (of a seed file:
 * each selected one, in order) against the target, writes the journal and the HTML report, prints the
 * verdicts. Resolves with the exit code: 0 every criterion held, 1 a criterion failed or a run was aborted
 * or interrupted, 2 the file or the command line is invalid.
 */
export async function runCommand(file: string, options: RunCommandOptions, io: CliIo): Promise<number> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const scenarios = selectScenarios(parseScenarioFile(text, file).scenarios, options);
  const timeScale = options.timeScale ?? 1;
  const token = options.token ?? nonEmpty(io.env.ANTIFRAGILE_TOKEN);
  const baseline = options.baseline === true || options.baselineTarget !== undefined;
  const needsExample = options.target === undefined && scenarios.some((s) => s.target.url === undefined);
  let example: ExampleTarget | undefined;
  if (needsExample) {
    example = await loadExampleTarget(io.packageRoot);
    if (example === undefined) {
      throw new UsageError(`no --target given and the bundled example service (${EXAMPLE_LAUNCHER_PATH}) is not available in this installation; give --target <url>`);
    }
  }
  for (const scenario of scenarios) {
    const url = options.target ?? scenario.target.url;
    if (url !== undefined) {
      checkUrl('--target', url);
      if (token === undefined && needsAdmin(scenario, options.phase)) {
        throw new UsageError(`scenario "${scenario.name}" injects faults through the target's chaos admin endpoint: give --token or set ANTIFRAGILE_TOKEN`);
      }
      if (baseline && options.baselineTarget === undefined) {
        throw new UsageError('--baseline with a URL target needs --baseline-target <url>: the same service deployed with its protection off');
      }
    }
  }
  if (options.baselineTarget !== undefined) checkUrl('--baseline-target', options.baselineTarget);
  if (options.proxyApi !== undefined) checkUrl('--proxy-api', options.proxyApi);

  const interrupt = new AbortController();
  let interrupts = 0;
  let current: ScenarioRunner | undefined;
  const exit = io.exit ?? ((code: number) => process.exit(code));
  const offInterrupt = io.onInterrupt(() => {
    interrupts++;
    if (interrupts === 1) {
      io.stderr.write('\nInterrupted: stopping the load and removing every fault (Ctrl-C again to quit after a last quick cleanup)\n');
      interrupt.abort(new Error('interrupted'));
    } else if (interrupts === 2) {
      void emergencyExit(current, io, exit);
    } else {
      io.stderr.write('Quitting at once: whatever was not removed stays (faults expire by themselves, proxy toxics do not)\n');
      exit(INTERRUPTED_EXIT_CODE);
    }
  });
  let exitCode = 0;
  try {
    for (const scenario of scenarios) {
      if (interrupt.signal.aborted) break;
      const protectedTarget = await resolveTarget(scenario, options, token, example, false);
      let journal: ScenarioJournal;
      try {
        journal = await runOnce(scenario, protectedTarget, options, timeScale, interrupt.signal, io, false, (r) => (current = r));
      } finally {
        await protectedTarget.stop();
      }
      if (baseline && !interrupt.signal.aborted) {
        const baselineTarget = await resolveTarget(scenario, options, options.baselineToken ?? token, example, true);
        try {
          journal.baseline = await runOnce(scenario, baselineTarget, options, timeScale, interrupt.signal, io, true, (r) => (current = r));
        } finally {
          await baselineTarget.stop();
        }
      }
      const files = await writeOutputs(journal, scenario, scenarios.length, options, io);
      io.stdout.write(formatJournalSummary(journal, files));
      if (journal.verdict !== 'pass') exitCode = 1;
    }
  } finally {
    offInterrupt();
  }
  return interrupt.signal.aborted ? 1 : exitCode;
}

/**
 * The second Ctrl-C: removes, within {@link EMERGENCY_CLEANUP_MS}, the proxy toxics and faults the current run
 * knows of (and the faults tagged with its run id), says what it did, and exits with 130.
 */
async function emergencyExit(runner: ScenarioRunner | undefined, io: CliIo, exit: (code: number) => void): Promise<void> {
  io.stderr.write(`\nInterrupted again: removing the proxy toxics and faults this run knows of (at most ${EMERGENCY_CLEANUP_MS} ms), then quitting\n`);
  try {
    if (runner !== undefined) {
      const report = await runner.emergencyCleanup(EMERGENCY_CLEANUP_MS);
      for (const step of report.steps) io.stderr.write(`  ${step.ok ? 'done' : 'FAILED'}: ${step.what}${step.ok ? '' : ` (${step.error ?? 'unknown error'})`}\n`);
      if (report.steps.length === 0) io.stderr.write('  nothing to remove\n');
      const failed = report.steps.filter((s) => !s.ok).length;
      if (failed > 0 || report.timedOut) {
        io.stderr.write(`  ${failed} removal(s) did not finish: remove them by hand (faults injected through the admin endpoint expire by themselves; proxy toxics do not; faults of this run carry the tag ${runner.faultTag})\n`);
      }
    } else {
      io.stderr.write('  nothing to remove\n');
    }
  } catch (error) {
    io.stderr.write(`  cleanup failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  io.stderr.write(`Exiting (${INTERRUPTED_EXIT_CODE})\n`);
  exit(INTERRUPTED_EXIT_CODE);
}

function selectScenarios(all: Scenario[], options: RunCommandOptions): Scenario[] {
  let scenarios = all;
  if (options.scenario !== undefined) {
    const unknown = options.scenario.filter((name) => !all.some((s) => s.name === name));
    if (unknown.length > 0) throw new UsageError(`--scenario: no scenario ${unknown.map((n) => `"${n}"`).join(', ')} in the file (it has ${all.map((s) => `"${s.name}"`).join(', ')})`);
    scenarios = all.filter((s) => options.scenario?.includes(s.name));
  }
  if (options.phase !== undefined) {
    for (const scenario of scenarios) {
      const names = scenario.phases.map((p) => p.name);
      const unknown = options.phase.filter((p) => !names.includes(p));
      if (unknown.length > 0) throw new UsageError(`--phase: scenario "${scenario.name}" has no phase ${unknown.map((n) => `"${n}"`).join(', ')} (its phases: ${names.join(', ')})`);
    }
  }
  return scenarios;
}

function needsAdmin(scenario: Scenario, phases: readonly string[] | undefined): boolean {
  return scenario.phases.some((p) => (phases === undefined || phases.includes(p.name)) && p.faults.some((f) => f.type !== 'proxy'));
}

function checkUrl(flag: string, url: string): void {
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError(`${flag}: expected an http(s) URL, received ${JSON.stringify(url)}`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

async function resolveTarget(scenario: Scenario, options: RunCommandOptions, token: string | undefined, example: ExampleTarget | undefined, baseline: boolean): Promise<ResolvedTarget> {
  const url = baseline ? options.baselineTarget : (options.target ?? scenario.target.url);
  if (url !== undefined) {
    return {
      kind: 'url',
      url,
      token,
      adminPath: options.adminPath ?? scenario.target.adminPath ?? DEFAULT_ADMIN_PATH,
      mix: undefined,
      stop: async () => undefined,
    };
  }
  const instance: ExampleTargetInstance = await (example as ExampleTarget).start({ baseline });
  return {
    kind: 'example',
    url: instance.url,
    token: instance.token,
    adminPath: options.adminPath ?? instance.adminPath ?? DEFAULT_ADMIN_PATH,
    mix: instance.mix?.map((m) => ({
      name: `${(m.method ?? 'GET').toUpperCase()} ${m.path}`,
      method: (m.method ?? 'GET').toUpperCase(),
      path: m.path,
      weight: m.weight ?? 1,
      headers: m.headers ?? {},
      ...(m.body === undefined ? {} : { body: m.body }),
      ...(m.expect === undefined ? {} : { okStatuses: m.expect }),
    })),
    stop: async () => {
      try {
        await instance.stop();
      } catch (error) {
        reportCallbackError(error, `${EXAMPLE_LAUNCHER_PATH} instance stop()`);
      }
    },
  };
}

async function runOnce(
  scenario: Scenario,
  target: ResolvedTarget,
  options: RunCommandOptions,
  timeScale: number,
  signal: AbortSignal,
  io: CliIo,
  baseline: boolean,
  onRunner: (runner: ScenarioRunner) => void,
): Promise<ScenarioJournal> {
  const adminUrl = new URL(target.adminPath, new URL(target.url).origin).href;
  const proxyApi = options.proxyApi ?? scenario.target.proxyApi;
  let runner: ScenarioRunner;
  try {
    runner = new ScenarioRunner(scenario, {
      url: target.url,
      ...(target.token === undefined ? {} : { admin: new ChaosAdminClient({ url: adminUrl, token: target.token }) }),
      ...(proxyApi === undefined ? {} : { proxy: new ProxyApiClient({ url: proxyApi }) }),
      targetKind: target.kind,
      baseline,
      timeScale,
      ...(options.phase === undefined ? {} : { phases: options.phase }),
      ...(options.rate === undefined ? {} : { rate: options.rate }),
      ...(target.mix === undefined ? {} : { mix: target.mix }),
      signal,
    });
  } catch (error) {
    if (error instanceof InvalidOptionsError) throw new UsageError(error.message);
    throw error;
  }
  onRunner(runner);
  const label = baseline ? 'baseline' : undefined;
  const view = new ProgressView({ stream: io.stderr, silent: options.quiet === true });
  const totalMs = runner.plannedPhases.reduce((sum, p) => sum + p.durationMs, 0);
  view.log(`${baseline ? 'Baseline run (protection off) of' : 'Running'} "${scenario.name}" against ${target.url} (${runner.plannedPhases.map((p) => p.name).join(' → ')}, ${Math.round(totalMs)} ms)`);
  runner.on('phase', (p) => view.log(`phase ${p.name}: ${p.rate} requests/s for ${Math.round(p.durationMs)} ms${p.faults.length > 0 ? `, faults ${p.faults.join(', ')}` : ''}`));
  runner.on('activity', (a) => {
    if (a.status === 'failed') view.log(`  ${a.name} failed: ${a.error ?? ''}`);
    else if (a.name.startsWith('inject ') || a.name.startsWith('remove ')) view.log(`  ${a.name}`);
    for (const warning of a.warnings ?? []) view.log(`  warning: ${warning}`);
  });
  runner.on('halt', (h) => view.log(`HALT ${h.reason}`));
  runner.on('tick', (tick) => view.update({ ...tick.load, elapsedMs: tick.t, totalMs, ...(label === undefined ? {} : { label }) }));
  const journal = await runner.run();
  view.stop();
  return journal;
}

async function writeOutputs(journal: ScenarioJournal, scenario: Scenario, count: number, options: RunCommandOptions, io: CliIo): Promise<{ journal: string; report: string }> {
  const slug = scenario.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'scenario';
  const pathOf = (given: string | undefined, ext: string): string => {
    if (given === undefined) return resolve(io.cwd, REPORT_DIR, `${slug}${ext}`);
    const full = resolve(io.cwd, given);
    if (count === 1) return full;
    const extension = extname(full);
    return `${full.slice(0, full.length - extension.length)}-${slug}${extension}`;
  };
  const journalPath = pathOf(options.journal, '.json');
  const reportPath = pathOf(options.report, '.html');
  await mkdir(dirname(journalPath), { recursive: true });
  await writeFile(journalPath, `${JSON.stringify(journal, null, 2)}\n`);
  await mkdir(dirname(reportPath), { recursive: true });
  await writeFile(reportPath, renderHtmlReport(journal));
  const show = (p: string): string => {
    const rel = relative(io.cwd, p);
    return rel.startsWith('..') ? p : rel;
  };
  return { journal: show(journalPath), report: show(reportPath) };
}
