import { randomUUID } from 'node:crypto';
import { onAbort, sleep } from '../../core/abort.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { ChaosRefusedError } from '../../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import type { HealthSource } from '../../degradation/health-source.js';
import type { Store } from '../../store/store.js';
import { ChaosControl } from '../chaos-control.js';
import { ChaosRegistry } from '../chaos-registry.js';
import type { FaultSpec } from '../fault-spec.js';
import { assessSafety, type SafetyReport } from './assess-safety.js';
import { deriveFindings } from './derive-findings.js';
import type { ExperimentComponents } from './experiment-components.js';
import {
  EXPERIMENT_SEVERITIES,
  validateExperimentDefinition,
  type ExperimentContext,
  type ExperimentDefinition,
  type ExperimentProbe,
  type ExperimentSeverity,
  type Rollback,
} from './experiment-definition.js';
import { ExperimentObserver } from './experiment-observer.js';
import type { ExperimentHalt, ExperimentOutcome, ExperimentRun, SteadyStateCheck } from './experiment-run.js';
import { messageOf, readProbe } from './read-probe.js';
import { RollbackStack } from './rollback-stack.js';
import { TrafficDriver } from './traffic-driver.js';

/** What the approval hook is asked about. */
export interface ApprovalRequest {
  id: string;
  name: string;
  description?: string;
  category: string;
  severity: ExperimentSeverity;
  /** Fault kinds of its actions. */
  kinds: string[];
  /** Targets of its actions. */
  targets: string[];
  durationMs: number;
}

/**
 * Where experiments are announced to the rest of the fleet (the Redis adapter's `FleetCoordinator` fits): the
 * runner publishes `running` before injecting and the final status after, and counts the fleet's other active
 * experiments against `maxConcurrentExperiments`.
 */
export interface ExperimentAnnouncer {
  publishExperiment(state: {
    id: string;
    name: string;
    status: 'running' | 'completed' | 'failed' | 'aborted';
    startedAt: number;
    details?: unknown;
  }): Promise<unknown>;
  /** The experiments active in the fleet, as far as this instance knows. */
  current?(): readonly { id: string; status: string }[];
}

/** Options of {@link ExperimentRunner}. */
export interface ExperimentRunnerOptions {
  /** The fault registry the actions inject through. @default a new ChaosRegistry on `control` and `clock` */
  registry?: ChaosRegistry;
  /** Kill switch and environment gate. @default the registry's control, else ChaosControl.global */
  control?: ChaosControl;
  /** Runner-level switch (the seed's `enabled`), on top of the control. @default true */
  enabled?: boolean;
  /** Safe mode: refuse severities above `safeModeMaxSeverity`, durations above `safeModeMaxDurationMs`, and a degraded system. @default true */
  safeMode?: boolean;
  /** Most severe experiment safe mode allows. @default 'medium' */
  safeModeMaxSeverity?: ExperimentSeverity;
  /** Longest experiment safe mode allows, in ms (> 0). @default 300_000 */
  safeModeMaxDurationMs?: number;
  /** Fault kinds allowed (the seed's `allowedFaults`), checked against every action's `kind`. @default every kind */
  allowedFaults?: readonly string[];
  /** Experiments running at once, here (and in the fleet, with `fleet`), integer >= 1. @default 1 */
  maxConcurrentExperiments?: number;
  /** Duration of an experiment that gives none, in ms (> 0). @default 60_000 */
  defaultDurationMs?: number;
  /** Refuse every experiment unless `approve` resolves true. @default false */
  requireApproval?: boolean;
  /** Asked before each run (also when `requireApproval` is off); a run goes ahead only when it resolves `true`. */
  approve?: (request: ApprovalRequest) => boolean | Promise<boolean>;
  /** System health: refuse when `unhealthy` (and, in safe mode, `degraded`). A `HealthMonitor` fits. */
  health?: HealthSource;
  /** Breakers, degradation and self-healer, watched for the findings (the degradation level also gates runs). */
  components?: ExperimentComponents;
  /** Where runs and their timelines are recorded (`recordChaosExperiment`, `recordChaosEvent`). */
  store?: Store;
  /** Announces runs to the fleet. */
  fleet?: ExperimentAnnouncer;
  /** Longest one rollback may take before the next one runs, in ms (> 0). @default 30_000 */
  rollbackTimeoutMs?: number;
  /** Longest one injection may take, in ms (> 0). @default 30_000 */
  injectTimeoutMs?: number;
  /** Longest one probe reading may take, in ms (> 0). @default 5_000 */
  probeTimeoutMs?: number;
  /** Runs kept by `getHistory` (integer >= 1). @default 100 */
  maxHistory?: number;
  /** Definitions `register` keeps (integer >= 1). @default 1_000 */
  maxExperiments?: number;
  /** Time source. @default systemClock */
  clock?: Clock;
  /** Randomness handed to actions. @default Math.random */
  random?: () => number;
}

/** Options of one {@link ExperimentRunner.run}. */
export interface RunExperimentOptions {
  /** Stops the run early (rollbacks still run); the run resolves `aborted`. */
  signal?: AbortSignal;
  /** Overrides the experiment's duration, in ms (> 0). */
  durationMs?: number;
}

/** Events of an {@link ExperimentRunner}. */
export interface ExperimentRunnerEvents {
  started: { run: ExperimentRun };
  injected: { id: string; name: string; action: string; kind: string; target: string | undefined };
  rolledBack: { id: string; name: string; action: string; ok: boolean; error: unknown };
  probeBreached: { id: string; name: string; probe: string; value: boolean | number | undefined; error: string | undefined };
  halted: { id: string; name: string; halt: ExperimentHalt };
  finished: { run: ExperimentRun };
  refused: { name: string; reasons: string[] };
  /** Recording or announcing failed; the run went on. */
  error: { operation: string; error: unknown };
}

interface ActiveRun {
  readonly run: ExperimentRun;
  readonly controller: AbortController;
  halt: ExperimentHalt | undefined;
  /** Set once the rollbacks begin: from then on nothing can stop the run any more. */
  finishing: boolean;
  events: number;
}

/** Most timeline events recorded per run (probe readings are summed up, not recorded one by one). */
const MAX_EVENTS_PER_RUN = 500;
const never: AbortSignal = new AbortController().signal;

/**
 * Runs chaos experiments safely: checks that chaos may run (kill switch and environment, safe mode, system
 * health and degradation, allowed fault kinds, concurrency here and in the fleet, approval), checks the steady
 * state, injects the method's actions in order (each rollback bound as soon as its injection succeeded), sends
 * caller traffic and reads probes until the duration ends or a halt condition breaks, then **always** runs the
 * rollbacks in reverse order (each isolated: one failing does not skip the others), checks the steady state
 * again (waiting for recovery when asked), derives observations, weaknesses and recommendations from what it
 * saw, and records everything to the store. Switching the control off aborts every run at once.
 *
 * @example
 * const runner = new ExperimentRunner({ registry, components: { circuitBreakers }, store });
 * const run = await runner.run(ChaosExperiments.errorBurst('pricing', 1, 30_000));
 * console.log(run.status, run.results.weaknesses, run.results.recommendations);
 */
export class ExperimentRunner {
  /** The registry actions inject through: put `registry.injector(name)` in each dependency's pipeline. */
  readonly registry: ChaosRegistry;
  /** The kill switch. */
  readonly control: ChaosControl;
  private readonly clock: Clock;
  private readonly random: () => number;
  private enabledFlag: boolean;
  private readonly safeMode: boolean;
  private readonly safeModeMaxSeverity: ExperimentSeverity;
  private readonly safeModeMaxDurationMs: number;
  private readonly allowedFaults: ReadonlySet<string> | undefined;
  private readonly maxConcurrent: number;
  private readonly defaultDurationMs: number;
  private readonly requireApproval: boolean;
  private readonly approve: ((request: ApprovalRequest) => boolean | Promise<boolean>) | undefined;
  private readonly health: HealthSource | undefined;
  private components: ExperimentComponents;
  private readonly store: Store | undefined;
  private readonly fleet: ExperimentAnnouncer | undefined;
  private readonly rollbackTimeoutMs: number;
  private readonly injectTimeoutMs: number;
  private readonly probeTimeoutMs: number;
  private readonly maxHistory: number;
  private readonly maxExperiments: number;
  private readonly definitions = new Map<string, ExperimentDefinition>();
  private readonly active = new Map<string, ActiveRun>();
  private reserved = 0;
  private readonly history: ExperimentRun[] = [];
  private readonly events = new EventEmitter<ExperimentRunnerEvents>('chaos-experiments', 'runner');
  private readonly offControl: Unsubscribe;

  /** @throws InvalidOptionsError listing every invalid option. */
  constructor(options: ExperimentRunnerOptions = {}) {
    const v = new OptionsValidator('ExperimentRunner');
    if (v.object('options', options)) {
      if (options.registry !== undefined && !(options.registry instanceof ChaosRegistry)) v.fail('registry', 'a ChaosRegistry', options.registry);
      if (options.control !== undefined && !(options.control instanceof ChaosControl)) v.fail('control', 'a ChaosControl', options.control);
      v.boolean('enabled', options.enabled);
      v.boolean('safeMode', options.safeMode);
      v.oneOf('safeModeMaxSeverity', options.safeModeMaxSeverity, EXPERIMENT_SEVERITIES);
      v.duration('safeModeMaxDurationMs', options.safeModeMaxDurationMs, true);
      if (options.allowedFaults !== undefined && (!Array.isArray(options.allowedFaults) || options.allowedFaults.some((k) => typeof k !== 'string'))) {
        v.fail('allowedFaults', 'an array of fault kinds', options.allowedFaults);
      }
      v.integer('maxConcurrentExperiments', options.maxConcurrentExperiments, 1);
      v.duration('defaultDurationMs', options.defaultDurationMs, true);
      v.boolean('requireApproval', options.requireApproval);
      v.func('approve', options.approve);
      if (options.health !== undefined && typeof (options.health as Partial<HealthSource>)?.getSystemHealth !== 'function') {
        v.fail('health', 'an object with getSystemHealth()', options.health);
      }
      v.object('components', options.components);
      if (options.fleet !== undefined && typeof (options.fleet as Partial<ExperimentAnnouncer>)?.publishExperiment !== 'function') {
        v.fail('fleet', 'an object with publishExperiment()', options.fleet);
      }
      v.duration('rollbackTimeoutMs', options.rollbackTimeoutMs, true);
      v.duration('injectTimeoutMs', options.injectTimeoutMs, true);
      v.duration('probeTimeoutMs', options.probeTimeoutMs, true);
      v.integer('maxHistory', options.maxHistory, 1);
      v.integer('maxExperiments', options.maxExperiments, 1);
      v.clock('clock', options.clock);
      v.func('random', options.random);
    }
    v.throwIfInvalid();
    this.clock = options.clock ?? systemClock;
    this.control = options.control ?? options.registry?.control ?? ChaosControl.global;
    this.registry = options.registry ?? new ChaosRegistry({ control: this.control, clock: this.clock });
    this.random = options.random ?? Math.random;
    this.enabledFlag = options.enabled ?? true;
    this.safeMode = options.safeMode ?? true;
    this.safeModeMaxSeverity = options.safeModeMaxSeverity ?? 'medium';
    this.safeModeMaxDurationMs = options.safeModeMaxDurationMs ?? 300_000;
    this.allowedFaults = options.allowedFaults === undefined ? undefined : new Set(options.allowedFaults);
    this.maxConcurrent = options.maxConcurrentExperiments ?? 1;
    this.defaultDurationMs = options.defaultDurationMs ?? 60_000;
    this.requireApproval = options.requireApproval ?? false;
    this.approve = options.approve;
    this.health = options.health;
    this.components = { ...options.components };
    this.store = options.store;
    this.fleet = options.fleet;
    this.rollbackTimeoutMs = options.rollbackTimeoutMs ?? 30_000;
    this.injectTimeoutMs = options.injectTimeoutMs ?? 30_000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 5_000;
    this.maxHistory = options.maxHistory ?? 100;
    this.maxExperiments = options.maxExperiments ?? 1_000;
    this.offControl = this.control.on('change', ({ enabled, reason }) => {
      if (!enabled) this.abortAll(`chaos switched off (${reason})`, 'kill-switch');
    });
  }

  /** Whether the runner-level switch is on. */
  get enabled(): boolean {
    return this.enabledFlag;
  }

  /** Switches the runner on or off (off refuses new runs; running ones go on unless aborted). */
  setEnabled(enabled: boolean): void {
    this.enabledFlag = enabled;
  }

  /** Sets the components watched for findings (merged over those given before). */
  setComponents(components: ExperimentComponents): void {
    this.components = { ...this.components, ...components };
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof ExperimentRunnerEvents>(event: K, listener: Listener<ExperimentRunnerEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Registers (or replaces) an experiment under its name.
   * @throws InvalidOptionsError for an invalid definition; RangeError beyond `maxExperiments`.
   */
  register(definition: ExperimentDefinition): void {
    validateExperimentDefinition(definition);
    if (!this.definitions.has(definition.name) && this.definitions.size >= this.maxExperiments) {
      throw new RangeError(`ExperimentRunner: cannot register "${definition.name}", the limit of ${this.maxExperiments} experiments is reached`);
    }
    this.definitions.set(definition.name, definition);
  }

  /** Removes a registered experiment; returns whether it existed. */
  unregister(name: string): boolean {
    return this.definitions.delete(name);
  }

  /** The registered experiment named `name`. */
  get(name: string): ExperimentDefinition | undefined {
    return this.definitions.get(name);
  }

  /** Names of the registered experiments. */
  names(): string[] {
    return [...this.definitions.keys()];
  }

  /**
   * Every reason chaos may not run now; with an experiment (or its name), also the reasons it may not
   * (fault kinds, safe-mode severity and duration). The approval hook is not consulted.
   */
  checkSafety(experiment?: string | ExperimentDefinition, durationMs?: number): SafetyReport {
    const definition = typeof experiment === 'string' ? this.definitions.get(experiment) : experiment;
    if (typeof experiment === 'string' && definition === undefined) return { safe: false, reasons: [`unknown experiment "${experiment}"`] };
    return assessSafety({
      control: this.control,
      enabled: this.enabledFlag,
      safeMode: this.safeMode,
      safeModeMaxSeverity: this.safeModeMaxSeverity,
      safeModeMaxDurationMs: this.safeModeMaxDurationMs,
      allowedFaults: this.allowedFaults,
      health: this.health,
      degradation: this.components.degradation,
      running: this.active.size + this.reserved,
      fleetActive: this.fleetActive(),
      maxConcurrent: this.maxConcurrent,
      ...(definition === undefined
        ? {}
        : {
            experiment: {
              severity: definition.severity ?? 'medium',
              kinds: definition.method.map((a) => a.kind),
              durationMs: durationMs ?? definition.durationMs ?? this.defaultDurationMs,
            },
          }),
    });
  }

  /** Whether chaos may run now (the seed's `isSafeToRunChaos`): see {@link checkSafety}. */
  isSafeToRunChaos(): boolean {
    return this.checkSafety().safe;
  }

  /** Snapshots of the runs in progress. */
  running(): ExperimentRun[] {
    return [...this.active.values()].map(({ run }) => snapshot(run));
  }

  /** Finished runs, oldest first (at most `maxHistory`). */
  getHistory(): ExperimentRun[] {
    return this.history.map(snapshot);
  }

  /** Stops the run `id` early (its rollbacks run); returns whether it was running. */
  abort(id: string, reason = 'aborted'): boolean {
    const active = this.active.get(id);
    if (active === undefined) return false;
    this.stopRun(active, { cause: 'abort', reason, at: this.clock.now() });
    return true;
  }

  /** Stops every run in progress; returns how many. */
  abortAll(reason = 'aborted', cause: ExperimentHalt['cause'] = 'abort'): number {
    const runs = [...this.active.values()];
    for (const active of runs) this.stopRun(active, { cause, reason, at: this.clock.now() });
    return runs.length;
  }

  /** Aborts every run and stops following the control. */
  dispose(): void {
    this.offControl();
    this.abortAll('runner disposed');
  }

  /**
   * Runs an experiment (registered by name, or given) and resolves with the finished run, whatever its outcome.
   * @throws ChaosRefusedError when chaos may not run (every reason in the message); RangeError for an unknown
   *   name; InvalidOptionsError for an invalid definition; the signal's reason when it aborted before the start.
   */
  async run(experiment: string | ExperimentDefinition, options: RunExperimentOptions = {}): Promise<ExperimentRun> {
    const definition = typeof experiment === 'string' ? this.definitions.get(experiment) : experiment;
    if (definition === undefined) throw new RangeError(`Unknown experiment "${String(experiment)}"`);
    if (typeof experiment !== 'string') validateExperimentDefinition(definition);
    const v = new OptionsValidator('ExperimentRunner.run');
    v.duration('durationMs', options.durationMs, true);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) v.fail('signal', 'an AbortSignal', options.signal);
    v.throwIfInvalid();
    if (options.signal?.aborted) throw options.signal.reason;
    const durationMs = options.durationMs ?? definition.durationMs ?? this.defaultDurationMs;
    const report = this.checkSafety(definition, durationMs);
    if (!report.safe) this.refuse(definition.name, report.reasons);
    const id = randomUUID();
    this.reserved++;
    let reserved = true;
    try {
      await this.askApproval(id, definition, durationMs, options.signal);
      if (!this.control.enabled || !this.enabledFlag) this.refuse(definition.name, ['chaos was switched off while waiting for approval']);
      const startedAt = this.clock.now();
      if (this.fleet !== undefined) {
        try {
          await this.fleet.publishExperiment({ id, name: definition.name, status: 'running', startedAt, details: describe(definition, durationMs) });
        } catch (error) {
          this.refuse(definition.name, [`could not announce the experiment to the fleet: ${messageOf(error)}`]);
        }
      }
      this.reserved--;
      reserved = false;
      return await this.execute(id, definition, durationMs, startedAt, options.signal);
    } finally {
      if (reserved) this.reserved--;
    }
  }

  private async askApproval(id: string, definition: ExperimentDefinition, durationMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.approve === undefined) {
      if (this.requireApproval) this.refuse(definition.name, ['approval is required but no approve hook is configured']);
      return;
    }
    const request: ApprovalRequest = {
      id,
      name: definition.name,
      category: definition.category ?? 'custom',
      severity: definition.severity ?? 'medium',
      kinds: [...new Set(definition.method.map((a) => a.kind))],
      targets: [...new Set(definition.method.flatMap((a) => (a.target === undefined ? [] : [a.target])))],
      durationMs,
    };
    if (definition.description !== undefined) request.description = definition.description;
    let approved: unknown;
    try {
      const answer = Promise.resolve().then(() => (this.approve as (r: ApprovalRequest) => unknown)(request));
      approved = signal === undefined ? await answer : await raceSignal(answer, signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      reportCallbackError(error, 'ExperimentRunner option approve');
      this.refuse(definition.name, [`the approval hook failed: ${messageOf(error)}`]);
    }
    if (approved !== true) this.refuse(definition.name, ['approval denied']);
  }

  private refuse(name: string, reasons: string[]): never {
    this.events.emit('refused', { name, reasons });
    if (this.store !== undefined) {
      const id = randomUUID();
      const at = this.clock.now();
      this.write('recordChaosExperiment', () => this.store?.recordChaosExperiment({ id, name, status: 'refused', startedAt: at, endedAt: at, data: { reasons } }));
      this.write('recordChaosEvent', () => this.store?.recordChaosEvent({ experimentId: id, type: 'refused', data: { reasons }, at }));
    }
    throw new ChaosRefusedError(`Chaos experiment "${name}" refused: ${reasons.join('; ')}`);
  }

  private async execute(
    id: string,
    definition: ExperimentDefinition,
    durationMs: number,
    startedAt: number,
    signal: AbortSignal | undefined,
  ): Promise<ExperimentRun> {
    const firstTarget = definition.method.find((a) => a.target !== undefined)?.target;
    const run: ExperimentRun = {
      id,
      name: definition.name,
      category: definition.category ?? 'custom',
      severity: definition.severity ?? 'medium',
      faultType: (definition.method[0] as { kind: string }).kind,
      status: 'running',
      startedAt,
      durationMs,
      actions: definition.method.map((a) => ({
        name: a.name,
        kind: a.kind,
        ...(a.target === undefined ? {} : { target: a.target }),
        ...(a.parameters === undefined ? {} : { parameters: { ...a.parameters } }),
      })),
      probes: (definition.probes ?? []).map((p) => ({ name: p.name, readings: 0, breaches: 0, halted: false })),
      results: {
        observations: [],
        weaknesses: [],
        recommendations: [],
        injections: {},
        traffic: [],
        breakerChanges: [],
        degradationChanges: [],
        healing: [],
      },
    };
    if (definition.description !== undefined) run.description = definition.description;
    if (firstTarget !== undefined) run.target = firstTarget;
    const controller = new AbortController();
    const active: ActiveRun = { run, controller, halt: undefined, finishing: false, events: 0 };
    this.active.set(id, active);
    const stopOnSignal = (): void => this.stopRun(active, { cause: 'signal', reason: messageOf(signal?.reason), at: this.clock.now() });
    const offSignal = signal === undefined ? () => undefined : onAbort(signal, stopOnSignal);
    if (signal?.aborted === true) stopOnSignal();
    const observer = new ExperimentObserver(this.registry, this.components, this.clock);
    const extraObservations: string[] = [];
    const record = (type: string, data?: unknown): void => this.timeline(active, type, data);
    const context = this.contextFor(run, controller.signal, observer, extraObservations, record);
    this.write('recordChaosExperiment', () => this.store?.recordChaosExperiment({ id, name: run.name, status: 'running', startedAt, data: snapshot(run) }));
    record('started', { durationMs, kinds: run.actions.map((a) => a.kind) });
    this.events.emit('started', { run: snapshot(run) });

    const stack = new RollbackStack();
    const traffic = new TrafficDriver(definition.traffic ?? [], this.clock);
    let failure: string | undefined;
    let injectedAt: number | undefined;
    try {
      run.steadyStateBefore = await this.checkSteadyState(definition.steadyState ?? [], context);
      record('steady-state-before', run.steadyStateBefore);
      if (!run.steadyStateBefore.met) {
        failure = 'steady state not met before injecting';
      } else {
        failure = await this.inject(definition, run, context, stack, (at) => (injectedAt ??= at));
        if (failure === undefined && !controller.signal.aborted) {
          traffic.start();
          await this.hold(definition, active, context, durationMs);
        }
      }
    } catch (error) {
      failure ??= `unexpected error: ${messageOf(error)}`;
    }

    // Always: stop the traffic, undo every injection in reverse order, check the steady state again.
    active.finishing = true;
    traffic.stop();
    const rollbackFailures: { action: string; target: string | undefined; error: string }[] = [];
    await stack.unwind(this.clock, this.rollbackTimeoutMs, (outcome) => {
      const action = run.actions[outcome.key];
      if (action === undefined) return;
      action.rolledBackAt = outcome.at;
      if (!outcome.ok) {
        action.rollbackError = messageOf(outcome.error);
        rollbackFailures.push({ action: action.name, target: action.target, error: action.rollbackError });
      }
      record(outcome.ok ? 'rolled-back' : 'rollback-failed', { action: action.name, ...(outcome.ok ? {} : { error: action.rollbackError }) });
      this.events.emit('rolledBack', { id, name: run.name, action: action.name, ok: outcome.ok, error: outcome.error });
    });
    offSignal();
    if (run.steadyStateBefore?.met === true) {
      const after = await this.awaitRecovery(definition, { ...context, signal: never }, active.halt?.cause === 'signal' || active.halt?.cause === 'kill-switch');
      run.steadyStateAfter = after.check;
      run.results.recovery = after.recovery;
      record('steady-state-after', after.check);
    }
    observer.detach();

    run.results.traffic = traffic.summaries();
    run.results.injections = { ...observer.injections };
    run.results.breakerChanges = observer.breakerChanges;
    run.results.degradationChanges = observer.degradationChanges;
    run.results.healing = observer.healing;
    if (active.halt !== undefined) run.halt = active.halt;
    const findings = deriveFindings({
      actions: run.actions,
      injectedAt,
      injections: run.results.injections,
      traffic: run.results.traffic,
      breakerChanges: observer.breakerChanges,
      watchesBreakers: observer.watchesBreakers,
      breakerState: (name) => observer.breakerState(name),
      degradationChanges: observer.degradationChanges,
      initialLevel: observer.initialLevel,
      finalLevel: observer.currentLevel(),
      healing: observer.healing,
      probes: run.probes,
      halt: active.halt,
      steadyStateBefore: run.steadyStateBefore,
      steadyStateAfter: run.steadyStateAfter,
      recovery: run.results.recovery,
      rollbackFailures,
      extraObservations,
    });
    run.results.observations = findings.observations;
    run.results.weaknesses = findings.weaknesses;
    run.results.recommendations = findings.recommendations;

    if (failure === undefined && rollbackFailures.length > 0) failure = `${rollbackFailures.length} rollback(s) failed`;
    if (failure !== undefined) run.error = failure;
    run.status = outcomeOf(failure, active.halt, run);
    run.endedAt = this.clock.now();
    this.active.delete(id);
    this.history.push(run);
    if (this.history.length > this.maxHistory) this.history.shift();
    record('finished', { status: run.status, ...(run.error === undefined ? {} : { error: run.error }) });
    this.write('recordChaosExperiment', () =>
      this.store?.recordChaosExperiment({ id, name: run.name, status: run.status, startedAt, endedAt: run.endedAt as number, data: snapshot(run) }),
    );
    if (this.fleet !== undefined) {
      const status = run.status === 'aborted' ? 'aborted' : run.status === 'failed' ? 'failed' : 'completed';
      this.fleet
        .publishExperiment({ id, name: run.name, status, startedAt, details: describe(definition, durationMs) })
        .catch((error: unknown) => this.events.emit('error', { operation: 'publishExperiment', error }));
    }
    const result = snapshot(run);
    this.events.emit('finished', { run: result });
    return result;
  }

  private contextFor(
    run: ExperimentRun,
    signal: AbortSignal,
    observer: ExperimentObserver,
    extraObservations: string[],
    record: (type: string, data?: unknown) => void,
  ): ExperimentContext {
    const registry = this.registry;
    return {
      experimentId: run.id,
      experimentName: run.name,
      signal,
      clock: this.clock,
      random: this.random,
      registry,
      injectFault(dependency: string, spec: FaultSpec) {
        const fault = registry.inject(dependency, spec);
        observer.track(fault.id, dependency);
        record('fault-injected', { dependency, faultId: fault.id, kind: spec.kind });
        const rollback = (): void => void fault.remove();
        return Object.assign(rollback, { fault });
      },
      observe(text: string) {
        if (extraObservations.length < 50) extraObservations.push(String(text));
      },
      record,
    };
  }

  /** Injects the actions in order; returns why it stopped, if an injection failed. */
  private async inject(
    definition: ExperimentDefinition,
    run: ExperimentRun,
    context: ExperimentContext,
    stack: RollbackStack,
    markInjected: (at: number) => void,
  ): Promise<string | undefined> {
    for (const [index, action] of definition.method.entries()) {
      if (context.signal.aborted) return undefined;
      const entry = run.actions[index] as ExperimentRun['actions'][number];
      const declared = action.rollback;
      if (declared !== undefined) stack.push(index, () => declared(context));
      const pending = Promise.resolve().then(() => action.inject(context));
      const settled = await this.settleWithin(pending, context.signal);
      if (settled.kind === 'late') {
        // Given up on (aborted or too slow): whatever it injects once it finishes is rolled back then.
        entry.error = settled.reason;
        void pending.then(
          (handle) => {
            const rollback: Rollback | undefined = declared === undefined ? (typeof handle === 'function' ? handle : undefined) : () => declared(context);
            if (rollback === undefined) return;
            context.record('late-rollback', { action: action.name });
            return Promise.resolve().then(rollback);
          },
          () => undefined,
        ).catch((error: unknown) => reportCallbackError(error, `chaos experiment "${run.name}" late rollback of "${action.name}"`));
        return context.signal.aborted ? undefined : `injection "${action.name}" failed: ${settled.reason}`;
      }
      if (settled.kind === 'error') {
        entry.error = messageOf(settled.error);
        context.record('injection-failed', { action: action.name, error: entry.error });
        return `injection "${action.name}" failed: ${entry.error}`;
      }
      if (declared === undefined && typeof settled.value === 'function') stack.push(index, settled.value as Rollback);
      entry.injectedAt = this.clock.now();
      markInjected(entry.injectedAt);
      context.record('injected', { action: action.name, kind: action.kind, ...(action.target === undefined ? {} : { target: action.target }) });
      this.events.emit('injected', { id: run.id, name: run.name, action: action.name, kind: action.kind, target: action.target });
    }
    return undefined;
  }

  /** Waits for an injection, up to `injectTimeoutMs` and until the run aborts. */
  private settleWithin(
    pending: Promise<unknown>,
    signal: AbortSignal,
  ): Promise<{ kind: 'value'; value: unknown } | { kind: 'error'; error: unknown } | { kind: 'late'; reason: string }> {
    return new Promise((resolve) => {
      const done = (result: Parameters<typeof resolve>[0]): void => {
        timer.cancel();
        off();
        resolve(result);
      };
      const timer = this.clock.schedule(() => done({ kind: 'late', reason: `did not finish within ${this.injectTimeoutMs} ms` }), this.injectTimeoutMs);
      const off = signal.aborted ? () => undefined : onAbort(signal, () => done({ kind: 'late', reason: 'aborted while injecting' }));
      if (signal.aborted) done({ kind: 'late', reason: 'aborted while injecting' });
      pending.then(
        (value) => done({ kind: 'value', value }),
        (error: unknown) => done({ kind: 'error', error }),
      );
    });
  }

  /** Keeps the faults in place for `durationMs`, reading the probes every interval; a halt condition stops early. */
  private async hold(definition: ExperimentDefinition, active: ActiveRun, context: ExperimentContext, durationMs: number): Promise<void> {
    const probes = definition.probes ?? [];
    const interval = definition.probeIntervalMs ?? 1_000;
    const end = this.clock.now() + durationMs;
    const consecutive = probes.map(() => 0);
    const signal = active.controller.signal;
    while (!signal.aborted) {
      const now = this.clock.now();
      if (now >= end) return;
      try {
        await sleep(this.clock, probes.length === 0 ? end - now : Math.min(interval, end - now), signal);
      } catch {
        return;
      }
      if (probes.length === 0) continue;
      const readings = await Promise.all(probes.map((p) => readProbe(p, context, this.clock, this.probeTimeoutMs)));
      if (signal.aborted) return;
      const at = this.clock.now();
      for (const [i, reading] of readings.entries()) {
        const probe = probes[i] as ExperimentProbe;
        const summary = active.run.probes[i] as ExperimentRun['probes'][number];
        summary.readings++;
        if (reading.value !== undefined) summary.lastValue = reading.value;
        if (reading.error !== undefined) summary.lastError = reading.error;
        if (reading.ok) {
          consecutive[i] = 0;
          continue;
        }
        summary.breaches++;
        summary.firstBreachAt ??= at;
        consecutive[i] = (consecutive[i] ?? 0) + 1;
        context.record('probe-breached', reading);
        this.events.emit('probeBreached', { id: active.run.id, name: active.run.name, probe: probe.name, value: reading.value, error: reading.error });
        if (probe.halt === true && (consecutive[i] ?? 0) >= (probe.haltAfter ?? 1)) {
          summary.halted = true;
          const detail = reading.error ?? `read ${String(reading.value)}`;
          this.stopRun(active, { cause: 'halt-condition', probe: probe.name, reason: `"${probe.name}" out of tolerance: ${detail}`, at });
          return;
        }
      }
    }
  }

  private async checkSteadyState(probes: readonly ExperimentProbe[], context: ExperimentContext): Promise<SteadyStateCheck> {
    const readings = await Promise.all(probes.map((p) => readProbe(p, context, this.clock, this.probeTimeoutMs)));
    return { met: readings.every((r) => r.ok), at: this.clock.now(), readings };
  }

  /** Checks the steady state after the rollbacks, polling until it holds or `recovery.timeoutMs` has passed. */
  private async awaitRecovery(
    definition: ExperimentDefinition,
    context: ExperimentContext,
    once: boolean,
  ): Promise<{ check: SteadyStateCheck; recovery: { recovered: boolean; timeMs?: number } }> {
    const probes = definition.steadyState ?? [];
    const start = this.clock.now();
    const deadline = start + (once ? 0 : (definition.recovery?.timeoutMs ?? 0));
    const interval = definition.recovery?.intervalMs ?? 1_000;
    for (;;) {
      const check = await this.checkSteadyState(probes, context);
      if (check.met) return { check, recovery: { recovered: true, timeMs: check.at - start } };
      const now = this.clock.now();
      if (now >= deadline) return { check, recovery: { recovered: false } };
      await sleep(this.clock, Math.min(interval, deadline - now));
    }
  }

  private stopRun(active: ActiveRun, halt: ExperimentHalt): void {
    if (active.finishing || active.halt !== undefined || active.controller.signal.aborted) return;
    active.halt = halt;
    active.controller.abort(new ChaosRefusedError(`Chaos experiment "${active.run.name}" stopped: ${halt.reason}`));
    this.timeline(active, 'halted', halt);
    this.events.emit('halted', { id: active.run.id, name: active.run.name, halt });
  }

  private timeline(active: ActiveRun, type: string, data?: unknown): void {
    if (this.store === undefined || active.events >= MAX_EVENTS_PER_RUN) return;
    active.events++;
    const at = this.clock.now();
    this.write('recordChaosEvent', () =>
      this.store?.recordChaosEvent({ experimentId: active.run.id, type, ...(data === undefined ? {} : { data: snapshot(data) }), at }),
    );
  }

  private write(operation: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.events.emit('error', { operation, error });
    }
  }

  private fleetActive(): number {
    if (this.fleet?.current === undefined) return 0;
    try {
      return this.fleet.current().filter((e) => !this.active.has(e.id) && (e.status === 'running' || e.status === 'scheduled' || e.status === 'paused')).length;
    } catch (error) {
      this.events.emit('error', { operation: 'fleet.current', error });
      return 0;
    }
  }
}

function outcomeOf(failure: string | undefined, halt: ExperimentHalt | undefined, run: ExperimentRun): ExperimentOutcome {
  if (failure !== undefined) return 'failed';
  if (halt !== undefined) return 'aborted';
  if (run.probes.some((p) => p.breaches > 0) || run.steadyStateAfter?.met === false) return 'deviated';
  return 'succeeded';
}

function describe(definition: ExperimentDefinition, durationMs: number): Record<string, unknown> {
  return {
    category: definition.category ?? 'custom',
    severity: definition.severity ?? 'medium',
    kinds: definition.method.map((a) => a.kind),
    targets: definition.method.flatMap((a) => (a.target === undefined ? [] : [a.target])),
    durationMs,
  };
}

/** A JSON copy (runs are plain data; this drops anything that is not). */
function snapshot<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Resolves or rejects with `promise`, or rejects with the signal's reason as soon as it aborts. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const off = onAbort(signal, () => reject(signal.reason as Error));
    promise.then(
      (value) => {
        off();
        resolve(value);
      },
      (error: unknown) => {
        off();
        reject(error as Error);
      },
    );
  });
}
