import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { ExponentialBackoff } from '../policies/backoff/exponential-backoff.js';

/** Options of {@link SupervisorRestartBackoff}. */
export interface SupervisorRestartBackoffOptions {
  /** Delay before restarting a worker after its first crash, in milliseconds. @default 1_000 */
  initialMs?: number;
  /** Upper bound of the delay, in milliseconds. @default 30_000 */
  maxMs?: number;
  /** A worker up (ready) for at least this many milliseconds resets its slot's delay to `initialMs`. @default 60_000 */
  resetAfterMs?: number;
}

/**
 * Crash-restart delays per worker slot: `min(maxMs, initialMs * 2 ** (crashes - 1))`, no jitter (each slot
 * is one process; there is no herd to spread). A worker that stayed up `resetAfterMs` resets its slot.
 */
export class SupervisorRestartBackoff {
  private readonly backoff: ExponentialBackoff;
  private readonly resetAfterMs: number;
  private readonly slots = new Map<number, { crashes: number; upSince: number | undefined }>();

  constructor(
    options: SupervisorRestartBackoffOptions = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.backoff = new ExponentialBackoff({ initialMs: options.initialMs ?? 1_000, maxMs: options.maxMs ?? 30_000, jitter: 'none' });
    this.resetAfterMs = options.resetAfterMs ?? 60_000;
  }

  /** Records that the worker of `slot` became ready now. */
  started(slot: number): void {
    const state = this.slots.get(slot) ?? { crashes: 0, upSince: undefined };
    state.upSince = this.clock.now();
    this.slots.set(slot, state);
  }

  /** Records a crash of `slot`'s worker and returns the delay before its restart and the crash count. */
  crashed(slot: number): { delayMs: number; attempt: number } {
    const state = this.slots.get(slot) ?? { crashes: 0, upSince: undefined };
    if (state.upSince !== undefined && this.clock.now() - state.upSince >= this.resetAfterMs) state.crashes = 0;
    state.crashes++;
    state.upSince = undefined;
    this.slots.set(slot, state);
    return { delayMs: this.backoff.delayMs(state.crashes, 0), attempt: state.crashes };
  }

  /** Forgets every slot. */
  clear(): void {
    this.slots.clear();
  }
}
