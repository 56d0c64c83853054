import type { Attributes, SpanOptions, Tracer } from '@opentelemetry/api';
import { context as otelContext, SpanKind, trace } from '@opentelemetry/api';
import { OptionsValidator } from '../../core/options.js';
import { CircuitBreaker } from '../../policies/circuit-breaker.js';
import type { ExecuteOptions, ExtraOf, Policy, PolicyContext, PolicyFunction } from '../../policies/policy.js';
import { ExecutionRecord } from './execution-record.js';
import { OtelNames } from './otel-names.js';
import { installPolicyEventBridge, runRecorded, runUnrecorded } from './policy-event-bridge.js';

/** Options of {@link traced}. */
export interface TracedOptions {
  /** The tracer the spans are started with (`trace.getTracer('my-service')`). */
  tracer: Tracer;
  /**
   * Name of the protected dependency or pipeline: the span is called `antifragile <name>` and carries it
   * as `antifragile.pipeline.name`.
   * @default 'pipeline'
   */
  name?: string;
  /**
   * Kind of the spans: `SpanKind.CLIENT` when the pipeline wraps a call to another service.
   * @default SpanKind.INTERNAL
   */
  kind?: SpanKind;
  /**
   * Attributes put on every span at its start (`peer.service`, `server.address`, ...).
   * @default none
   */
  attributes?: Attributes;
}

const SPAN_KINDS: readonly number[] = [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER];

/**
 * A {@link Policy} that runs another one (usually a pipeline) inside an OpenTelemetry span. Made by
 * {@link traced}.
 */
export class TracedPolicy<Extra = never> implements Policy<Extra> {
  /** Type-level only: the result type of the wrapped policy. */
  declare readonly '~types'?: { readonly extra: Extra };
  /** The wrapped policy. */
  readonly policy: Policy<unknown>;
  /** The name given in the options. */
  readonly name: string;
  private readonly tracer: Tracer;
  private readonly spanName: string;
  private readonly spanOptions: SpanOptions;
  /** The pipeline's only circuit breaker, whose state the spans report; undefined when none or several. */
  private readonly breaker: CircuitBreaker | undefined;

  /** @internal use {@link traced} */
  constructor(policy: Policy<unknown>, options: TracedOptions) {
    const v = new OptionsValidator('traced');
    if (typeof (policy as Partial<Policy<unknown>> | null | undefined)?.execute !== 'function') {
      v.fail('policy', 'a policy or pipeline with an execute() method', policy);
    }
    const o: Partial<TracedOptions> | undefined = options;
    if (v.required('options', o, 'an object with a tracer') && v.object('options', o)) {
      if (typeof (o.tracer as Partial<Tracer> | null | undefined)?.startSpan !== 'function') {
        v.fail('tracer', 'an OpenTelemetry Tracer', o.tracer);
      }
      v.string('name', o.name);
      if (o.kind !== undefined && !SPAN_KINDS.includes(o.kind)) v.fail('kind', 'a SpanKind', o.kind);
      v.object('attributes', o.attributes);
    }
    v.throwIfInvalid();
    this.policy = policy;
    this.tracer = options.tracer;
    this.name = options.name ?? 'pipeline';
    this.spanName = `antifragile ${this.name}`;
    this.spanOptions = Object.freeze({
      kind: options.kind ?? SpanKind.INTERNAL,
      attributes: Object.freeze({ ...options.attributes, [OtelNames.pipelineName]: this.name }),
    });
    const breakers = new Set<CircuitBreaker>();
    collectBreakers(policy, breakers, 0);
    this.breaker = breakers.size === 1 ? [...breakers][0] : undefined;
    installPolicyEventBridge();
  }

  /**
   * Runs `fn` through the wrapped policy inside a new span, child of the active one. `fn` runs with that
   * span active; the span ends when the call settles, with the events and attributes listed in
   * {@link OtelNames}.
   */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T | Extra> {
    const parent = otelContext.active();
    const span = this.tracer.startSpan(this.spanName, this.spanOptions, parent);
    const record = new ExecutionRecord(span);
    const active = trace.setSpan(parent, span);
    // `fn` may be called from a timer (a hedge): it re-enters the span's context itself.
    const inner = (ctx: PolicyContext): PromiseLike<T> | T => otelContext.with(active, () => runUnrecorded(fn, ctx));
    let pending: Promise<unknown>;
    try {
      pending = otelContext.with(active, () => runRecorded(record, () => this.policy.execute(inner, options)));
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      (value) => {
        record.succeed(this.breakerInfo());
        return value as T | Extra;
      },
      (error: unknown) => {
        record.fail(error, this.breakerInfo());
        throw error;
      },
    );
  }

  private breakerInfo(): { name: string; state: string } | undefined {
    const breaker = this.breaker;
    return breaker === undefined ? undefined : { name: breaker.name, state: breaker.state };
  }
}

/**
 * Wraps a policy or pipeline so that every `execute` is an OpenTelemetry span (`antifragile <name>`), active
 * while the function runs, with an event per retry (`antifragile.retry`), circuit breaker rejection,
 * timeout, fallback and injected chaos fault; `http.request.resend_count` when it retried; the outcome,
 * attempts and breaker state as `antifragile.*` attributes; status ERROR with the exception on failure.
 * Nothing is subscribed and nothing costs anything until the first `traced()`.
 *
 * Span events come from the policies' diagnostics channels, matched to the span through the async context
 * of the call (one shared subscriber per channel, no listener per call). Policies running inside `fn`
 * itself are not part of this span.
 *
 * @example
 * ```ts
 * const tracer = trace.getTracer('quotes');
 * const callPricing = traced(pipeline(new Timeout({ ms: 2_000 }), new Retry({ maxAttempts: 3 }), breaker), {
 *   tracer, name: 'pricing', kind: SpanKind.CLIENT, attributes: { 'peer.service': 'pricing' },
 * });
 * const price = await callPricing.execute(({ signal }) => fetch(url, { signal }));
 * ```
 * @throws InvalidOptionsError when the policy or an option is invalid.
 */
export function traced<P extends Policy<unknown>>(policy: P, options: TracedOptions): TracedPolicy<ExtraOf<P>> {
  return new TracedPolicy<ExtraOf<P>>(policy, options);
}

/** Adds the circuit breakers of `policy` (itself, or inside a pipeline or traced policy) to `into`. */
function collectBreakers(policy: unknown, into: Set<CircuitBreaker>, depth: number): void {
  if (depth > 16 || typeof policy !== 'object' || policy === null) return;
  if (policy instanceof CircuitBreaker) {
    into.add(policy);
    return;
  }
  if (policy instanceof TracedPolicy) return collectBreakers(policy.policy, into, depth + 1);
  const policies = (policy as { policies?: unknown }).policies;
  if (Array.isArray(policies)) for (const p of policies) collectBreakers(p, into, depth + 1);
}
