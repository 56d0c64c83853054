// Scenarios: files, runner, target clients. The load generator and the HTML report have their own barrels
// (./load/index.ts, ./report/index.ts).
export type {
  Activity,
  CriterionResult,
  FaultWindow,
  LoadSummary,
  PhaseJournal,
  ProbeResult,
  ScenarioJournal,
  TimePoint,
} from './journal.js';
export type { ChaosAdminApi, ChaosAdminClientOptions, ChaosAdminState } from './chaos-admin-client.js';
export type { RunEvidence, StatusSample } from './criterion-evaluator.js';
export type { ExampleTarget, ExampleTargetInstance } from './example-target.js';
export type { JsonPath } from './json-path.js';
export type { ProxyApiClientOptions, ProxyToxicApi } from './proxy-api-client.js';
export type {
  HaltCondition,
  JsonFaultSpec,
  LoadMetricName,
  LoadRequestSpec,
  Measure,
  ProxyToxicSpec,
  SampleSelection,
  Scenario,
  ScenarioCriterion,
  ScenarioFault,
  ScenarioLoad,
  ScenarioPhase,
  ScenarioTargetSettings,
  SteadyStateProbe,
} from './scenario.js';
export type { ScenarioFile } from './scenario-loader.js';
export type { EmergencyCleanupReport, PhaseEvent, ScenarioRunnerEvents, ScenarioRunOptions } from './scenario-runner.js';
export type { EmergencyCleanupStep } from './fault-controller.js';
export type { SeedChaosEntry, SeedScenario } from './seed-scenario-reader.js';
export type { SourceIssue } from './source-issue.js';
export type { ComparisonOperator, Tolerance } from './tolerance.js';
export { ChaosAdminClient } from './chaos-admin-client.js';
export { evaluateCriterion } from './criterion-evaluator.js';
export { EXAMPLE_LAUNCHER_PATH, loadExampleTarget } from './example-target.js';
export { parseJsonPath, readJsonPath } from './json-path.js';
export { ProxyApiClient } from './proxy-api-client.js';
export { LOAD_METRIC_NAMES } from './scenario.js';
export { formatScenarioDuration, parseScenarioDuration } from './scenario-duration.js';
export { isScenarioLoadError, ScenarioLoadError } from './scenario-load-error.js';
export { loadScenarioFile, parseScenarioFile } from './scenario-loader.js';
export { RUN_TAG_PREFIX, runScenario, ScenarioRunner } from './scenario-runner.js';
export { mapSeedScenario, SEED_DEFAULT_RATE, SEED_PHASE_NAMES, SEED_PHASE_SHARES } from './seed-scenario-mapping.js';
export { SEED_CHAOS_KINDS } from './seed-scenario-reader.js';
export { formatSourceIssue } from './source-issue.js';
export { isTargetRequestError, TargetRequestError } from './target-request-error.js';
export { parseToleranceExpression, toleranceHolds } from './tolerance.js';
