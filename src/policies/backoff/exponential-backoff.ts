import { OptionsValidator } from '../../core/options.js';
import type { Backoff } from './backoff.js';
import { checkMaxAtLeastInitial, decorrelatedDelay } from './decorrelated-backoff.js';
import { applyJitter, clampDelay, jitterNames, type Jitter } from './jitter.js';

/** Options of {@link ExponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /**
   * The delay before the first retry (before jitter), in milliseconds.
   * @default 100
   */
  initialMs?: number;
  /**
   * Upper bound of every delay, in milliseconds, finite and >= `initialMs`.
   * @default 30_000
   */
  maxMs?: number;
  /**
   * How much the delay grows per retry, >= 1.
   * @default 2
   */
  factor?: number;
  /**
   * How randomness spreads the delays; see {@link Jitter}. With `'decorrelated'`, `factor` is not used.
   * @default 'full'
   */
  jitter?: Jitter;
  /**
   * Source of randomness returning numbers in [0, 1); inject a fixed one in tests. A value outside 0..1
   * is clamped to it (NaN counts as 0), so delays stay in range whatever it returns.
   * @default Math.random
   */
  random?: () => number;
}

/**
 * A delay multiplied by `factor` on every retry: `min(maxMs, initialMs * factor ** (retry - 1))`, then
 * jittered (full jitter by default, as the AWS Architecture Blog recommends). Huge retry numbers are safe:
 * the delay saturates at `maxMs`. Usually `backoff.exponential({ initialMs, maxMs, factor, jitter })`.
 * @throws InvalidOptionsError listing every bad option.
 */
export class ExponentialBackoff implements Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: Jitter;
  private readonly random: () => number;

  constructor(options: ExponentialBackoffOptions = {}) {
    const v = new OptionsValidator('backoff.exponential');
    if (v.object('options', options)) {
      v.duration('initialMs', options.initialMs);
      v.duration('maxMs', options.maxMs);
      v.number('factor', options.factor, { min: 1 });
      v.oneOf('jitter', options.jitter, jitterNames);
      v.func('random', options.random);
      checkMaxAtLeastInitial(v, options.initialMs ?? 100, options.maxMs ?? 30_000);
    }
    v.throwIfInvalid();
    this.initialMs = options.initialMs ?? 100;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 'full';
    this.random = options.random ?? Math.random;
  }

  delayMs(retry: number, previousDelayMs: number): number {
    if (this.jitter === 'decorrelated') {
      return decorrelatedDelay(this.initialMs, this.maxMs, 3, previousDelayMs, this.random);
    }
    // initialMs 0 or factor 1 never grows; skipping the power also avoids 0 * Infinity and 1 ** Infinity (NaN).
    const raw =
      this.initialMs === 0 || this.factor === 1
        ? this.initialMs
        : this.initialMs * this.factor ** (retry > 1 ? retry - 1 : 0);
    return applyJitter(clampDelay(raw, this.maxMs), this.jitter, this.random, this.maxMs);
  }
}
