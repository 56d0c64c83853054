import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isScenarioLoadError } from '../scenario/scenario-load-error.js';
import { parseScenarioFile } from '../scenario/scenario-loader.js';
import { processIo, type CliIo } from './cli-io.js';
import { dashboardCommand, type DashboardCommandOptions } from './dashboard-command.js';
import { runCommand, type RunCommandOptions } from './run-command.js';
import { UsageError } from './usage-error.js';

/** Exit codes of the `antifragile` command. */
export const EXIT_CODES = Object.freeze({ pass: 0, fail: 1, invalid: 2 });

/**
 * Runs the `antifragile` command line (`argv` without the node and script paths) and resolves with its
 * exit code: 0 pass, 1 criteria failed / run aborted / internal error, 2 invalid scenario or usage.
 *
 * @example
 * process.exitCode = await main(['run', 'game-day.yaml', '--target', 'http://localhost:3000', '--time-scale', '60']);
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = EXIT_CODES.pass;
  const program = createProgram(io, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? EXIT_CODES.pass : EXIT_CODES.invalid;
    }
    if (isScenarioLoadError(error)) {
      io.stderr.write(`${error.message}\n`);
      return EXIT_CODES.invalid;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`antifragile: ${error.message}\n`);
      return EXIT_CODES.invalid;
    }
    io.stderr.write(`antifragile: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT_CODES.fail;
  }
  return exitCode;
}

/** The commander program of `antifragile`; `setExitCode` receives each command's outcome. */
export function createProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('antifragile')
    .description('Resilience toolkit: run chaos game-day scenarios against a service and gate CI on their success criteria.')
    .version(readVersion(io.packageRoot))
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .showHelpAfterError('(run antifragile --help for usage)');

  program
    .command('run')
    .description('Run a scenario file: load, faults, success criteria. Exit 0 when every criterion holds, 1 when one fails or the run is aborted, 2 when the file or the command line is invalid.')
    .argument('<scenario>', 'scenario file (YAML): the seed format (scenarios: list) or the native format')
    .option('-t, --target <url>', 'URL of the service under test (default: the scenario\'s target.url, else the bundled example service)')
    .option('--token <token>', 'bearer token of the service\'s chaos admin endpoint (default: $ANTIFRAGILE_TOKEN)')
    .option('--admin-path <path>', 'path of the chaos admin endpoint (default: target.adminPath, else /admin/chaos)')
    .option('--proxy-api <url>', 'fault proxy HTTP API for proxy faults (default: target.proxyApi)')
    .addOption(new Option('--time-scale <n>', 'divide every duration of the scenario by n (60 runs an hour in a minute)').argParser(positiveNumber('--time-scale')).default(1))
    .option('--phase <names>', 'run only these phases (comma-separated; seed scenarios: warm-up, chaos, recovery)', commaList, undefined)
    .option('--scenario <names>', 'seed files: run only these scenarios (comma-separated names)', commaList, undefined)
    .addOption(new Option('--rate <rps>', 'base request rate, requests per second (seed default 10)').argParser(nonNegativeNumber('--rate')))
    .option('--journal <path>', 'write the JSON journal here (default: ./antifragile-report/<scenario>.json)')
    .option('--report <path>', 'write the HTML report here (default: ./antifragile-report/<scenario>.html)')
    .option('--baseline', 'also run the same load against the service with its protection off, and report both side by side')
    .option('--baseline-target <url>', 'with a URL target: the same service deployed with its protection off (implies --baseline)')
    .option('--baseline-token <token>', 'admin token of the baseline deployment (default: --token)')
    .option('-q, --quiet', 'print no progress')
    .action(async (file: string, options: RunCommandOptions) => {
      setExitCode(await runCommand(file, options, io));
    });

  program
    .command('validate')
    .description('Check scenario files without running them: every problem with its line, exit 2 when one is invalid.')
    .argument('<scenario...>', 'scenario files')
    .action(async (files: string[]) => {
      let code: number = EXIT_CODES.pass;
      for (const file of files) {
        try {
          const parsed = parseScenarioFile(await readFile(resolve(io.cwd, file), 'utf8'), file);
          io.stdout.write(`${file}: valid ${parsed.format} file, ${parsed.scenarios.length} scenario(s): ${parsed.scenarios.map((s) => `"${s.name}" (${s.phases.map((p) => p.name).join(', ')})`).join('; ')}\n`);
        } catch (error) {
          if (isScenarioLoadError(error)) io.stderr.write(`${error.message}\n`);
          else io.stderr.write(`${file}: cannot read: ${error instanceof Error ? error.message : String(error)}\n`);
          code = EXIT_CODES.invalid;
        }
      }
      setExitCode(code);
    });
  program
    .command('dashboard')
    .description('Open the live dashboard of a remote service: with a token, serve it through a local loopback proxy that adds the token; without, print the page URL.')
    .requiredOption('-t, --target <url>', 'URL of the service whose admin API serves the dashboard')
    .option('--token <token>', 'bearer token of the service\'s admin API (default: $ANTIFRAGILE_TOKEN)')
    .option('--admin-path <path>', 'path of the admin API (default: /admin)')
    .addOption(new Option('--port <port>', 'port of the local proxy (default: a free one)').argParser(nonNegativeNumber('--port')))
    .option('--no-proxy', 'print the remote page URL instead of serving a local proxy')
    .action(async (options: Omit<DashboardCommandOptions, 'noProxy'> & { proxy?: boolean }) => {
      const { proxy, ...rest } = options;
      setExitCode(await dashboardCommand({ ...rest, noProxy: proxy === false }, io));
    });
  return program;
}

function commaList(value: string, previous: string[] | undefined): string[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new InvalidArgumentError('expected one or more comma-separated names');
  return [...(previous ?? []), ...names];
}

function positiveNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag}: expected a number > 0, received ${JSON.stringify(value)}`);
    return n;
  };
}

function nonNegativeNumber(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag}: expected a number >= 0, received ${JSON.stringify(value)}`);
    return n;
  };
}

function readVersion(packageRoot: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
