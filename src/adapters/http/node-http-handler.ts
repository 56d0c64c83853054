import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpResilience, RequestStart } from './http-resilience.js';
import { closedStatus, storeRequestStart } from './http-resilience.js';
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

/** The context handed to a wrapped handler (one allocation per request; `readJson` reads on demand). */
class RequestContext implements NodeHttpContext {
  constructor(
    private readonly req: IncomingMessage,
    readonly requestId: string,
    readonly path: string,
    private readonly maxBodyBytes: number,
  ) {}

  readJson(): Promise<unknown> {
    return readJsonBody(this.req, this.maxBodyBytes);
  }
}

/**
 * Wraps a node:http request handler: sets the request id, degradation and rate limit headers, answers health
 * probes, degradation refusals and rate limit refusals itself, reports every request (when its response closes) to the
 * metrics, and answers any error the handler throws (or rejects with) with problem+json (or the seed's
 * ErrorResponse).
 *
 * @example
 * http.createServer(nodeHttpHandler(resilience, async (req, res, { readJson }) => { ... }));
 */
export function nodeHttpHandler(resilience: HttpResilience, handler: NodeHttpHandler): (req: IncomingMessage, res: ServerResponse) => void {
  const watch = resilience.watchesResponses;
  const fail = (res: ServerResponse, start: RequestStart, error: unknown): void => {
    const reply = resilience.errorReply(error, start.requestId, start.path);
    if (reply.status === 413 && !res.headersSent) res.setHeader('connection', 'close');
    sendReply(res, reply);
  };
  const proceed = (req: IncomingMessage, res: ServerResponse, start: RequestStart): void => {
    storeRequestStart(req, start);
    const h = start.headers;
    for (let i = 0; i < h.length; i += 2) res.setHeader(h[i] as string, h[i + 1] as string);
    if (watch) res.on('close', () => resilience.finish(start, req.method ?? 'GET', undefined, closedStatus(res)));
    if (start.reply !== undefined) return sendReply(res, start.reply);
    try {
      const result = handler(req, res, new RequestContext(req, start.requestId, start.path, resilience.maxBodyBytes));
      if (result instanceof Promise) result.catch((error: unknown) => fail(res, start, error));
    } catch (error) {
      fail(res, start, error);
    }
  };
  return (req, res) => {
    const start = resilience.begin(req);
    if (!(start instanceof Promise)) return proceed(req, res, start);
    void start.then((s) => proceed(req, res, s));
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
