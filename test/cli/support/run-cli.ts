import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (run `npm run build` first). */
export const CLI = fileURLToPath(new URL('../../../dist/cli/antifragile.js', import.meta.url));
/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Starts `node dist/cli/antifragile.js ...args` with `env` added to the environment. */
export function spawnCli(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): ChildProcess & { output: { stdout: string; stderr: string }; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ANTIFRAGILE_TOKEN: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return Object.assign(child, { output, exited });
}

/** Runs the CLI to its end; resolves with its exit code and output. */
export async function runCli(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, options);
  const code = await child.exited;
  return { code, ...child.output };
}
