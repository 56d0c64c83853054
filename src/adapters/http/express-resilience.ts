import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { OptionsValidator } from '../../core/options.js';
import { closedStatus, HttpResilience, requestIdOf, requestStartOf, storeRequestStart, type RequestStart } from './http-resilience.js';
import type { HttpReply } from './http-reply.js';
import { sendReply } from './http-reply.js';
import type { RouteInterceptor } from './route-interceptor.js';

/** Express 5 glue returned by {@link expressResilience}. */
export interface ExpressResilience {
  /**
   * Mount first: request id, degradation and rate limit headers, health probes, degradation and rate limit
   * refusals, and one metrics record per request when its response closes.
   */
  middleware: RequestHandler;
  /** Mount last: answers errors (yours, the library's, `express.json()`'s 400/413) as problems. */
  errorHandler: ErrorRequestHandler;
  /**
   * A route handler run through the route's breaker; its value is sent as JSON, a failure gets the
   * fallback or goes to `errorHandler`. The route key defaults to `METHOD:` + the router's mount path + the
   * route's path (`GET:/api/quotes/:id`), so routes of different routers get different breakers.
   */
  route(interceptor: RouteInterceptor, handler: (req: Request, signal: AbortSignal) => unknown, routeKey?: string): RequestHandler;
}

function send(res: Response, reply: HttpReply): void {
  // Written through node:http so Express adds no charset to the media type.
  if (!res.headersSent) sendReply(res, reply);
}

const ROUTE = Symbol('antifragile.express.route');
const PATCHED = Symbol('antifragile.express.routeTemplatePatched');

/**
 * Makes requests remember the template of the route that matched, with its router's mount path
 * (`/api` + `/quotes/:id`), at the moment Express sets `req.route`: by the time the response closes, Express
 * has restored `req.baseUrl` to the outer router's (after an error or a fall-through), so reading it then
 * would lose the prefix. The accessor goes once on the application's request prototype (`app.request`), and
 * keeps what it learns in the request's start, not in new properties of each request (Express requests are
 * slow to grow).
 */
function rememberRouteTemplates(req: Request): void {
  const proto = Object.getPrototypeOf(req) as Record<symbol, unknown> | null;
  if (proto === null || proto[PATCHED] === true) return;
  Object.defineProperty(proto, PATCHED, { value: true });
  Object.defineProperty(proto, 'route', {
    configurable: true,
    enumerable: true,
    get(this: Request & Record<symbol, unknown>) {
      const start = requestStartOf(this);
      return start !== undefined ? start.frameworkRoute : this[ROUTE];
    },
    set(this: Request & Record<symbol, unknown>, value: unknown) {
      const start = requestStartOf(this);
      if (start === undefined) {
        this[ROUTE] = value;
        return;
      }
      start.frameworkRoute = value;
      const path = (value as { path?: unknown } | undefined)?.path;
      start.route = typeof path === 'string' ? (this.baseUrl ?? '') + path : undefined;
    },
  });
}

/**
 * Express 5 middleware, error handler and route wrapper around an {@link HttpResilience}.
 *
 * @example
 * const { middleware, errorHandler, route } = expressResilience(resilience);
 * app.use(middleware); app.use(express.json({ limit: '100kb' }));
 * app.get('/quotes/:id', route(interceptor, (req) => quotes.get(req.params.id)));
 * app.use(errorHandler);
 */
export function expressResilience(resilience: HttpResilience): ExpressResilience {
  if (!(resilience instanceof HttpResilience)) {
    const v = new OptionsValidator('expressResilience');
    v.fail('resilience', 'an HttpResilience', resilience);
    v.throwIfInvalid();
  }
  const watch = resilience.watchesResponses;
  const proceed = (req: Request, res: Response, next: NextFunction, start: RequestStart): void => {
    storeRequestStart(req, start);
    const h = start.headers;
    for (let i = 0; i < h.length; i += 2) res.setHeader(h[i] as string, h[i + 1] as string);
    if (watch) {
      rememberRouteTemplates(req);
      res.on('close', () => resilience.finish(start, req.method, start.route, closedStatus(res)));
    }
    if (start.reply !== undefined) return send(res, start.reply);
    next();
  };
  const middleware: RequestHandler = (req, res, next) => {
    const start = resilience.begin(req, req.originalUrl);
    if (!(start instanceof Promise)) return proceed(req, res, next, start);
    start.then((s) => proceed(req, res, next, s)).catch(next);
  };
  const errorHandler: ErrorRequestHandler = (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const reply = resilience.errorReply(error, requestIdOf(req), req.path);
    if (reply.status === 413) res.set('connection', 'close');
    send(res, reply);
  };
  const route: ExpressResilience['route'] = (interceptor, handler, routeKey) => async (req, res, next) => {
    const key = routeKey ?? `${req.method}:${req.baseUrl ?? ''}${(req.route as { path?: string } | undefined)?.path ?? req.path}`;
    try {
      const outcome = await interceptor.execute(key, ({ signal }) => handler(req, signal));
      if (outcome.kind === 'fallback') send(res, outcome.reply);
      else if (!res.headersSent) res.json(outcome.value ?? null);
    } catch (error) {
      next(error);
    }
  };
  return { middleware, errorHandler, route };
}
