import { ChaosControl } from '../../chaos/chaos-control.js';
import { ChaosMonkey, type ChaosMonkeyOptions } from '../../chaos/experiments/chaos-monkey.js';
import { validateGameDayScheduleOptions, type GameDayScheduleOptions, type GameDaySchedule } from '../../chaos/experiments/game-day-schedule.js';
import type { GameDayOptions, GameDayReport } from '../../chaos/experiments/game-day.js';
import { ChaosRefusedError } from '../../core/errors.js';
import { OptionsValidator } from '../../core/options.js';

/**
 * A game day the module schedules: the seed's `ChaosSchedulerService` (`@Cron('0 *\/4 * * *')`, one experiment
 * at random, only in a low-traffic period) or its Sunday 2 AM game day, without a hand-written class.
 * Any {@link GameDayScheduleOptions} (`pick`, `when`, `timezone`, `windows`, `experimentOptions`, `onReport`,
 * `onFailure`...) plus the experiments' names, resolved when it fires (register them in any `onModuleInit`).
 *
 * @example
 * // { cron: '0 *\/4 * * *', experiments: ['network-latency', 'cpu-stress'], pick: 'one-at-random',
 * //   when: () => traffic.isLow(), experimentOptions: { durationMs: 60_000, intensity: 'low' },
 * //   onFailure: (report, failures) => alerts.warn(`chaos: ${failures.map((f) => f.name).join(', ')} failed`) }
 */
export interface ChaosModuleSchedule extends GameDayScheduleOptions {
  /** Names of registered experiments: all run at each firing, or one of them with `pick: 'one-at-random'`. */
  experiments: string[];
}

/**
 * Options of `ChaosModule.forRoot`: the seed's `enabled`, `scheduleEnabled` and `safetyChecks`, plus any
 * {@link ChaosMonkeyOptions} (store, health, limits...).
 */
export interface ChaosModuleOptions extends Omit<ChaosMonkeyOptions, 'enabled' | 'safeMode'> {
  /**
   * Whether chaos may run. Switches on the `control` (a new {@link ChaosControl} when none is given), which
   * still refuses in a production environment unless `allowInProduction`. @default false
   */
  enabled?: boolean;
  /**
   * Whether cron game days may be scheduled: the `schedules` below, and `scheduleGameDay(names, { cron })`
   * (refused with ChaosRefusedError when off). @default false
   */
  scheduleEnabled?: boolean;
  /**
   * Game days started when the module initialises and stopped when the application closes, only when
   * `scheduleEnabled`; otherwise they are not started and a warning says so (the seed turns
   * `scheduleEnabled` off per environment, e.g. in production, with the same module options).
   */
  schedules?: ChaosModuleSchedule[];
  /** Safe mode: refuse severe or long experiments and runs while the system is degraded. @default true */
  safetyChecks?: boolean;
  /** Passed to the new control when no `control` is given. @default process.env.NODE_ENV ?? 'development' */
  environment?: string;
  /** Passed to the new control when no `control` is given. @default false */
  allowInProduction?: boolean;
}

/**
 * The seed's `ChaosMonkeyService`: a {@link ChaosMonkey} configured from the module options. Register
 * experiments (seed-style `inject`/`rollback`), `runExperiment(name)`, `isSafeToRunChaos()`,
 * `scheduleGameDay(names)` and `getHistory()`. Cron game days are refused unless `scheduleEnabled`.
 * Nest disposes it (aborting runs in progress, whose rollbacks run) when the application closes.
 */
export class ChaosMonkeyService extends ChaosMonkey {
  /** The kill switch this service's experiments consult. */
  readonly control: ChaosControl;
  /** Whether cron game days may be scheduled. */
  readonly scheduleEnabled: boolean;

  /** @throws InvalidOptionsError listing every invalid option. */
  constructor(options: ChaosModuleOptions = {}) {
    const v = new OptionsValidator('ChaosModule');
    if (v.object('options', options)) {
      v.boolean('enabled', options.enabled);
      v.boolean('scheduleEnabled', options.scheduleEnabled);
      v.boolean('safetyChecks', options.safetyChecks);
      v.string('environment', options.environment);
      v.boolean('allowInProduction', options.allowInProduction);
      if (options.control !== undefined && !(options.control instanceof ChaosControl)) v.fail('control', 'a ChaosControl', options.control);
      if (options.schedules !== undefined) {
        if (!Array.isArray(options.schedules)) v.fail('schedules', 'an array of schedules', options.schedules);
        else {
          options.schedules.forEach((schedule, i) => {
            const at = `schedules[${i}]`;
            if (typeof schedule !== 'object' || schedule === null || Array.isArray(schedule)) v.fail(at, 'an object with cron and experiments', schedule);
            else validateGameDayScheduleOptions(new PrefixedValidator(v, `${at}.`), schedule.experiments, schedule, 'experiments');
          });
        }
      }
    }
    v.throwIfInvalid();
    const { enabled, scheduleEnabled, safetyChecks, environment, allowInProduction, control: given, schedules, ...rest } = options;
    const control =
      given ??
      rest.registry?.control ??
      new ChaosControl({
        ...(environment === undefined ? {} : { environment }),
        ...(allowInProduction === undefined ? {} : { allowInProduction }),
      });
    // Enabling throws ChaosRefusedError in production unless allowed: a misconfiguration to surface at boot.
    if (enabled === true) control.enable('ChaosModule.forRoot');
    super({ ...rest, control, enabled: enabled === true, safeMode: safetyChecks !== false });
    this.control = control;
    this.scheduleEnabled = scheduleEnabled === true;
    this.configured = schedules ?? [];
  }

  private readonly configured: readonly ChaosModuleSchedule[];
  private readonly started: GameDaySchedule[] = [];

  /**
   * Starts the `schedules` of the module options (Nest calls it when the module initialises). When
   * `scheduleEnabled` is off they are not started and a process warning says so. Idempotent.
   */
  onModuleInit(): void {
    if (this.configured.length === 0 || this.started.length > 0) return;
    if (!this.scheduleEnabled) {
      process.emitWarning(`ChaosModule: ${this.configured.length} schedule(s) not started: scheduleEnabled is false`, { code: 'ANTIFRAGILE_CHAOS_SCHEDULES_OFF' });
      return;
    }
    for (const { experiments, ...options } of this.configured) this.started.push(this.scheduleGameDay(experiments, options));
  }

  /** The game days started from the `schedules` option, in its order (empty until the module initialises, or when `scheduleEnabled` is off). */
  getModuleSchedules(): GameDaySchedule[] {
    return [...this.started];
  }

  /**
   * Game days, as {@link ChaosMonkey.scheduleGameDay}.
   * @throws ChaosRefusedError for a cron schedule when `scheduleEnabled` is off.
   */
  override scheduleGameDay(names: readonly string[], options?: GameDayOptions & { cron?: undefined }): Promise<GameDayReport>;
  override scheduleGameDay(names: readonly string[], options: GameDayScheduleOptions): GameDaySchedule;
  override scheduleGameDay(
    names: readonly string[],
    options: (GameDayOptions & { cron?: undefined }) | GameDayScheduleOptions = {},
  ): Promise<GameDayReport> | GameDaySchedule {
    if (typeof options === 'object' && options !== null && typeof options.cron === 'string') {
      if (!this.scheduleEnabled) throw new ChaosRefusedError('Chaos refused: scheduled game days are off (ChaosModule scheduleEnabled is false)');
      return super.scheduleGameDay(names, options as GameDayScheduleOptions);
    }
    return super.scheduleGameDay(names, options as GameDayOptions & { cron?: undefined });
  }

  /** Stops schedules and aborts runs in progress (Nest calls it when the application closes). */
  onModuleDestroy(): void {
    this.dispose();
    this.started.length = 0;
  }
}

/** Reports the checks of a nested object into `outer`, under `prefix`. */
class PrefixedValidator extends OptionsValidator {
  constructor(
    private readonly outer: OptionsValidator,
    private readonly prefix: string,
  ) {
    super('ChaosModule');
  }

  override fail(path: string, expected: string, value: unknown): void {
    this.outer.fail(path === 'options' ? this.prefix.slice(0, -1) : `${this.prefix}${path}`, expected, value);
  }
}
