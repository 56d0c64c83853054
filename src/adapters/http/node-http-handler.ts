import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpResilience } from './http-resilience.js';
import { storeRequestId } from './http-resilience.js';
import { sendReply } from './http-reply.js';
import { readJsonBody } from './read-json-body.js';
import type { RouteInterceptor } from './route-interceptor.js';

/** What a node:http handler wrapped by {@link nodeHttpHandler} receives besides `req` and `res`. */
export interface NodeHttpContext {
  /** The request id (also sent as the request id header). */
  readonly requestId: string;
  /** The URL path without the query string. */
  readonly path: string;
  /** Reads the body as JSON (400 malformed, 413 too large, 415 not JSON, all answered as problems). */
  readJson(): Promise<unknown>;
}

/** A node:http handler with a context; a thrown or rejected error is answered as a problem. */
export type NodeHttpHandler = (req: IncomingMessage, res: ServerResponse, context: NodeHttpContext) => unknown;

/**
 * Wraps a node:http request handler: sets the request id and degradation headers, answers health probes
 * and degradation refusals itself, and answers any error the handler throws (or rejects with) with
 * problem+json (or the seed's ErrorResponse).
 *
 * @example
 * http.createServer(nodeHttpHandler(resilience, async (req, res, { readJson }) => { ... }));
 */
export function nodeHttpHandler(resilience: HttpResilience, handler: NodeHttpHandler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = req.url ?? '/';
    const start = resilience.begin(req.method ?? 'GET', url, req.headers[resilience.requestIdHeader]);
    storeRequestId(req, start.requestId);
    for (const [name, value] of Object.entries(start.headers)) res.setHeader(name, value);
    if (start.reply !== undefined) return sendReply(res, start.reply);
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const context: NodeHttpContext = { requestId: start.requestId, path, readJson: () => readJsonBody(req, resilience.maxBodyBytes) };
    const fail = (error: unknown): void => {
      const reply = resilience.errorReply(error, start.requestId, path);
      if (reply.status === 413) res.setHeader('connection', 'close');
      sendReply(res, reply);
    };
    try {
      const result = handler(req, res, context);
      if (result instanceof Promise) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}

/**
 * A node:http handler whose value is sent as JSON (200), run through the route's breaker by `interceptor`;
 * a failure gets the interceptor's fallback answer or, without one, a problem answer.
 * @param route the route key (`GET:/quotes/:id`), one breaker per key.
 */
export function nodeHttpRoute(
  interceptor: RouteInterceptor,
  route: string,
  handler: (req: IncomingMessage, context: NodeHttpContext & { signal: AbortSignal }) => unknown,
): NodeHttpHandler {
  return async (req, res, context) => {
    const outcome = await interceptor.execute(route, ({ signal }) => handler(req, { ...context, signal }));
    if (outcome.kind === 'fallback') return sendReply(res, outcome.reply);
    if (!res.headersSent) sendReply(res, { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(outcome.value ?? null) });
  };
}
