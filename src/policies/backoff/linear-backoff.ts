import { OptionsValidator } from '../../core/options.js';
import type { Backoff } from './backoff.js';
import { checkMaxAtLeastInitial, decorrelatedDelay } from './decorrelated-backoff.js';
import { applyJitter, clampDelay, jitterNames, type Jitter } from './jitter.js';

/** Options of {@link LinearBackoff}. */
export interface LinearBackoffOptions {
  /**
   * The delay before the first retry, in milliseconds.
   * @default 100
   */
  initialMs?: number;
  /**
   * How much each retry adds to the delay, in milliseconds.
   * @default 100
   */
  stepMs?: number;
  /**
   * Upper bound of every delay, in milliseconds, finite and >= `initialMs`.
   * @default 30_000
   */
  maxMs?: number;
  /**
   * How randomness spreads the delays; see {@link Jitter}. With `'decorrelated'`, `stepMs` is not used.
   * @default 'none'
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
 * A delay growing by a fixed step: `min(maxMs, initialMs + stepMs * (retry - 1))`, then jittered.
 * Usually `backoff.linear({ initialMs, stepMs, maxMs, jitter })`.
 * @throws InvalidOptionsError listing every bad option.
 */
export class LinearBackoff implements Backoff {
  private readonly initialMs: number;
  private readonly stepMs: number;
  private readonly maxMs: number;
  private readonly jitter: Jitter;
  private readonly random: () => number;

  constructor(options: LinearBackoffOptions = {}) {
    const v = new OptionsValidator('backoff.linear');
    if (v.object('options', options)) {
      v.duration('initialMs', options.initialMs);
      v.duration('stepMs', options.stepMs);
      v.duration('maxMs', options.maxMs);
      v.oneOf('jitter', options.jitter, jitterNames);
      v.func('random', options.random);
      checkMaxAtLeastInitial(v, options.initialMs ?? 100, options.maxMs ?? 30_000);
    }
    v.throwIfInvalid();
    this.initialMs = options.initialMs ?? 100;
    this.stepMs = options.stepMs ?? 100;
    this.maxMs = options.maxMs ?? 30_000;
    this.jitter = options.jitter ?? 'none';
    this.random = options.random ?? Math.random;
  }

  delayMs(retry: number, previousDelayMs: number): number {
    if (this.jitter === 'decorrelated') {
      return decorrelatedDelay(this.initialMs, this.maxMs, 3, previousDelayMs, this.random);
    }
    const steps = retry > 1 ? retry - 1 : 0;
    const raw = this.stepMs === 0 ? this.initialMs : this.initialMs + this.stepMs * steps;
    return applyJitter(clampDelay(raw, this.maxMs), this.jitter, this.random, this.maxMs);
  }
}
