import { CronSchedule } from '../../cache/cron-schedule.js';
import type { Clock } from '../../core/clock.js';
import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import type { Store } from '../../store/store.js';
import { runGameDay, validateGameDayOptions, type GameDayHost, type GameDayOptions, type GameDayReport } from './game-day.js';

/** Options of a scheduled game day. */
export interface GameDayScheduleOptions extends GameDayOptions {
  /** When it runs: a cron pattern (croner's syntax, e.g. `0 2 * * 0` for Sundays at 2 AM). Required. */
  cron: string;
  /** IANA timezone of the cron pattern (and of windows that give none). @default 'UTC' */
  timezone?: string;
  /** Called with each game day's report. */
  onReport?: (report: GameDayReport) => void;
  /** Reports kept by {@link GameDaySchedule.reports} (integer >= 1). @default 20 */
  maxReports?: number;
}

/**
 * Game days on a cron schedule, timed on the injected clock: at each time of the pattern the listed
 * experiments run one after the other, only inside the allowed windows and only when chaos is safe. The
 * schedule's timer never keeps the process alive, and a game day still running when the next time comes is
 * not doubled.
 */
export class GameDaySchedule {
  private readonly schedule: CronSchedule;
  private readonly kept: GameDayReport[] = [];
  private readonly maxReports: number;
  private active = false;

  /** @throws InvalidOptionsError for invalid options (a bad cron pattern or timezone included). */
  constructor(
    private readonly host: GameDayHost,
    private readonly names: readonly string[],
    private readonly options: GameDayScheduleOptions,
    private readonly clock: Clock,
    private readonly store?: Store,
  ) {
    const v = new OptionsValidator('GameDaySchedule');
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) v.fail('names', 'an array of experiment names', names);
    let schedule: CronSchedule | undefined;
    if (v.object('options', options)) {
      validateGameDayOptions(v, options);
      v.string('timezone', options.timezone);
      v.func('onReport', options.onReport);
      v.integer('maxReports', options.maxReports, 1);
      if (typeof options.cron !== 'string') v.fail('cron', 'a cron pattern', options.cron);
      else {
        try {
          schedule = new CronSchedule(options.cron, options.timezone ?? 'UTC', clock, () => this.fire(), 'game day');
        } catch (error) {
          v.fail('cron', `a valid cron pattern and timezone (${error instanceof Error ? error.message : String(error)})`, options.cron);
        }
      }
    } else if (options === undefined) v.fail('options', 'an object with cron', options);
    v.throwIfInvalid();
    this.schedule = schedule as CronSchedule;
    this.maxReports = options.maxReports ?? 20;
  }

  /** Starts following the schedule. Idempotent. */
  start(): this {
    this.active = true;
    this.schedule.start();
    return this;
  }

  /** Stops the schedule (a game day in progress goes on; abort it with the `signal` option). Idempotent. */
  stop(): void {
    this.active = false;
    this.schedule.stop();
  }

  /** Whether it is started. */
  get running(): boolean {
    return this.active;
  }

  /** Clock time of the next game day, or undefined when the pattern has none left. */
  nextRunAt(): number | undefined {
    return this.schedule.nextRunAfter(this.clock.now());
  }

  /** Reports of the last game days, oldest first. */
  reports(): GameDayReport[] {
    return [...this.kept];
  }

  private async fire(): Promise<void> {
    const windows = this.options.windows?.map((w) => (w.timezone === undefined && this.options.timezone !== undefined ? { ...w, timezone: this.options.timezone } : w));
    const report = await runGameDay(this.host, this.names, { ...this.options, ...(windows === undefined ? {} : { windows }) }, this.clock, this.store);
    this.kept.push(report);
    if (this.kept.length > this.maxReports) this.kept.shift();
    try {
      this.options.onReport?.(report);
    } catch (error) {
      reportCallbackError(error, 'GameDaySchedule option onReport');
    }
  }
}
