import { systemClock, type Clock } from '../../core/clock.js';
import { OptionsValidator } from '../../core/options.js';
import type { Store } from '../../store/store.js';
import type { SafetyReport } from './assess-safety.js';
import type { ExperimentComponents } from './experiment-components.js';
import {
  EXPERIMENT_SEVERITIES,
  validateExperimentDefinition,
  type ExperimentDefinition,
  type ExperimentSeverity,
} from './experiment-definition.js';
import type { ExperimentRun } from './experiment-run.js';
import { ExperimentRunner, type ExperimentRunnerOptions } from './experiment-runner.js';
import { GameDaySchedule, type GameDayScheduleOptions } from './game-day-schedule.js';
import { runGameDay, type GameDayLock, type GameDayOptions, type GameDayReport } from './game-day.js';

/** Options handed to a seed-style experiment's `inject` and `rollback` (whatever `runExperiment` was given). */
export interface ChaosOptions {
  /** How long the fault stays in place, in ms. @default the experiment's, else the runner's default */
  durationMs?: number;
  /** Stops the run early (the rollback still runs). */
  signal?: AbortSignal;
  [key: string]: unknown;
}

/**
 * An experiment in the seed's `ChaosMonkeyService` shape: `inject` and `rollback` functions. The rollback is
 * bound before `inject` runs, so it runs even when `inject` throws part-way (make it safe to call then).
 */
export interface ChaosExperiment {
  name: string;
  description?: string;
  /** e.g. `network`, `resource`; also the fault kind checked against `allowedFaults` unless `faultType` is given. */
  category: string;
  severity: ExperimentSeverity;
  inject(options: ChaosOptions): unknown;
  rollback(options: ChaosOptions): unknown;
  /** Fault kind checked against `allowedFaults`. @default category */
  faultType?: string;
  /** The dependency it acts on (for the findings). */
  target?: string;
  steadyState?: ExperimentDefinition['steadyState'];
  probes?: ExperimentDefinition['probes'];
  probeIntervalMs?: number;
  traffic?: ExperimentDefinition['traffic'];
  recovery?: ExperimentDefinition['recovery'];
  durationMs?: number;
}

/** Options of {@link ChaosMonkey}: an {@link ExperimentRunner}'s, or a runner to share. */
export interface ChaosMonkeyOptions extends ExperimentRunnerOptions {
  /** Runner to use instead of creating one from the other options. */
  runner?: ExperimentRunner;
  /** Fleet-wide game-day lock, used by every game day. */
  gameDayLock?: GameDayLock;
}

/**
 * The seed's `ChaosMonkeyService`: register experiments (seed-style `inject`/`rollback`, or full definitions
 * and `ChaosExperiments` templates), run them by name with every safety check of {@link ExperimentRunner}, run
 * game days now or on a cron schedule, and read the history.
 *
 * @example
 * const monkey = new ChaosMonkey({ control: new ChaosControl({ enabled: true }), store });
 * monkey.registerExperiment({
 *   name: 'redis-latency', category: 'network', severity: 'low',
 *   inject: () => proxy.addToxic({ name: 'slow', type: 'latency', attributes: { latency: 300 } }),
 *   rollback: () => proxy.removeToxic('slow'),
 * });
 * const run = await monkey.runExperiment('redis-latency', { durationMs: 60_000 });
 * monkey.scheduleGameDay(['redis-latency'], { cron: '0 2 * * 0', windows: [{ days: ['sun'], startHour: 2, endHour: 4 }] });
 */
export class ChaosMonkey {
  /** The runner doing the work. */
  readonly runner: ExperimentRunner;
  private readonly experiments = new Map<string, ChaosExperiment | ExperimentDefinition>();
  private readonly clock: Clock;
  private readonly store: Store | undefined;
  private readonly gameDayLock: GameDayLock | undefined;
  private readonly schedules = new Set<GameDaySchedule>();

  /** @throws InvalidOptionsError listing every invalid option. */
  constructor(options: ChaosMonkeyOptions = {}) {
    const { runner, gameDayLock, ...runnerOptions } = options;
    const v = new OptionsValidator('ChaosMonkey');
    if (runner !== undefined && !(runner instanceof ExperimentRunner)) v.fail('runner', 'an ExperimentRunner', runner);
    if (gameDayLock !== undefined && typeof (gameDayLock as Partial<GameDayLock>)?.acquireGameDay !== 'function') {
      v.fail('gameDayLock', 'an object with acquireGameDay()', gameDayLock);
    }
    v.throwIfInvalid();
    this.runner = runner ?? new ExperimentRunner(runnerOptions);
    this.clock = options.clock ?? systemClock;
    this.store = options.store;
    this.gameDayLock = gameDayLock;
  }

  /** Sets the components watched for findings (the seed's `setComponents`). */
  setComponents(components: ExperimentComponents): void {
    this.runner.setComponents(components);
  }

  /**
   * Registers (or replaces) an experiment: seed-style (`inject`/`rollback`) or a full definition.
   * @throws InvalidOptionsError for an invalid experiment.
   */
  registerExperiment(experiment: ChaosExperiment | ExperimentDefinition): void {
    if (isDefinition(experiment)) validateExperimentDefinition(experiment, 'ChaosMonkey experiment');
    else {
      const v = new OptionsValidator('ChaosMonkey experiment');
      if (v.object('experiment', experiment)) {
        if (typeof experiment.name !== 'string' || experiment.name === '') v.fail('name', 'a non-empty string', experiment.name);
        if (typeof experiment.category !== 'string' || experiment.category === '') v.fail('category', 'a non-empty string', experiment.category);
        if (v.required('severity', experiment.severity, 'a severity')) v.oneOf('severity', experiment.severity, EXPERIMENT_SEVERITIES);
        if (typeof experiment.inject !== 'function') v.fail('inject', 'a function', experiment.inject);
        if (typeof experiment.rollback !== 'function') v.fail('rollback', 'a function', experiment.rollback);
        v.string('faultType', experiment.faultType);
        v.string('target', experiment.target);
      } else if (experiment === undefined) v.fail('experiment', 'an experiment', experiment);
      v.throwIfInvalid();
      validateExperimentDefinition(this.definitionOf(experiment, {}), 'ChaosMonkey experiment');
    }
    this.experiments.set(experiment.name, experiment);
  }

  /** Names of the registered experiments. */
  getExperimentNames(): string[] {
    return [...this.experiments.keys()];
  }

  /**
   * Runs a registered experiment and resolves with the finished run, whatever its outcome (see `status` and
   * `results`). `options` reach a seed-style experiment's `inject` and `rollback`.
   * @throws RangeError for an unknown name; ChaosRefusedError when chaos may not run.
   */
  runExperiment(name: string, options: ChaosOptions = {}): Promise<ExperimentRun> {
    const experiment = this.experiments.get(name);
    if (experiment === undefined) return Promise.reject(new RangeError(`Unknown experiment: ${name}`));
    const definition = isDefinition(experiment) ? experiment : this.definitionOf(experiment, options);
    return this.runner.run(definition, {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.durationMs === undefined ? {} : { durationMs: options.durationMs }),
    });
  }

  /** Whether chaos may run now: kill switch, environment, health, degradation, concurrency. */
  isSafeToRunChaos(): boolean {
    return this.runner.isSafeToRunChaos();
  }

  /** Every reason chaos (or the experiment `name`) may not run now. */
  checkSafety(name?: string): SafetyReport {
    if (name === undefined) return this.runner.checkSafety();
    const experiment = this.experiments.get(name);
    if (experiment === undefined) return { safe: false, reasons: [`unknown experiment "${name}"`] };
    return this.runner.checkSafety(isDefinition(experiment) ? experiment : this.definitionOf(experiment, {}));
  }

  /**
   * Game days. Without `cron`, runs the experiments now, one after the other, each only inside the allowed
   * windows and only when chaos is safe, and resolves with the report. With `cron`, returns the started
   * {@link GameDaySchedule} that does so at each time of the pattern.
   */
  scheduleGameDay(names: readonly string[], options?: GameDayOptions & { cron?: undefined }): Promise<GameDayReport>;
  scheduleGameDay(names: readonly string[], options: GameDayScheduleOptions): GameDaySchedule;
  scheduleGameDay(
    names: readonly string[],
    options: (GameDayOptions & { cron?: undefined }) | GameDayScheduleOptions = {},
  ): Promise<GameDayReport> | GameDaySchedule {
    const host = { checkSafety: (name?: string) => this.checkSafety(name), run: (name: string, o: { signal?: AbortSignal }) => this.runExperiment(name, o) };
    const withLock = options.lock === undefined && this.gameDayLock !== undefined ? { ...options, lock: this.gameDayLock } : options;
    if (typeof options === 'object' && options !== null && typeof options.cron === 'string') {
      const schedule = new GameDaySchedule(host, names, withLock as GameDayScheduleOptions, this.clock, this.store).start();
      this.schedules.add(schedule);
      return schedule;
    }
    return runGameDay(host, names, withLock, this.clock, this.store);
  }

  /** Finished runs, oldest first. */
  getHistory(): ExperimentRun[] {
    return this.runner.getHistory();
  }

  /** Runs in progress. */
  getActiveExperiments(): ExperimentRun[] {
    return this.runner.running();
  }

  /** Stops every run in progress (their rollbacks run); returns how many. */
  abortAll(reason = 'aborted'): number {
    return this.runner.abortAll(reason);
  }

  /** Stops every game-day schedule, aborts every run in progress and stops following the control. */
  dispose(): void {
    for (const schedule of this.schedules) schedule.stop();
    this.schedules.clear();
    this.runner.dispose();
  }

  private definitionOf(experiment: ChaosExperiment, options: ChaosOptions): ExperimentDefinition {
    const definition: ExperimentDefinition = {
      name: experiment.name,
      category: experiment.category,
      severity: experiment.severity,
      method: [
        {
          name: experiment.name,
          kind: experiment.faultType ?? experiment.category,
          ...(experiment.target === undefined ? {} : { target: experiment.target }),
          inject: async () => {
            await experiment.inject(options);
          },
          rollback: () => experiment.rollback(options),
        },
      ],
    };
    if (experiment.description !== undefined) definition.description = experiment.description;
    if (experiment.steadyState !== undefined) definition.steadyState = experiment.steadyState;
    if (experiment.probes !== undefined) definition.probes = experiment.probes;
    if (experiment.probeIntervalMs !== undefined) definition.probeIntervalMs = experiment.probeIntervalMs;
    if (experiment.traffic !== undefined) definition.traffic = experiment.traffic;
    if (experiment.recovery !== undefined) definition.recovery = experiment.recovery;
    if (experiment.durationMs !== undefined) definition.durationMs = experiment.durationMs;
    return definition;
  }
}

function isDefinition(experiment: ChaosExperiment | ExperimentDefinition): experiment is ExperimentDefinition {
  return Array.isArray((experiment as Partial<ExperimentDefinition>).method);
}
