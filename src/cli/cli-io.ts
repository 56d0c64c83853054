import { fileURLToPath } from 'node:url';

/** A stream the CLI writes to (a terminal when `isTTY`). */
export interface CliStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** What the `antifragile` CLI reads and writes besides its arguments; the process's by default. */
export interface CliIo {
  /** Results (verdicts, paths). */
  stdout: CliStream;
  /** Progress, warnings and errors. */
  stderr: CliStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against. */
  cwd: string;
  /** Root of the antifragile package (where `examples/` lives). */
  packageRoot: string;
  /** Subscribes to SIGINT; returns the unsubscribe function. */
  onInterrupt(listener: () => void): () => void;
  /** Ends the process at once with `code` (after a second Ctrl-C). @default process.exit */
  exit?(code: number): void;
}

/** The process's streams, environment, directory and SIGINT. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    packageRoot: fileURLToPath(new URL('../../', import.meta.url)),
    onInterrupt(listener) {
      process.on('SIGINT', listener);
      return () => void process.off('SIGINT', listener);
    },
    exit: (code) => process.exit(code),
  };
}
