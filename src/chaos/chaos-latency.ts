import { sleep } from '../core/abort.js';
import { OptionsValidator } from '../core/options.js';
import type { ExecuteOptions, Policy, PolicyFunction } from '../policies/policy.js';
import { ChaosStrategy, invoke, validateStrategyOptions, type ChaosCall, type ChaosStrategyOptions } from './chaos-strategy.js';

/** Options of {@link ChaosLatency}. */
export interface ChaosLatencyOptions extends ChaosStrategyOptions {
  /** Delay added before the call, in ms, or a function of the call. */
  latencyMs: number | ((call: ChaosCall) => number);
  /** Random extra delay in [0, jitterMs). @default 0 */
  jitterMs?: number;
}

/**
 * Chaos: selected calls wait before running (Polly's `ChaosLatency`). The wait ends early, rejecting with the
 * abort reason, when the call's signal aborts (so an outer Timeout still bounds it).
 */
export class ChaosLatency extends ChaosStrategy implements Policy {
  private readonly latency: number | ((call: ChaosCall) => number);
  private readonly jitterMs: number;
  private readonly jitterRandom: () => number;

  constructor(options: ChaosLatencyOptions) {
    const v = new OptionsValidator('ChaosLatency');
    if (typeof options !== 'object' || options === null) {
      v.fail('options', 'an object with latencyMs', options);
      v.throwIfInvalid();
    }
    validateStrategyOptions(v, options);
    if (typeof options.latencyMs !== 'function' && v.required('latencyMs', options.latencyMs, 'a duration in ms')) v.duration('latencyMs', options.latencyMs);
    v.duration('jitterMs', options.jitterMs);
    v.throwIfInvalid();
    super('latency', options);
    this.latency = options.latencyMs;
    this.jitterMs = options.jitterMs ?? 0;
    this.jitterRandom = options.random ?? Math.random;
  }

  /** Runs `fn`, injecting the chaos when the call is selected. */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    return this.run(fn, options);
  }

  protected async inject<T>(fn: PolicyFunction<T>, call: ChaosCall): Promise<T> {
    const base = typeof this.latency === 'function' ? this.latency(call) : this.latency;
    const delay = base + (this.jitterMs > 0 ? this.jitterRandom() * this.jitterMs : 0);
    await sleep(this.clock, delay, call.context.signal);
    return invoke(fn, call.context);
  }
}
