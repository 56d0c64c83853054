import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import type { ManagedBreakerConfig } from '../../policies/circuit-breaker-manager.js';
import type { Policy, PolicyContext } from '../../policies/policy.js';
import type { HttpReply } from './http-reply.js';
import { jsonReply } from './http-reply.js';

/** A fallback answer: status, JSON body and optional headers. */
export interface FallbackResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Options of {@link RouteInterceptor}: either a breaker manager or a policy per route. */
export interface RouteInterceptorOptions {
  /** Breakers keyed by route (`GET:/quotes/:id`), created on first use with `breaker`. */
  manager?: { getOrCreate(name: string, config?: ManagedBreakerConfig): Policy };
  /** Configuration of breakers the manager creates. @default {} */
  breaker?: ManagedBreakerConfig;
  /** A policy (pipeline) per route, used instead of the manager; called once per route key. */
  policyFor?: (route: string) => Policy<unknown>;
  /**
   * Answer when the protected handler fails or is refused (the seed answers 503 with `retryAfter: 30`).
   * Return undefined to let the error through to the error handler (problem+json). Without it errors pass through.
   */
  fallback?: (error: unknown, route: string) => FallbackResponse | undefined;
  /** Most route policies held (integer >= 1); later routes run unprotected by a cached policy. @default 1_000 */
  maxRoutes?: number;
}

/** Outcome of {@link RouteInterceptor.execute}. */
export type InterceptOutcome<T> = { kind: 'value'; value: T } | { kind: 'fallback'; reply: HttpReply };

/**
 * The seed's `CircuitBreakerInterceptor`, framework-neutral: runs a route handler through the route's
 * breaker (or pipeline) and turns a failure or refusal into the configured fallback answer. Route keys
 * should be route patterns (`GET:/quotes/:id`), not raw URLs, so the number of breakers stays bounded.
 */
export class RouteInterceptor {
  private readonly options: RouteInterceptorOptions;
  private readonly policies = new Map<string, Policy<unknown>>();
  private readonly maxRoutes: number;

  constructor(options: RouteInterceptorOptions) {
    const v = new OptionsValidator('RouteInterceptor');
    if (typeof options !== 'object' || options === null) {
      v.fail('options', 'an object', options);
      v.throwIfInvalid();
    }
    if (options.manager === undefined && options.policyFor === undefined) v.fail('manager', 'a CircuitBreakerManager (or policyFor)', undefined);
    if (options.manager !== undefined && (typeof options.manager !== 'object' || options.manager === null || typeof options.manager.getOrCreate !== 'function')) {
      v.fail('manager', 'a CircuitBreakerManager', options.manager);
    }
    v.object('breaker', options.breaker);
    v.func('policyFor', options.policyFor);
    v.func('fallback', options.fallback);
    v.integer('maxRoutes', options.maxRoutes, 1);
    v.throwIfInvalid();
    this.options = options;
    this.maxRoutes = options.maxRoutes ?? 1_000;
  }

  /** The policy protecting `route`. */
  policyOf(route: string): Policy<unknown> {
    const cached = this.policies.get(route);
    if (cached !== undefined) return cached;
    const o = this.options;
    const policy = o.policyFor !== undefined ? o.policyFor(route) : (o.manager as NonNullable<RouteInterceptorOptions['manager']>).getOrCreate(route, o.breaker ?? {});
    if (this.policies.size < this.maxRoutes) this.policies.set(route, policy);
    return policy;
  }

  /**
   * Runs `handler` under the route's policy. Resolves with its value, or with the fallback answer when it
   * failed and a fallback applies; otherwise rejects with the error (map it with `problemFromError`).
   */
  async execute<T>(route: string, handler: (context: PolicyContext) => T | PromiseLike<T>, signal?: AbortSignal): Promise<InterceptOutcome<T>> {
    try {
      const value = (await this.policyOf(route).execute(handler, signal === undefined ? undefined : { signal })) as T;
      return { kind: 'value', value };
    } catch (error) {
      const fallback = this.options.fallback;
      if (fallback === undefined) throw error;
      let response: FallbackResponse | undefined;
      try {
        response = fallback(error, route);
      } catch (err) {
        reportCallbackError(err, 'RouteInterceptor option fallback');
        throw error;
      }
      if (response === undefined) throw error;
      return { kind: 'fallback', reply: jsonReply(response.status, response.body, 'application/json', response.headers ?? {}) };
    }
  }
}
