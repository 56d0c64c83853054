/**
 * The record of one scenario run, written as JSON by `antifragile run --journal` and rendered by the HTML
 * report. Modelled on Chaos Toolkit's journal (status, deviated, steady states, activities with times),
 * plus the time series and fault windows the report charts. Times inside a run are wall-clock milliseconds
 * since its start (`t = 0` when the first phase begins); `timeScale` says how much the scenario was shortened.
 */
export interface ScenarioJournal {
  version: 1;
  /** The run's id; every fault the run injected through the admin endpoint carried the tag `antifragile-run:<runId>`. */
  runId?: string;
  scenario: {
    name: string;
    description?: string;
    /** Path of the scenario file, when run from one. */
    file?: string;
    /** `seed`: the `scenarios:` list of the NestJS plan; `native`: phases, load, faults, probes, criteria. */
    format: 'seed' | 'native';
  };
  target: {
    /** Base URL the load went to. */
    url?: string;
    /** `url`: a service given on the command line; `example`: the bundled example service. */
    kind: 'url' | 'example';
    /** Whether this run had the service's protection switched off (`--baseline`). */
    baseline: boolean;
  };
  /** `completed`: ran to the end; `aborted`: a halt condition stopped it; `failed`: the runner itself failed; `interrupted`: SIGINT. */
  status: 'completed' | 'aborted' | 'failed' | 'interrupted';
  /** Whether the steady state after the run differed from before (Chaos Toolkit's `deviated`). */
  deviated: boolean;
  /** Whether every success criterion held. */
  verdict: 'pass' | 'fail';
  /** ISO timestamps. */
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** Durations of the scenario were divided by this (`--time-scale 60` runs an hour in a minute). */
  timeScale: number;
  /** Error that failed the run (status `failed`) or the halt condition that aborted it. */
  reason?: string;
  steadyStateBefore: ProbeResult[];
  steadyStateAfter: ProbeResult[];
  phases: PhaseJournal[];
  /** Every action (fault on/off, load change) and probe, in order. */
  activities: Activity[];
  criteria: CriterionResult[];
  /** One point per second of the run. */
  series: TimePoint[];
  /** When each fault was active. */
  faultWindows: FaultWindow[];
  /** Breaker states and degradation level over time, read from the target when it exposes them. */
  timelines: {
    breakers: { t: number; name: string; state: string }[];
    degradation: { t: number; level: string }[];
  };
  totals: LoadSummary;
  /** The same scenario against the unprotected service (`--baseline`), for the side-by-side report. */
  baseline?: ScenarioJournal;
}

/** Load figures over a span of time. */
export interface LoadSummary {
  /** Requests started. */
  sent: number;
  /** Requests answered with a success (2xx/3xx, or what the scenario counts as success). */
  ok: number;
  failed: number;
  /** ok / sent, 0..1 (1 when nothing was sent). */
  availability: number;
  /** Achieved start rate, requests per second. */
  ratePerSec: number;
  /** Latency in ms measured from each request's intended start (no coordinated omission). */
  latency: { mean: number; p50: number; p95: number; p99: number; max: number };
  /** Failures by cause: HTTP status (`'503'`), `'timeout'`, `'connection'`... */
  errors: Record<string, number>;
}

/** One second of a run. */
export interface TimePoint {
  /** End of the second, ms since the run started. */
  t: number;
  phase: string;
  sent: number;
  ok: number;
  failed: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Names of the faults active at that time. */
  activeFaults: string[];
}

/** A phase of a run. */
export interface PhaseJournal {
  name: string;
  startMs: number;
  endMs: number;
  /** Requested arrival rate (requests per second) during the phase. */
  rate: number;
  load: LoadSummary;
  /** Names of the faults injected in this phase. */
  faults: string[];
}

/** A fault's active window. */
export interface FaultWindow {
  name: string;
  kind: string;
  /** Dependency or resource it hit. */
  target?: string;
  startMs: number;
  endMs: number;
}

/** An action or probe of the run. */
export interface Activity {
  type: 'action' | 'probe';
  name: string;
  startMs: number;
  endMs: number;
  status: 'succeeded' | 'failed';
  output?: unknown;
  error?: string;
}

/** A steady-state or halt probe's result. */
export interface ProbeResult {
  name: string;
  /** What was observed (a number, a status, a JSON value). */
  value: unknown;
  /** Whether it was within tolerance. */
  ok: boolean;
  detail?: string;
}

/** A success criterion's evaluation. */
export interface CriterionResult {
  name: string;
  /** The criterion as written, e.g. `> 99%`, `< 2000ms`. */
  expected: string;
  observed: number | string | boolean | null;
  passed: boolean;
  detail?: string;
}
