/** Options of an {@link HttpError}. */
export interface HttpErrorOptions {
  /** Extra members copied into the problem body. @default {} */
  extensions?: Record<string, unknown>;
  /** How long until a retry may succeed, in milliseconds; sent as `Retry-After` (seconds, rounded up). */
  retryAfterMs?: number;
  /** Stable machine-readable code put in the body (`code`), e.g. `READ_ONLY`. */
  code?: string;
  /** The error this one wraps. */
  cause?: unknown;
}

/**
 * An error that already knows its HTTP answer: bad input (malformed JSON, an oversized body, a wrong media
 * type), a refusal by the degradation gate, or any status an application handler wants to answer with.
 * {@link problemFromError} answers it with its own status, title and detail.
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
  }
}
Object.defineProperty(HttpError.prototype, 'name', { value: 'HttpError', writable: true, configurable: true });

/** Whether `error` is an {@link HttpError}. */
export function isHttpError(error: unknown): error is HttpError {
  return error instanceof HttpError;
}
