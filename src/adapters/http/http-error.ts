/** One invalid field of a request, as listed in the `errors` member of a 400 problem ({@link HttpError.invalid}). */
export interface ProblemIssue {
  /** Where the bad value is, e.g. `body`, `level`, `fault.latencyMs`. */
  path: string;
  /** What was expected there. */
  expected: string;
  /** What was received instead. */
  received: string;
}

/** Options of an {@link HttpError}. */
export interface HttpErrorOptions {
  /** Extra members copied into the problem body. @default {} */
  extensions?: Record<string, unknown>;
  /** How long until a retry may succeed, in milliseconds; sent as `Retry-After` (seconds, rounded up). */
  retryAfterMs?: number;
  /** Stable machine-readable code put in the body (`code`), e.g. `READ_ONLY`. */
  code?: string;
  /**
   * Extra response headers, lower-case names, e.g. `{ 'www-authenticate': 'Bearer' }` on a 401. They cannot
   * replace `content-type`, `retry-after` or the request id header. @default {}
   */
  headers?: Record<string, string>;
  /** The error this one wraps. */
  cause?: unknown;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * An error that already knows its HTTP answer: bad input (malformed JSON, an oversized body, a wrong media
 * type, invalid fields), a refusal by the degradation gate or the admin API, or any status an application
 * handler wants to answer with. {@link problemFromError} answers it with its own status, title, detail,
 * extensions and headers.
 */
export class HttpError extends Error {
  /** HTTP status code, 400..599. */
  readonly status: number;
  /** Short human-readable summary (RFC 9457 `title`). */
  readonly title: string;
  /** Extra members copied into the problem body. */
  readonly extensions: Readonly<Record<string, unknown>>;
  /** Milliseconds after which a retry may succeed, when known. */
  readonly retryAfterMs: number | undefined;
  /** Stable machine-readable code, when given. */
  readonly code: string | undefined;
  /** Extra response headers (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * @param status HTTP status code (400..599).
   * @param title RFC 9457 `title`, e.g. `Bad Request`.
   * @param detail RFC 9457 `detail`: what went wrong with this request.
   */
  constructor(status: number, title: string, detail: string, options: HttpErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.title = title;
    this.extensions = options.extensions ?? {};
    this.retryAfterMs = options.retryAfterMs;
    this.code = options.code;
    this.headers = options.headers ?? NO_HEADERS;
  }

  /**
   * A 400 listing every invalid field: the detail names each one, the body's `errors` member lists them.
   *
   * @example
   * throw HttpError.invalid([{ path: 'level', expected: 'one of full, minimal', received: '"max"' }]);
   */
  static invalid(issues: readonly ProblemIssue[]): HttpError {
    const detail = issues.map((i) => `${i.path}: expected ${i.expected}, received ${i.received}`).join('; ');
    return new HttpError(400, 'Bad Request', detail, { extensions: { errors: issues.map(({ path, expected, received }) => ({ path, expected, received })) } });
  }

  /** A 405 for `method` on `path` (an empty path is shown as `/`). */
  static methodNotAllowed(method: string, path: string): HttpError {
    return new HttpError(405, 'Method Not Allowed', `${method} is not allowed on ${path === '' ? '/' : path}`);
  }

  /** A 401 asking for a bearer token (`WWW-Authenticate: Bearer`). */
  static unauthorized(detail: string): HttpError {
    return new HttpError(401, 'Unauthorized', detail, { headers: { 'www-authenticate': 'Bearer' } });
  }
}
Object.defineProperty(HttpError.prototype, 'name', { value: 'HttpError', writable: true, configurable: true });

/** Whether `error` is an {@link HttpError}. */
export function isHttpError(error: unknown): error is HttpError {
  return error instanceof HttpError;
}
