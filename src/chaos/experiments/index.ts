export type { SafetyReport } from './assess-safety.js';
export type { ChaosEngineeringConfig } from './chaos-engineering.js';
export type { ChaosFaultConfigs, ExperimentTemplate, TemplateOptions } from './chaos-experiments.js';
export type { ChaosExperiment, ChaosMonkeyOptions, ChaosOptions } from './chaos-monkey.js';
export type { ChaosWindow, Weekday } from './chaos-window.js';
export type { BreakerSource, DegradationSource, ExperimentComponents, HealerSource } from './experiment-components.js';
export type {
  ChaosFaultType,
  ExperimentAction,
  ExperimentContext,
  ExperimentDefinition,
  ExperimentProbe,
  ExperimentSeverity,
  ExperimentTraffic,
  ProbeTolerance,
  ProbeValue,
  Rollback,
} from './experiment-definition.js';
export type { ProbeOptions } from './experiment-probes.js';
export type {
  ActionRecord,
  BreakerChange,
  DegradationChange,
  ExperimentHalt,
  ExperimentOutcome,
  ExperimentResults,
  ExperimentRun,
  ExperimentRunStatus,
  HealingObservation,
  ProbeReading,
  ProbeSummary,
  SteadyStateCheck,
  TrafficSummary,
} from './experiment-run.js';
export type {
  ApprovalRequest,
  ExperimentAnnouncer,
  ExperimentRunnerEvents,
  ExperimentRunnerOptions,
  RunExperimentOptions,
} from './experiment-runner.js';
export type { ProxyLatencyToxic, ProxyLike, StoppableService, SupervisedWorkerLike, SupervisorLike } from './experiment-targets.js';
export type { GameDayExperimentOptions, GameDayPick, GameDayScheduleOptions } from './game-day-schedule.js';
export type { GameDayHost, GameDayLock, GameDayOptions, GameDayReport } from './game-day.js';
export { ChaosEngineering } from './chaos-engineering.js';
export { ChaosExperiments } from './chaos-experiments.js';
export { ChaosMonkey } from './chaos-monkey.js';
export { isWithinChaosWindow, isWithinChaosWindows } from './chaos-window.js';
export { CHAOS_FAULT_TYPES, EXPERIMENT_SEVERITIES } from './experiment-definition.js';
export { ExperimentProbes } from './experiment-probes.js';
export { ExperimentRunner } from './experiment-runner.js';
export { GameDaySchedule } from './game-day-schedule.js';
export { runGameDay } from './game-day.js';
