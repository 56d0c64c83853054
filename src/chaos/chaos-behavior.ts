import { OptionsValidator } from '../core/options.js';
import type { ExecuteOptions, Policy, PolicyFunction } from '../policies/policy.js';
import { ChaosStrategy, invoke, validateStrategyOptions, type ChaosCall, type ChaosStrategyOptions } from './chaos-strategy.js';

/** Options of {@link ChaosBehavior}. */
export interface ChaosBehaviorOptions extends ChaosStrategyOptions {
  /** Runs before the call (drop a cache, kill a connection, burn CPU...). If it throws, the call fails with that error. */
  behavior: (call: ChaosCall) => void | Promise<void>;
}

/** Chaos: selected calls run a behaviour first, then the call itself (Polly's `ChaosBehavior`). */
export class ChaosBehavior extends ChaosStrategy implements Policy {
  private readonly behavior: (call: ChaosCall) => void | Promise<void>;

  constructor(options: ChaosBehaviorOptions) {
    const v = new OptionsValidator('ChaosBehavior');
    if (typeof options !== 'object' || options === null) {
      v.fail('options', 'an object with behavior', options);
      v.throwIfInvalid();
    }
    validateStrategyOptions(v, options);
    if (v.required('behavior', options.behavior, 'a function')) v.func('behavior', options.behavior);
    v.throwIfInvalid();
    super('behavior', options);
    this.behavior = options.behavior;
  }

  /** Runs `fn`, injecting the chaos when the call is selected. */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    return this.run(fn, options);
  }

  protected async inject<T>(fn: PolicyFunction<T>, call: ChaosCall): Promise<T> {
    await this.behavior(call);
    return invoke(fn, call.context);
  }
}
