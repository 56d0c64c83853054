import { systemClock, type Clock } from '../core/clock.js';
import type { Listener, Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { backoff as backoffs, type Backoff } from '../policies/backoff/index.js';
import type { ExecuteOptions, PolicyContext, PolicyFunction } from '../policies/policy.js';
import { Retry, type RetryEvents } from '../policies/retry.js';
import { RecoveryFailedError } from './errors.js';
import type { RecoveryRequest, RecoveryStrategy } from './recovery-strategy.js';

/** How the delay between attempts grows. */
export type BackoffStrategyName = 'exponential' | 'linear' | 'fixed';

/** Options of {@link RetryRecovery}, in the seed's names. */
export interface RetryRecoveryConfig {
  /** Strategy name. */
  name: string;
  /**
   * Attempts in all (the first included), >= 1.
   * @default 3
   */
  maxAttempts?: number;
  /**
   * `'exponential'`: `initialDelay * backoffMultiplier ** (n - 1)`; `'linear'`: `initialDelay * n`;
   * `'fixed'`: `initialDelay`; each capped at `maxDelay`, for the n-th retry.
   * @default 'exponential'
   */
  backoffStrategy?: BackoffStrategyName;
  /**
   * Delay before the first retry, in milliseconds.
   * @default 1_000
   */
  initialDelay?: number;
  /**
   * Longest delay, in milliseconds, >= `initialDelay`.
   * @default 30_000
   */
  maxDelay?: number;
  /**
   * Growth per retry of the exponential strategy, >= 1.
   * @default 2
   */
  backoffMultiplier?: number;
  /**
   * Spread of each delay, 0..1: the delay `d` becomes a random value in `d * (1 ± jitterFactor)`, capped at
   * `maxDelay`. 0 waits exactly `d`.
   * @default 0
   */
  jitterFactor?: number;
  /**
   * Whether an error is worth retrying.
   * @default every error (or those named in `retryableErrors`)
   */
  shouldRetry?: (error: unknown) => boolean;
  /** Error `name`s or `code`s worth retrying; others are not. @default every error */
  retryableErrors?: readonly string[];
  /** Source of time for the waits. @default systemClock */
  clock?: Clock;
  /** Randomness for the jitter, numbers in [0, 1). @default Math.random */
  random?: () => number;
}

const BACKOFF_NAMES: readonly BackoffStrategyName[] = ['exponential', 'linear', 'fixed'];

/**
 * Spreads the delays of a base strategy by ± `factor` of each delay (the seed's `jitterFactor`), capped at
 * `maxMs`. @internal
 */
class ProportionalJitter implements Backoff {
  constructor(
    private readonly base: Backoff,
    private readonly factor: number,
    private readonly maxMs: number,
    private readonly random: () => number,
  ) {}
  delayMs(retry: number, previousDelayMs: number): number {
    const d = this.base.delayMs(retry, previousDelayMs);
    const r = this.random();
    const unit = r > 0 ? (r < 1 ? r : 1) : 0;
    const jittered = d * (1 + this.factor * (2 * unit - 1));
    return jittered > 0 ? (jittered < this.maxMs ? jittered : this.maxMs) : 0;
  }
}

/**
 * Retry with backoff as a recovery strategy: the seed's `createRetry`, running on the {@link Retry} policy
 * and the `backoff` strategies. `execute(fn)` runs `fn` until it succeeds or attempts run out.
 *
 * @example
 * ```ts
 * const retry = RecoveryStrategyFactory.createRetry({ name: 'exponential-retry', maxAttempts: 5,
 *   backoffStrategy: 'exponential', initialDelay: 1000, maxDelay: 30000, backoffMultiplier: 2, jitterFactor: 0.1 });
 * const result = await retry.execute(async () => unreliableOperation());
 * ```
 */
export class RetryRecovery implements RecoveryStrategy {
  readonly type = 'retry' as const;
  readonly name: string;
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  private readonly retry: Retry;

  /** @throws InvalidOptionsError listing every bad option. */
  constructor(config: RetryRecoveryConfig) {
    const v = new OptionsValidator('RetryRecovery');
    const c: Partial<RetryRecoveryConfig> | undefined = config;
    if (v.required('config', c, 'an object') && v.object('config', c)) {
      if (v.required('name', c.name, 'a non-empty string')) v.string('name', c.name);
      v.integer('maxAttempts', c.maxAttempts, 1);
      v.oneOf('backoffStrategy', c.backoffStrategy, BACKOFF_NAMES);
      v.duration('initialDelay', c.initialDelay);
      v.duration('maxDelay', c.maxDelay);
      v.number('backoffMultiplier', c.backoffMultiplier, { min: 1 });
      v.rate('jitterFactor', c.jitterFactor);
      v.func('shouldRetry', c.shouldRetry);
      if (c.retryableErrors !== undefined && !(Array.isArray(c.retryableErrors) && c.retryableErrors.every((e) => typeof e === 'string'))) {
        v.fail('retryableErrors', 'an array of strings', c.retryableErrors);
      }
      v.clock('clock', c.clock);
      v.func('random', c.random);
      const initial = c.initialDelay ?? 1_000;
      const max = c.maxDelay ?? 30_000;
      if (typeof initial === 'number' && typeof max === 'number' && max < initial) v.fail('maxDelay', `a number >= initialDelay (${initial})`, max);
    }
    v.throwIfInvalid();
    this.name = config.name;
    this.maxAttempts = config.maxAttempts ?? 3;
    const initialMs = config.initialDelay ?? 1_000;
    const maxMs = config.maxDelay ?? 30_000;
    const random = config.random ?? Math.random;
    let base: Backoff;
    switch (config.backoffStrategy ?? 'exponential') {
      case 'exponential':
        base = backoffs.exponential({ initialMs, maxMs, factor: config.backoffMultiplier ?? 2, jitter: 'none' });
        break;
      case 'linear':
        base = backoffs.linear({ initialMs, stepMs: initialMs, maxMs, jitter: 'none' });
        break;
      case 'fixed':
        base = backoffs.constant({ delayMs: initialMs });
        break;
    }
    const jitter = config.jitterFactor ?? 0;
    const strategy = jitter > 0 ? new ProportionalJitter(base, jitter, maxMs, random) : base;
    const shouldRetry = config.shouldRetry;
    const retryable = config.retryableErrors === undefined ? undefined : new Set(config.retryableErrors);
    this.retry = new Retry({
      name: config.name,
      maxAttempts: this.maxAttempts,
      backoff: strategy,
      maxRetryAfterMs: Math.max(maxMs, 60_000),
      clock: config.clock ?? systemClock,
      ...(shouldRetry === undefined && retryable === undefined
        ? {}
        : {
            shouldRetry: (error: unknown) =>
              (retryable === undefined || matches(retryable, error)) && (shouldRetry === undefined || shouldRetry(error)),
          }),
    });
  }

  /** Runs `operation`, retrying it with backoff; resolves with its first success, rejects with the last error. */
  execute<T>(operation: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    return this.retry.execute(operation, options);
  }

  /** Subscribes to the underlying {@link Retry}'s events (`retry`, `giveUp`, ...). */
  on<K extends keyof RetryEvents>(event: K, listener: Listener<RetryEvents[K]>): Unsubscribe {
    return this.retry.on(event, listener);
  }

  /**
   * Runs the failed operation again with retries; without one, probes `verify` with the same backoff until
   * it passes. Rejects with a {@link RecoveryFailedError} when there is neither.
   */
  recover(request: RecoveryRequest): Promise<unknown> {
    const options = request.signal === undefined ? undefined : { signal: request.signal };
    if (request.operation !== undefined) return this.execute(request.operation, options);
    const verify = request.verify;
    if (verify !== undefined) {
      return this.execute(async (_ctx: PolicyContext) => {
        if (!(await verify())) throw new RecoveryFailedError('Component is still unhealthy', { strategy: this.name });
        return true;
      }, options);
    }
    return Promise.reject(
      new RecoveryFailedError(`Retry strategy "${this.name}" has no operation to retry and no health check to probe`, {
        cause: request.error,
        strategy: this.name,
        ...(request.context.component === undefined ? {} : { component: request.context.component }),
      }),
    );
  }
}

function matches(names: ReadonlySet<string>, error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return (typeof name === 'string' && names.has(name)) || (typeof code === 'string' && names.has(code));
}
