/**
 * Names of the span attributes and span events written by {@link traced}. Everything of ours is namespaced
 * `antifragile.*`; `http.request.resend_count` and `error.type` are OpenTelemetry semantic conventions.
 */
export const OtelNames = Object.freeze({
  /** Span attribute: the name given to `traced()` (the pipeline or dependency). */
  pipelineName: 'antifragile.pipeline.name',
  /** Span attribute: attempts made, 1 + the retries recorded. */
  attempts: 'antifragile.attempts',
  /** Span attribute: `'success'`, `'fallback'` (a fallback supplied the value) or `'failure'`. */
  outcome: 'antifragile.outcome',
  /** Span attribute (semantic convention): retries made, set only when > 0. */
  resendCount: 'http.request.resend_count',
  /** Span attribute (semantic convention): class of the error a failed call rejected with. */
  errorType: 'error.type',
  /** Span and event attribute: name of the circuit breaker. */
  breakerName: 'antifragile.circuit_breaker.name',
  /** Span and event attribute: state of the circuit breaker (`closed`, `open`, `half-open`, ...). */
  breakerState: 'antifragile.circuit_breaker.state',

  /** Event: a retry was scheduled. */
  retryEvent: 'antifragile.retry',
  /** Event attribute: name of the Retry policy. */
  retryPolicy: 'antifragile.retry.policy',
  /** Event attribute: the attempt about to run (2 for the first retry). */
  retryAttempt: 'antifragile.retry.attempt',
  /** Event attribute: wait before that attempt, in milliseconds. */
  retryDelayMs: 'antifragile.retry.delay_ms',
  /** Event attribute: `'error'` or `'result'` (a result `shouldRetryResult` judged retryable). */
  retryReason: 'antifragile.retry.reason',

  /** Event: an open (isolated, or saturated half-open) circuit breaker refused the call. */
  breakerRejectedEvent: 'antifragile.circuit_breaker.rejected',
  /** Event attribute: milliseconds until the open breaker lets a probe through. */
  breakerRetryAfterMs: 'antifragile.circuit_breaker.retry_after_ms',
  /** Event: the circuit breaker changed state during the call. */
  breakerStateChangeEvent: 'antifragile.circuit_breaker.state_change',
  /** Event attribute: the state it left. */
  breakerFrom: 'antifragile.circuit_breaker.from',
  /** Event attribute: why it changed state. */
  breakerReason: 'antifragile.circuit_breaker.reason',

  /**
   * Event: a Timeout's deadline passed, once per timed-out attempt, when it passes (also when a retry, a
   * fallback or a late value then answers the call).
   */
  timeoutEvent: 'antifragile.timeout',
  /** Event attribute: name of the Timeout policy. */
  timeoutPolicy: 'antifragile.timeout.policy',
  /** Event attribute: the budget exceeded, in milliseconds. */
  timeoutMs: 'antifragile.timeout.ms',

  /** Event: a Fallback replaced an error or a result. */
  fallbackEvent: 'antifragile.fallback',
  /** Event attribute: name of the Fallback policy. */
  fallbackPolicy: 'antifragile.fallback.policy',
  /** Event attribute: `'error'` or `'result'`. */
  fallbackReason: 'antifragile.fallback.reason',

  /** Event: chaos injected a fault (error, latency, outcome, behaviour) into the call. */
  chaosEvent: 'antifragile.chaos.injected',
  /** Event attribute: name of the chaos strategy. */
  chaosStrategy: 'antifragile.chaos.strategy',
  /** Event attribute: kind of fault (`error`, `latency`, `outcome`, `behavior`; `fault` for a ChaosFault). */
  chaosKind: 'antifragile.chaos.kind',
  /** Event attribute: dependency of a `ChaosRegistry` fault. */
  chaosDependency: 'antifragile.chaos.dependency',
  /** Event attribute: id of a `ChaosRegistry` fault. */
  chaosFaultId: 'antifragile.chaos.fault_id',

  /** Event attribute: class of the error that caused the event. */
  eventErrorType: 'antifragile.error.type',
  /** Event attribute: message of that error. */
  eventErrorMessage: 'antifragile.error.message',
});
