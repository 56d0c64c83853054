export {
  RecoveryFailedError,
  RecoveryRefusedError,
  CheckpointNotFoundError,
  WebhookDeliveryError,
  isRecoveryFailedError,
  isRecoveryRefusedError,
  isCheckpointNotFoundError,
  isWebhookDeliveryError,
  type HealingErrorCode,
  type RecoveryFailedErrorOptions,
} from './errors.js';
export type {
  RecoveryStrategy,
  RecoveryStrategyType,
  RecoveryRequest,
  RecoveryContext,
  FailureSeverity,
} from './recovery-strategy.js';
export { RetryRecovery, type RetryRecoveryConfig, type BackoffStrategyName } from './retry-recovery.js';
export {
  FallbackRecovery,
  type FallbackRecoveryConfig,
  type FallbackProvider,
  type FallbackProviderContext,
  type FallbackRecoveryEvents,
} from './fallback-recovery.js';
export { RestoreRecovery, type RestoreRecoveryConfig, type Checkpoint, type RestoreRecoveryEvents } from './restore-recovery.js';
export {
  EscalationRecovery,
  type EscalationRecoveryConfig,
  type EscalationHandler,
  type EscalationContext,
  type EscalationDetails,
  type EscalationResult,
  type EscalationRecoveryEvents,
} from './escalation-recovery.js';
export {
  createWebhookEscalationHandler,
  genericWebhookBody,
  slackWebhookBody,
  pagerDutyWebhookBody,
  type WebhookEscalationHandlerOptions,
} from './webhook-escalation-handler.js';
export { createLogEscalationHandler, type EscalationLogger } from './log-escalation-handler.js';
export { RecoveryStrategyFactory } from './recovery-strategy-factory.js';
export type {
  HealthSource as HealerHealthSource,
  HealthStatusName as HealerHealthStatusName,
  RestartRequester,
  ClearableCache,
  BreakerRegistry,
  HealthSourceStatusChange,
  HealthSourceComponentStatusChange,
} from './health-source.js';
export {
  runHealingStrategy,
  createHealingContext,
  type HealingStrategy,
  type HealingStep,
  type HealingContext,
  type HealingContextOptions,
  type HealingStepRecord,
  type HealingRunResult,
} from './healing-strategy.js';
export {
  healingStrategies,
  type MemoryLeakHealingOptions,
  type ConnectionExhaustionHealingOptions,
  type ServiceDegradationHealingOptions,
  type HealingHook,
  type HealingCheck,
} from './built-in-healing-strategies.js';
export {
  SelfHealer,
  type SelfHealerConfig,
  type RecoverySpec,
  type Escalator,
  type BreakerManagerSource,
  type RecoveryTrigger,
  type RecoveryStatus,
  type RecoveryRecord,
  type HealerEventType,
  type HealerEvent,
  type SelfHealerEvents,
  type RecoveryCounters,
  type ComponentRecoveryStats,
  type HealerStatistics,
  type PreventiveActionRequest as HealerPreventiveActionRequest,
  type PreventiveAction,
  type PreventiveActionResult,
} from './self-healer.js';
export {
  RunbookEngine,
  RunbookRunError,
  isRunbookRunError,
  type RunbookEngineOptions,
  type RunbookEngineEvents,
  type RunbookAction,
  type RunbookActionContext,
  type RunbookMetricReader,
  type RunbookRun,
  type RunbookRunStatus,
  type RunbookRunTrigger,
  type RunbookStepRecord,
  type RunbookStepOutcome,
} from './runbook-engine.js';
export {
  parseRunbook,
  RunbookLoadError,
  isRunbookLoadError,
  formatRunbookIssue,
  type RunbookIssue,
  type RunbookRegistry,
} from './runbook-loader.js';
export { parseRunbookDuration, parseRunbookCondition } from './runbook-expressions.js';
export type {
  Runbook,
  RunbookStep,
  RunbookTrigger,
  RunbookVerify,
  RunbookOnFailure,
  RunbookCondition,
  RunbookStepCondition,
} from './runbook.js';
export {
  Supervisor,
  type SupervisorOptions,
  type SupervisorEvents,
  type SupervisedWorkerInfo,
  type WorkerStartReason,
} from './supervisor.js';
export { SupervisorRestartBackoff, type SupervisorRestartBackoffOptions } from './supervisor-restart-backoff.js';
export {
  onDrain,
  requestGracefulRestart,
  requestRollingRestartFromWorker,
  signalReady,
  isDraining,
  gracefulRestartRequester,
  GRACEFUL_SHUTDOWN_MESSAGE_TYPE,
  type DrainHandler,
} from './supervisor-worker.js';
