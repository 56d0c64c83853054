import { OptionsValidator } from '../../core/options.js';
import type { Backoff } from './backoff.js';
import { unitRandom } from './jitter.js';

/** Options of {@link DecorrelatedBackoff}. */
export interface DecorrelatedBackoffOptions {
  /**
   * The base delay in milliseconds: the smallest delay, and the previous delay assumed before the first retry.
   * With 0, every delay is 0.
   * @default 100
   */
  initialMs?: number;
  /**
   * Upper bound of every delay, in milliseconds, finite and >= `initialMs`.
   * @default 30_000
   */
  maxMs?: number;
  /**
   * How far above the previous delay the next one may go, >= 1 (AWS uses 3).
   * @default 3
   */
  multiplier?: number;
  /**
   * Source of randomness returning numbers in [0, 1); inject a fixed one in tests. A value outside 0..1
   * is clamped to it (NaN counts as 0), so delays stay in range whatever it returns.
   * @default Math.random
   */
  random?: () => number;
}

/**
 * "Decorrelated jitter" from the AWS Architecture Blog post "Exponential Backoff And Jitter":
 * `delay = min(maxMs, random_between(initialMs, previous * multiplier))`, with `previous = initialMs`
 * before the first retry. Usually `backoff.decorrelated({ initialMs, maxMs })`.
 * @throws InvalidOptionsError listing every bad option.
 */
export class DecorrelatedBackoff implements Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly multiplier: number;
  private readonly random: () => number;

  constructor(options: DecorrelatedBackoffOptions = {}) {
    const v = new OptionsValidator('backoff.decorrelated');
    if (v.object('options', options)) {
      v.duration('initialMs', options.initialMs);
      v.duration('maxMs', options.maxMs);
      v.number('multiplier', options.multiplier, { min: 1 });
      v.func('random', options.random);
      checkMaxAtLeastInitial(v, options.initialMs ?? 100, options.maxMs ?? 30_000);
    }
    v.throwIfInvalid();
    this.initialMs = options.initialMs ?? 100;
    this.maxMs = options.maxMs ?? 30_000;
    this.multiplier = options.multiplier ?? 3;
    this.random = options.random ?? Math.random;
  }

  delayMs(_retry: number, previousDelayMs: number): number {
    return decorrelatedDelay(this.initialMs, this.maxMs, this.multiplier, previousDelayMs, this.random);
  }
}

/**
 * `min(maxMs, random_between(initialMs, previous * multiplier))`, always finite and in `initialMs..maxMs`:
 * a previous delay below `initialMs` (or NaN) counts as `initialMs` and one above `maxMs` as `maxMs`; a
 * random draw outside `0..1` is clamped to it (NaN counts as 0); an overflowing product gives `maxMs`.
 * @internal
 */
export function decorrelatedDelay(
  initialMs: number,
  maxMs: number,
  multiplier: number,
  previousDelayMs: number,
  random: () => number,
): number {
  const previous = previousDelayMs > initialMs ? (previousDelayMs < maxMs ? previousDelayMs : maxMs) : initialMs;
  const high = previous * multiplier;
  // NaN (Infinity * 0 when the product overflows and the draw is 0) falls to initialMs, Infinity to maxMs.
  const ms = initialMs + (high - initialMs) * unitRandom(random);
  return ms > initialMs ? (ms < maxMs ? ms : maxMs) : initialMs;
}

/** Adds an issue when both are valid numbers and `maxMs < initialMs`. @internal */
export function checkMaxAtLeastInitial(v: OptionsValidator, initialMs: unknown, maxMs: unknown): void {
  if (typeof initialMs === 'number' && typeof maxMs === 'number' && initialMs >= 0 && maxMs >= 0 && maxMs < initialMs) {
    v.fail('maxMs', `a number >= initialMs (${initialMs})`, maxMs);
  }
}
