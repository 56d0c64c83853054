import type { ExperimentSeverity, ProbeValue } from './experiment-definition.js';

/**
 * Where a run is. The four final outcomes:
 * - `succeeded`: the steady state held before and after, no probe went out of tolerance, every rollback worked;
 * - `deviated`: it ran its course but a probe went out of tolerance or the steady state did not come back;
 * - `aborted`: stopped early by a halt condition, an abort signal, `abort()` or the kill switch;
 * - `failed`: the steady state did not hold before injecting, an injection threw, or a rollback failed.
 */
export type ExperimentRunStatus = 'running' | 'succeeded' | 'deviated' | 'aborted' | 'failed';

/** A final {@link ExperimentRunStatus}. */
export type ExperimentOutcome = Exclude<ExperimentRunStatus, 'running'>;

/** One reading of a probe. */
export interface ProbeReading {
  name: string;
  /** What it read (absent when it threw). */
  value?: ProbeValue;
  /** Whether the value is within tolerance. */
  ok: boolean;
  /** What it threw, as a message. */
  error?: string;
}

/** The steady state as checked before injecting or after the rollbacks. */
export interface SteadyStateCheck {
  /** Whether every probe was within tolerance. */
  met: boolean;
  /** When it was checked, clock ms. */
  at: number;
  readings: ProbeReading[];
}

/** What happened to one action. */
export interface ActionRecord {
  name: string;
  kind: string;
  target?: string;
  parameters?: Readonly<Record<string, unknown>>;
  /** When its injection succeeded, clock ms. */
  injectedAt?: number;
  /** Why its injection failed. */
  error?: string;
  /** When its rollback finished, clock ms. */
  rolledBackAt?: number;
  /** Why its rollback failed (or that it timed out). */
  rollbackError?: string;
}

/** A probe's readings during the run, summed up. */
export interface ProbeSummary {
  name: string;
  readings: number;
  /** Readings out of tolerance. */
  breaches: number;
  /** Whether this probe halted the run. */
  halted: boolean;
  /** The latest value read. */
  lastValue?: ProbeValue;
  /** The latest error, as a message. */
  lastError?: string;
  /** First time it went out of tolerance, clock ms. */
  firstBreachAt?: number;
}

/** Caller traffic to one dependency during the run. */
export interface TrafficSummary {
  target: string;
  calls: number;
  succeeded: number;
  /** Calls that rejected: errors that reached the caller. */
  failed: number;
  /** Of those, injected faults (code `INJECTED_FAULT`). */
  injectedErrors: number;
  /** Of those, open-circuit refusals (code `CIRCUIT_OPEN`). */
  circuitOpen: number;
  /** Of those, timeouts (code `TIMEOUT`). */
  timeouts: number;
  /** Failures by error code (`err.code`, else the error's name); at most 20 distinct keys. */
  errors: Record<string, number>;
  /** Longest call, ms. */
  maxLatencyMs: number;
  /** Mean call duration, ms. */
  meanLatencyMs: number;
}

/** A breaker's state change seen during the run. */
export interface BreakerChange {
  name: string;
  from: string;
  to: string;
  reason: string;
  at: number;
}

/** A degradation level change seen during the run. */
export interface DegradationChange {
  from: string;
  to: string;
  reason: string;
  at: number;
}

/** A self-healer event seen during the run. */
export interface HealingObservation {
  type: string;
  component: string;
  strategy?: string;
  durationMs?: number;
  at: number;
}

/** What a run observed and concluded. */
export interface ExperimentResults {
  /** What happened, in sentences. */
  observations: string[];
  /** What went wrong under the fault (e.g. `no fallback on "pricing"`). */
  weaknesses: string[];
  /** What to change, derived from the weaknesses. */
  recommendations: string[];
  /** Calls each dependency's injected faults reached, by dependency. */
  injections: Record<string, number>;
  traffic: TrafficSummary[];
  breakerChanges: BreakerChange[];
  degradationChanges: DegradationChange[];
  healing: HealingObservation[];
  /** Whether the steady state came back after the rollbacks, and how long it took (ms). */
  recovery?: { recovered: boolean; timeMs?: number };
}

/** Why a run stopped early. */
export interface ExperimentHalt {
  /** `halt-condition`, `signal`, `abort` (runner `abort()`) or `kill-switch`. */
  cause: 'halt-condition' | 'signal' | 'abort' | 'kill-switch';
  /** The probe whose halt condition broke. */
  probe?: string;
  reason: string;
  at: number;
}

/** A run of an experiment (JSON-serialisable): what the runner returns, keeps in its history and stores. */
export interface ExperimentRun {
  id: string;
  name: string;
  description?: string;
  category: string;
  severity: ExperimentSeverity;
  /** The kind of the first action (the seed's `faultType`). */
  faultType: string;
  /** The target of the first action that has one. */
  target?: string;
  status: ExperimentRunStatus;
  startedAt: number;
  endedAt?: number;
  /** How long the faults were to stay in place, ms. */
  durationMs: number;
  steadyStateBefore?: SteadyStateCheck;
  steadyStateAfter?: SteadyStateCheck;
  actions: ActionRecord[];
  probes: ProbeSummary[];
  halt?: ExperimentHalt;
  /** Why it failed, when it did. */
  error?: string;
  results: ExperimentResults;
}
