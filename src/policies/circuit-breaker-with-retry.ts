import type { Clock } from '../core/clock.js';
import { isBrokenCircuitError } from '../core/errors.js';
import { OptionsValidator } from '../core/options.js';
import { ExponentialBackoff } from './backoff/exponential-backoff.js';
import { CircuitBreaker, type CircuitBreakerMetrics, type CircuitState } from './circuit-breaker.js';
import { pipeline, type Pipeline } from './pipeline.js';
import type { ExecuteOptions, Policy, PolicyFunction } from './policy.js';
import { Retry } from './retry.js';
import { Timeout } from './timeout.js';

/** Breaker settings in the Go gateway seed's names (`CircuitBreakerConfig`). */
export interface GatewayBreakerConfig {
  /** Consecutive failures that open the circuit. @default 5 */
  maxFailures?: number;
  /** Time budget of each attempt, in ms; 0 disables it. @default 30_000 */
  timeoutMs?: number;
  /** How long the circuit stays open before a probe, in ms. @default 60_000 */
  resetTimeoutMs?: number;
  /** Breaker name. @default 'gateway' */
  name?: string;
}

/** Retry settings in the Go gateway seed's names (`RetryConfig`). */
export interface GatewayRetryConfig {
  /** Retries after the first attempt. @default 3 */
  maxRetries?: number;
  /** Delay before the first retry, in ms. @default 100 */
  initialDelayMs?: number;
  /** Largest delay, in ms. @default 5_000 */
  maxDelayMs?: number;
  /** Growth factor per retry. @default 2 */
  multiplier?: number;
  /** Spread delays at random ("full jitter") so clients do not retry in lockstep. @default true */
  jitter?: boolean;
  /**
   * Error codes worth retrying, matched against the error's `code` property (string or number, e.g. gRPC
   * `14` UNAVAILABLE or `'ECONNRESET'`). When set, other errors are not retried.
   */
  retryableCodes?: ReadonlyArray<string | number>;
  /** Custom retryable-error predicate, checked after `retryableCodes`. @default every error */
  isRetryable?: (error: unknown) => boolean;
}

/**
 * The Go gateway seed's `CircuitBreakerWithRetry`, built from the library's policies: exponential retry with
 * jitter around a consecutive-failure breaker around a per-attempt timeout. An open circuit is never retried:
 * the call fails fast with the `BrokenCircuitError`.
 *
 * @example
 * ```ts
 * const coreEngine = new CircuitBreakerWithRetry({ maxFailures: 5, resetTimeoutMs: 60_000 }, { maxRetries: 3 });
 * const quote = await coreEngine.execute(({ signal }) => client.getMarketData(req, { signal }));
 * ```
 */
export class CircuitBreakerWithRetry implements Policy {
  /** The breaker, for state, events and manual control. */
  readonly breaker: CircuitBreaker;
  /** The retry policy, for its events. */
  readonly retry: Retry;
  private readonly policy: Pipeline;

  /**
   * @param clock source of time and timers of the breaker, the retry waits and the timeout.
   *   Defaults to `systemClock`.
   * @throws InvalidOptionsError listing every invalid option.
   */
  constructor(breakerConfig: GatewayBreakerConfig = {}, retryConfig: GatewayRetryConfig = {}, clock?: Clock) {
    const v = new OptionsValidator('CircuitBreakerWithRetry');
    if (v.object('breaker', breakerConfig)) {
      v.integer('breaker.maxFailures', breakerConfig.maxFailures, 1);
      v.duration('breaker.timeoutMs', breakerConfig.timeoutMs);
      v.duration('breaker.resetTimeoutMs', breakerConfig.resetTimeoutMs);
      v.string('breaker.name', breakerConfig.name);
    }
    if (v.object('retry', retryConfig)) {
      v.integer('retry.maxRetries', retryConfig.maxRetries, 0);
      v.duration('retry.initialDelayMs', retryConfig.initialDelayMs);
      v.duration('retry.maxDelayMs', retryConfig.maxDelayMs);
      v.number('retry.multiplier', retryConfig.multiplier, { min: 1 });
      v.boolean('retry.jitter', retryConfig.jitter);
      if (retryConfig.retryableCodes !== undefined && !Array.isArray(retryConfig.retryableCodes)) {
        v.fail('retry.retryableCodes', 'an array of codes', retryConfig.retryableCodes);
      }
      v.func('retry.isRetryable', retryConfig.isRetryable);
    }
    v.clock('clock', clock);
    v.throwIfInvalid();

    const clockOption = clock === undefined ? {} : { clock };
    this.breaker = new CircuitBreaker({
      name: breakerConfig.name ?? 'gateway',
      window: { type: 'consecutive', failures: breakerConfig.maxFailures ?? 5 },
      openMs: breakerConfig.resetTimeoutMs ?? 60_000,
      ...clockOption,
    });
    const codes = retryConfig.retryableCodes === undefined ? undefined : new Set(retryConfig.retryableCodes);
    const isRetryable = retryConfig.isRetryable;
    this.retry = new Retry({
      maxAttempts: (retryConfig.maxRetries ?? 3) + 1,
      backoff: new ExponentialBackoff({
        initialMs: retryConfig.initialDelayMs ?? 100,
        maxMs: Math.max(retryConfig.maxDelayMs ?? 5_000, retryConfig.initialDelayMs ?? 100),
        factor: retryConfig.multiplier ?? 2,
        jitter: retryConfig.jitter === false ? 'none' : 'full',
      }),
      shouldRetry: (error) => {
        if (isBrokenCircuitError(error)) return false;
        if (codes !== undefined && !codes.has((error as { code?: string | number } | null)?.code as string | number)) {
          return false;
        }
        return isRetryable === undefined || isRetryable(error);
      },
      ...clockOption,
    });
    const timeoutMs = breakerConfig.timeoutMs ?? 30_000;
    this.policy =
      timeoutMs > 0
        ? pipeline(this.retry, this.breaker, new Timeout({ ms: timeoutMs, ...clockOption }))
        : pipeline(this.retry, this.breaker);
  }

  /** Runs `fn` with retries around the breaker (and the per-attempt timeout). */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    return this.policy.execute(fn, options);
  }

  /** The breaker's state. */
  get state(): CircuitState {
    return this.breaker.state;
  }

  /** The breaker's metrics. */
  metrics(): CircuitBreakerMetrics {
    return this.breaker.metrics();
  }
}
