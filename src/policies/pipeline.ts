import { contextOf } from './context.js';
import type { ExecuteOptions, ExtraOf, Policy, PolicyFunction } from './policy.js';

/** A composition of policies that is itself a {@link Policy}. */
export interface Pipeline<Extra = never> extends Policy<Extra> {
  /** The policies, outermost first. */
  readonly policies: readonly Policy<unknown>[];
}

/**
 * Composes policies into one, outermost first: `pipeline(timeout, retry, breaker)` runs the breaker inside
 * the retry inside the timeout. The context (signal, attempt) flows through every layer. A policy instance
 * may be shared by several pipelines (a breaker per dependency used by many routes, say). The result type
 * is inferred: a pipeline with a `Fallback<R>` resolves to `T | R`.
 *
 * @example
 * ```ts
 * const call = pipeline(new Timeout({ ms: 5_000 }), new Retry({ maxAttempts: 3 }), breaker);
 * const price = await call.execute(({ signal }) => fetch(url, { signal }));
 * ```
 */
export function pipeline<const P extends readonly Policy<unknown>[]>(...policies: P): Pipeline<ExtraOf<P[number]>> {
  return new PolicyPipeline(policies) as Pipeline<ExtraOf<P[number]>>;
}

class PolicyPipeline implements Pipeline<unknown> {
  readonly policies: readonly Policy<unknown>[];
  constructor(policies: readonly Policy<unknown>[]) {
    for (const [i, p] of policies.entries()) {
      if (typeof (p as Partial<Policy<unknown>> | undefined)?.execute !== 'function') {
        throw new TypeError(`pipeline: argument ${i} must be a policy with an execute() method`);
      }
    }
    this.policies = policies;
  }

  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<unknown> {
    return this.run(0, fn, options);
  }

  private run<T>(index: number, fn: PolicyFunction<T>, options: ExecuteOptions | undefined): Promise<unknown> {
    const policy = this.policies[index];
    if (policy === undefined) {
      return new Promise((resolve) => resolve(fn(contextOf(options))));
    }
    if (index === this.policies.length - 1) return policy.execute(fn, options);
    return policy.execute((ctx) => this.run(index + 1, fn, ctx), options);
  }
}
