const BRAND = Symbol.for('antifragile.ResilienceError');

/**
 * Puts `name` (and, on the base class, the brand) on the prototype rather than on every instance, so
 * creating an error (an open circuit refuses thousands per second) costs no extra field initialisers.
 */
function nameErrorClass(errorClass: { prototype: Error; name: string }): void {
  Object.defineProperty(errorClass.prototype, 'name', { value: errorClass.name, writable: true, configurable: true });
}

/** Stable codes carried by every {@link ResilienceError}. */
export type ResilienceErrorCode =
  | 'CIRCUIT_OPEN'
  | 'TIMEOUT'
  | 'BULKHEAD_FULL'
  | 'RATE_LIMITED'
  | 'RETRY_BUDGET_EXHAUSTED'
  | 'INJECTED_FAULT'
  | 'CONCURRENCY_LIMITED'
  | 'THROTTLED'
  | 'FALLBACK_FAILED'
  | 'RECOVERY_FAILED'
  | 'RECOVERY_REFUSED'
  | 'CHECKPOINT_NOT_FOUND'
  | 'WEBHOOK_FAILED'
  | 'CACHE_SERIALIZATION'
  | 'CHAOS_REFUSED'
  | 'GAME_DAY_LOCKED';

/** Options shared by every resilience error. */
export interface ResilienceErrorOptions {
  /** The error this one wraps. */
  cause?: unknown;
  /** When known, how long until a retry may succeed, in milliseconds. */
  retryAfterMs?: number;
}

/**
 * Base class of every error the library raises on purpose. Each subclass has a stable {@link code}; use the
 * `isXError()` guards rather than `instanceof` so errors from two copies of the package are recognised.
 */
export class ResilienceError extends Error {
  /** Stable machine-readable code. */
  readonly code: ResilienceErrorCode;
  /** Milliseconds after which a retry may succeed, when known. */
  readonly retryAfterMs: number | undefined;

  constructor(code: ResilienceErrorCode, message: string, options?: ResilienceErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterMs = options?.retryAfterMs;
  }

}
nameErrorClass(ResilienceError);
Object.defineProperty(ResilienceError.prototype, BRAND, { value: true });

/** Raised when a circuit breaker refuses a call because it is open, isolated or out of half-open probes. */
export class BrokenCircuitError extends ResilienceError {
  /** Whether the circuit was forced open by hand (`isolate()`). */
  readonly isolated: boolean;
  constructor(message = 'Circuit is open', options?: ResilienceErrorOptions & { isolated?: boolean }) {
    super('CIRCUIT_OPEN', message, options);
    this.isolated = options?.isolated ?? false;
  }
}
nameErrorClass(BrokenCircuitError);

/** Raised when a call did not finish within its time budget. */
export class TimeoutError extends ResilienceError {
  /** The budget that was exceeded, in milliseconds. */
  readonly timeoutMs: number;
  constructor(timeoutMs: number, options?: ResilienceErrorOptions) {
    super('TIMEOUT', `Operation timed out after ${timeoutMs} ms`, options);
    this.timeoutMs = timeoutMs;
  }
}
nameErrorClass(TimeoutError);

/** Raised when a bulkhead has no free slot and no room in its queue. */
export class BulkheadFullError extends ResilienceError {
  constructor(message = 'Bulkhead is full', options?: ResilienceErrorOptions) {
    super('BULKHEAD_FULL', message, options);
  }
}
nameErrorClass(BulkheadFullError);

/** Raised when a rate limiter refuses a call; `retryAfterMs` says when a permit frees up. */
export class RateLimitedError extends ResilienceError {
  constructor(message = 'Rate limit exceeded', options?: ResilienceErrorOptions) {
    super('RATE_LIMITED', message, options);
  }
}
nameErrorClass(RateLimitedError);

/** Raised when a retry is refused because the shared retry budget is spent; carries the last error as `cause`. */
export class RetryBudgetExhaustedError extends ResilienceError {
  constructor(message = 'Retry budget exhausted', options?: ResilienceErrorOptions) {
    super('RETRY_BUDGET_EXHAUSTED', message, options);
  }
}
nameErrorClass(RetryBudgetExhaustedError);

/** Raised by chaos fault injection. */
export class InjectedFaultError extends ResilienceError {
  constructor(message = 'Injected fault', options?: ResilienceErrorOptions) {
    super('INJECTED_FAULT', message, options);
  }
}
nameErrorClass(InjectedFaultError);

/** Raised when chaos is refused: a production environment without explicit permission, safe mode, a fault kind not allowed. */
export class ChaosRefusedError extends ResilienceError {
  constructor(message: string, options?: ResilienceErrorOptions) {
    super('CHAOS_REFUSED', message, options);
  }
}
nameErrorClass(ChaosRefusedError);

/** Raised when an adaptive concurrency limit sheds a call. */
export class ConcurrencyLimitError extends ResilienceError {
  /** The limit in force when the call was shed. */
  readonly limit: number;
  constructor(limit: number, options?: ResilienceErrorOptions) {
    super('CONCURRENCY_LIMITED', `Concurrency limit of ${limit} reached`, options);
    this.limit = limit;
  }
}
nameErrorClass(ConcurrencyLimitError);

/** Raised when client-side adaptive throttling rejects a call locally. */
export class ThrottledError extends ResilienceError {
  /** The rejection probability in force, 0..1. */
  readonly probability: number;
  constructor(probability: number, options?: ResilienceErrorOptions) {
    super('THROTTLED', `Call throttled locally (rejection probability ${probability.toFixed(3)})`, options);
    this.probability = probability;
  }
}
nameErrorClass(ThrottledError);

/**
 * Raised when a fallback function itself throws something other than the original error (or an error
 * with the original as `cause`). `cause` is the original error; `fallbackError` what the fallback threw.
 */
export class FallbackError extends ResilienceError {
  /** What the fallback function threw. */
  readonly fallbackError: unknown;
  constructor(original: unknown, fallbackError: unknown) {
    super('FALLBACK_FAILED', `Fallback failed: ${fallbackError instanceof Error ? fallbackError.message : String(fallbackError)}`, {
      cause: original,
    });
    this.fallbackError = fallbackError;
  }
}
nameErrorClass(FallbackError);

/** Whether `error` is any {@link ResilienceError}, from this or another copy of the package. */
export function isResilienceError(error: unknown): error is ResilienceError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

function hasCode(error: unknown, code: ResilienceErrorCode): boolean {
  return isResilienceError(error) && error.code === code;
}

const LOCAL_REFUSALS: ReadonlySet<ResilienceErrorCode> = new Set<ResilienceErrorCode>([
  'CIRCUIT_OPEN',
  'BULKHEAD_FULL',
  'RATE_LIMITED',
  'CONCURRENCY_LIMITED',
  'THROTTLED',
  'RETRY_BUDGET_EXHAUSTED',
]);

/**
 * Whether `error` is a refusal made locally by a policy (open circuit, full bulkhead, rate limit, shed load,
 * throttling, spent retry budget): the call never reached the dependency, so it says nothing about its health.
 */
export function isLocalRefusalError(error: unknown): error is ResilienceError {
  return isResilienceError(error) && LOCAL_REFUSALS.has(error.code);
}

/** Whether `error` is a {@link BrokenCircuitError}. */
export const isBrokenCircuitError = (error: unknown): error is BrokenCircuitError => hasCode(error, 'CIRCUIT_OPEN');
/** Whether `error` is a {@link TimeoutError}. */
export const isTimeoutError = (error: unknown): error is TimeoutError => hasCode(error, 'TIMEOUT');
/** Whether `error` is a {@link BulkheadFullError}. */
export const isBulkheadFullError = (error: unknown): error is BulkheadFullError => hasCode(error, 'BULKHEAD_FULL');
/** Whether `error` is a {@link RateLimitedError}. */
export const isRateLimitedError = (error: unknown): error is RateLimitedError => hasCode(error, 'RATE_LIMITED');
/** Whether `error` is a {@link RetryBudgetExhaustedError}. */
export const isRetryBudgetExhaustedError = (error: unknown): error is RetryBudgetExhaustedError =>
  hasCode(error, 'RETRY_BUDGET_EXHAUSTED');
/** Whether `error` is an {@link InjectedFaultError}. */
export const isInjectedFaultError = (error: unknown): error is InjectedFaultError => hasCode(error, 'INJECTED_FAULT');
/** Whether `error` is a {@link ChaosRefusedError}. */
export const isChaosRefusedError = (error: unknown): error is ChaosRefusedError => hasCode(error, 'CHAOS_REFUSED');
/** Whether `error` is a {@link ConcurrencyLimitError}. */
export const isConcurrencyLimitError = (error: unknown): error is ConcurrencyLimitError =>
  hasCode(error, 'CONCURRENCY_LIMITED');
/** Whether `error` is a {@link FallbackError}. */
export const isFallbackError = (error: unknown): error is FallbackError => hasCode(error, 'FALLBACK_FAILED');
/** Whether `error` is a {@link ThrottledError}. */
export const isThrottledError = (error: unknown): error is ThrottledError => hasCode(error, 'THROTTLED');
