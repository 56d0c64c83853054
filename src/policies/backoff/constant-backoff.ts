import { OptionsValidator } from '../../core/options.js';
import type { Backoff } from './backoff.js';

/** Options of {@link ConstantBackoff}. */
export interface ConstantBackoffOptions {
  /**
   * The delay before every retry, in milliseconds, >= 0.
   * @default 100
   */
  delayMs?: number;
}

/**
 * The same delay before every retry. Usually `backoff.constant({ delayMs })`.
 * @throws InvalidOptionsError when `delayMs` is not a finite number >= 0.
 */
export class ConstantBackoff implements Backoff {
  private readonly ms: number;

  constructor(options: ConstantBackoffOptions = {}) {
    const v = new OptionsValidator('backoff.constant');
    if (v.object('options', options)) v.duration('delayMs', options.delayMs);
    v.throwIfInvalid();
    this.ms = options.delayMs ?? 100;
  }

  delayMs(): number {
    return this.ms;
  }
}
