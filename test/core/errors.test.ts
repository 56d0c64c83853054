import { describe, expect, it } from 'vitest';
import * as errors from '../../src/core/errors.js';

describe('errors', () => {
  it('carry a stable code, a name, retryAfterMs and cause', () => {
    const cause = new Error('root');
    const e = new errors.BrokenCircuitError('open', { retryAfterMs: 500, cause });
    expect(e).toBeInstanceOf(errors.ResilienceError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('CIRCUIT_OPEN');
    expect(e.name).toBe('BrokenCircuitError');
    expect(e.retryAfterMs).toBe(500);
    expect(e.cause).toBe(cause);
    expect(new errors.TimeoutError(100).message).toBe('Operation timed out after 100 ms');
  });

  it('guards recognise errors from another copy of the package by brand', () => {
    const foreign = Object.assign(new Error('x'), { code: 'TIMEOUT', [Symbol.for('antifragile.ResilienceError')]: true });
    expect(errors.isTimeoutError(foreign)).toBe(true);
    expect(errors.isBrokenCircuitError(foreign)).toBe(false);
    expect(errors.isResilienceError(new Error('plain'))).toBe(false);
    expect(errors.isResilienceError(null)).toBe(false);
  });

  it('every guard matches its own class', () => {
    const pairs: Array<[Error, (e: unknown) => boolean]> = [
      [new errors.BrokenCircuitError(), errors.isBrokenCircuitError],
      [new errors.TimeoutError(1), errors.isTimeoutError],
      [new errors.BulkheadFullError(), errors.isBulkheadFullError],
      [new errors.RateLimitedError(), errors.isRateLimitedError],
      [new errors.RetryBudgetExhaustedError(), errors.isRetryBudgetExhaustedError],
      [new errors.InjectedFaultError(), errors.isInjectedFaultError],
      [new errors.ConcurrencyLimitError(3), errors.isConcurrencyLimitError],
      [new errors.ThrottledError(0.5), errors.isThrottledError],
      [new errors.FallbackError(new Error('a'), new Error('b')), errors.isFallbackError],
    ];
    for (const [error, guard] of pairs) {
      expect(guard(error)).toBe(true);
      expect(pairs.filter(([, g]) => g(error))).toHaveLength(1);
    }
  });
});
