export {
  DEFAULT_DEGRADATION_LEVELS,
  GracefulDegradation,
  type DegradationEvaluation,
  type DegradationEvent,
  type DegradationEventType,
  type DegradationFeature,
  type DegradationInitialState,
  type DegradationState,
  type DegradationStatistics,
  type DegradationTrigger,
  type FeatureChange,
  type FeatureInfo,
  type GracefulDegradationConfig,
  type GracefulDegradationEvents,
  type HookError,
  type LevelChange,
  type LevelHookContext,
  type LevelHooks,
} from './graceful-degradation.js';
export { THRESHOLD_OPERATORS, type DegradationRule, type ThresholdCondition, type ThresholdOperator } from './degradation-rule.js';
export { HEALTH_SCORE_METRIC, type HealthSource } from './health-source.js';
