import { Cron } from 'croner';
import type { Clock, TimerHandle } from '../core/clock.js';
import { reportCallbackError } from '../core/report-callback-error.js';

/**
 * Runs `task` at the times of a cron pattern (croner's syntax: 5 to 7 fields, `@daily`...), timed on the
 * injected clock so VirtualClock drives it in tests. One housekeeping timer (it never keeps the process
 * alive); a run still in progress when the next time comes is not doubled.
 * @internal
 */
export class CronSchedule {
  private readonly cron: Cron;
  private timer: TimerHandle | undefined;
  private running = false;

  /** Throws croner's error for an invalid pattern or timezone. */
  constructor(
    pattern: string,
    timezone: string | undefined,
    private readonly clock: Clock,
    private readonly task: () => Promise<unknown>,
    /** Names the task in warnings when it fails. */
    private readonly label = 'scheduled task',
  ) {
    // Without a callback croner starts no timer: it is used only to compute run times.
    this.cron = new Cron(pattern, { paused: true, ...(timezone === undefined ? {} : { timezone }) });
  }

  /** Clock time of the next run after `now`, or `undefined` when the pattern has none left. */
  nextRunAfter(now: number): number | undefined {
    return this.cron.nextRun(new Date(now))?.getTime();
  }

  start(): void {
    if (this.timer === undefined) this.arm();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(): void {
    const now = this.clock.now();
    const next = this.nextRunAfter(now);
    if (next === undefined) return;
    this.timer = this.clock.schedule(() => this.fire(), Math.max(1, next - now), { keepAlive: false });
  }

  private fire(): void {
    this.arm();
    if (this.running) return;
    this.running = true;
    this.task()
      .catch((error: unknown) => reportCallbackError(error, this.label))
      .finally(() => {
        this.running = false;
      });
  }
}
