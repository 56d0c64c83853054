import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import type { AbuseDetector } from '../../protection/abuse-detector.js';
import type { AdaptiveRateLimiter, AdaptiveRateLimitDecision } from '../../protection/adaptive-rate-limiter.js';
import { HttpError } from './http-error.js';
import { sendReply } from './http-reply.js';
import { problemFromError } from './problem-details.js';

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
  /**
   * What a request gets when the limiter's store fails (a custom store throwing; the Redis store has its own
   * outage modes and does not throw): `'allow'` lets it through unlimited, `'refuse'` answers 503
   * (`RATE_LIMIT_UNAVAILABLE`). The first failure after a success is reported as a process warning.
   * @default 'allow'
   */
  onStoreFailure?: 'allow' | 'refuse';
}

/** What the rate limit decided about one request ({@link RateLimitMiddleware.check}). */
export interface RateLimitVerdict {
  /**
   * Set when the request is refused: an {@link HttpError} 429 (`RATE_LIMITED`, over the limit) or 403
   * (`ABUSE_BLOCKED`), with `retryAfterMs`; answer it with `problemFromError`.
   */
  refusal: HttpError | undefined;
  /** Headers for the answer, refused or not, as flat `[name, value, name, value...]` (the `RateLimit-*` headers). */
  headers: readonly string[];
  /** The key whose outcome counts: pass it to {@link RateLimitMiddleware.recordOutcome} when the response finishes. */
  key: string | undefined;
}

/** The same rate limit for three servers. */
export interface RateLimitMiddleware {
  /**
   * For a plain `node:http` server: resolves `true` when it answered the request (429, 403, or 503 when the
   * store fails and `onStoreFailure` is `'refuse'`) and `false` when the request may go on.
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Express 5 middleware: `app.use(rateLimit.express)`. */
  express(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /**
   * Fastify 5 `onRequest` hook: `app.addHook('onRequest', rateLimit.fastify)`. Resolves the reply when it
   * answered (as Fastify expects of an async hook that responds early), else `undefined`.
   */
  fastify(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  /**
   * The verdict on a request without answering it, for glue that answers itself (`HttpResilience` uses it):
   * synchronous unless the limiter's store is remote. Never throws or rejects: a store failure gives the
   * `onStoreFailure` verdict.
   */
  check(req: IncomingMessage): RateLimitVerdict | Promise<RateLimitVerdict>;
  /** Records how a request of `key` ended: a client error (`isClientError`) shrinks the key's limit. */
  recordOutcome(key: string, statusCode: number): void;
  /** Whether {@link recordOutcome} does anything (the limiter tracks behaviour); when not, there is no need to watch responses. */
  readonly recordsOutcomes: boolean;
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

const NO_HEADERS: readonly string[] = Object.freeze([]);
const UNLIMITED: RateLimitVerdict = Object.freeze({ refusal: undefined, headers: NO_HEADERS, key: undefined });
const STORE_UNAVAILABLE: RateLimitVerdict = Object.freeze({
  refusal: new HttpError(503, 'Service Unavailable', 'The rate limit cannot be checked right now.', { code: 'RATE_LIMIT_UNAVAILABLE', retryAfterMs: 1_000 }),
  headers: NO_HEADERS,
  key: undefined,
});

/** Whether `value` is a promise or any other thenable (a custom store may return one from another realm or library). */
function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as Partial<PromiseLike<T>> | null)?.then === 'function';
}

/**
 * HTTP glue for an {@link AdaptiveRateLimiter} and an {@link AbuseDetector}, for `node:http`, Express 5 and
 * Fastify 5. Per request: the key is extracted; a key the detector blocks gets `403` with `Retry-After`; a key
 * over its limit gets `429` with `Retry-After`, `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
 * (seconds); both bodies are `application/problem+json` (RFC 9457). The detector sees the path and
 * `Content-Length`. When the response finishes with a client error (`isClientError`), it is recorded against
 * the key's behaviour. With the in-process store a request costs no promise: pass the middleware to
 * `HttpResilience` (`rateLimit`) to run it inside the one resilience middleware.
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
  const recordsOutcomes = limiter?.behavior !== undefined;
  const refuseOnStoreFailure = options.onStoreFailure === 'refuse';
  let storeFailing = false;
  const storeFailed = (error: unknown): RateLimitVerdict => {
    if (!storeFailing) {
      storeFailing = true;
      reportCallbackError(error, 'createRateLimitMiddleware limiter store');
    }
    return refuseOnStoreFailure ? STORE_UNAVAILABLE : UNLIMITED;
  };

  const recordOutcome = (key: string, statusCode: number): void => {
    if (!recordsOutcomes) return;
    let failed: boolean;
    try {
      failed = isClientError(statusCode);
    } catch (error) {
      reportCallbackError(error, 'createRateLimitMiddleware option isClientError');
      return;
    }
    if (failed) limiter?.recordError(key);
  };

  const verdictOf = (key: string, decision: AdaptiveRateLimitDecision): RateLimitVerdict => {
    storeFailing = false;
    const headers = sendHeaders || !decision.allowed ? rateLimitHeaders(decision) : NO_HEADERS;
    return decision.allowed ? { refusal: undefined, headers, key } : { refusal: tooManyRequests(decision), headers, key: undefined };
  };

  const check = (req: IncomingMessage): RateLimitVerdict | Promise<RateLimitVerdict> => {
    let key: string | undefined;
    try {
      key = keyOf(req);
    } catch (error) {
      reportCallbackError(error, 'createRateLimitMiddleware option key');
      key = undefined;
    }
    if (key === undefined || key === '') return UNLIMITED;
    if (abuse !== undefined) {
      const length = req.headers['content-length'];
      const payloadBytes = length === undefined ? undefined : Number(length);
      const verdict = abuse.inspect(key, {
        ...(req.url === undefined ? {} : { path: req.url }),
        ...(payloadBytes === undefined || !Number.isFinite(payloadBytes) ? {} : { payloadBytes }),
      });
      if (verdict.blocked) return { refusal: forbidden(verdict.retryAfterMs), headers: NO_HEADERS, key: undefined };
    }
    if (limiter === undefined) return { refusal: undefined, headers: NO_HEADERS, key };
    const k = key;
    let decision: AdaptiveRateLimitDecision | PromiseLike<AdaptiveRateLimitDecision>;
    try {
      decision = limiter.decide(k);
    } catch (error) {
      return storeFailed(error);
    }
    if (isThenable(decision)) return Promise.resolve(decision).then((d) => verdictOf(k, d), storeFailed);
    return verdictOf(k, decision);
  };

  /** Applies a verdict to a node:http response: `true` when it answered the request. */
  const apply = (verdict: RateLimitVerdict, res: ServerResponse): boolean => {
    const h = verdict.headers;
    for (let i = 0; i < h.length; i += 2) res.setHeader(h[i] as string, h[i + 1] as string);
    if (verdict.refusal !== undefined) {
      sendReply(res, problemFromError(verdict.refusal));
      return true;
    }
    if (verdict.key !== undefined && recordsOutcomes) {
      const key = verdict.key;
      res.once('finish', () => recordOutcome(key, res.statusCode));
    }
    return false;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => apply(await check(req), res);

  return {
    handle,
    check,
    recordOutcome,
    recordsOutcomes,
    express(req, res, next) {
      const verdict = check(req);
      if (!(verdict instanceof Promise)) {
        if (!apply(verdict, res)) next();
        return;
      }
      verdict.then(
        (v) => {
          if (!apply(v, res)) next();
        },
        (error: unknown) => next(error),
      );
    },
    async fastify(request, reply) {
      const verdict = await check(request.raw);
      const h = verdict.headers;
      for (let i = 0; i < h.length; i += 2) reply.header(h[i] as string, h[i + 1] as string);
      if (verdict.refusal !== undefined) {
        const answer = problemFromError(verdict.refusal);
        // A Buffer keeps Fastify from appending a charset to the media type.
        return reply.code(answer.status).headers(answer.headers).send(Buffer.from(answer.body));
      }
      if (verdict.key !== undefined && recordsOutcomes) {
        const key = verdict.key;
        reply.raw.once('finish', () => recordOutcome(key, reply.raw.statusCode));
      }
      return undefined;
    },
  };
}

function rateLimitHeaders(decision: AdaptiveRateLimitDecision): readonly string[] {
  return [
    'ratelimit-limit',
    String(decision.limit),
    'ratelimit-remaining',
    String(decision.remaining),
    'ratelimit-reset',
    String(Math.ceil(decision.resetAfterMs / 1000)),
  ];
}

function tooManyRequests(decision: AdaptiveRateLimitDecision): HttpError {
  const retryAfter = decision.retryAfterMs > 0 ? Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) : 1;
  return new HttpError(429, 'Too Many Requests', `Rate limit of ${decision.limit} requests exceeded; retry in ${retryAfter} s.`, {
    code: 'RATE_LIMITED',
    retryAfterMs: retryAfter * 1000,
    extensions: { retryAfterMs: Math.ceil(decision.retryAfterMs) },
  });
}

function forbidden(retryAfterMs: number): HttpError {
  const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new HttpError(403, 'Forbidden', `Blocked for abusive traffic; retry in ${retryAfter} s.`, {
    code: 'ABUSE_BLOCKED',
    retryAfterMs: retryAfter * 1000,
    extensions: { retryAfterMs: Math.ceil(retryAfterMs) },
  });
}

function validate(options: RateLimitMiddlewareOptions): void {
  const v = new OptionsValidator('createRateLimitMiddleware');
  if (!v.required('options', options, 'an object') || !v.object('options', options)) return v.throwIfInvalid();
  const o = options as unknown as Partial<Record<string, unknown>>;
  if (o.limiter === undefined && o.abuse === undefined) v.fail('limiter', 'an AdaptiveRateLimiter (or an abuse detector)', o.limiter);
  if (o.limiter !== undefined && !hasMethods(o.limiter, 'decide', 'recordError')) v.fail('limiter', 'an AdaptiveRateLimiter', o.limiter);
  if (o.abuse !== undefined && !hasMethods(o.abuse, 'inspect')) v.fail('abuse', 'an AbuseDetector', o.abuse);
  v.func('key', o.key);
  v.func('isClientError', o.isClientError);
  v.boolean('headers', o.headers);
  v.oneOf('onStoreFailure', o.onStoreFailure, ['allow', 'refuse']);
  v.throwIfInvalid();
}

/** Duck-typed, so objects from another copy of the package are accepted. */
function hasMethods(value: unknown, ...names: string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return names.every((name) => typeof record[name] === 'function');
}
