import type { Backoff } from './backoff.js';
import { ConstantBackoff, type ConstantBackoffOptions } from './constant-backoff.js';
import { DecorrelatedBackoff, type DecorrelatedBackoffOptions } from './decorrelated-backoff.js';
import { ExponentialBackoff, type ExponentialBackoffOptions } from './exponential-backoff.js';
import { LinearBackoff, type LinearBackoffOptions } from './linear-backoff.js';

export type { Backoff } from './backoff.js';
export type { Jitter } from './jitter.js';
export { ConstantBackoff, type ConstantBackoffOptions } from './constant-backoff.js';
export { DecorrelatedBackoff, type DecorrelatedBackoffOptions } from './decorrelated-backoff.js';
export { ExponentialBackoff, type ExponentialBackoffOptions } from './exponential-backoff.js';
export { LinearBackoff, type LinearBackoffOptions } from './linear-backoff.js';

/**
 * Factories of the backoff strategies a {@link Retry} waits by. Every factory validates its options
 * eagerly (one `InvalidOptionsError` listing every bad field), and every strategy returns a finite delay
 * in `0..maxMs` whatever the retry number. Jitter follows the AWS Architecture Blog definitions.
 *
 * @example
 * ```ts
 * backoff.constant({ delayMs: 200 });                                      // 200, 200, 200, ...
 * backoff.linear({ initialMs: 100, stepMs: 100, maxMs: 1_000 });           // 100, 200, 300, ... 1000
 * backoff.exponential({ initialMs: 100, maxMs: 2_000, jitter: 'none' });   // 100, 200, 400, ... 2000
 * backoff.exponential({ initialMs: 100, maxMs: 2_000, jitter: 'full' });   // random in 0..100, 0..200, ...
 * backoff.decorrelated({ initialMs: 100, maxMs: 2_000 });                  // random in 100..3 x previous
 * new Retry({ maxAttempts: 5, backoff: backoff.exponential({ initialMs: 50, maxMs: 5_000 }) });
 * ```
 */
export const backoff: {
  /** The same delay before every retry. See {@link ConstantBackoffOptions}. */
  readonly constant: (options?: ConstantBackoffOptions) => Backoff;
  /** A delay growing by `stepMs` per retry, capped at `maxMs`. See {@link LinearBackoffOptions}. */
  readonly linear: (options?: LinearBackoffOptions) => Backoff;
  /** A delay multiplied by `factor` per retry, capped at `maxMs`. See {@link ExponentialBackoffOptions}. */
  readonly exponential: (options?: ExponentialBackoffOptions) => Backoff;
  /** AWS "decorrelated jitter": random between `initialMs` and 3 x the previous delay. See {@link DecorrelatedBackoffOptions}. */
  readonly decorrelated: (options?: DecorrelatedBackoffOptions) => Backoff;
} = Object.freeze({
  constant: (options?: ConstantBackoffOptions) => new ConstantBackoff(options),
  linear: (options?: LinearBackoffOptions) => new LinearBackoff(options),
  exponential: (options?: ExponentialBackoffOptions) => new ExponentialBackoff(options),
  decorrelated: (options?: DecorrelatedBackoffOptions) => new DecorrelatedBackoff(options),
});
