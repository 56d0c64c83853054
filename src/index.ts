// Public API of `antifragile`. Explicit named exports only.

// core
export type { Clock, ScheduleOptions, TimerHandle } from './core/clock.js';
export { systemClock, pendingSystemTimers } from './core/clock.js';
export { VirtualClock } from './core/virtual-clock.js';
export type { Listener, Unsubscribe } from './core/events.js';
export { EventEmitter, setListenerErrorHandler } from './core/events.js';
export type { ResilienceErrorCode, ResilienceErrorOptions } from './core/errors.js';
export {
  ResilienceError,
  BrokenCircuitError,
  TimeoutError,
  BulkheadFullError,
  RateLimitedError,
  RetryBudgetExhaustedError,
  InjectedFaultError,
  ConcurrencyLimitError,
  ThrottledError,
  isResilienceError,
  isBrokenCircuitError,
  isTimeoutError,
  isBulkheadFullError,
  isRateLimitedError,
  isRetryBudgetExhaustedError,
  isInjectedFaultError,
  isConcurrencyLimitError,
  isThrottledError,
} from './core/errors.js';
export type { OptionIssue } from './core/options.js';
export { InvalidOptionsError } from './core/options.js';
export { LinkedAbortController, neverAbortedSignal, sleep, throwIfAborted } from './core/abort.js';
export type { RollingWindow, RollingWindowState } from './core/rolling-window.js';
export { failureRate, slowCallRate } from './core/rolling-window.js';
export { ConsecutiveWindow } from './core/consecutive-window.js';
export { CountWindow } from './core/count-window.js';
export { TimeWindow } from './core/time-window.js';
export { LatencyHistogram } from './core/latency-histogram.js';
export { RollingHistogram } from './core/rolling-histogram.js';

// policies
export type { Policy, PolicyContext, PolicyFunction, ExecuteOptions, ExtraOf } from './policies/policy.js';
export type { Pipeline } from './policies/pipeline.js';
export { pipeline } from './policies/pipeline.js';
export type {
  CircuitState,
  BreakerWindow,
  TransitionReason,
  CircuitBreakerOptions,
  CircuitBreakerState,
  CircuitBreakerTotals,
  CircuitBreakerMetrics,
  CircuitBreakerEvents,
} from './policies/circuit-breaker.js';
export { CircuitBreaker } from './policies/circuit-breaker.js';
export type {
  CircuitBreakerEvent,
  CircuitBreakerEventType,
  ManagedCircuitBreakerState,
} from './policies/managed-circuit-breaker.js';
export { ManagedCircuitBreaker, CircuitBreakerError } from './policies/managed-circuit-breaker.js';
export type {
  SeedCircuitBreakerConfig,
  ManagedBreakerConfig,
  CircuitBreakerManagerOptions,
  BreakerFleetHealth,
  CircuitBreakerManagerEvents,
} from './policies/circuit-breaker-manager.js';
export { CircuitBreakerManager } from './policies/circuit-breaker-manager.js';
