import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OptionsValidator } from '../../../core/options.js';
import { createAdminApi, type AdminApi, type AdminApiOptions } from './create-admin-api.js';
import { HttpError } from '../http-error.js';
import { sendAdminProblem } from './admin-problem.js';

/** Options of {@link startAdminServer}: those of {@link createAdminApi} plus where to listen. */
export interface AdminServerOptions extends AdminApiOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to listen on. Keep the loopback unless the API sits behind TLS. @default '127.0.0.1' */
  host?: string;
}

/** A running standalone admin server. */
export interface AdminServer {
  /** The handler it serves. */
  readonly api: AdminApi;
  readonly server: Server;
  /** The port it listens on. */
  readonly port: number;
  /** Base URL of the admin API, e.g. `http://127.0.0.1:9464/admin`. */
  readonly url: string;
  /** Ends the event streams, stops listening and closes every connection. */
  close(): Promise<void>;
}

/**
 * Starts the admin API on its own port (every other path answers 404 problem+json).
 *
 * @example
 * const admin = await startAdminServer({ port: 9464, token: process.env.ADMIN_TOKEN!, components: { breakers, health } });
 * console.log(`dashboard: ${admin.url}/`);
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const v = new OptionsValidator('startAdminServer');
  if (v.object('options', options)) {
    v.integer('port', options.port, 0);
    if (typeof options.port === 'number' && options.port > 65_535) v.fail('port', 'an integer in 0..65535', options.port);
    v.string('host', options.host);
  }
  v.throwIfInvalid();
  const { port = 0, host = '127.0.0.1', ...apiOptions } = options;
  const api = createAdminApi(apiOptions);
  const server = createServer((req, res) => {
    void api(req, res).then(
      (handled) => {
        if (!handled) sendAdminProblem(res, new HttpError(404, 'Not Found', `No route ${req.method ?? 'GET'} ${req.url ?? '/'}`), req.url ?? '/');
      },
      (error: unknown) => sendAdminProblem(res, error, req.url ?? '/'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const base = (apiOptions.basePath ?? '/admin').replace(/\/$/, '');
  return {
    api,
    server,
    port: bound,
    url: `http://${hostForUrl}:${bound}${base}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        api.close();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
