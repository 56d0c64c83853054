import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A running instance of the bundled example service. */
export interface ExampleTargetInstance {
  /** Base URL of the service (load and steady-state probes go there). */
  url: string;
  /** Bearer token of its chaos admin endpoint. */
  token: string;
  /** Path of its chaos admin endpoint. @default '/admin/chaos' */
  adminPath?: string;
  /**
   * The requests a scenario without its own mix sends (a seed scenario): `path` relative to `url`,
   * `weight`, `method`, `headers`, `body` (a string), `expect` (statuses counted as success).
   */
  mix?: { path: string; method?: string; weight?: number; headers?: Record<string, string>; body?: string; expect?: number[] }[];
  /** Stops the service and releases its port. */
  stop(): void | Promise<void>;
}

/**
 * What `examples/quote-service/launcher.mjs` exports (as named exports or as its default export): starts
 * the example service on a free port, with its resilience protection on, or off when `baseline` (for
 * `antifragile run --baseline`, which runs the same load against both and shows them side by side).
 */
export interface ExampleTarget {
  start(options: { baseline: boolean }): ExampleTargetInstance | Promise<ExampleTargetInstance>;
}

/** Path of the launcher, relative to the package root. */
export const EXAMPLE_LAUNCHER_PATH = 'examples/quote-service/launcher.mjs';

/**
 * Loads the bundled example's launcher from `packageRoot`; undefined when the file does not exist.
 * @throws TypeError when the module exists but does not export a `start` function.
 */
export async function loadExampleTarget(packageRoot: string): Promise<ExampleTarget | undefined> {
  const file = join(packageRoot, EXAMPLE_LAUNCHER_PATH);
  try {
    await access(file);
  } catch {
    return undefined;
  }
  const module = (await import(pathToFileURL(file).href)) as { start?: unknown; default?: { start?: unknown } };
  const owner = typeof module.start === 'function' ? module : typeof module.default?.start === 'function' ? module.default : undefined;
  if (owner === undefined) throw new TypeError(`${file} does not export a start({ baseline }) function`);
  return { start: (options) => (owner as ExampleTarget).start(options) };
}
