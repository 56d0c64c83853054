/**
 * How metric families are named:
 * - `'antifragile'`: this library's names under a prefix (`antifragile_` by default), snake_case labels,
 *   ratios 0..1, durations in seconds;
 * - `'resilience4j'`: the families Resilience4j's Micrometer binders publish (`resilience4j_circuitbreaker_state`,
 *   `resilience4j_circuitbreaker_calls_seconds`, `resilience4j_retry_calls_total`, ...) get exactly those
 *   names, label names and label values, so existing Grafana dashboards and alerts work unchanged; families
 *   Resilience4j has no equivalent for keep their antifragile names.
 */
export type PrometheusNaming = 'antifragile' | 'resilience4j';

/** The name of every metric family a {@link PrometheusMetrics} may publish, for one naming and prefix. */
export interface PrometheusMetricNames {
  /** Gauge `{name, state}`: 1 for the breaker's current state, 0 for the others. */
  breakerState: string;
  /** Gauge `{name}`: 0 closed, 1 open, 2 half-open, 3 isolated, 4 disabled (the seed's encoding extended). */
  breakerStateCode: string;
  /** Counter `{name, outcome}` (antifragile naming only): calls the breaker let through, by outcome. */
  breakerCalls: string;
  /** Histogram `{name, outcome}` (resilience4j: `{name, kind}`): duration of calls let through, in seconds. */
  breakerCallDuration: string;
  /** Gauge `{name, kind}` (resilience4j naming only): longest recent call, in seconds (Micrometer's `_max`). */
  breakerCallDurationMax: string;
  /** Counter `{name}` (resilience4j: `{name, kind="not_permitted"}`): calls the breaker refused. */
  breakerNotPermitted: string;
  /** Counter `{name}`: calls that took at least `slowCallMs`. */
  breakerSlowCalls: string;
  /** Counter `{name, from, to}`: state transitions. */
  breakerTransitions: string;
  /** Gauge `{name}`: failure rate of the window, 0..1 (resilience4j: percent, -1 with an empty window). */
  breakerFailureRate: string;
  /** Gauge `{name}`: slow-call rate of the window, 0..1 (resilience4j: percent, -1 with an empty window). */
  breakerSlowCallRate: string;
  /** Gauge `{name, kind}`: calls in the window, `successful` and `failed`. */
  breakerBufferedCalls: string;
  /** Gauge `{name}`: the breaker's health score, 0..100. */
  breakerHealthScore: string;
  /** Counter `{name, kind}`: calls by outcome, `successful_without_retry`, `successful_with_retry`, `failed_without_retry`, `failed_with_retry`. */
  retryCalls: string;
  /** Counter `{name}`: retries scheduled (attempts after the first). */
  retryAttempts: string;
  /** Counter `{name}`: retries the retry budget refused. */
  retryBudgetExhausted: string;
  /** Gauge `{name}`: free slots (resilience4j's `available_concurrent_calls`). */
  bulkheadAvailable: string;
  /** Gauge `{name}`: slots in all (resilience4j's `max_allowed_concurrent_calls`). */
  bulkheadMaxConcurrent: string;
  /** Gauge `{name}`: calls running now. */
  bulkheadRunning: string;
  /** Gauge `{name}`: calls waiting for a slot now. */
  bulkheadQueued: string;
  /** Counter `{name, reason}`: calls refused, `full` or `queue_timeout`. */
  bulkheadRejected: string;
  /** Gauge `{name}`: permits a caller could take now. */
  rateLimiterAvailable: string;
  /** Gauge `{name}`: callers waiting for a permit. */
  rateLimiterWaiting: string;
  /** Counter `{name}`: calls refused. */
  rateLimiterRejected: string;
  /**
   * Counter `{name, kind}`: calls through a timeout by kind. Only `kind="timed_out"` (resilience4j's
   * `resilience4j_timelimiter_calls_total{kind="timeout"}`): a Timeout reports the calls that reach their
   * deadline, not the ones that settle in time.
   */
  timeoutCalls: string;
  /** Counter `{name, reason}`: calls a fallback replaced, `reason` `error` (a handled error) or `result` (a handled result). */
  fallbackHandledCalls: string;
  /** Counter `{name, reason}`: hedged attempts started (attempts after the first), `reason` `delay` or `failure`. */
  hedgeAttempts: string;
  /** Gauge `{name}`: the delay a call started now would wait before its first hedge, in seconds. */
  hedgeDelay: string;
  /** Gauge `{name}`: the adaptive concurrency limit in force. */
  adaptiveConcurrencyLimit: string;
  /** Gauge `{name}`: calls running through an adaptive concurrency limit now. */
  adaptiveConcurrencyInFlight: string;
  /** Counter `{name}`: calls an adaptive concurrency limit shed. */
  adaptiveConcurrencyRejected: string;
  /** Counter `{name, direction}`: moves of an adaptive concurrency limit, `direction` `increase` or `decrease`. */
  adaptiveConcurrencyLimitChanges: string;
  /** Counter `{name, result}`: cache lookups, `hit`, `stale` or `miss`. */
  cacheRequests: string;
  /** Counter `{name, layer, result}`: lookups answered by each layer. */
  cacheLayerRequests: string;
  /** Gauge `{name}`: hits / lookups since the cache was created (the seed's `cache_hit_rate`), 0..1. */
  cacheHitRatio: string;
  /** Gauge `{name, layer}`: hits / lookups of each layer since creation, 0..1. */
  cacheLayerHitRatio: string;
  /** Counter `{name}`: loader calls. */
  cacheLoads: string;
  /** Counter `{name}`: loader calls that failed or timed out. */
  cacheLoadErrors: string;
  /** Counter `{name}`: calls that joined a load in flight (stampede protection). */
  cacheCoalesced: string;
  /** Counter `{name, layer}`: remote layer commands that failed or timed out. */
  cacheLayerErrors: string;
  /** Gauge `{name}`: entries in the memory layer. */
  cacheEntries: string;
  /** Gauge `{name}`: the health monitor's score, 0..100. */
  healthScore: string;
  /** Gauge `{name, status}`: 1 for the overall status (`healthy`, `degraded`, `unhealthy`). */
  healthStatus: string;
  /** Gauge `{name, component, status}`: 1 for each component's status (`unknown` included). */
  healthComponentStatus: string;
  /** Counter `{name, component, status}`: health check runs by result. */
  healthChecks: string;
  /** Gauge `{name}`: index of the level in force, 0 for the most capable. */
  degradationLevel: string;
  /** Gauge `{name, level}`: 1 for the level in force. */
  degradationLevelActive: string;
  /** Counter `{name, from, to, trigger}`: level changes (one step each). */
  degradationTransitions: string;
  /** Gauge `{name}`: features off now. */
  degradationFeaturesDisabled: string;
  /** Counter `{name, type}`: self-healer events (the seed's `self_healing_events_total`). */
  healingEvents: string;
  /** Histogram `{name, status}`: duration of recoveries that ended, in seconds. */
  healingRecoveryDuration: string;
  /** Gauge `{name}`: recoveries running now. */
  healingActiveRecoveries: string;
  /** Gauge `{name}`: components with a failure not resolved yet. */
  healingOpenFailures: string;
  /** Counter `{experiment, outcome}`: finished or refused experiment runs (the seed's name). */
  chaosExperimentOutcome: string;
  /** Gauge: experiment runs in progress. */
  chaosExperimentsRunning: string;
  /** Counter `{experiment, kind}`: experiment actions injected. */
  chaosActionsInjected: string;
  /** Counter `{dependency, kind}`: calls a registry fault was injected into. */
  chaosFaultInjections: string;
  /** Gauge `{dependency}`: faults active in a chaos registry. */
  chaosActiveFaults: string;
}

/**
 * The metric family names for `naming` and `prefix` (the prefix applies to antifragile names only).
 *
 * @example
 * ```ts
 * metricNames('resilience4j').breakerState; // 'resilience4j_circuitbreaker_state'
 * metricNames('antifragile').cacheLayerHitRatio; // 'antifragile_cache_layer_hit_ratio'
 * ```
 */
export function metricNames(naming: PrometheusNaming = 'antifragile', prefix = 'antifragile_'): PrometheusMetricNames {
  const p = prefix;
  const names: PrometheusMetricNames = {
    breakerState: `${p}circuit_breaker_state`,
    breakerStateCode: `${p}circuit_breaker_state_code`,
    breakerCalls: `${p}circuit_breaker_calls_total`,
    breakerCallDuration: `${p}circuit_breaker_call_duration_seconds`,
    breakerCallDurationMax: `${p}circuit_breaker_call_duration_seconds_max`,
    breakerNotPermitted: `${p}circuit_breaker_not_permitted_calls_total`,
    breakerSlowCalls: `${p}circuit_breaker_slow_calls_total`,
    breakerTransitions: `${p}circuit_breaker_transitions_total`,
    breakerFailureRate: `${p}circuit_breaker_failure_ratio`,
    breakerSlowCallRate: `${p}circuit_breaker_slow_call_ratio`,
    breakerBufferedCalls: `${p}circuit_breaker_window_calls`,
    breakerHealthScore: `${p}circuit_breaker_health_score`,
    retryCalls: `${p}retry_calls_total`,
    retryAttempts: `${p}retry_attempts_total`,
    retryBudgetExhausted: `${p}retry_budget_exhausted_total`,
    bulkheadAvailable: `${p}bulkhead_available_concurrent_calls`,
    bulkheadMaxConcurrent: `${p}bulkhead_max_concurrent_calls`,
    bulkheadRunning: `${p}bulkhead_running_calls`,
    bulkheadQueued: `${p}bulkhead_queued_calls`,
    bulkheadRejected: `${p}bulkhead_rejected_calls_total`,
    rateLimiterAvailable: `${p}rate_limiter_available_permits`,
    rateLimiterWaiting: `${p}rate_limiter_waiting_calls`,
    rateLimiterRejected: `${p}rate_limiter_rejected_calls_total`,
    timeoutCalls: `${p}timeout_calls_total`,
    fallbackHandledCalls: `${p}fallback_handled_calls_total`,
    hedgeAttempts: `${p}hedge_attempts_total`,
    hedgeDelay: `${p}hedge_delay_seconds`,
    adaptiveConcurrencyLimit: `${p}adaptive_concurrency_limit`,
    adaptiveConcurrencyInFlight: `${p}adaptive_concurrency_in_flight_calls`,
    adaptiveConcurrencyRejected: `${p}adaptive_concurrency_rejected_calls_total`,
    adaptiveConcurrencyLimitChanges: `${p}adaptive_concurrency_limit_changes_total`,
    cacheRequests: `${p}cache_requests_total`,
    cacheLayerRequests: `${p}cache_layer_requests_total`,
    cacheHitRatio: `${p}cache_hit_ratio`,
    cacheLayerHitRatio: `${p}cache_layer_hit_ratio`,
    cacheLoads: `${p}cache_loads_total`,
    cacheLoadErrors: `${p}cache_load_errors_total`,
    cacheCoalesced: `${p}cache_coalesced_total`,
    cacheLayerErrors: `${p}cache_layer_errors_total`,
    cacheEntries: `${p}cache_memory_entries`,
    healthScore: `${p}health_score`,
    healthStatus: `${p}health_status`,
    healthComponentStatus: `${p}health_component_status`,
    healthChecks: `${p}health_checks_total`,
    degradationLevel: `${p}degradation_level`,
    degradationLevelActive: `${p}degradation_level_active`,
    degradationTransitions: `${p}degradation_transitions_total`,
    degradationFeaturesDisabled: `${p}degradation_features_disabled`,
    healingEvents: `${p}self_healing_events_total`,
    healingRecoveryDuration: `${p}self_healing_recovery_duration_seconds`,
    healingActiveRecoveries: `${p}self_healing_active_recoveries`,
    healingOpenFailures: `${p}self_healing_open_failures`,
    chaosExperimentOutcome: `${p}chaos_experiment_outcome_total`,
    chaosExperimentsRunning: `${p}chaos_experiments_running`,
    chaosActionsInjected: `${p}chaos_actions_injected_total`,
    chaosFaultInjections: `${p}chaos_fault_injections_total`,
    chaosActiveFaults: `${p}chaos_active_faults`,
  };
  if (naming === 'resilience4j') {
    names.breakerState = 'resilience4j_circuitbreaker_state';
    names.breakerCallDuration = 'resilience4j_circuitbreaker_calls_seconds';
    names.breakerCallDurationMax = 'resilience4j_circuitbreaker_calls_seconds_max';
    names.breakerNotPermitted = 'resilience4j_circuitbreaker_not_permitted_calls_total';
    names.breakerFailureRate = 'resilience4j_circuitbreaker_failure_rate';
    names.breakerSlowCallRate = 'resilience4j_circuitbreaker_slow_call_rate';
    names.breakerBufferedCalls = 'resilience4j_circuitbreaker_buffered_calls';
    names.retryCalls = 'resilience4j_retry_calls_total';
    names.bulkheadAvailable = 'resilience4j_bulkhead_available_concurrent_calls';
    names.bulkheadMaxConcurrent = 'resilience4j_bulkhead_max_allowed_concurrent_calls';
    names.rateLimiterAvailable = 'resilience4j_ratelimiter_available_permissions';
    names.rateLimiterWaiting = 'resilience4j_ratelimiter_waiting_threads';
    names.timeoutCalls = 'resilience4j_timelimiter_calls_total';
  }
  return names;
}
