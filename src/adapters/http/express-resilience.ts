import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { OptionsValidator } from '../../core/options.js';
import { HttpResilience, requestIdOf, storeRequestId } from './http-resilience.js';
import type { HttpReply } from './http-reply.js';
import { sendReply } from './http-reply.js';
import type { RouteInterceptor } from './route-interceptor.js';

/** Express 5 glue returned by {@link expressResilience}. */
export interface ExpressResilience {
  /** Mount first: request id and degradation headers, health probes, degradation refusals. */
  middleware: RequestHandler;
  /** Mount last: answers errors (yours, the library's, `express.json()`'s 400/413) as problems. */
  errorHandler: ErrorRequestHandler;
  /**
   * A route handler run through the route's breaker; its value is sent as JSON, a failure gets the
   * fallback or goes to `errorHandler`. The route key defaults to `METHOD:route.path`.
   */
  route(interceptor: RouteInterceptor, handler: (req: Request, signal: AbortSignal) => unknown, routeKey?: string): RequestHandler;
}

function send(res: Response, reply: HttpReply): void {
  // Written through node:http so Express adds no charset to the media type.
  if (!res.headersSent) sendReply(res, reply);
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
  const middleware: RequestHandler = (req, res, next) => {
    const start = resilience.begin(req.method, req.originalUrl, req.headers[resilience.requestIdHeader]);
    storeRequestId(req, start.requestId);
    for (const [name, value] of Object.entries(start.headers)) res.setHeader(name, value);
    if (start.reply !== undefined) return send(res, start.reply);
    next();
  };
  const errorHandler: ErrorRequestHandler = (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const reply = resilience.errorReply(error, requestIdOf(req), req.path);
    if (reply.status === 413) res.set('connection', 'close');
    send(res, reply);
  };
  const route: ExpressResilience['route'] = (interceptor, handler, routeKey) => async (req, res, next) => {
    const key = routeKey ?? `${req.method}:${(req.route as { path?: string } | undefined)?.path ?? req.path}`;
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
