import { randomUUID } from 'node:crypto';
import { CronSchedule } from '../../cache/cron-schedule.js';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import type { Store } from '../../store/store.js';
import type { ExperimentRun } from './experiment-run.js';
import { runGameDay, validateGameDayOptions, type GameDayHost, type GameDayOptions, type GameDayReport } from './game-day.js';
import { messageOf } from './read-probe.js';

/** Which of the listed experiments a scheduled game day runs at each firing. */
export type GameDayPick = 'all' | 'one-at-random';

const PICKS: readonly GameDayPick[] = ['all', 'one-at-random'];

/** Options each experiment of a scheduled game day runs with (the seed's `{ duration, intensity }`). */
export interface GameDayExperimentOptions {
  /** Overrides the experiment's duration, in ms (> 0). */
  durationMs?: number;
  /** Anything else reaches a seed-style experiment's `inject` and `rollback` through `ChaosMonkey` (e.g. `intensity`). */
  [key: string]: unknown;
}

/** Options of a scheduled game day. */
export interface GameDayScheduleOptions extends GameDayOptions {
  /** When it runs: a cron pattern (croner's syntax, e.g. `0 2 * * 0` for Sundays at 2 AM). Required. */
  cron: string;
  /** IANA timezone of the cron pattern (and of windows that give none). @default 'UTC' */
  timezone?: string;
  /**
   * What runs at each firing: `all` the listed experiments one after the other, or `one-at-random` of them
   * (the seed's "pick ONE experiment at random"). @default 'all'
   */
  pick?: GameDayPick;
  /** Source of randomness for `pick: 'one-at-random'`, returning a number in [0, 1) (seed it in tests). @default Math.random */
  random?: () => number;
  /**
   * Guard consulted at each firing, before anything runs (e.g. a low-traffic check). Unless it returns (or
   * resolves) `true`, the firing is skipped with a `skipped` report saying why; when it throws or rejects, the
   * error is also reported as a process warning. Windows and chaos safety are still checked afterwards. A
   * firing that comes while the guard is pending is skipped as overlapping. A guard still pending after
   * `whenTimeoutMs`, or when the schedule is stopped, skips its firing (its late answer is ignored).
   */
  when?: () => boolean | Promise<boolean>;
  /**
   * How long the `when` guard may take, in ms on the schedule's clock (> 0); past it the firing is skipped
   * with a `skipped` report saying the guard timed out, and the next firings are no longer held up.
   * @default 30000
   */
  whenTimeoutMs?: number;
  /** Options every experiment runs with (passed to the host's `run`; `ChaosMonkey` hands them to `inject`/`rollback`). */
  experimentOptions?: GameDayExperimentOptions;
  /** Called with each game day's report, skipped firings included. */
  onReport?: (report: GameDayReport) => void;
  /**
   * Called (after `onReport`) when the system failed the game day: at least one run ended `deviated` (a probe
   * went out of tolerance, or the steady state did not come back) or `failed` (the steady state did not hold
   * first, an injection or a rollback failed); the seed's "alert ops". Aborted runs are not failures.
   */
  onFailure?: (report: GameDayReport, failures: ExperimentRun[]) => void;
  /** Reports kept by {@link GameDaySchedule.reports} (integer >= 1). @default 20 */
  maxReports?: number;
}

/**
 * Validates scheduled game-day options into `v` (the cron pattern and timezone included); `names` are the
 * experiments, reported under `namesPath`.
 * @internal
 */
export function validateGameDayScheduleOptions(v: OptionsValidator, names: unknown, options: GameDayScheduleOptions, namesPath = 'names'): void {
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) v.fail(namesPath, 'an array of experiment names', names);
  else if (options?.pick === 'one-at-random' && names.length === 0) v.fail(namesPath, 'at least one experiment name (pick is "one-at-random")', names);
  if (!v.object('options', options)) {
    if (options === undefined) v.fail('options', 'an object with cron', options);
    return;
  }
  validateGameDayOptions(v, options);
  v.string('timezone', options.timezone);
  v.oneOf('pick', options.pick, PICKS);
  v.func('random', options.random);
  v.func('when', options.when);
  v.duration('whenTimeoutMs', options.whenTimeoutMs, true);
  v.func('onReport', options.onReport);
  v.func('onFailure', options.onFailure);
  v.integer('maxReports', options.maxReports, 1);
  if (v.object('experimentOptions', options.experimentOptions)) {
    v.duration('experimentOptions.durationMs', options.experimentOptions?.durationMs, true);
    if (options.experimentOptions?.signal !== undefined) v.fail('experimentOptions.signal', 'nothing (use the signal option)', options.experimentOptions.signal);
  }
  if (typeof options.cron !== 'string') v.fail('cron', 'a cron pattern', options.cron);
  else {
    try {
      // croner checks the timezone only when computing a time.
      new CronSchedule(options.cron, options.timezone ?? 'UTC', systemClock, () => Promise.resolve(), 'game day').nextRunAfter(0);
    } catch (error) {
      v.fail('cron', `a valid cron pattern and timezone (${error instanceof Error ? error.message : String(error)})`, options.cron);
    }
  }
}

/**
 * Game days on a cron schedule, timed on the injected clock: at each time of the pattern the listed
 * experiments (all of them, or one at random) run one after the other, only when the `when` guard agrees,
 * only inside the allowed windows and only when chaos is safe. The schedule's timer never keeps the process
 * alive. A firing that comes while the previous game day still runs is skipped, with a `skipped` report.
 *
 * @example
 * // The seed's ChaosSchedulerService: every 4 hours, one experiment at random, only when traffic is low.
 * monkey.scheduleGameDay(['network-latency', 'cpu-stress', 'random-service-failure'], {
 *   cron: '0 *\/4 * * *', pick: 'one-at-random', when: () => traffic.isLow(),
 *   experimentOptions: { durationMs: 60_000, intensity: 'low' },
 *   onFailure: (report, failures) => alertOps({ experiment: failures[0]?.name, severity: 'warning', report }),
 * });
 */
export class GameDaySchedule {
  private readonly schedule: CronSchedule;
  private readonly kept: GameDayReport[] = [];
  private readonly maxReports: number;
  private active = false;
  private inFlight = false;
  /** Ends the pending `when` guard's wait as stopped (set only while a guard is pending). */
  private abandonGuard: (() => void) | undefined;

  /** @throws InvalidOptionsError for invalid options (a bad cron pattern or timezone included). */
  constructor(
    private readonly host: GameDayHost,
    private readonly names: readonly string[],
    private readonly options: GameDayScheduleOptions,
    private readonly clock: Clock,
    private readonly store?: Store,
  ) {
    const v = new OptionsValidator('GameDaySchedule');
    validateGameDayScheduleOptions(v, names, options);
    v.throwIfInvalid();
    // The task returns at once: the schedule tracks the game day itself, so that an overlapping firing is reported.
    this.schedule = new CronSchedule(options.cron, options.timezone ?? 'UTC', clock, () => this.fire(), 'game day');
    this.maxReports = options.maxReports ?? 20;
  }

  /** Starts following the schedule. Idempotent. */
  start(): this {
    this.active = true;
    this.schedule.start();
    return this;
  }

  /**
   * Stops the schedule. A firing whose `when` guard is still pending is skipped (reported as stopped) and runs
   * nothing; a game day already past its guard goes on (abort it with the `signal` option). Idempotent.
   */
  stop(): void {
    this.active = false;
    this.schedule.stop();
    this.abandonGuard?.();
  }

  /** Whether it is started. */
  get running(): boolean {
    return this.active;
  }

  /** Whether a game day (or its `when` guard) is in progress. */
  get busy(): boolean {
    return this.inFlight;
  }

  /** Clock time of the next game day, or undefined when the pattern has none left. */
  nextRunAt(): number | undefined {
    return this.schedule.nextRunAfter(this.clock.now());
  }

  /** Reports of the last game days (skipped firings included), oldest first. */
  reports(): GameDayReport[] {
    return [...this.kept];
  }

  private fire(): Promise<void> {
    const picked = this.pick();
    if (typeof picked === 'string') this.finish(this.skippedReport(this.names, picked));
    else if (this.inFlight) this.finish(this.skippedReport(picked, 'the previous game day is still running'));
    else {
      this.inFlight = true;
      this.runGuarded(picked)
        .then((report) => this.finish(report))
        .catch((error: unknown) => reportCallbackError(error, 'GameDaySchedule game day'))
        .finally(() => {
          this.inFlight = false;
        });
    }
    return Promise.resolve();
  }

  /** The experiments of this firing, or why none can be picked. */
  private pick(): readonly string[] | string {
    if (this.options.pick !== 'one-at-random') return this.names;
    let value: unknown;
    try {
      value = (this.options.random ?? Math.random)();
    } catch (error) {
      reportCallbackError(error, 'GameDaySchedule option random');
      return `option random threw: ${messageOf(error)}`;
    }
    if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
      reportCallbackError(new RangeError(`returned ${String(value)}, expected a number in [0, 1)`), 'GameDaySchedule option random');
      return `option random returned ${String(value)}, expected a number in [0, 1)`;
    }
    return [this.names[Math.floor(value * this.names.length)] as string];
  }

  private async runGuarded(names: readonly string[]): Promise<GameDayReport> {
    if (this.options.when !== undefined) {
      const verdict = await this.consultGuard(this.options.when);
      if (verdict !== undefined) return this.skippedReport(names, verdict);
      if (!this.active) return this.skippedReport(names, 'the schedule was stopped');
    }
    const { windows: given, experimentOptions } = this.options;
    const windows = given?.map((w) => (w.timezone === undefined && this.options.timezone !== undefined ? { ...w, timezone: this.options.timezone } : w));
    const host: GameDayHost =
      experimentOptions === undefined
        ? this.host
        : { checkSafety: (name) => this.host.checkSafety(name), run: (name, o) => this.host.run(name, { ...experimentOptions, ...o }) };
    return runGameDay(host, names, { ...this.options, ...(windows === undefined ? {} : { windows }) }, this.clock, this.store);
  }

  /**
   * Asks the `when` guard, bounded by `whenTimeoutMs` on the clock and by {@link stop}: undefined when the
   * game day may go on, else why the firing is skipped.
   */
  private async consultGuard(when: () => boolean | Promise<boolean>): Promise<string | undefined> {
    let answer: Promise<boolean>;
    try {
      answer = Promise.resolve(when());
    } catch (error) {
      reportCallbackError(error, 'GameDaySchedule option when');
      return `the when guard threw: ${messageOf(error)}`;
    }
    const timeoutMs = this.options.whenTimeoutMs ?? 30_000;
    let timer: TimerHandle | undefined;
    const verdict = await new Promise<string | undefined>((resolve) => {
      let settled = false;
      const settle = (reason: string | undefined): void => {
        if (settled) return;
        settled = true;
        timer?.cancel();
        this.abandonGuard = undefined;
        resolve(reason);
      };
      this.abandonGuard = () => settle('the schedule was stopped');
      // Like the schedule's own timer, this one never keeps the process alive.
      timer = this.clock.schedule(() => settle(`the when guard did not answer within ${timeoutMs} ms`), timeoutMs, { keepAlive: false });
      answer.then(
        (allowed: unknown) => {
          if (settled) return;
          if (!this.active) settle('the schedule was stopped');
          else settle(allowed === true ? undefined : `the when guard returned ${String(allowed)}`);
        },
        (error: unknown) => {
          // Reported even when it comes too late to decide the firing.
          reportCallbackError(error, 'GameDaySchedule option when');
          settle(`the when guard threw: ${messageOf(error)}`);
        },
      );
    });
    return verdict;
  }

  /** A game day that did not start, recorded in the store as `runGameDay` records its own. */
  private skippedReport(names: readonly string[], reason: string): GameDayReport {
    const now = this.clock.now();
    const report: GameDayReport = {
      id: randomUUID(),
      name: this.options.name ?? 'game-day',
      status: 'skipped',
      reason,
      startedAt: now,
      endedAt: now,
      runs: [],
      skipped: names.map((name) => ({ name, reason })),
    };
    try {
      this.store?.recordChaosEvent({
        experimentId: `game-day:${report.id}`,
        type: 'game-day',
        at: now,
        data: { name: report.name, status: report.status, reason, runs: [], skipped: report.skipped },
      });
    } catch {
      // a store never throws by contract; a broken one must not break the schedule
    }
    return report;
  }

  private finish(report: GameDayReport): void {
    this.kept.push(report);
    if (this.kept.length > this.maxReports) this.kept.shift();
    try {
      this.options.onReport?.(report);
    } catch (error) {
      reportCallbackError(error, 'GameDaySchedule option onReport');
    }
    const failures = report.runs.filter((run) => run.status === 'deviated' || run.status === 'failed');
    if (failures.length === 0 || this.options.onFailure === undefined) return;
    try {
      this.options.onFailure(report, failures);
    } catch (error) {
      reportCallbackError(error, 'GameDaySchedule option onFailure');
    }
  }
}
