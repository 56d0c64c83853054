import type { Clock } from '../../core/clock.js';
import type { Rollback } from './experiment-definition.js';

/** How one rollback went. */
export interface RollbackOutcome {
  /** The key it was pushed with (the action's index in the method). */
  key: number;
  ok: boolean;
  /** What it threw, or the timeout error. */
  error?: unknown;
  timedOut: boolean;
  /** When it finished, clock ms. */
  at: number;
}

/**
 * The rollbacks of the injections made so far. {@link unwind} runs them last-in first-out, each isolated: one
 * that throws, rejects or outlives its timeout is recorded and the next still runs.
 * @internal
 */
export class RollbackStack {
  private readonly entries: { key: number; rollback: Rollback }[] = [];

  /** Pushes the rollback of the action `key`. */
  push(key: number, rollback: Rollback): void {
    this.entries.push({ key, rollback });
  }

  /** Rollbacks not run yet. */
  get size(): number {
    return this.entries.length;
  }

  /** Runs every pending rollback in reverse order; resolves with how each went. Never rejects. */
  async unwind(clock: Clock, timeoutMs: number, onOutcome?: (outcome: RollbackOutcome) => void): Promise<RollbackOutcome[]> {
    const outcomes: RollbackOutcome[] = [];
    for (let entry = this.entries.pop(); entry !== undefined; entry = this.entries.pop()) {
      const outcome = await runBounded(entry.key, entry.rollback, clock, timeoutMs);
      outcomes.push(outcome);
      onOutcome?.(outcome);
    }
    return outcomes;
  }
}

async function runBounded(key: number, rollback: Rollback, clock: Clock, timeoutMs: number): Promise<RollbackOutcome> {
  let timer: { cancel(): void } | undefined;
  try {
    const work = Promise.resolve().then(rollback);
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = clock.schedule(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([work.then(() => 'done' as const), timeout]);
    if (result === 'timeout') {
      work.catch(() => undefined); // it may still fail later: nobody is waiting any more
      return { key, ok: false, timedOut: true, error: new Error(`rollback did not finish within ${timeoutMs} ms`), at: clock.now() };
    }
    return { key, ok: true, timedOut: false, at: clock.now() };
  } catch (error) {
    return { key, ok: false, timedOut: false, error, at: clock.now() };
  } finally {
    timer?.cancel();
  }
}
