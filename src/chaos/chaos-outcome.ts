import { OptionsValidator } from '../core/options.js';
import type { ExecuteOptions, Policy, PolicyFunction } from '../policies/policy.js';
import { ChaosStrategy, validateStrategyOptions, type ChaosCall, type ChaosStrategyOptions } from './chaos-strategy.js';

/** Options of {@link ChaosOutcome}. */
export interface ChaosOutcomeOptions<R> extends ChaosStrategyOptions {
  /** The result returned instead of calling the function, or a function of the call producing it. */
  outcome: R | ((call: ChaosCall) => R | Promise<R>);
}

/**
 * Chaos: selected calls return a fake result instead of running (Polly's `ChaosOutcome`): an empty list, a
 * 500-like response object, a stale price.
 */
export class ChaosOutcome<R> extends ChaosStrategy implements Policy<R> {
  declare readonly '~types'?: { readonly extra: R };
  private readonly outcome: R | ((call: ChaosCall) => R | Promise<R>);

  constructor(options: ChaosOutcomeOptions<R>) {
    const v = new OptionsValidator('ChaosOutcome');
    if (typeof options !== 'object' || options === null || !('outcome' in options)) {
      v.fail('outcome', 'a result value or a function producing one', undefined);
      v.throwIfInvalid();
    }
    validateStrategyOptions(v, options);
    v.throwIfInvalid();
    super('outcome', options);
    this.outcome = options.outcome;
  }

  /** Runs `fn`, or answers with the outcome when the call is selected. */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T | R> {
    return this.run<T | R>(fn, options);
  }

  protected inject<T>(_fn: PolicyFunction<T>, call: ChaosCall): Promise<T> {
    try {
      const value = typeof this.outcome === 'function' ? (this.outcome as (c: ChaosCall) => R | Promise<R>)(call) : this.outcome;
      return Promise.resolve(value) as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
