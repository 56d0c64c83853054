import { STATUS_CODES } from 'node:http';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { isResilienceError } from '../../core/errors.js';
import type { ResilienceErrorCode } from '../../core/errors.js';
import type { OptionsValidator } from '../../core/options.js';
import { isHttpError } from './http-error.js';
import type { HttpReply } from './http-reply.js';

/** Media type of an RFC 9457 problem body. */
export const PROBLEM_JSON_CONTENT_TYPE = 'application/problem+json';

/**
 * Shape of error bodies: `'problem'` is RFC 9457 `application/problem+json`; `'seed'` is the Go gateway's
 * `ErrorResponse` (`success, error, message, code, timestamp, request_id, service, retryable`) as `application/json`.
 */
export type ErrorBodyMode = 'problem' | 'seed';

/** An RFC 9457 problem body as {@link problemFromError} builds it. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** Stable code of a library error (`CIRCUIT_OPEN`...) or an {@link HttpError}. */
  code?: string;
  requestId?: string;
  /** Seconds until a retry may succeed (also sent as `Retry-After`). */
  retryAfter?: number;
  [extension: string]: unknown;
}

/** The Go seed's `ErrorResponse`. */
export interface SeedErrorResponse {
  success: false;
  /** Error type, e.g. `SERVICE_UNAVAILABLE`, `TIMEOUT`, `RATE_LIMITED`, `BAD_REQUEST`. */
  error: string;
  message: string;
  /** The HTTP status code. */
  code: number;
  /** ISO 8601 time of the answer. */
  timestamp: string;
  request_id?: string;
  service?: string;
  retryable: boolean;
}

/** How errors are turned into HTTP answers (shared by every server glue). */
export interface ErrorMappingOptions {
  /** Body shape. @default 'problem' */
  mode?: ErrorBodyMode;
  /** Service name put in seed-mode bodies (`service`). */
  service?: string;
  /**
   * Prefix of problem `type` URIs: with it a `CIRCUIT_OPEN` error gets `<prefix>circuit-open`; without it
   * every problem has `type: 'about:blank'`. @default undefined
   */
  typeBaseUri?: string;
  /** Whether the message of an unexpected error (answered 500) is shown; off, the detail is generic. @default false */
  exposeInternalErrors?: boolean;
  /** Source of the seed body's `timestamp`. @default systemClock */
  clock?: Clock;
}

/** Per-request facts for {@link problemFromError}. */
export interface ProblemContext {
  /** The request id, put in the body and the request id header. */
  requestId?: string;
  /** Header carrying the request id. @default 'x-request-id' */
  requestIdHeader?: string;
  /** The request path, as the problem's `instance`. */
  instance?: string;
}

const STATUS_OF_CODE: Partial<Record<ResilienceErrorCode, number>> = {
  CIRCUIT_OPEN: 503,
  BULKHEAD_FULL: 503,
  CONCURRENCY_LIMITED: 503,
  THROTTLED: 503,
  RETRY_BUDGET_EXHAUSTED: 503,
  TIMEOUT: 504,
  RATE_LIMITED: 429,
};

const SEED_TYPES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_ERROR',
  503: 'SERVICE_UNAVAILABLE',
  504: 'TIMEOUT',
};

/** Validates {@link ErrorMappingOptions} eagerly; throws `InvalidOptionsError` listing every bad field. @internal */
export function validateErrorMappingOptions(v: OptionsValidator, path: string, o: unknown): void {
  if (!v.object(path, o)) return;
  const e = o as ErrorMappingOptions;
  v.oneOf(`${path}.mode`, e.mode, ['problem', 'seed']);
  v.string(`${path}.service`, e.service);
  v.string(`${path}.typeBaseUri`, e.typeBaseUri);
  v.boolean(`${path}.exposeInternalErrors`, e.exposeInternalErrors);
  v.clock(`${path}.clock`, e.clock);
}

/** `Retry-After` seconds for a delay in milliseconds: rounded up, never negative. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

function numericStatus(error: object): number | undefined {
  const e = error as { status?: unknown; statusCode?: unknown };
  const s = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  return s !== undefined && Number.isInteger(s) && s >= 400 && s <= 599 ? s : undefined;
}

interface Classified {
  status: number;
  title: string;
  detail: string;
  code: string | undefined;
  retryAfterMs: number | undefined;
  extensions: Readonly<Record<string, unknown>>;
  headers: Readonly<Record<string, string>> | undefined;
}

const NO_EXTENSIONS: Readonly<Record<string, unknown>> = Object.freeze({});

function classify(error: unknown, expose: boolean): Classified {
  if (isHttpError(error)) {
    return {
      status: error.status,
      title: error.title,
      detail: error.message,
      code: error.code,
      retryAfterMs: error.retryAfterMs,
      extensions: error.extensions,
      headers: error.headers,
    };
  }
  if (isResilienceError(error)) {
    const status = STATUS_OF_CODE[error.code] ?? 500;
    return { status, title: STATUS_CODES[status] ?? 'Error', detail: error.message, code: error.code, retryAfterMs: error.retryAfterMs, extensions: NO_EXTENSIONS, headers: undefined };
  }
  if (typeof error === 'object' && error !== null) {
    const status = numericStatus(error);
    if (status !== undefined && status < 500) {
      // Framework errors (body parsers, routers) that already chose a client status.
      const message = (error as { message?: unknown }).message;
      const code = (error as { code?: unknown }).code;
      return {
        status,
        title: STATUS_CODES[status] ?? 'Error',
        detail: typeof message === 'string' && message !== '' ? message : (STATUS_CODES[status] ?? 'Error'),
        code: typeof code === 'string' ? code : undefined,
        retryAfterMs: undefined,
        extensions: NO_EXTENSIONS,
        headers: undefined,
      };
    }
  }
  const status = 500;
  const detail = expose && error instanceof Error ? error.message : 'The server failed to handle the request.';
  return { status, title: 'Internal Server Error', detail, code: undefined, retryAfterMs: undefined, extensions: NO_EXTENSIONS, headers: undefined };
}

/**
 * Turns any error into a complete HTTP answer. Library errors map as the issue asks: open circuit, full
 * bulkhead, shed load, throttling and a spent retry budget → 503; timeout → 504; rate limited → 429, with
 * `Retry-After` (seconds, rounded up) when the breaker or limiter knows `retryAfterMs`. An {@link HttpError}
 * keeps its status, and its extra headers (`WWW-Authenticate`...) go on the answer; framework errors with a 4xx `status`/`statusCode` (Express and Fastify body parsers:
 * malformed JSON 400, oversized body 413) keep theirs; anything else is a 500 whose detail is hidden unless
 * `exposeInternalErrors`. The request id goes in the body and in the request id header.
 *
 * @example
 * const reply = problemFromError(new BrokenCircuitError('open', { retryAfterMs: 1500 }), {}, { requestId: 'abc' });
 * // reply.status 503, reply.headers['retry-after'] '2', body { type, title, status, detail, code: 'CIRCUIT_OPEN', requestId: 'abc', retryAfter: 2 }
 */
export function problemFromError(error: unknown, options: ErrorMappingOptions = {}, context: ProblemContext = {}): HttpReply {
  const c = classify(error, options.exposeInternalErrors === true);
  const headers: Record<string, string> = { ...c.headers };
  const retryAfter = c.retryAfterMs !== undefined && Number.isFinite(c.retryAfterMs) ? retryAfterSeconds(c.retryAfterMs) : undefined;
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  if (context.requestId !== undefined) headers[context.requestIdHeader ?? 'x-request-id'] = context.requestId;

  if (options.mode === 'seed') {
    const body: SeedErrorResponse = {
      success: false,
      error: SEED_TYPES[c.status] ?? c.title.toUpperCase().replace(/[^A-Z0-9]+/g, '_'),
      message: c.detail,
      code: c.status,
      timestamp: new Date((options.clock ?? systemClock).now()).toISOString(),
      retryable: c.status === 503 || c.status === 504 || c.status === 429,
    };
    if (context.requestId !== undefined) body.request_id = context.requestId;
    if (options.service !== undefined) body.service = options.service;
    headers['content-type'] = 'application/json';
    return { status: c.status, headers, body: JSON.stringify(body) };
  }

  const slug = c.code !== undefined ? c.code.toLowerCase().replace(/_/g, '-') : String(c.status);
  const body: ProblemDetails = {
    ...c.extensions,
    type: options.typeBaseUri !== undefined ? `${options.typeBaseUri}${slug}` : 'about:blank',
    title: c.title,
    status: c.status,
    detail: c.detail,
  };
  if (context.instance !== undefined) body.instance = context.instance;
  if (c.code !== undefined) body.code = c.code;
  if (context.requestId !== undefined) body.requestId = context.requestId;
  if (retryAfter !== undefined) body.retryAfter = retryAfter;
  headers['content-type'] = PROBLEM_JSON_CONTENT_TYPE;
  return { status: c.status, headers, body: JSON.stringify(body) };
}
