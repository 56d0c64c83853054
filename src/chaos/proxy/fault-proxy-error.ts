const BRAND = Symbol.for('antifragile.FaultProxyError');

/** Stable codes of a {@link FaultProxyError}. */
export type FaultProxyErrorCode =
  | 'PROXY_NOT_FOUND'
  | 'PROXY_EXISTS'
  | 'TOXIC_NOT_FOUND'
  | 'TOXIC_EXISTS'
  | 'PROXY_LISTEN_FAILED';

/**
 * Raised by a {@link FaultProxy} or {@link ProxyRegistry} for a name that is unknown (`PROXY_NOT_FOUND`,
 * `TOXIC_NOT_FOUND`) or already taken (`PROXY_EXISTS`, `TOXIC_EXISTS`), and when a proxy cannot listen on its
 * address (`PROXY_LISTEN_FAILED`, with the socket error as `cause`). Invalid options and attributes raise
 * `InvalidOptionsError` instead.
 */
export class FaultProxyError extends Error {
  /** Stable machine-readable code. */
  readonly code: FaultProxyErrorCode;
  constructor(code: FaultProxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
Object.defineProperty(FaultProxyError.prototype, 'name', { value: 'FaultProxyError', writable: true, configurable: true });
Object.defineProperty(FaultProxyError.prototype, BRAND, { value: true });

/** Whether `error` is a {@link FaultProxyError} (also from another copy of the package). */
export function isFaultProxyError(error: unknown): error is FaultProxyError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}
