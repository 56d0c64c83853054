import type { Clock } from '../core/clock.js';
import type { OptionsValidator } from '../core/options.js';

/** Options shared by every store. */
export interface StoreOptions {
  /** Time source for defaulted `at` values, flush and retention timers. @default systemClock */
  clock?: Clock;
  /**
   * History rows older than this are removed every `cleanupIntervalMs` (ms). `Infinity` turns periodic
   * retention off (`cleanup()` still works).
   */
  retentionMs?: number;
  /** How often retention runs, ms. @default 3_600_000 (one hour) */
  cleanupIntervalMs?: number;
}

/** @internal */
export const DEFAULT_CLEANUP_INTERVAL_MS = 3_600_000;

/**
 * Checks the {@link StoreOptions} fields.
 * @internal
 */
export function validateStoreOptions(v: OptionsValidator, options: StoreOptions): void {
  v.clock('clock', options.clock);
  v.number('retentionMs', options.retentionMs, { minExclusive: 0, allowInfinity: true });
  v.duration('cleanupIntervalMs', options.cleanupIntervalMs, true);
}

/**
 * Runs `run` every `intervalMs` on `clock` with an unref'd timer re-armed after each run, until `stop()`.
 * @internal
 */
export class PeriodicTask {
  private handle: { cancel(): void } | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly run: () => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.handle?.cancel();
    this.handle = undefined;
  }

  private arm(): void {
    if (this.stopped) return;
    this.handle = this.clock.schedule(
      () => {
        this.handle = undefined;
        try {
          this.run();
        } finally {
          this.arm();
        }
      },
      this.intervalMs,
      { keepAlive: false },
    );
  }
}
