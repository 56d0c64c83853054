import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock, type Clock } from '../../core/clock.js';
import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import { DegradationGate } from './degradation-gate.js';
import { HealthEndpoints } from './health-endpoints.js';
import type { HttpReply } from './http-reply.js';
import type { ErrorMappingOptions } from './problem-details.js';
import { problemFromError, validateErrorMappingOptions } from './problem-details.js';
import type { HttpRequestObserver } from './http-request-observer.js';
import type { RateLimitMiddleware, RateLimitVerdict } from './rate-limit-middleware.js';
import { DEFAULT_REQUEST_ID_HEADER, resolveRequestId } from './request-id.js';

/** Options of {@link HttpResilience}. */
export interface HttpResilienceOptions {
  /** How errors become answers (problem+json or the seed's ErrorResponse). @default {} */
  errors?: ErrorMappingOptions;
  /** Header carrying the request id (incoming and outgoing). @default 'x-request-id' */
  requestIdHeader?: string;
  /** Makes a request id when the request has no usable one. @default crypto.randomUUID */
  generateRequestId?: () => string;
  /** Degradation headers and refusals; absent: no degradation behaviour. */
  degradation?: DegradationGate;
  /** Health endpoints, answered before the degradation gate; absent: no health paths. */
  health?: HealthEndpoints;
  /** Largest JSON body the node:http glue reads, in bytes (integer >= 1). @default 1_048_576 */
  maxBodyBytes?: number;
  /**
   * Rate limit and abuse protection ({@link createRateLimitMiddleware}), run after health probes and the
   * degradation gate, before the handler; refusals are answered in the configured error shape.
   */
  rateLimit?: RateLimitMiddleware;
  /** Told of every finished response (method, route, status, duration), e.g. Prometheus `HttpServerMetrics`. */
  metrics?: HttpRequestObserver;
  /** Time source of the durations given to `metrics`. @default systemClock */
  clock?: Clock;
}

/** What {@link HttpResilience.begin} decided about a request. */
export interface RequestStart {
  requestId: string;
  /** The URL path without the query string. */
  path: string;
  /**
   * Headers to set on whatever answer the request gets, as flat `[name, value, name, value...]`: the request
   * id, the degradation headers, the rate limit headers.
   */
  headers: readonly string[];
  /** A complete answer (health probe, degradation or rate limit refusal); when set, the application handler must not run. */
  reply: HttpReply | undefined;
  /** The rate limit key whose outcome counts, if any (see {@link HttpResilience.finish}). */
  rateLimitKey: string | undefined;
  /** When the request started, on the resilience clock (ms). */
  startedAt: number;
  /** The route template, when the glue learns it as the request is routed (Express). */
  route?: string | undefined;
  /** The framework's own route object (Express `req.route`), kept here by the Express glue. @internal */
  frameworkRoute?: unknown;
}

const REQUEST_START = Symbol.for('antifragile.http.requestStart');

/** What the glue stored on a request (node:http / Express request, Fastify `request.raw`), if it ran. @internal */
export function requestStartOf(req: object): RequestStart | undefined {
  return (req as Record<symbol, RequestStart | undefined>)[REQUEST_START];
}

/** The request id stored on a request (node:http / Express request, Fastify `request.raw`) by the glue, if any. */
export function requestIdOf(req: object): string | undefined {
  return requestStartOf(req)?.requestId;
}

/**
 * Stores the request's start on the request object: one property per request (request objects of some
 * frameworks are slow to grow, so everything the glue keeps lives in the start object). @internal
 */
export function storeRequestStart(req: object, start: RequestStart): void {
  (req as Record<symbol, RequestStart>)[REQUEST_START] = start;
}

/**
 * The framework-neutral core shared by the node:http, Express and Fastify glue, so one middleware carries the
 * whole stack: resolves the request id, answers health probes, applies the degradation gate and then the
 * rate limit, reports every request to the metrics when its response closes, and maps errors to problem+json (or seed)
 * answers. With the in-process rate limit store a request costs no promise and no timer.
 */
export class HttpResilience {
  /** Lower-case request id header name. */
  readonly requestIdHeader: string;
  /** Largest JSON body read by the node:http glue, in bytes. */
  readonly maxBodyBytes: number;
  private readonly options: HttpResilienceOptions;
  private readonly generateRequestId: (() => string) | undefined;
  private readonly metrics: HttpRequestObserver | undefined;
  private readonly clock: Clock;

  constructor(options: HttpResilienceOptions = {}) {
    const v = new OptionsValidator('HttpResilience');
    if (typeof options !== 'object' || options === null) {
      v.fail('options', 'an object', options);
      v.throwIfInvalid();
    }
    validateErrorMappingOptions(v, 'errors', options.errors);
    v.string('requestIdHeader', options.requestIdHeader);
    if (typeof options.requestIdHeader === 'string' && !/^[A-Za-z0-9-]+$/.test(options.requestIdHeader)) v.fail('requestIdHeader', 'a header name', options.requestIdHeader);
    v.func('generateRequestId', options.generateRequestId);
    if (options.degradation !== undefined && !(options.degradation instanceof DegradationGate)) v.fail('degradation', 'a DegradationGate', options.degradation);
    if (options.health !== undefined && !(options.health instanceof HealthEndpoints)) v.fail('health', 'a HealthEndpoints', options.health);
    v.integer('maxBodyBytes', options.maxBodyBytes, 1);
    if (options.rateLimit !== undefined && typeof (options.rateLimit as Partial<RateLimitMiddleware> | null)?.check !== 'function') {
      v.fail('rateLimit', 'a rate limit middleware (createRateLimitMiddleware)', options.rateLimit);
    }
    if (options.metrics !== undefined && typeof (options.metrics as Partial<HttpRequestObserver> | null)?.observeRequest !== 'function') {
      v.fail('metrics', 'an HttpRequestObserver (with observeRequest())', options.metrics);
    }
    v.clock('clock', options.clock);
    v.throwIfInvalid();
    this.options = options;
    this.requestIdHeader = (options.requestIdHeader ?? DEFAULT_REQUEST_ID_HEADER).toLowerCase();
    this.maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
    this.generateRequestId = options.generateRequestId;
    this.metrics = options.metrics;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Starts handling a request: resolves the request id, answers health probes, applies the degradation gate
   * and then the rate limit. Synchronous unless the rate limit's store is remote (then a promise). Never
   * throws or rejects: a failing rate limit becomes the start's error `reply`, with the request id.
   * @param req the request (Fastify: `request.raw`).
   * @param url the request URL or path (a query string is ignored). @default req.url
   */
  begin(req: IncomingMessage, url: string = req.url ?? '/'): RequestStart | Promise<RequestStart> {
    const method = req.method ?? 'GET';
    const startedAt = this.metrics !== undefined ? this.clock.now() : 0;
    const incomingId = req.headers[this.requestIdHeader];
    const requestId = this.generateRequestId !== undefined ? resolveRequestId(incomingId, this.generateRequestId) : resolveRequestId(incomingId);
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const gate = this.options.degradation;
    const decision = gate?.check(method, path);
    const headers = [this.requestIdHeader, requestId];
    if (decision !== undefined) for (const h of decision.headerList) headers.push(h);
    const start: RequestStart = { requestId, path, headers, reply: undefined, rateLimitKey: undefined, startedAt };
    const health = method === 'GET' || method === 'HEAD' ? this.options.health?.respond(path) : undefined;
    if (health !== undefined) {
      start.reply = health;
      return start;
    }
    if (decision?.refusal !== undefined) {
      start.reply = this.errorReply(decision.refusal, requestId, path);
      return start;
    }
    const rateLimit = this.options.rateLimit;
    if (rateLimit === undefined) return start;
    let verdict: RateLimitVerdict | Promise<RateLimitVerdict>;
    try {
      verdict = rateLimit.check(req);
    } catch (error) {
      return this.refuse(start, error);
    }
    if (verdict instanceof Promise) return verdict.then((v) => this.admit(start, v), (error: unknown) => this.refuse(start, error));
    return this.admit(start, verdict);
  }

  /** Whether the glue must call {@link finish} when a response closes (metrics, or a rate limit that learns from outcomes). */
  get watchesResponses(): boolean {
    return this.metrics !== undefined || this.options.rateLimit?.recordsOutcomes === true;
  }

  /**
   * Tells the metrics and the rate limit how a request ended; the glue calls it once, when the response
   * closes (see {@link closedStatus}).
   * @param route the route template when the server knows it.
   */
  finish(start: RequestStart, method: string, route: string | undefined, statusCode: number): void {
    // A client that went away (499) is not judged on an answer it never got.
    if (start.rateLimitKey !== undefined && statusCode !== CLIENT_CLOSED_REQUEST) this.options.rateLimit?.recordOutcome(start.rateLimitKey, statusCode);
    const metrics = this.metrics;
    if (metrics === undefined) return;
    try {
      metrics.observeRequest(method, route, statusCode, (this.clock.now() - start.startedAt) / 1000);
    } catch (error) {
      reportCallbackError(error, 'HttpResilience metrics.observeRequest');
    }
  }

  /** The answer to an error raised while handling a request. */
  errorReply(error: unknown, requestId: string | undefined, path: string | undefined): HttpReply {
    const context: { requestId?: string; requestIdHeader: string; instance?: string } = { requestIdHeader: this.requestIdHeader };
    if (requestId !== undefined) context.requestId = requestId;
    if (path !== undefined) context.instance = path;
    return problemFromError(error, this.options.errors ?? {}, context);
  }

  private admit(start: RequestStart, verdict: RateLimitVerdict): RequestStart {
    const headers = start.headers as string[];
    for (const h of verdict.headers) headers.push(h);
    if (verdict.refusal !== undefined) start.reply = this.errorReply(verdict.refusal, start.requestId, start.path);
    else start.rateLimitKey = verdict.key;
    return start;
  }

  private refuse(start: RequestStart, error: unknown): RequestStart {
    start.reply = this.errorReply(error, start.requestId, start.path);
    return start;
  }
}

/** Status recorded for a request whose client went away before the answer was complete (nginx's convention). */
export const CLIENT_CLOSED_REQUEST = 499;

/**
 * The status to record for a response that closed: its status code when the answer was complete (ended),
 * else {@link CLIENT_CLOSED_REQUEST} (the client disconnected first). @internal
 */
export function closedStatus(res: ServerResponse): number {
  return res.writableEnded ? res.statusCode : CLIENT_CLOSED_REQUEST;
}
