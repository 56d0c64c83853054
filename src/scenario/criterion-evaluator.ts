import type { TargetStatus } from '../adapters/http/chaos-admin-handler.js';
import type { CriterionResult, LoadSummary } from './journal.js';
import { readJsonPath, type JsonPath } from './json-path.js';
import { LOAD_METRIC_NAMES, type LoadMetricName, type ScenarioCriterion } from './scenario.js';
import { toleranceHolds, type Tolerance } from './tolerance.js';

/** The target's status as read at time `t` of a run. */
export interface StatusSample {
  /** Ms since the run started. */
  t: number;
  /** Phase running when it was read; undefined for the reading after the last phase. */
  phase: string | undefined;
  status: TargetStatus;
}

/** What a run observed, for evaluating its criteria. */
export interface RunEvidence {
  /** Load over the whole run. */
  totals: LoadSummary;
  /** Load by phase name. */
  phases: Readonly<Record<string, LoadSummary>>;
  /** Status readings in time order (empty when the target's status could not be read). */
  samples: readonly StatusSample[];
  /** Why there are no status readings, when there are none (e.g. `no admin token was given`). */
  statusUnavailable?: string;
}

/** A value read for a criterion, or why there is none. */
type Reading = { value: number | string | boolean | null; detail?: string } | { missing: string };

/**
 * Evaluates one success criterion against what a run observed. A criterion whose value cannot be read
 * (the target does not report the metric, no request was sent, no status sample) fails with a detail
 * saying so: nothing passes by default.
 */
export function evaluateCriterion(criterion: ScenarioCriterion, evidence: RunEvidence): CriterionResult {
  const base = { name: criterion.name, expected: criterion.expected };
  const samples = criterion.phases === undefined ? evidence.samples : evidence.samples.filter((s) => s.phase !== undefined && criterion.phases?.includes(s.phase));
  const measure = criterion.measure;
  if (measure.kind === 'metric' && isLoadMetric(measure.name)) {
    return judge(base, criterion.tolerance, loadMetric(measure.name, loadOf(criterion.phases, evidence)));
  }
  if (measure.kind === 'percentile') {
    if (measure.of === 'latency') return judge(base, criterion.tolerance, latencyPercentile(measure.percentile, loadOf(criterion.phases, evidence)));
    return judge(base, criterion.tolerance, statusPercentile(measure.percentile, measure.of, samples, evidence));
  }
  if (samples.length === 0) {
    const why = evidence.statusUnavailable ?? (criterion.phases === undefined ? 'no status sample was taken' : `no status sample was taken during ${criterion.phases.join(', ')}`);
    return { ...base, observed: null, passed: false, detail: `cannot read ${describe(criterion)}: ${why}` };
  }
  const read = measure.kind === 'status' ? (s: TargetStatus) => readJsonPath(measure.path, s) : (s: TargetStatus) => targetMetric(measure.name, s);
  const values = samples.map((s) => read(s.status)).filter((v) => v !== undefined);
  if (values.length === 0) {
    if (measure.kind === 'metric') {
      const derived = derive(measure.name, samples);
      if (derived !== undefined) return judge(base, criterion.tolerance, derived);
      return { ...base, observed: null, passed: false, detail: `target does not report metric ${measure.name} (no metrics.${measure.name} in its status)` };
    }
    return { ...base, observed: null, passed: false, detail: `target status has no ${measure.path.text}` };
  }
  const holds = values.map((v) => toleranceHolds(criterion.tolerance, v));
  const pick = (i: number): CriterionResult['observed'] => plain(values[i]);
  switch (measure.when) {
    case 'last':
      return { ...base, observed: pick(values.length - 1), passed: holds[holds.length - 1] === true, detail: `last of ${values.length} status samples` };
    case 'any': {
      const i = holds.indexOf(true);
      return i >= 0
        ? { ...base, observed: pick(i), passed: true, detail: `held in ${holds.filter(Boolean).length} of ${values.length} status samples` }
        : { ...base, observed: pick(values.length - 1), passed: false, detail: `held in none of ${values.length} status samples` };
    }
    case 'all': {
      const i = holds.indexOf(false);
      return i < 0
        ? { ...base, observed: pick(values.length - 1), passed: true, detail: `held in all ${values.length} status samples` }
        : { ...base, observed: pick(i), passed: false, detail: `failed in ${holds.filter((h) => !h).length} of ${values.length} status samples` };
    }
  }
}

/** Whether `name` is one of the load metrics. */
export function isLoadMetric(name: string): name is LoadMetricName {
  return (LOAD_METRIC_NAMES as readonly string[]).includes(name);
}

/**
 * A metric as the target reports it: `status.metrics[name]`, else the top-level `status[name]` (for values
 * that are not numbers, such as `core_functionality: available`). Undefined when it reports neither.
 */
export function targetMetric(name: string, status: TargetStatus): number | string | boolean | undefined {
  const fromMetrics = status.metrics?.[name];
  if (typeof fromMetrics === 'number' && Number.isFinite(fromMetrics)) return fromMetrics;
  if (name === 'metrics' || name === 'breakers' || name === 'degradation') return undefined;
  const top = status[name];
  return typeof top === 'number' || typeof top === 'string' || typeof top === 'boolean' ? top : undefined;
}

function judge(base: { name: string; expected: string }, tolerance: Tolerance, reading: Reading): CriterionResult {
  if ('missing' in reading) return { ...base, observed: null, passed: false, detail: reading.missing };
  return { ...base, observed: reading.value, passed: toleranceHolds(tolerance, reading.value), ...(reading.detail === undefined ? {} : { detail: reading.detail }) };
}

function loadOf(phases: readonly string[] | undefined, evidence: RunEvidence): { summary: LoadSummary; span: string; combined: boolean } {
  if (phases === undefined) return { summary: evidence.totals, span: 'the run', combined: false };
  const parts = phases.map((p) => evidence.phases[p]).filter((s): s is LoadSummary => s !== undefined);
  const span = phases.length === 1 ? `phase ${phases[0] ?? ''}` : `phases ${phases.join(', ')}`;
  if (parts.length <= 1) return { summary: parts[0] ?? emptySummary(), span, combined: false };
  return { summary: combine(parts), span, combined: true };
}

function loadMetric(name: LoadMetricName, load: { summary: LoadSummary; span: string; combined: boolean }): Reading {
  const s = load.summary;
  if (s.sent === 0) return { missing: `no request was sent during ${load.span}` };
  const finished = s.ok + s.failed;
  const worst = load.combined && name.endsWith('_latency') && name !== 'mean_latency' ? ' (worst of the phases)' : '';
  switch (name) {
    case 'availability':
      return { value: round(s.availability), detail: `${s.ok} of ${s.sent} requests succeeded during ${load.span}` };
    case 'error_rate':
      return { value: round(s.failed / s.sent), detail: `${s.failed} of ${s.sent} requests failed during ${load.span}` };
    case 'requests':
      return { value: s.sent, detail: `sent during ${load.span}` };
    case 'failures':
      return { value: s.failed, detail: `failed during ${load.span}` };
    case 'throughput':
      return { value: s.ratePerSec, detail: `requests per second during ${load.span}` };
    default: {
      if (finished === 0) return { missing: `no request finished during ${load.span}` };
      const key = name === 'mean_latency' ? 'mean' : name === 'max_latency' ? 'max' : (name.slice(0, 3) as 'p50' | 'p95' | 'p99');
      return { value: s.latency[key], detail: `ms from intended start, ${finished} requests during ${load.span}${worst}` };
    }
  }
}

function latencyPercentile(percentile: number, load: { summary: LoadSummary; span: string; combined: boolean }): Reading {
  const metric = percentile === 100 ? 'max_latency' : (`p${percentile}_latency` as LoadMetricName);
  return loadMetric(metric, load);
}

function statusPercentile(percentile: number, path: JsonPath, samples: readonly StatusSample[], evidence: RunEvidence): Reading {
  if (samples.length === 0) return { missing: `cannot read ${path.text}: ${evidence.statusUnavailable ?? 'no status sample was taken'}` };
  const values = samples.map((s) => readJsonPath(path, s.status)).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (values.length === 0) return { missing: `target status has no number at ${path.text}` };
  values.sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((percentile / 100) * values.length));
  return { value: values[rank - 1] as number, detail: `p${percentile} of ${values.length} status samples of ${path.text}` };
}

/**
 * Seed criteria the target may not report but that its timelines show: `degradation_activated` (the level
 * changed from the first one seen) and `self_healing` (at the end, every breaker closed and the level back
 * to the first one seen).
 */
function derive(name: string, samples: readonly StatusSample[]): Reading | undefined {
  const levels = samples.map((s) => s.status.degradation?.level).filter((l): l is string => typeof l === 'string');
  if (name === 'degradation_activated') {
    if (levels.length === 0) return { missing: 'target reports neither metrics.degradation_activated nor a degradation level' };
    const first = levels[0] as string;
    const changed = levels.find((l) => l !== first);
    return { value: changed !== undefined, detail: changed !== undefined ? `degradation level went from ${first} to ${changed}` : `degradation level stayed ${first} in ${levels.length} samples` };
  }
  if (name === 'self_healing') {
    const withBreakers = samples.filter((s) => s.status.breakers !== undefined && Object.keys(s.status.breakers).length > 0);
    if (levels.length === 0 && withBreakers.length === 0) return { missing: 'target reports neither metrics.self_healing nor breakers or a degradation level' };
    const problems: string[] = [];
    const lastBreakers = withBreakers[withBreakers.length - 1]?.status.breakers ?? {};
    for (const [breaker, state] of Object.entries(lastBreakers)) if (!/^closed$/i.test(state)) problems.push(`breaker ${breaker} is ${state}`);
    if (levels.length > 0 && levels[levels.length - 1] !== levels[0]) problems.push(`degradation level is ${levels[levels.length - 1] ?? ''}, was ${levels[0] ?? ''}`);
    return { value: problems.length === 0, detail: problems.length === 0 ? 'at the end every breaker was closed and the degradation level back where it started' : `at the end ${problems.join('; ')}` };
  }
  return undefined;
}

function describe(criterion: ScenarioCriterion): string {
  const m = criterion.measure;
  return m.kind === 'status' ? m.path.text : m.kind === 'metric' ? `metric ${m.name}` : `p${m.percentile}`;
}

function plain(value: unknown): CriterionResult['observed'] {
  if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return JSON.stringify(value) ?? null;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function emptySummary(): LoadSummary {
  return { sent: 0, ok: 0, failed: 0, availability: 1, ratePerSec: 0, latency: { mean: 0, p50: 0, p95: 0, p99: 0, max: 0 }, errors: {} };
}

/** Sums counts exactly; takes the worst (largest) of each latency figure, the request-weighted mean. */
function combine(parts: readonly LoadSummary[]): LoadSummary {
  const out = emptySummary();
  let weighted = 0;
  for (const p of parts) {
    out.sent += p.sent;
    out.ok += p.ok;
    out.failed += p.failed;
    out.ratePerSec += p.ratePerSec * p.sent;
    weighted += p.latency.mean * (p.ok + p.failed);
    for (const key of ['p50', 'p95', 'p99', 'max'] as const) out.latency[key] = Math.max(out.latency[key], p.latency[key]);
    for (const [cause, count] of Object.entries(p.errors)) out.errors[cause] = (out.errors[cause] ?? 0) + count;
  }
  out.availability = out.sent === 0 ? 1 : out.ok / out.sent;
  out.ratePerSec = out.sent === 0 ? 0 : Math.round((out.ratePerSec / out.sent) * 100) / 100;
  out.latency.mean = out.ok + out.failed === 0 ? 0 : Math.round((weighted / (out.ok + out.failed)) * 1000) / 1000;
  return out;
}
