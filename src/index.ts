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
  isLocalRefusalError,
  FallbackError,
  isFallbackError,
  ChaosRefusedError,
  isChaosRefusedError,
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
export type { GatewayBreakerConfig, GatewayRetryConfig } from './policies/circuit-breaker-with-retry.js';
export { CircuitBreakerWithRetry } from './policies/circuit-breaker-with-retry.js';
export type {
  RetryOptions,
  RetryEvents,
  RetryEvent,
  RetryGiveUpEvent,
  RetryGiveUpReason,
  RetryBudgetExhaustedEvent,
} from './policies/retry.js';
export { Retry } from './policies/retry.js';
export type { RetryBudgetOptions } from './policies/retry-budget.js';
export { RetryBudget } from './policies/retry-budget.js';
export type {
  Backoff,
  Jitter,
  ConstantBackoffOptions,
  LinearBackoffOptions,
  ExponentialBackoffOptions,
  DecorrelatedBackoffOptions,
} from './policies/backoff/index.js';
export { backoff, ConstantBackoff, LinearBackoff, ExponentialBackoff, DecorrelatedBackoff } from './policies/backoff/index.js';
export type { TimeoutOptions, TimeoutStrategy, TimeoutEvents } from './policies/timeout.js';
export { Timeout } from './policies/timeout.js';
export type {
  FallbackOptions,
  FallbackContext,
  FallbackErrorContext,
  FallbackResultContext,
  FallbackEvents,
} from './policies/fallback.js';
export { Fallback } from './policies/fallback.js';
export type { HedgeDelay, FixedHedgeDelay, PercentileHedgeDelay, HedgeOptions, HedgeEvents } from './policies/hedge.js';
export { Hedge } from './policies/hedge.js';
export type { BulkheadOptions, BulkheadEvents } from './policies/bulkhead.js';
export { Bulkhead } from './policies/bulkhead.js';
export type { RateLimiterOptions, RateLimiterEvents, TokenBucketLimit, SlidingWindowLimit } from './policies/rate-limiter.js';
export { RateLimiter } from './policies/rate-limiter.js';
export type {
  AdaptiveConcurrencyOptions,
  AdaptiveConcurrencyCommonOptions,
  AdaptiveConcurrencyEvents,
} from './policies/adaptive-concurrency.js';
export { AdaptiveConcurrency } from './policies/adaptive-concurrency.js';
export type { AimdOptions } from './policies/concurrency-limit/aimd-limit.js';
export type { Gradient2Options } from './policies/concurrency-limit/gradient2-limit.js';
export type { VegasOptions } from './policies/concurrency-limit/vegas-limit.js';
export type { ClientThrottleOptions, ClientThrottleEvents } from './policies/client-throttle.js';
export { ClientThrottle } from './policies/client-throttle.js';

// health
export type {
  HealthTrend,
  HealthCheckContext,
  HealthCheckDetails,
  HealthCheckFunction,
  HealthCheckOptions,
  HealthCheckOutcome,
  HealthCheckResult,
  HealthStatus,
  ObservedStatus,
  ComponentHealth,
  ComponentStatusChange,
  HealthMonitorConfig,
  HealthMonitorEvent,
  HealthMonitorEventType,
  HealthMonitorEvents,
  HealthStatusChange,
  SystemHealth,
  HealthReport,
  HealthReportCheck,
  HealthReportInfo,
  HealthReportStatus,
  HealthReportView,
  HealthThreshold,
  HealthThresholdMetric,
  ThresholdSeverity,
  EventLoopDelayCheck,
  EventLoopDelayCheckOptions,
  HeapUsageCheckOptions,
  HttpCheckOptions,
  RedisPingClient,
  SqlQueryClient,
  SqlSelectOneCheckOptions,
  TcpCheckOptions,
} from './health/index.js';
export {
  HealthMonitor,
  HEALTH_JSON_CONTENT_TYPE,
  healthReportHttpStatus,
  reportStatusOf,
  eventLoopDelayCheck,
  heapUsageCheck,
  httpCheck,
  redisPingCheck,
  sqlSelectOneCheck,
  tcpCheck,
} from './health/index.js';

// insight
export type {
  Anomaly,
  AnomalyDetectorEvents,
  AnomalyDetectorOptions,
  AnomalySeverity,
  AnomalyThresholds,
  Change,
  ChangeDetectionOptions,
  ChangeDirection,
  MetricBaseline,
  ObserveResult,
  FailurePredictorEvents,
  FailurePredictorOptions,
  Prediction,
  PreventiveActionRequest,
  PreventiveActionSink,
  ResourceLimit,
} from './insight/index.js';
export { AnomalyDetector, FailurePredictor } from './insight/index.js';

// store
export type {
  AuditInput,
  AuditRecord,
  BreakerTransitionInput,
  BreakerTransitionRecord,
  ChaosEventInput,
  ChaosEventRecord,
  ChaosExperimentRecord,
  ComponentSummaryRecord,
  DegradationHistoryRecord,
  DegradationStateRecord,
  FeatureFlagRecord,
  HealthCheckInput,
  HealthCheckRecord,
  HealthSnapshotInput,
  HealthSnapshotRecord,
  QueryFilter,
  RecoveryEventInput,
  RecoveryEventRecord,
  Store,
  StoreEvents,
  StoredRow,
  MemoryStoreOptions,
  StoreErrorCode,
  StoreOptions,
} from './store/index.js';
export { MemoryStore, StoreError, isStoreError } from './store/index.js';

// degradation
export type {
  DegradationEvaluation,
  DegradationEvent,
  DegradationEventType,
  DegradationFeature,
  DegradationInitialState,
  DegradationState,
  DegradationStatistics,
  DegradationTrigger,
  FeatureChange,
  FeatureInfo,
  GracefulDegradationConfig,
  GracefulDegradationEvents,
  HookError,
  LevelChange,
  LevelHookContext,
  LevelHooks,
  DegradationRule,
  ThresholdCondition,
  ThresholdOperator,
  HealthSource,
} from './degradation/index.js';
export {
  DEFAULT_DEGRADATION_LEVELS,
  GracefulDegradation,
  THRESHOLD_OPERATORS,
  HEALTH_SCORE_METRIC,
} from './degradation/index.js';

// healing
export type {
  HealingErrorCode,
  RecoveryFailedErrorOptions,
  RecoveryStrategy,
  RecoveryStrategyType,
  RecoveryRequest,
  RecoveryContext,
  FailureSeverity,
  RetryRecoveryConfig,
  BackoffStrategyName,
  FallbackRecoveryConfig,
  FallbackProvider,
  FallbackProviderContext,
  FallbackRecoveryEvents,
  RestoreRecoveryConfig,
  Checkpoint,
  RestoreRecoveryEvents,
  EscalationRecoveryConfig,
  EscalationHandler,
  EscalationContext,
  EscalationDetails,
  EscalationResult,
  EscalationRecoveryEvents,
  WebhookEscalationHandlerOptions,
  EscalationLogger,
  HealerHealthSource,
  HealerHealthStatusName,
  RestartRequester,
  ClearableCache,
  BreakerRegistry,
  HealthSourceStatusChange,
  HealthSourceComponentStatusChange,
  HealingStrategy,
  HealingStep,
  HealingContext,
  HealingContextOptions,
  HealingStepRecord,
  HealingRunResult,
  MemoryLeakHealingOptions,
  ConnectionExhaustionHealingOptions,
  ServiceDegradationHealingOptions,
  HealingHook,
  HealingCheck,
  SelfHealerConfig,
  RecoverySpec,
  Escalator,
  BreakerManagerSource,
  RecoveryTrigger,
  RecoveryStatus,
  RecoveryRecord,
  HealerEventType,
  HealerEvent,
  SelfHealerEvents,
  RecoveryCounters,
  ComponentRecoveryStats,
  HealerStatistics,
  HealerPreventiveActionRequest,
  PreventiveAction,
  PreventiveActionResult,
  RunbookEngineOptions,
  RunbookEngineEvents,
  RunbookAction,
  RunbookActionContext,
  RunbookMetricReader,
  RunbookRun,
  RunbookRunStatus,
  RunbookRunTrigger,
  RunbookStepRecord,
  RunbookStepOutcome,
  RunbookIssue,
  RunbookRegistry,
  Runbook,
  RunbookStep,
  RunbookTrigger,
  RunbookVerify,
  RunbookOnFailure,
  RunbookCondition,
  RunbookStepCondition,
  SupervisorOptions,
  SupervisorEvents,
  SupervisedWorkerInfo,
  WorkerStartReason,
  SupervisorRestartBackoffOptions,
  DrainHandler,
} from './healing/index.js';
export {
  RecoveryFailedError,
  RecoveryRefusedError,
  CheckpointNotFoundError,
  WebhookDeliveryError,
  isRecoveryFailedError,
  isRecoveryRefusedError,
  isCheckpointNotFoundError,
  isWebhookDeliveryError,
  RetryRecovery,
  FallbackRecovery,
  RestoreRecovery,
  EscalationRecovery,
  createWebhookEscalationHandler,
  genericWebhookBody,
  slackWebhookBody,
  pagerDutyWebhookBody,
  createLogEscalationHandler,
  RecoveryStrategyFactory,
  runHealingStrategy,
  createHealingContext,
  healingStrategies,
  SelfHealer,
  RunbookEngine,
  RunbookRunError,
  isRunbookRunError,
  parseRunbook,
  RunbookLoadError,
  isRunbookLoadError,
  formatRunbookIssue,
  parseRunbookDuration,
  parseRunbookCondition,
  Supervisor,
  SupervisorRestartBackoff,
  onDrain,
  requestGracefulRestart,
  requestRollingRestartFromWorker,
  signalReady,
  isDraining,
  gracefulRestartRequester,
  GRACEFUL_SHUTDOWN_MESSAGE_TYPE,
} from './healing/index.js';

// system
export type {
  ResilienceConfig,
  PersistenceConfig,
  InsightConfig,
  CreateResilienceOptions,
  Resilience,
} from './system.js';
export { createResilience } from './system.js';

// cache
export type {
  CacheDuration,
  CacheEntry,
  CacheLayer,
  CacheLayerMetrics,
  CacheLoader,
  CacheLoaderContext,
  CacheMetrics,
  CacheSetOptions,
  CacheWarmingOptions,
  GetOrSetOptions,
  InMemoryCacheLayerOptions,
  LayerGuardOptions,
  MemoryLayerOptions,
  MultiLayerCacheEvents,
  MultiLayerCacheOptions,
  Serializer,
  StaleReason,
  WarmEntry,
} from './cache/index.js';
export { CacheSerializationError, InMemoryCacheLayer, MultiLayerCache, jsonSerializer, policyCacheLayer, richSerializer } from './cache/index.js';

// fleet primitives
export type { Bus, BusHandler, BusStatus } from './core/bus.js';
export { MemoryBus, MemoryBusHub } from './core/bus.js';
export type { DistributedLock, LocalLockOptions, LockLease } from './core/distributed-lock.js';
export { LocalLock } from './core/distributed-lock.js';

// chaos
export type {
  ActiveFault,
  ActiveFaultInfo,
  ChaosBehaviorOptions,
  ChaosCall,
  ChaosControlEvents,
  ChaosControlOptions,
  ChaosFaultOptions,
  ChaosKind,
  ChaosLatencyOptions,
  ChaosOutcomeOptions,
  ChaosRegistryEvents,
  ChaosRegistryOptions,
  ChaosScope,
  ChaosStrategyEvents,
  ChaosStrategyOptions,
  FaultKind,
  FaultSpec,
} from './chaos/index.js';
export {
  ChaosBehavior,
  ChaosControl,
  ChaosFault,
  ChaosInjector,
  ChaosLatency,
  ChaosOutcome,
  ChaosRegistry,
  JSON_FAULT_KINDS,
  currentChaosScope,
  parseFaultSpec,
  withChaosScope,
} from './chaos/index.js';

// chaos: TCP fault proxy
export type {
  BandwidthAttributes,
  FaultProxyErrorCode,
  FaultProxyEvents,
  FaultProxyJson,
  FaultProxyOptions,
  FaultProxyStats,
  FaultProxyUpdate,
  LatencyAttributes,
  LimitDataAttributes,
  PacketLossAttributes,
  PgResetAttributes,
  ProxyControlServerOptions,
  ProxyDefinition,
  ProxyRegistryOptions,
  RedisErrorAttributes,
  ResetPeerAttributes,
  SlicerAttributes,
  SlowCloseAttributes,
  TimeoutAttributes,
  Toxic,
  ToxicAttributesByType,
  ToxicOf,
  ToxicPatch,
  ToxicSpec,
  ToxicStream,
  ToxicType,
} from './chaos/proxy/index.js';
export { FaultProxy, FaultProxyError, ProxyControlServer, ProxyRegistry, isFaultProxyError } from './chaos/proxy/index.js';

// scenarios: load, journal, report
export type {
  Activity,
  CriterionResult,
  FaultWindow,
  LoadSummary,
  PhaseJournal,
  ProbeResult,
  ScenarioJournal,
  TimePoint,
} from './scenario/journal.js';
export type {
  ExpectedStatus,
  HttpTransportOptions,
  LoadGeneratorEvents,
  LoadGeneratorOptions,
  LoadRequest,
  LoadResult,
  LoadSnapshot,
  LoadStopOptions,
  LoadTransport,
  RecentLoad,
  RequestMixEntry,
} from './scenario/load/index.js';
export { HttpTransport, LoadGenerator, RequestMix } from './scenario/load/index.js';
export type { ProgressStatus, ProgressStream, ProgressViewOptions } from './scenario/report/index.js';
export { ProgressView, formatProgressLine, renderHtmlReport } from './scenario/report/index.js';

// chaos: experiments, game days, resource faults
export type {
  ActionRecord,
  ApprovalRequest,
  BreakerChange,
  BreakerSource,
  ChaosEngineeringConfig,
  ChaosExperiment,
  ChaosFaultConfigs,
  ChaosFaultType,
  ChaosMonkeyOptions,
  ChaosOptions,
  ChaosWindow,
  DegradationChange,
  DegradationSource,
  ExperimentAction,
  ExperimentAnnouncer,
  ExperimentComponents,
  ExperimentContext,
  ExperimentDefinition,
  ExperimentHalt,
  ExperimentOutcome,
  ExperimentProbe,
  ExperimentResults,
  ExperimentRun,
  ExperimentRunnerEvents,
  ExperimentRunnerOptions,
  ExperimentRunStatus,
  ExperimentSeverity,
  ExperimentTemplate,
  ExperimentTraffic,
  GameDayHost,
  GameDayLock,
  GameDayOptions,
  GameDayReport,
  GameDayExperimentOptions,
  GameDayPick,
  GameDayScheduleOptions,
  HealerSource,
  HealingObservation,
  ProbeOptions,
  ProbeReading,
  ProbeSummary,
  ProbeTolerance,
  ProbeValue,
  ProxyLatencyToxic,
  ProxyLike,
  Rollback,
  RunExperimentOptions,
  SafetyReport,
  SteadyStateCheck,
  StoppableService,
  SupervisedWorkerLike,
  SupervisorLike,
  TemplateOptions,
  TrafficSummary,
  Weekday,
} from './chaos/experiments/index.js';
export {
  CHAOS_FAULT_TYPES,
  ChaosEngineering,
  ChaosExperiments,
  ChaosMonkey,
  EXPERIMENT_SEVERITIES,
  ExperimentProbes,
  ExperimentRunner,
  GameDaySchedule,
  isWithinChaosWindow,
  isWithinChaosWindows,
  runGameDay,
} from './chaos/experiments/index.js';
export type {
  CpuPressureOptions,
  EventLoopBlockOptions,
  IdentifiedResourceFault,
  MemoryPressureOptions,
  ResourceFaultHandle,
  ResourceFaultSpec,
  StartResourceFaultOptions,
} from './chaos/resource/index.js';
export {
  CpuPressure,
  EVENT_LOOP_BLOCK_HARD_CAP_MS,
  EventLoopBlock,
  MemoryPressure,
  blockEventLoop,
  startCpuPressure,
  startEventLoopBlock,
  startMemoryPressure,
  startResourceFault,
} from './chaos/resource/index.js';

// scenarios: files, runner, target clients
export type {
  ChaosAdminApi,
  ChaosAdminClientOptions,
  ChaosAdminState,
  ComparisonOperator,
  ExampleTarget,
  ExampleTargetInstance,
  HaltCondition,
  JsonFaultSpec,
  JsonPath,
  LoadMetricName,
  LoadRequestSpec,
  Measure,
  PhaseEvent,
  ProxyApiClientOptions,
  ProxyToxicApi,
  ProxyToxicSpec,
  RunEvidence,
  SampleSelection,
  Scenario,
  ScenarioCriterion,
  ScenarioFault,
  ScenarioFile,
  ScenarioLoad,
  ScenarioPhase,
  ScenarioRunnerEvents,
  ScenarioRunOptions,
  EmergencyCleanupReport,
  EmergencyCleanupStep,
  ScenarioTargetSettings,
  SeedChaosEntry,
  SeedScenario,
  SourceIssue,
  StatusSample,
  SteadyStateProbe,
  Tolerance,
} from './scenario/index.js';
export {
  ChaosAdminClient,
  EXAMPLE_LAUNCHER_PATH,
  LOAD_METRIC_NAMES,
  ProxyApiClient,
  SEED_CHAOS_KINDS,
  SEED_DEFAULT_RATE,
  SEED_PHASE_NAMES,
  SEED_PHASE_SHARES,
  ScenarioLoadError,
  ScenarioRunner,
  TargetRequestError,
  evaluateCriterion,
  formatScenarioDuration,
  formatSourceIssue,
  isScenarioLoadError,
  isTargetRequestError,
  loadExampleTarget,
  loadScenarioFile,
  mapSeedScenario,
  parseJsonPath,
  parseScenarioDuration,
  parseScenarioFile,
  parseToleranceExpression,
  readJsonPath,
  runScenario,
  RUN_TAG_PREFIX,
  toleranceHolds,
} from './scenario/index.js';

// protection: adaptive rate limiting and abuse detection
export type {
  AbuseDetectorEvents,
  AbuseDetectorOptions,
  AbusePattern,
  AbuseRequest,
  AbuseVerdict,
  AdaptiveRateLimitDecision,
  AdaptiveRateLimiterEvents,
  AdaptiveRateLimiterOptions,
  AdaptiveRateLimitExecuteOptions,
  BehaviorEvent,
  BehaviorTrackerOptions,
  ConcurrencyLoadSignalOptions,
  ConcurrencyReading,
  EventLoopDelayHistogram,
  EventLoopDelaySignalOptions,
  KeyedLimit,
  KeyedRateLimitResult,
  KeyedRateLimitStore,
  LoadScalingOptions,
  LoadSignal,
  LocalRateLimitStoreOptions,
} from './protection/index.js';
export {
  AbuseDetector,
  AdaptiveRateLimiter,
  BehaviorTracker,
  BoundedMap,
  ConcurrencyLoadSignal,
  DEFAULT_ABUSE_PATTERNS,
  EventLoopDelaySignal,
  LocalRateLimitStore,
} from './protection/index.js';
