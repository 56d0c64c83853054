import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';

/** Options of {@link metricsHandler}. */
export interface MetricsHandlerOptions {
  /**
   * Path answered (the query string is ignored); other paths get 404. Leave unset when a router already
   * chose the route (Express `app.get('/metrics', handler)`).
   * @default every path
   */
  path?: string;
}

/**
 * A plain `(req, res)` handler that answers Prometheus scrapes with the registry's exposition text and
 * content type: usable as a `node:http` request listener, as an Express handler, or from Fastify with
 * `reply.hijack()` and `handler(request.raw, reply.raw)`. `GET` and `HEAD` only (405 otherwise); a failing
 * collection answers 500 and is reported as a process warning.
 *
 * @example
 * ```ts
 * createServer(metricsHandler(registry, { path: '/metrics' })).listen(9464);
 * app.get('/metrics', metricsHandler(registry)); // Express
 * ```
 */
export function metricsHandler(registry: Registry, options: MetricsHandlerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const v = new OptionsValidator('metricsHandler');
  if (typeof (registry as Partial<Registry> | null)?.metrics !== 'function') v.fail('registry', 'a prom-client Registry', registry);
  if (v.object('options', options)) {
    if (options.path !== undefined && (typeof options.path !== 'string' || !options.path.startsWith('/'))) {
      v.fail('path', 'a path starting with "/"', options.path);
    }
  }
  v.throwIfInvalid();
  const path = options.path;
  return (req, res) => {
    if (path !== undefined) {
      const url = req.url ?? '/';
      const end = url.indexOf('?');
      if ((end === -1 ? url : url.slice(0, end)) !== path) {
        send(res, 404, 'text/plain; charset=utf-8', 'Not Found\n', req.method === 'HEAD');
        return;
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', false);
      return;
    }
    registry.metrics().then(
      (body) => send(res, 200, registry.contentType, body, req.method === 'HEAD'),
      (error: unknown) => {
        reportCallbackError(error, 'metricsHandler: collecting the registry');
        send(res, 500, 'text/plain; charset=utf-8', 'Collecting metrics failed\n', req.method === 'HEAD');
      },
    );
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
  if (res.headersSent || res.writableEnded) return;
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(head ? undefined : body);
}
