import type { Clock } from '../../core/clock.js';
import { OptionsValidator } from '../../core/options.js';
import type { ActiveFault, ChaosRegistry } from '../chaos-registry.js';
import type { FaultSpec } from '../fault-spec.js';

/** How much harm an experiment may do; safe mode refuses the most severe ones. */
export type ExperimentSeverity = 'low' | 'medium' | 'high' | 'critical';

/** Severities, least severe first. */
export const EXPERIMENT_SEVERITIES: readonly ExperimentSeverity[] = ['low', 'medium', 'high', 'critical'];

/**
 * Kinds of fault the built-in templates inject (the seed's `faultType`, checked against `allowedFaults`). An
 * action of your own may use any other string (the seed-style `registerExperiment` uses its `category`).
 */
export type ChaosFaultType =
  | 'latency'
  | 'error'
  | 'timeout'
  | 'dependency-outage'
  | 'resource-exhaustion'
  | 'process-kill'
  | 'network-latency'
  | 'cpu-pressure'
  | 'memory-pressure'
  | 'event-loop-block'
  | 'service-disruption'
  | 'dns-failure'
  | 'tls-failure';

/** Every {@link ChaosFaultType}. */
export const CHAOS_FAULT_TYPES: readonly ChaosFaultType[] = [
  'latency',
  'error',
  'timeout',
  'dependency-outage',
  'resource-exhaustion',
  'process-kill',
  'network-latency',
  'cpu-pressure',
  'memory-pressure',
  'event-loop-block',
  'service-disruption',
  'dns-failure',
  'tls-failure',
];

/** Undoes one injection. Its result is awaited; what it throws is recorded and the other rollbacks still run. */
export type Rollback = () => unknown;

/** What actions and probes of a running experiment receive. */
export interface ExperimentContext {
  /** Id of this run. */
  readonly experimentId: string;
  /** Name of the experiment. */
  readonly experimentName: string;
  /** Aborts when the run stops early (halt condition, abort, kill switch); pass it to anything that waits. */
  readonly signal: AbortSignal;
  /** The runner's clock. */
  readonly clock: Clock;
  /** Randomness (which worker to kill...), in [0, 1). */
  readonly random: () => number;
  /** The registry whose injectors sit in the pipelines of the dependencies. */
  readonly registry: ChaosRegistry;
  /**
   * Injects `spec` into the calls of `dependency` through {@link registry}, counting the calls it reaches for
   * this run's findings. Returns the rollback (removing the fault).
   */
  injectFault(dependency: string, spec: FaultSpec): Rollback & { readonly fault: ActiveFault };
  /** Adds a line to the run's observations (e.g. "worker slot 1 replaced in 820 ms"). */
  observe(text: string): void;
  /** Appends an event to the run's timeline (and to the store); `data` must be JSON-serialisable. */
  record(type: string, data?: unknown): void;
}

/** One step of an experiment's method: an injection and how to undo it. */
export interface ExperimentAction {
  /** Name in the timeline and findings. */
  name: string;
  /** Kind of fault (checked against `allowedFaults`); a {@link ChaosFaultType} or a string of your own. */
  kind: string;
  /** The dependency or resource it acts on (findings look up the breaker and traffic of that name). */
  target?: string;
  /** Parameters worth reporting (latency, error rate...), JSON-serialisable; findings read `latencyMs`. */
  parameters?: Readonly<Record<string, unknown>>;
  /**
   * Injects the fault and returns its rollback, which the runner runs in reverse order of injection once the
   * run ends, whatever happens. When it throws, nothing was injected (unless {@link rollback} is given).
   */
  inject(context: ExperimentContext): Rollback | void | Promise<Rollback | void>;
  /**
   * A rollback bound before `inject` is called, so it runs even when `inject` throws part-way (for injections
   * that may be half-applied). When given, what `inject` returns is ignored.
   */
  rollback?: (context: ExperimentContext) => unknown;
}

/** What a probe reads: a boolean (true: fine) or a number checked against the probe's tolerance. */
export type ProbeValue = boolean | number;

/**
 * When a probe's value is acceptable: a range for numbers, an exact boolean, or a predicate.
 * @default `true` for booleans; numbers need a tolerance
 */
export type ProbeTolerance = { min?: number; max?: number } | boolean | ((value: ProbeValue) => boolean);

/** A check of the system: part of the steady state, or run during the experiment. */
export interface ExperimentProbe {
  /** Name in the results and the timeline. */
  name: string;
  /** Reads the system. A throw (or exceeding the runner's `probeTimeoutMs`) counts as out of tolerance. */
  probe(context: ExperimentContext): ProbeValue | Promise<ProbeValue>;
  /** Acceptable values. @default true */
  tolerance?: ProbeTolerance;
  /**
   * Whether going out of tolerance during the run stops the experiment at once (a halt condition: an SLO or
   * a health check that must never break); rollbacks then run. Ignored in the steady state. @default false
   */
  halt?: boolean;
  /** Consecutive out-of-tolerance readings before a halt (integer >= 1). @default 1 */
  haltAfter?: number;
}

/** Caller traffic the runner sends through a dependency's pipeline while the fault is in place. */
export interface ExperimentTraffic {
  /** The dependency it reaches (matched with the actions' targets in the findings). */
  target: string;
  /**
   * One caller request, through the same pipeline production uses, e.g.
   * `(signal) => callPricing.execute(fetchPrice, { signal })`. A rejection is an error that reached a caller.
   */
  call(signal: AbortSignal): Promise<unknown>;
  /** Pause between two requests of one caller, in ms (>= 0). @default 100 */
  intervalMs?: number;
  /** Concurrent callers (integer 1..100). @default 1 */
  concurrency?: number;
}

/**
 * A chaos experiment: a hypothesis (the steady state), a method (injections, each with its rollback), probes
 * and halt conditions during the run, and optional caller traffic.
 */
export interface ExperimentDefinition {
  /** Unique name. */
  name: string;
  description?: string;
  /** Free-form category, e.g. `network`, `resource`, `dependency`. @default 'custom' */
  category?: string;
  /** @default 'medium' */
  severity?: ExperimentSeverity;
  /** Probes that must all be within tolerance before injecting, and are checked again after the rollbacks. @default [] */
  steadyState?: readonly ExperimentProbe[];
  /** The injections, in order (at least one). */
  method: readonly ExperimentAction[];
  /** Probes run every `probeIntervalMs` while the faults are in place. @default [] */
  probes?: readonly ExperimentProbe[];
  /** Milliseconds between two rounds of probes (> 0). @default 1_000 */
  probeIntervalMs?: number;
  /** How long the faults stay in place, in ms (> 0). @default the runner's `defaultDurationMs` */
  durationMs?: number;
  /** Caller traffic during the run. @default [] */
  traffic?: readonly ExperimentTraffic[];
  /**
   * After the rollbacks, how long the steady state may take to come back (polled every `intervalMs`); the time
   * it took is reported. @default { timeoutMs: 0 } (checked once)
   */
  recovery?: { timeoutMs?: number; intervalMs?: number };
}

/**
 * Checks a definition; throws `InvalidOptionsError` listing every problem with its path.
 * @internal
 */
export function validateExperimentDefinition(definition: ExperimentDefinition, component = 'ExperimentDefinition'): void {
  const v = new OptionsValidator(component);
  if (!v.object('definition', definition)) {
    if (definition === undefined) v.fail('definition', 'an experiment definition', definition);
    v.throwIfInvalid();
  }
  const d = definition as Partial<ExperimentDefinition>;
  if (typeof d.name !== 'string' || d.name === '') v.fail('name', 'a non-empty string', d.name);
  v.string('description', d.description);
  v.string('category', d.category);
  v.oneOf('severity', d.severity, EXPERIMENT_SEVERITIES);
  v.duration('probeIntervalMs', d.probeIntervalMs, true);
  v.duration('durationMs', d.durationMs, true);
  if (!Array.isArray(d.method) || d.method.length === 0) v.fail('method', 'a non-empty array of actions', d.method);
  else {
    d.method.forEach((action: Partial<ExperimentAction>, i) => {
      const path = `method[${i}]`;
      if (!v.object(path, action)) return;
      if (typeof action.name !== 'string' || action.name === '') v.fail(`${path}.name`, 'a non-empty string', action.name);
      if (typeof action.kind !== 'string' || action.kind === '') v.fail(`${path}.kind`, 'a non-empty string', action.kind);
      v.string(`${path}.target`, action.target);
      if (typeof action.inject !== 'function') v.fail(`${path}.inject`, 'a function', action.inject);
      v.func(`${path}.rollback`, action.rollback);
    });
  }
  for (const key of ['steadyState', 'probes'] as const) {
    const probes = d[key];
    if (probes === undefined) continue;
    if (!Array.isArray(probes)) {
      v.fail(key, 'an array of probes', probes);
      continue;
    }
    probes.forEach((probe: Partial<ExperimentProbe>, i) => {
      const path = `${key}[${i}]`;
      if (!v.object(path, probe)) return;
      if (typeof probe.name !== 'string' || probe.name === '') v.fail(`${path}.name`, 'a non-empty string', probe.name);
      if (typeof probe.probe !== 'function') v.fail(`${path}.probe`, 'a function', probe.probe);
      const t = probe.tolerance;
      if (t !== undefined && typeof t !== 'boolean' && typeof t !== 'function') {
        if (v.object(`${path}.tolerance`, t)) {
          v.number(`${path}.tolerance.min`, (t as { min?: unknown }).min, {});
          v.number(`${path}.tolerance.max`, (t as { max?: unknown }).max, {});
        }
      }
      v.boolean(`${path}.halt`, probe.halt);
      v.integer(`${path}.haltAfter`, probe.haltAfter, 1);
    });
  }
  if (d.traffic !== undefined) {
    if (!Array.isArray(d.traffic)) v.fail('traffic', 'an array', d.traffic);
    else {
      d.traffic.forEach((traffic: Partial<ExperimentTraffic>, i) => {
        const path = `traffic[${i}]`;
        if (!v.object(path, traffic)) return;
        if (typeof traffic.target !== 'string' || traffic.target === '') v.fail(`${path}.target`, 'a non-empty string', traffic.target);
        if (typeof traffic.call !== 'function') v.fail(`${path}.call`, 'a function', traffic.call);
        v.duration(`${path}.intervalMs`, traffic.intervalMs);
        v.number(`${path}.concurrency`, traffic.concurrency, { integer: true, min: 1, max: 100 });
      });
    }
  }
  if (v.object('recovery', d.recovery) && d.recovery !== undefined) {
    v.duration('recovery.timeoutMs', d.recovery.timeoutMs);
    v.duration('recovery.intervalMs', d.recovery.intervalMs, true);
  }
  v.throwIfInvalid();
}
