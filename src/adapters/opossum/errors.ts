const OUR_ERROR = Symbol.for('antifragile.opossum.OurError');

/**
 * Codes of the errors the opossum facade raises itself, as opossum 10 spells them:
 * - `EOPENBREAKER`: the circuit is open (or half-open with its probe taken) and the call was refused.
 * - `ETIMEDOUT`: the action did not settle within `options.timeout` milliseconds.
 * - `ESEMLOCKED`: `options.capacity` calls were already in flight.
 * - `ESHUTDOWN`: the breaker was shut down.
 */
export type OpossumErrorCode = 'EOPENBREAKER' | 'ETIMEDOUT' | 'ESEMLOCKED' | 'ESHUTDOWN';

/**
 * An error raised by the breaker rather than by the action. Like opossum's own errors it is a plain
 * `Error` (its `name` is `'Error'`) with a `code`; recognise it with {@link isOurError}, which also works
 * across two copies of this package.
 */
export class OpossumError extends Error {
  /** Stable machine-readable code, see {@link OpossumErrorCode}. */
  readonly code: OpossumErrorCode;
  /** @internal brand read by {@link isOurError} */
  readonly [OUR_ERROR] = true;

  constructor(message: string, code: OpossumErrorCode) {
    super(message);
    this.code = code;
  }
}

/**
 * Whether `error` was raised by the breaker (open, timeout, capacity, shutdown) rather than by the action.
 * Unlike opossum's, it returns `false` for `null` and `undefined` instead of throwing.
 */
export function isOurError(error: unknown): error is OpossumError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[OUR_ERROR] === true;
}
