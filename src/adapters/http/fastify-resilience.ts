import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { OptionsValidator } from '../../core/options.js';
import { HttpResilience, requestIdOf, storeRequestId } from './http-resilience.js';
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
 * hooks and error handler apply to the whole instance): request id and degradation headers, health probes
 * and degradation refusals in `onRequest`, and an error handler answering every error (yours, the
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
  fastify.addHook('onRequest', async (request, reply) => {
    const start = resilience.begin(request.method, request.url, request.headers[resilience.requestIdHeader]);
    storeRequestId(request.raw, start.requestId);
    reply.headers(start.headers);
    if (start.reply !== undefined) return send(reply, start.reply);
    return undefined;
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
