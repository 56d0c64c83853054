import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import type { AbuseDetector } from '../../protection/abuse-detector.js';
import type { AdaptiveRateLimiter, AdaptiveRateLimitDecision } from '../../protection/adaptive-rate-limiter.js';

/** Picks the key a request is limited on (an IP, a user id, an API key); `undefined` lets it through unlimited. */
export type RateLimitKeyFunction = (req: IncomingMessage) => string | undefined;

/** Options of {@link createRateLimitMiddleware}; at least one of `limiter` and `abuse` is required. */
export interface RateLimitMiddlewareOptions {
  /** The per-key rate limit; over it a request gets `429`. */
  limiter?: AdaptiveRateLimiter;
  /** Abuse protection, consulted first; a blocked key gets `403`. */
  abuse?: AbuseDetector;
  /**
   * The request's key. Behind a proxy, derive the client IP from a header you trust (see {@link keyByHeader});
   * with Express, `(req) => (req as Request).ip` honours its `trust proxy` setting. If it throws, the throw is
   * reported as a process warning and the request goes through unlimited.
   * @default keyByIp (the socket's remote address)
   */
  key?: RateLimitKeyFunction;
  /**
   * Which response statuses count as errors the client caused (recorded with `limiter.recordError`, which
   * shrinks its limit). Not consulted for the middleware's own 429 and 403.
   * @default 400..499 except 429
   */
  isClientError?: (statusCode: number) => boolean;
  /** Whether allowed responses carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` too. @default true */
  headers?: boolean;
}

/** The same rate limit for three servers. */
export interface RateLimitMiddleware {
  /**
   * For a plain `node:http` server: resolves `true` when it answered the request (429 or 403) and `false`
   * when the request may go on. Rejects only if the limiter's store fails.
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Express 5 middleware: `app.use(rateLimit.express)`. */
  express(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /**
   * Fastify 5 `onRequest` hook: `app.addHook('onRequest', rateLimit.fastify)`. Resolves the reply when it
   * answered (as Fastify expects of an async hook that responds early), else `undefined`.
   */
  fastify(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
}

/**
 * The socket's remote address, with an IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) written as IPv4 so a
 * dual-stack server keys a client the same way; `undefined` when the socket is gone.
 */
export const keyByIp: RateLimitKeyFunction = (req) => {
  const address = req.socket.remoteAddress;
  return address !== undefined && address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
};

/**
 * The value of request header `name` (the first one when repeated), e.g. `keyByHeader('x-api-key')`, or the
 * first address of `x-forwarded-for` with `keyByHeader('x-forwarded-for', { firstOfList: true })`.
 */
export function keyByHeader(name: string, options: { firstOfList?: boolean } = {}): RateLimitKeyFunction {
  const header = name.toLowerCase();
  return (req) => {
    const raw = req.headers[header];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined || value === '') return undefined;
    if (!options.firstOfList) return value;
    const comma = value.indexOf(',');
    const first = (comma < 0 ? value : value.slice(0, comma)).trim();
    return first === '' ? undefined : first;
  };
}

const defaultIsClientError = (status: number): boolean => status >= 400 && status < 500 && status !== 429;

/** A refusal to send: status, headers and an RFC 9457 problem body. */
interface Refusal {
  status: 429 | 403;
  headers: Record<string, string>;
  body: string;
}

/** What the shared logic decided. */
type Outcome = { refusal: Refusal } | { refusal: undefined; headers: Record<string, string> | undefined; key: string | undefined };

/**
 * HTTP glue for an {@link AdaptiveRateLimiter} and an {@link AbuseDetector}, for `node:http`, Express 5 and
 * Fastify 5. Per request: the key is extracted; a key the detector blocks gets `403` with `Retry-After`; a key
 * over its limit gets `429` with `Retry-After`, `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
 * (seconds); both bodies are `application/problem+json` (RFC 9457). The detector sees the path and
 * `Content-Length`. When the response finishes with a client error (`isClientError`), it is recorded against
 * the key's behaviour.
 *
 * @example
 * ```ts
 * const rateLimit = createRateLimitMiddleware({
 *   limiter: new AdaptiveRateLimiter({ capacity: 60, refillPerSecond: 10, load: { signals: [new EventLoopDelaySignal()] } }),
 *   abuse: new AbuseDetector(),
 *   key: keyByHeader('x-api-key'),
 * });
 * expressApp.use(rateLimit.express);
 * fastifyApp.addHook('onRequest', rateLimit.fastify);
 * http.createServer(async (req, res) => { if (!(await rateLimit.handle(req, res))) app(req, res); });
 * ```
 */
export function createRateLimitMiddleware(options: RateLimitMiddlewareOptions): RateLimitMiddleware {
  validate(options);
  const { limiter, abuse } = options;
  const keyOf = options.key ?? keyByIp;
  const isClientError = options.isClientError ?? defaultIsClientError;
  const sendHeaders = options.headers !== false;

  const watch = (res: ServerResponse, key: string): void => {
    if (limiter?.behavior === undefined) return;
    res.once('finish', () => {
      let failed: boolean;
      try {
        failed = isClientError(res.statusCode);
      } catch (error) {
        reportCallbackError(error, 'createRateLimitMiddleware option isClientError');
        return;
      }
      if (failed) limiter.recordError(key);
    });
  };

  const decide = async (req: IncomingMessage): Promise<Outcome> => {
    let key: string | undefined;
    try {
      key = keyOf(req);
    } catch (error) {
      reportCallbackError(error, 'createRateLimitMiddleware option key');
      key = undefined;
    }
    if (key === undefined || key === '') return { refusal: undefined, headers: undefined, key: undefined };
    if (abuse !== undefined) {
      const length = req.headers['content-length'];
      const payloadBytes = length === undefined ? undefined : Number(length);
      const verdict = abuse.inspect(key, {
        ...(req.url === undefined ? {} : { path: req.url }),
        ...(payloadBytes === undefined || !Number.isFinite(payloadBytes) ? {} : { payloadBytes }),
      });
      if (verdict.blocked) return { refusal: forbidden(verdict.retryAfterMs) };
    }
    if (limiter === undefined) return { refusal: undefined, headers: undefined, key };
    const decision = await limiter.consume(key);
    if (!decision.allowed) return { refusal: tooManyRequests(decision) };
    return { refusal: undefined, headers: sendHeaders ? rateLimitHeaders(decision) : undefined, key };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const outcome = await decide(req);
    if (outcome.refusal !== undefined) {
      const { status, headers, body } = outcome.refusal;
      res.writeHead(status, { ...headers, 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return true;
    }
    if (outcome.headers !== undefined) for (const name in outcome.headers) res.setHeader(name, outcome.headers[name] as string);
    if (outcome.key !== undefined) watch(res, outcome.key);
    return false;
  };

  return {
    handle,
    express(req, res, next) {
      handle(req, res).then(
        (answered) => {
          if (!answered) next();
        },
        (error: unknown) => next(error),
      );
    },
    async fastify(request, reply) {
      const outcome = await decide(request.raw);
      if (outcome.refusal !== undefined) {
        const { status, headers, body } = outcome.refusal;
        return reply.code(status).headers(headers).type('application/problem+json').send(body);
      }
      if (outcome.headers !== undefined) reply.headers(outcome.headers);
      if (outcome.key !== undefined) watch(reply.raw, outcome.key);
      return undefined;
    },
  };
}

function seconds(ms: number): string {
  return String(Math.ceil(ms / 1000));
}

function rateLimitHeaders(decision: AdaptiveRateLimitDecision): Record<string, string> {
  return {
    'ratelimit-limit': String(decision.limit),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': seconds(decision.resetAfterMs),
  };
}

function tooManyRequests(decision: AdaptiveRateLimitDecision): Refusal {
  const retryAfter = decision.retryAfterMs > 0 ? Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) : 1;
  const body = JSON.stringify({
    type: 'about:blank',
    title: 'Too Many Requests',
    status: 429,
    detail: `Rate limit of ${decision.limit} requests exceeded; retry in ${retryAfter} s.`,
    retryAfterMs: Math.ceil(decision.retryAfterMs),
  });
  return { status: 429, headers: { 'retry-after': String(retryAfter), ...rateLimitHeaders(decision) }, body };
}

function forbidden(retryAfterMs: number): Refusal {
  const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const body = JSON.stringify({
    type: 'about:blank',
    title: 'Forbidden',
    status: 403,
    detail: `Blocked for abusive traffic; retry in ${retryAfter} s.`,
    retryAfterMs: Math.ceil(retryAfterMs),
  });
  return { status: 403, headers: { 'retry-after': String(retryAfter) }, body };
}

function validate(options: RateLimitMiddlewareOptions): void {
  const v = new OptionsValidator('createRateLimitMiddleware');
  if (!v.required('options', options, 'an object') || !v.object('options', options)) return v.throwIfInvalid();
  const o = options as unknown as Partial<Record<string, unknown>>;
  if (o.limiter === undefined && o.abuse === undefined) v.fail('limiter', 'an AdaptiveRateLimiter (or an abuse detector)', o.limiter);
  if (o.limiter !== undefined && !hasMethods(o.limiter, 'consume', 'recordError')) v.fail('limiter', 'an AdaptiveRateLimiter', o.limiter);
  if (o.abuse !== undefined && !hasMethods(o.abuse, 'inspect')) v.fail('abuse', 'an AbuseDetector', o.abuse);
  v.func('key', o.key);
  v.func('isClientError', o.isClientError);
  v.boolean('headers', o.headers);
  v.throwIfInvalid();
}

/** Duck-typed, so objects from another copy of the package are accepted. */
function hasMethods(value: unknown, ...names: string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return names.every((name) => typeof record[name] === 'function');
}
