import { describe, expect, it } from 'vitest';
import { CircuitBreakerWithRetry } from '../../src/policies/circuit-breaker-with-retry.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { isBrokenCircuitError, isTimeoutError } from '../../src/core/errors.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const codeError = (code: string | number): Error => Object.assign(new Error(`code ${code}`), { code });

describe('CircuitBreakerWithRetry (Go gateway seed)', () => {
  it('retries a transient failure with exponential backoff and returns the success', async () => {
    const clock = new VirtualClock();
    const cbr = new CircuitBreakerWithRetry({}, { initialDelayMs: 100, multiplier: 2, jitter: false }, clock);
    const startedAt: number[] = [];
    let calls = 0;
    const result = cbr.execute(async () => {
      startedAt.push(clock.now());
      if (++calls < 3) throw codeError('UNAVAILABLE');
      return 'quote';
    });
    await clock.runAllAsync();
    await expect(result).resolves.toBe('quote');
    expect(startedAt).toEqual([0, 100, 300]);
    expect(cbr.state).toBe('closed');
  });

  it('retries only the retryable codes', async () => {
    const clock = new VirtualClock();
    const cbr = new CircuitBreakerWithRetry({}, { retryableCodes: [14, 'ECONNRESET'], jitter: false }, clock);
    let calls = 0;
    const invalid = codeError(3);
    const call = cbr.execute(async () => {
      calls++;
      throw invalid;
    }).catch((e: unknown) => e);
    await clock.runAllAsync();
    expect(await call).toBe(invalid);
    expect(calls).toBe(1);
    calls = 0;
    const retried = cbr.execute(async () => {
      calls++;
      throw codeError(14);
    }).catch((e: unknown) => e);
    await clock.runAllAsync();
    expect(await retried).toMatchObject({ code: 14 });
    expect(calls).toBe(4);
  });

  it('opens after maxFailures consecutive failures and then fails fast without retrying', async () => {
    const clock = new VirtualClock();
    const cbr = new CircuitBreakerWithRetry({ maxFailures: 3, resetTimeoutMs: 1_000 }, { maxRetries: 5, jitter: false }, clock);
    let calls = 0;
    const call = cbr.execute(async () => {
      calls++;
      throw new Error('core engine down');
    }).catch((e: unknown) => e);
    await clock.runAllAsync();
    const error = await call;
    expect(isBrokenCircuitError(error)).toBe(true);
    expect(calls).toBe(3);
    expect(cbr.state).toBe('open');
    clock.advance(1_000);
    await expect(cbr.execute(() => 'recovered')).resolves.toBe('recovered');
    expect(cbr.state).toBe('closed');
  });

  it('bounds each attempt with its own timeout', async () => {
    const clock = new VirtualClock();
    const cbr = new CircuitBreakerWithRetry({ timeoutMs: 50 }, { maxRetries: 1, jitter: false, initialDelayMs: 10 }, clock);
    const call = cbr
      .execute(({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))))
      .catch((e: unknown) => e);
    await clock.runAllAsync();
    const error = await call;
    expect(isTimeoutError(error)).toBe(true);
    expect(clock.now()).toBe(110);
    expect(cbr.metrics().totals.failures).toBe(2);
  });

  it('names every bad option', () => {
    expect(() => new CircuitBreakerWithRetry({ maxFailures: 0 }, { multiplier: 0.5, maxRetries: -1 })).toThrow(InvalidOptionsError);
    try {
      new CircuitBreakerWithRetry({ maxFailures: 0 }, { multiplier: 0.5, maxRetries: -1 });
    } catch (e) {
      expect((e as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['breaker.maxFailures', 'retry.maxRetries', 'retry.multiplier']);
    }
  });

  it('names a bad breaker name, jitter and clock', () => {
    try {
      new CircuitBreakerWithRetry({ name: 42 as never }, { jitter: 'yes' as never }, {} as never);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidOptionsError);
      expect((e as InvalidOptionsError).issues.map((i) => `${i.path}: ${i.expected}`)).toEqual([
        'breaker.name: a string',
        'retry.jitter: a boolean',
        'clock: a Clock with now() and schedule()',
      ]);
    }
    expect(() => new CircuitBreakerWithRetry(null as never, null as never)).toThrow(/breaker: expected an object[\s\S]*retry: expected an object/);
    expect(() => new CircuitBreakerWithRetry({ name: 'quotes' }, { jitter: false }, new VirtualClock())).not.toThrow();
  });
});
