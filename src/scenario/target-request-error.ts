const BRAND = Symbol.for('antifragile.TargetRequestError');

/**
 * Raised by {@link ChaosAdminClient} and {@link ProxyApiClient} when a request to a target's admin endpoint or
 * to a fault proxy's API fails: refused (`status` and the RFC 9457 problem's `detail`), unreachable or timed
 * out (`status` 0, the network error as `cause`).
 */
export class TargetRequestError extends Error {
  override readonly name: string = 'TargetRequestError';
  /** Stable machine-readable code. */
  readonly code = 'TARGET_REQUEST_FAILED' as const;
  /** HTTP status of the answer; 0 when there was none. */
  readonly status: number;
  /** The problem document the target answered with, when it sent one. */
  readonly problem: Record<string, unknown> | undefined;
  constructor(message: string, options: { status: number; problem?: Record<string, unknown>; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.problem = options.problem;
  }
}
Object.defineProperty(TargetRequestError.prototype, BRAND, { value: true });

/** Whether `error` is a {@link TargetRequestError} (from any copy of the package). */
export function isTargetRequestError(error: unknown): error is TargetRequestError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}
