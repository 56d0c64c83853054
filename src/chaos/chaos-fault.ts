import { InjectedFaultError } from '../core/errors.js';
import { OptionsValidator } from '../core/options.js';
import type { ExecuteOptions, Policy, PolicyFunction } from '../policies/policy.js';
import { ChaosStrategy, validateStrategyOptions, type ChaosCall, type ChaosStrategyOptions } from './chaos-strategy.js';

/** Options of {@link ChaosFault}. */
export interface ChaosFaultOptions extends ChaosStrategyOptions {
  /** The error thrown instead of calling the function, or a factory of it. @default an InjectedFaultError */
  fault?: unknown;
  /** Message of the default {@link InjectedFaultError}. @default 'Injected fault (<name>)' */
  message?: string;
}

/**
 * Chaos: selected calls fail with an error instead of running (Polly's `ChaosFault`). Off unless the
 * {@link ChaosControl} is enabled.
 *
 * @example
 * const callPricing = pipeline(new Retry({ maxAttempts: 3 }), new ChaosFault({ injectionRate: 0.3 }));
 */
export class ChaosFault extends ChaosStrategy implements Policy {
  private readonly fault: unknown;
  private readonly message: string;

  constructor(options: ChaosFaultOptions = {}) {
    const v = new OptionsValidator('ChaosFault');
    validateStrategyOptions(v, options);
    v.string('message', options.message);
    v.throwIfInvalid();
    super('fault', options);
    this.fault = options.fault;
    this.message = options.message ?? `Injected fault (${this.name})`;
  }

  /** Runs `fn`, injecting the chaos when the call is selected. */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    return this.run(fn, options);
  }

  protected inject<T>(_fn: PolicyFunction<T>, call: ChaosCall): Promise<T> {
    const error = this.fault === undefined ? new InjectedFaultError(this.message) : typeof this.fault === 'function' ? (this.fault as (c: ChaosCall) => unknown)(call) : this.fault;
    return Promise.reject(error);
  }
}
