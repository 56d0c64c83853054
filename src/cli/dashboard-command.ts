import { startAdminProxy } from '../adapters/http/admin/admin-proxy.js';
import type { CliIo } from './cli-io.js';
import { UsageError } from './usage-error.js';

/** Options of `antifragile dashboard`, as parsed from the command line. */
export interface DashboardCommandOptions {
  /** Base URL of the service whose admin API serves the dashboard. */
  target: string;
  /** Bearer token of the admin API. @default env ANTIFRAGILE_TOKEN */
  token?: string;
  /** Path of the admin API on the target. @default '/admin' */
  adminPath?: string;
  /** Port of the local proxy; 0 picks a free one. @default 0 */
  port?: number;
  /** Do not proxy: print the remote page's URL (the token, if any, in its `#token=` fragment). @default false */
  noProxy?: boolean;
}

/**
 * `antifragile dashboard --target URL [--token T]`: with a token, starts a loopback-only proxy that adds
 * the token to every request to the target's admin API and prints the local dashboard URL, then serves
 * until interrupted (or until `signal` aborts); without one (or with `--no-proxy`), prints the remote
 * dashboard URL (which asks for the token) and returns. Never launches a browser. Resolves with the exit
 * code (0).
 */
export async function dashboardCommand(options: DashboardCommandOptions, io: CliIo, signal?: AbortSignal): Promise<number> {
  const target = options.target;
  if (typeof target !== 'string' || !URL.canParse(target) || !/^https?:$/.test(new URL(target).protocol)) {
    throw new UsageError(`--target: expected an http(s) URL, received ${JSON.stringify(target)}`);
  }
  const adminPath = `/${(options.adminPath ?? '/admin').replace(/^\/+|\/+$/g, '')}`;
  const token = options.token ?? (io.env.ANTIFRAGILE_TOKEN === '' ? undefined : io.env.ANTIFRAGILE_TOKEN);
  const remote = `${target.replace(/\/+$/, '')}${adminPath}/`;
  if (token === undefined || options.noProxy === true) {
    const url = token === undefined ? remote : `${remote}#token=${encodeURIComponent(token)}`;
    io.stdout.write(`${url}\n`);
    if (token === undefined) io.stderr.write('No token given (--token or ANTIFRAGILE_TOKEN): the page will ask for it.\n');
    return 0;
  }
  const proxy = await startAdminProxy({ target, token, basePath: adminPath, ...(options.port === undefined ? {} : { port: options.port }) });
  io.stdout.write(`${proxy.url}\n`);
  io.stderr.write(`Dashboard of ${remote} served through a local proxy on 127.0.0.1:${proxy.port} (Ctrl-C to stop).\n`);
  await new Promise<void>((resolve) => {
    const off = io.onInterrupt(() => finish());
    const finish = (): void => {
      off();
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    if (signal?.aborted === true) finish();
    else signal?.addEventListener('abort', finish, { once: true });
  });
  await proxy.close();
  return 0;
}
