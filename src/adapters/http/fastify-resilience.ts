import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteHandlerMethod } from 'fastify';
import { OptionsValidator } from '../../core/options.js';
import { closedStatus, HttpResilience, requestIdOf, storeRequestStart, type RequestStart } from './http-resilience.js';
import type { HttpReply } from './http-reply.js';
import type { RouteInterceptor } from './route-interceptor.js';

/** Options of {@link fastifyResilience}. */
export interface FastifyResilienceOptions {
  resilience: HttpResilience;
}

function send(reply: FastifyReply, answer: HttpReply): FastifyReply {
  // A Buffer keeps Fastify from appending a charset to the media type.
  return reply.code(answer.status).headers(answer.headers).send(Buffer.from(answer.body));
}

/**
 * Fastify 5 plugin (not encapsulated: it sets `Symbol.for('skip-override')` as Fastify documents, so its
 * hooks and error handler apply to the whole instance): request id, degradation and rate limit headers,
 * health probes, degradation and rate limit refusals in `onRequest`, one metrics record per request
 * when its response closes, and an error handler answering every error (yours, the
 * library's, Fastify's own malformed-JSON 400 and body-limit 413) as a problem.
 *
 * @example
 * await app.register(fastifyResilience, { resilience });
 */
export async function fastifyResilience(fastify: FastifyInstance, options: FastifyResilienceOptions): Promise<void> {
  if (!(options?.resilience instanceof HttpResilience)) {
    const v = new OptionsValidator('fastifyResilience');
    v.fail('resilience', 'an HttpResilience', options?.resilience);
    v.throwIfInvalid();
  }
  const resilience = options.resilience;
  const watch = resilience.watchesResponses;
  const proceed = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, start: RequestStart): void => {
    storeRequestStart(request.raw, start);
    const h = start.headers;
    for (let i = 0; i < h.length; i += 2) reply.header(h[i] as string, h[i + 1] as string);
    if (watch) {
      const res = reply.raw;
      res.on('close', () => resilience.finish(start, request.method, request.routeOptions.url, closedStatus(res)));
    }
    if (start.reply !== undefined) {
      send(reply, start.reply);
      return;
    }
    done();
  };
  // A callback-style hook: Fastify runs it without a promise per request.
  fastify.addHook('onRequest', (request, reply, done) => {
    const start = resilience.begin(request.raw, request.url);
    if (!(start instanceof Promise)) return proceed(request, reply, done, start);
    start.then((s) => proceed(request, reply, done, s)).catch((error: unknown) => done(error as Error));
  });
  fastify.setErrorHandler((error, request, reply) => {
    const answer = resilience.errorReply(error, requestIdOf(request.raw), request.url.split('?')[0]);
    if (answer.status === 413) reply.header('connection', 'close');
    return send(reply, answer);
  });
}
(fastifyResilience as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

/**
 * A Fastify route handler run through the route's breaker; its value is the response (JSON), a failure
 * gets the fallback answer or goes to the error handler. The route key defaults to `METHOD:routeOptions.url`.
 */
export function fastifyRoute(interceptor: RouteInterceptor, handler: (request: FastifyRequest, signal: AbortSignal) => unknown, routeKey?: string): RouteHandlerMethod {
  return async (request, reply) => {
    const key = routeKey ?? `${request.method}:${request.routeOptions.url ?? request.url}`;
    const outcome = await interceptor.execute(key, ({ signal }) => handler(request, signal));
    if (outcome.kind === 'fallback') return send(reply, outcome.reply);
    return outcome.value ?? null;
  };
}
