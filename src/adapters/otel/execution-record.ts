import type { Attributes, Span } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import { OtelNames as N } from './otel-names.js';

/**
 * What one traced execution has seen so far, and the span it writes to. Policy events reach it through
 * the event bridge; {@link succeed} or {@link fail} ends the span, after which it records nothing.
 * @internal
 */
export class ExecutionRecord {
  /** Retries recorded (events `antifragile.retry`). */
  retries = 0;
  /** Whether a Fallback supplied a value. */
  private fallbackUsed = false;
  /** Whether the span has ended. */
  private ended = false;
  /** The last breaker seen in an event, and its state. */
  private breakerName: string | undefined;
  private breakerState: string | undefined;
  /** A ChaosRegistry injection was just recorded: the strategy event that follows it is the same injection. */
  private registryInjection = false;

  constructor(readonly span: Span) {}

  /** A Retry scheduled another attempt. */
  retry(policy: string, payload: { attempt: number; delayMs: number; error?: unknown; result?: unknown }): void {
    if (this.ended) return;
    this.retries++;
    const isError = 'error' in payload;
    const attributes: Attributes = {
      [N.retryPolicy]: policy,
      [N.retryAttempt]: payload.attempt,
      [N.retryDelayMs]: payload.delayMs,
      [N.retryReason]: isError ? 'error' : 'result',
    };
    if (isError) describeError(attributes, payload.error);
    this.span.addEvent(N.retryEvent, attributes);
  }

  /** A circuit breaker refused the call. */
  rejected(payload: { name: string; state: string; retryAfterMs: number | undefined }): void {
    if (this.ended) return;
    this.breakerName = payload.name;
    this.breakerState = payload.state;
    const attributes: Attributes = { [N.breakerName]: payload.name, [N.breakerState]: payload.state };
    if (payload.retryAfterMs !== undefined) attributes[N.breakerRetryAfterMs] = payload.retryAfterMs;
    this.span.addEvent(N.breakerRejectedEvent, attributes);
  }

  /** A circuit breaker changed state while the call ran. */
  stateChange(payload: { name: string; from: string; to: string; reason: string }): void {
    if (this.ended) return;
    this.breakerName = payload.name;
    this.breakerState = payload.to;
    this.span.addEvent(N.breakerStateChangeEvent, {
      [N.breakerName]: payload.name,
      [N.breakerFrom]: payload.from,
      [N.breakerState]: payload.to,
      [N.breakerReason]: payload.reason,
    });
  }

  /** A Fallback is about to supply the value. */
  fallback(policy: string, payload: { kind: 'error'; error: unknown } | { kind: 'result'; result: unknown }): void {
    if (this.ended) return;
    this.fallbackUsed = true;
    const attributes: Attributes = { [N.fallbackPolicy]: policy, [N.fallbackReason]: payload.kind };
    if (payload.kind === 'error') describeError(attributes, payload.error);
    this.span.addEvent(N.fallbackEvent, attributes);
  }

  /**
   * A Timeout's deadline passed: one event per timed-out attempt, whether the call then fails, is retried
   * or is answered by a fallback, and also when a late value is used anyway (cooperative strategy).
   */
  timeout(policy: string, payload: { ms: number }): void {
    if (this.ended) return;
    this.span.addEvent(N.timeoutEvent, { [N.timeoutPolicy]: policy, [N.timeoutMs]: payload.ms });
  }

  /** A ChaosRegistry fault was injected (published just before the strategy's own event). */
  registryInjected(payload: { dependency: string; id: string; kind: string }): void {
    if (this.ended) return;
    this.registryInjection = true;
    this.span.addEvent(N.chaosEvent, {
      [N.chaosStrategy]: `${payload.dependency}:${payload.kind}`,
      [N.chaosKind]: payload.kind,
      [N.chaosDependency]: payload.dependency,
      [N.chaosFaultId]: payload.id,
    });
  }

  /** A chaos strategy injected a fault. */
  strategyInjected(payload: { name: string; kind: string }): void {
    if (this.ended) return;
    if (this.registryInjection) {
      this.registryInjection = false;
      return;
    }
    this.span.addEvent(N.chaosEvent, { [N.chaosStrategy]: payload.name, [N.chaosKind]: payload.kind });
  }

  /** Ends the span of a call that resolved; `breaker` is the pipeline's only circuit breaker and its state, if any. */
  succeed(breaker: { name: string; state: string } | undefined): void {
    if (this.ended) return;
    this.finish(this.fallbackUsed ? 'fallback' : 'success', breaker);
    this.ended = true;
    this.span.end();
  }

  /** Ends the span of a call that rejected with `error`: exception event, status ERROR. */
  fail(error: unknown, breaker: { name: string; state: string } | undefined): void {
    if (this.ended) return;
    this.finish('failure', breaker);
    const span = this.span;
    span.setAttribute(N.errorType, errorTypeOf(error));
    if (error instanceof Error) span.recordException(error);
    else span.recordException(String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    this.ended = true;
    span.end();
  }

  private finish(outcome: string, breaker: { name: string; state: string } | undefined): void {
    const span = this.span;
    span.setAttribute(N.outcome, outcome);
    span.setAttribute(N.attempts, this.retries + 1);
    if (this.retries > 0) span.setAttribute(N.resendCount, this.retries);
    const name = breaker?.name ?? this.breakerName;
    const state = breaker?.state ?? this.breakerState;
    if (name !== undefined && state !== undefined) {
      span.setAttribute(N.breakerName, name);
      span.setAttribute(N.breakerState, state);
    }
  }
}

/** Adds the type and message of `error` to event attributes. */
function describeError(attributes: Attributes, error: unknown): void {
  attributes[N.eventErrorType] = errorTypeOf(error);
  attributes[N.eventErrorMessage] = error instanceof Error ? error.message : String(error);
}

/** The class name of an error (`TimeoutError`), or `_OTHER` for a thrown non-error. */
function errorTypeOf(error: unknown): string {
  return error instanceof Error && typeof error.name === 'string' && error.name !== '' ? error.name : '_OTHER';
}
