import type { Listener, Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import { ChaosControl } from '../chaos-control.js';
import type { ChaosRegistry } from '../chaos-registry.js';
import type { SafetyReport } from './assess-safety.js';
import { ChaosExperiments, type ChaosFaultConfigs } from './chaos-experiments.js';
import type { BreakerSource, DegradationSource, HealerSource } from './experiment-components.js';
import type { ChaosFaultType, ExperimentDefinition } from './experiment-definition.js';
import type { ExperimentRun } from './experiment-run.js';
import { ExperimentRunner, type ExperimentRunnerEvents, type ExperimentRunnerOptions, type RunExperimentOptions } from './experiment-runner.js';

/**
 * The seed's `chaos` config block (`enabled`, `safeMode`, `allowedFaults`, `maxConcurrentExperiments`,
 * `defaultDuration`, `requireApproval`), plus the runner's options.
 */
export interface ChaosEngineeringConfig extends Omit<ExperimentRunnerOptions, 'enabled' | 'defaultDurationMs'> {
  /** Whether experiments may run at all. Off by default, as the seed's production config. @default false */
  enabled?: boolean;
  /** Duration of an experiment that gives none, in ms (the seed's name). @default 60_000 */
  defaultDuration?: number;
  /** Environment of the control created when none is given. @default process.env.NODE_ENV ?? 'development' */
  environment?: string;
  /** Let the control created when none is given switch on in production. @default false */
  allowInProduction?: boolean;
}

/**
 * The seed's `ChaosEngineering`: controlled fault injection with safety checks, on an {@link ExperimentRunner}.
 * Without a `control` or `registry`, it creates its own {@link ChaosControl}, switched on when `enabled` is
 * (never in production unless `allowInProduction`), and its own {@link ChaosRegistry}: put
 * `chaos.registry.injector(name)` in the pipelines of the dependencies experiments target.
 *
 * @example
 * const chaos = new ChaosEngineering({ enabled: true, safeMode: true, allowedFaults: ['latency', 'error'] });
 * chaos.setComponents(circuitBreakers, degradation, selfHealer);
 * const t = ChaosExperiments.latencySpike('api-service', 2_000, 60_000);
 * const experiment = await chaos.runExperiment(t.name, t.faultType, t.target, t.config, t.duration);
 * console.log(experiment.status, experiment.results.observations, experiment.results.recommendations);
 */
export class ChaosEngineering {
  /** The runner doing the work. */
  readonly runner: ExperimentRunner;
  private readonly defaultDuration: number;

  /** @throws InvalidOptionsError listing every invalid option. */
  constructor(config: ChaosEngineeringConfig = {}) {
    const v = new OptionsValidator('ChaosEngineering');
    if (v.object('config', config)) {
      v.boolean('enabled', config.enabled);
      v.duration('defaultDuration', config.defaultDuration, true);
      v.string('environment', config.environment);
      v.boolean('allowInProduction', config.allowInProduction);
    }
    v.throwIfInvalid();
    const { enabled = false, defaultDuration, environment, allowInProduction, ...runnerOptions } = config;
    let control = config.control ?? config.registry?.control;
    if (control === undefined) {
      control = new ChaosControl({ ...(environment === undefined ? {} : { environment }), ...(allowInProduction === undefined ? {} : { allowInProduction }) });
      if (enabled && control.permitted) control.enable('ChaosEngineering config');
    }
    this.defaultDuration = defaultDuration ?? 60_000;
    this.runner = new ExperimentRunner({ ...runnerOptions, control, enabled, defaultDurationMs: this.defaultDuration });
  }

  /** The registry experiments inject through. */
  get registry(): ChaosRegistry {
    return this.runner.registry;
  }

  /** The kill switch. */
  get control(): ChaosControl {
    return this.runner.control;
  }

  /** Sets the components watched for findings (a `CircuitBreakerManager`, a `GracefulDegradation`, a `SelfHealer`). */
  setComponents(circuitBreakers?: BreakerSource, degradation?: DegradationSource, selfHealer?: HealerSource): void {
    this.runner.setComponents({
      ...(circuitBreakers === undefined ? {} : { circuitBreakers }),
      ...(degradation === undefined ? {} : { degradation }),
      ...(selfHealer === undefined ? {} : { selfHealer }),
    });
  }

  /**
   * Runs a fault of `faultType` on `target` (see {@link ChaosFaultConfigs} for each type's `config`) for
   * `duration` ms, and resolves with the finished experiment (`status`, `results.observations`,
   * `results.weaknesses`, `results.recommendations`).
   * @throws ChaosRefusedError when chaos may not run; InvalidOptionsError for an unknown type or a bad config.
   */
  runExperiment<K extends ChaosFaultType>(
    name: string,
    faultType: K,
    target: string,
    config: ChaosFaultConfigs[K] | Readonly<Record<string, unknown>> = {},
    duration?: number,
    options: RunExperimentOptions = {},
  ): Promise<ExperimentRun> {
    let definition: ExperimentDefinition;
    try {
      definition = ChaosExperiments.build(faultType, target, config as ChaosFaultConfigs[K], duration ?? this.defaultDuration, { name });
    } catch (error) {
      return Promise.reject(error);
    }
    return this.runner.run(definition, options);
  }

  /** Runs an experiment definition (a {@link ChaosExperiments} template or your own). */
  run(definition: ExperimentDefinition, options: RunExperimentOptions = {}): Promise<ExperimentRun> {
    return this.runner.run(definition, options);
  }

  /** Whether chaos may run now. */
  isSafeToRunChaos(): boolean {
    return this.runner.isSafeToRunChaos();
  }

  /** Every reason chaos (or `definition`) may not run now. */
  checkSafety(definition?: ExperimentDefinition): SafetyReport {
    return this.runner.checkSafety(definition);
  }

  /** Experiments in progress. */
  getActiveExperiments(): ExperimentRun[] {
    return this.runner.running();
  }

  /** Finished experiments, oldest first. */
  getExperimentHistory(): ExperimentRun[] {
    return this.runner.getHistory();
  }

  /** A running or finished experiment by id. */
  getExperiment(id: string): ExperimentRun | undefined {
    return this.runner.running().find((r) => r.id === id) ?? this.runner.getHistory().find((r) => r.id === id);
  }

  /** Stops experiment `id` early (its rollbacks run); returns whether it was running. */
  stopExperiment(id: string, reason = 'stopped'): boolean {
    return this.runner.abort(id, reason);
  }

  /** Switches chaos off at once: every running experiment is aborted and rolled back, every injected fault stops acting. */
  emergencyStop(reason = 'emergency stop'): void {
    this.runner.control.disable(reason);
    this.runner.abortAll(reason, 'kill-switch');
  }

  /** Subscribes to the runner's events; returns the unsubscribe function. */
  on<K extends keyof ExperimentRunnerEvents>(event: K, listener: Listener<ExperimentRunnerEvents[K]>): Unsubscribe {
    return this.runner.on(event, listener);
  }

  /** Aborts every run and releases the runner. */
  dispose(): void {
    this.runner.dispose();
  }
}
