import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { OptionsValidator } from '../../../core/options.js';
import { HttpError } from '../http-error.js';
import { sendAdminProblem } from './admin-problem.js';

/** Options of {@link startAdminProxy}. */
export interface AdminProxyOptions {
  /** Base URL of the remote service, e.g. `https://api.example.com`. */
  target: string;
  /** Bearer token the proxy adds to every request it forwards. */
  token: string;
  /** Path prefix of the remote admin API; only paths under it are forwarded. @default '/admin' */
  basePath?: string;
  /** Local port; 0 picks a free one. @default 0 */
  port?: number;
}

/** A running {@link startAdminProxy}. */
export interface AdminProxy {
  readonly port: number;
  /** Local URL of the remote dashboard, e.g. `http://127.0.0.1:53124/admin/`. */
  readonly url: string;
  /** Stops listening and closes every connection (event streams included). */
  close(): Promise<void>;
}

/**
 * A loopback-only proxy to a remote admin API that adds the bearer token, so that the dashboard page (and
 * its event stream) works in a local browser without the token ever reaching the page, a URL or the
 * browser history (as `kubectl proxy` does). It listens on 127.0.0.1 only, forwards only `basePath`, and
 * answers 403 to any `Host` other than `127.0.0.1:<port>` / `localhost:<port>` (DNS rebinding). Anyone able
 * to connect to the loopback can use it while it runs.
 */
export async function startAdminProxy(options: AdminProxyOptions): Promise<AdminProxy> {
  const v = new OptionsValidator('startAdminProxy');
  if (v.object('options', options)) {
    if (typeof options.target !== 'string' || !URL.canParse(options.target) || !/^https?:$/.test(new URL(options.target).protocol)) v.fail('target', 'an http(s) URL', options.target);
    if (typeof options.token !== 'string' || options.token === '') v.fail('token', 'a non-empty string', options.token === undefined ? undefined : '(invalid)');
    v.string('basePath', options.basePath);
    v.integer('port', options.port, 0);
  }
  v.throwIfInvalid();
  const target = new URL(options.target);
  const targetPrefix = target.pathname.replace(/\/$/, '');
  const base = (options.basePath ?? '/admin').replace(/\/$/, '');
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  let port = 0;

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      sendAdminProblem(res, new HttpError(403, 'Forbidden', 'Unexpected Host header'), url.pathname);
      return;
    }
    // The proxy adds the token, so a request another site makes a browser send (a form POST to 127.0.0.1)
    // must not get through: anything but a read needs to come from the dashboard page itself.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const origin = req.headers.origin;
      const site = req.headers['sec-fetch-site'];
      const sameOrigin = origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
      if (!sameOrigin || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
        sendAdminProblem(res, new HttpError(403, 'Forbidden', 'Cross-site request refused'), url.pathname);
        return;
      }
    }
    if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) {
      sendAdminProblem(res, new HttpError(404, 'Not Found', `Only ${base}/ is proxied`), url.pathname);
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const name of ['accept', 'content-type', 'content-length', 'last-event-id', 'user-agent']) {
      const value = req.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    headers.authorization = `Bearer ${options.token}`;
    const upstream = send(
      { protocol: target.protocol, hostname: target.hostname, port: target.port, method: req.method, path: `${targetPrefix}${url.pathname}${url.search}`, headers },
      (answer) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && name !== 'connection' && name !== 'transfer-encoding' && name !== 'keep-alive') out[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
      },
    );
    upstream.once('error', (error) => {
      if (!res.headersSent) sendAdminProblem(res, new HttpError(502, 'Bad Gateway', `Cannot reach ${target.origin}: ${error.message}`), url.pathname);
      else res.destroy();
    });
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };

  const server: Server = createServer(forward);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}${base}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
