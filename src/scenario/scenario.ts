import type { FaultSpec } from '../chaos/fault-spec.js';
import type { JsonPath } from './json-path.js';
import type { Tolerance } from './tolerance.js';

/** A {@link FaultSpec} that can be written as data (every kind but `behavior`). */
export type JsonFaultSpec = Exclude<FaultSpec, { kind: 'behavior' }>;

/**
 * A scenario ready to run: what the loader makes of either file format (the seed's `scenarios:` list or the
 * native format), and what {@link runScenario} executes. Durations are milliseconds as written (before
 * `--time-scale`), rates requests per second.
 */
export interface Scenario {
  name: string;
  description?: string;
  /** Which file format it came from. */
  format: 'seed' | 'native';
  /** File it was loaded from. */
  file?: string;
  /** Where the target is, when the file says (the command line wins). */
  target: ScenarioTargetSettings;
  load: ScenarioLoad;
  /** Probed before the first phase and after the last (Chaos Toolkit's steady-state hypothesis). */
  steadyState: SteadyStateProbe[];
  /** Run in order; each phase's faults are active during that phase only. */
  phases: ScenarioPhase[];
  /** Checked every status interval during the run; the first that triggers aborts the run. */
  halts: HaltCondition[];
  criteria: ScenarioCriterion[];
}

/** Where a scenario's target lives. */
export interface ScenarioTargetSettings {
  /** Base URL of the service. */
  url?: string;
  /** Path of the service's chaos admin endpoint. @default '/admin/chaos' */
  adminPath?: string;
  /** Base URL of the fault proxy's HTTP API (toxiproxy-compatible), for proxy faults. */
  proxyApi?: string;
}

/** The load a scenario sends. */
export interface ScenarioLoad {
  /** Base arrival rate in requests per second (phases set or multiply it). */
  rate: number;
  /** Each request's time budget in ms; a request over it counts as a `timeout` failure. */
  timeoutMs: number;
  /** Requests picked at random by weight; empty: `GET` of the target URL itself. */
  mix: LoadRequestSpec[];
}

/** One kind of request in the load mix. */
export interface LoadRequestSpec {
  name: string;
  /** @default 'GET' */
  method: string;
  /** Resolved against the target URL. */
  path: string;
  /** Relative share of the mix. @default 1 */
  weight: number;
  headers: Record<string, string>;
  /** JSON body. */
  body?: unknown;
  /** Statuses counted as success; absent: any 2xx or 3xx. */
  okStatuses?: number[];
}

/** One phase of a run. */
export interface ScenarioPhase {
  name: string;
  durationMs: number;
  /** Arrival rate of the phase, requests per second; absent: the load's rate × {@link multiplier}. */
  rate?: number;
  /** Multiplier of the load's rate. @default 1 */
  multiplier?: number;
  faults: ScenarioFault[];
}

/** A fault made by a toxic of the fault proxy (toxiproxy's JSON shape). */
export interface ProxyToxicSpec {
  /** Toxic type: `latency`, `timeout`, `bandwidth`, `reset_peer`, `slicer`, `limit_data`... */
  type: string;
  /** @default 'downstream' */
  stream?: 'upstream' | 'downstream';
  /** Share of connections affected, 0..1. @default 1 */
  toxicity?: number;
  attributes: Record<string, unknown>;
}

/**
 * A fault of a phase, applied when the phase starts and removed when it ends (and always on abort).
 * `region` and `slowdown` come from the seed format and are resolved against the target when applied.
 */
export type ScenarioFault =
  | { type: 'dependency'; name: string; dependency: string; fault: JsonFaultSpec }
  | { type: 'resource'; name: string; resource: { kind: string } & Record<string, unknown> }
  | { type: 'proxy'; name: string; proxy: string; toxic: ProxyToxicSpec }
  /** Outage (error, rate 1) of every dependency of `region`, or of every dependency when the target does not know regions. */
  | { type: 'region'; name: string; region: string }
  /** Latency on `dependency` of `factor` × its baseline latency (see the seed mapping). */
  | { type: 'slowdown'; name: string; dependency: string; factor: number };

/** Load figures a criterion or halt condition can name. */
export type LoadMetricName =
  | 'availability'
  | 'error_rate'
  | 'p50_latency'
  | 'p95_latency'
  | 'p99_latency'
  | 'max_latency'
  | 'mean_latency'
  | 'throughput'
  | 'requests'
  | 'failures';

/** The load metric names, in documentation order. */
export const LOAD_METRIC_NAMES: readonly LoadMetricName[] = [
  'availability',
  'error_rate',
  'p50_latency',
  'p95_latency',
  'p99_latency',
  'max_latency',
  'mean_latency',
  'throughput',
  'requests',
  'failures',
];

/** Which status samples a reading uses: the last one, whether any held, whether all held. */
export type SampleSelection = 'last' | 'any' | 'all';

/**
 * What a criterion or halt condition measures.
 * - `metric`: a load figure when `name` is one of {@link LOAD_METRIC_NAMES}, else the target's
 *   `TargetStatus.metrics[name]` (or top-level `status[name]`), with `degradation_activated` and
 *   `self_healing` derived from the degradation and breaker timelines when the target does not report them.
 * - `percentile`: a percentile of the load's latency samples, or of a status value sampled every interval.
 * - `status`: a JSON path into `TargetStatus`.
 */
export type Measure =
  | { kind: 'metric'; name: string; when: SampleSelection }
  | { kind: 'percentile'; percentile: number; of: 'latency' | JsonPath }
  | { kind: 'status'; path: JsonPath; when: SampleSelection };

/** A success criterion. */
export interface ScenarioCriterion {
  name: string;
  /** The tolerance as written (`> 99%`). */
  expected: string;
  measure: Measure;
  tolerance: Tolerance;
  /** Restrict load figures and status samples to these phases; absent: the whole run. */
  phases?: string[];
}

/** A condition that aborts the run (and rolls every fault back) when it holds. */
export interface HaltCondition {
  name: string;
  measure: Measure;
  /** The halt triggers when the measured value is within this (e.g. `< 50%`). */
  when: Tolerance;
  /** Load figures are taken over this trailing window, ms (not scaled by `--time-scale`). @default 10_000 */
  windowMs: number;
  /** Load halts wait until the window holds at least this many requests. @default 10 */
  minRequests: number;
  /** Only checked during these phases; absent: every phase. */
  phases?: string[];
}

/** A probe of the steady state, before the first phase and after the last. */
export interface SteadyStateProbe {
  name: string;
  measure:
    | { kind: 'http'; method: string; path: string; timeoutMs: number }
    | { kind: 'status'; path: JsonPath }
    | { kind: 'metric'; name: string };
  tolerance: Tolerance;
}
