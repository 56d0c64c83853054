import { ChaosControl } from '../../chaos/chaos-control.js';
import { ChaosMonkey, type ChaosMonkeyOptions } from '../../chaos/experiments/chaos-monkey.js';
import type { GameDayScheduleOptions, GameDaySchedule } from '../../chaos/experiments/game-day-schedule.js';
import type { GameDayOptions, GameDayReport } from '../../chaos/experiments/game-day.js';
import { ChaosRefusedError } from '../../core/errors.js';
import { OptionsValidator } from '../../core/options.js';

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
  /** Whether cron game days (`scheduleGameDay(names, { cron })`) may be scheduled. @default false */
  scheduleEnabled?: boolean;
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
    }
    v.throwIfInvalid();
    const { enabled, scheduleEnabled, safetyChecks, environment, allowInProduction, control: given, ...rest } = options;
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
  }
}
