import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { OptionsValidator } from '../../core/options.js';
import type { Store } from '../../store/store.js';
import type { SafetyReport } from './assess-safety.js';
import { isWithinChaosWindows, validateChaosWindows, type ChaosWindow } from './chaos-window.js';
import type { ExperimentRun } from './experiment-run.js';
import { messageOf } from './read-probe.js';

/** Where game days take the fleet-wide lock, so that one runs at a time (the Redis adapter's `FleetCoordinator` fits). */
export interface GameDayLock {
  acquireGameDay(name: string, ttlMs?: number): Promise<{ readonly signal: AbortSignal; release(): Promise<unknown> }>;
}

/** What a game day runs experiments on (an `ExperimentRunner` fits). */
export interface GameDayHost {
  /** Every reason chaos (or the experiment `name`) may not run now. */
  checkSafety(name?: string): SafetyReport;
  run(name: string, options: { signal?: AbortSignal }): Promise<ExperimentRun>;
}

/** Options of a game day. */
export interface GameDayOptions {
  /** Name (in the fleet lock and the store). @default 'game-day' */
  name?: string;
  /** When experiments may start; each experiment starts only inside one of them. @default any time */
  windows?: readonly ChaosWindow[];
  /** Stop after an experiment that failed or was aborted (the rest are skipped). @default true */
  stopOnFailure?: boolean;
  /** Stops the game day: the experiment running is aborted (and rolled back), the rest skipped. */
  signal?: AbortSignal;
  /** Fleet-wide lock taken for the whole game day; when another instance holds it, the game day is skipped. */
  lock?: GameDayLock;
}

/** What a game day did. */
export interface GameDayReport {
  id: string;
  name: string;
  /**
   * `completed`: every experiment listed ran (or was skipped for its own reason); `stopped`: stopped after a
   * failure, an abort or the window closing; `skipped`: nothing ran (outside the windows, unsafe, locked, or,
   * for a schedule, its `when` guard said no, the previous game day was still running, or the random pick failed).
   */
  status: 'completed' | 'stopped' | 'skipped';
  /** Why it was stopped or skipped. */
  reason?: string;
  startedAt: number;
  endedAt: number;
  runs: ExperimentRun[];
  skipped: { name: string; reason: string }[];
}

/** Validates game-day options into `v`. @internal */
export function validateGameDayOptions(v: OptionsValidator, options: GameDayOptions): void {
  v.string('name', options.name);
  validateChaosWindows(v, 'windows', options.windows);
  v.boolean('stopOnFailure', options.stopOnFailure);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) v.fail('signal', 'an AbortSignal', options.signal);
  if (options.lock !== undefined && typeof (options.lock as Partial<GameDayLock>)?.acquireGameDay !== 'function') {
    v.fail('lock', 'an object with acquireGameDay()', options.lock);
  }
}

/**
 * Runs the experiments `names` one after the other, each only inside the allowed windows and only when chaos
 * is safe (`checkSafety`), under the fleet lock when given. Never rejects: every problem is in the report.
 *
 * @throws InvalidOptionsError (synchronously checked, as a rejection) for invalid options.
 */
export async function runGameDay(
  host: GameDayHost,
  names: readonly string[],
  options: GameDayOptions,
  clock: Clock,
  store?: Store,
): Promise<GameDayReport> {
  const v = new OptionsValidator('GameDay');
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) v.fail('names', 'an array of experiment names', names);
  if (v.object('options', options)) validateGameDayOptions(v, options);
  v.throwIfInvalid();
  const report: GameDayReport = {
    id: randomUUID(),
    name: options.name ?? 'game-day',
    status: 'completed',
    startedAt: clock.now(),
    endedAt: clock.now(),
    runs: [],
    skipped: [],
  };
  const skipRest = (from: number, reason: string): void => {
    for (const name of names.slice(from)) report.skipped.push({ name, reason });
  };
  const finish = (status: GameDayReport['status'], reason?: string): GameDayReport => {
    report.status = status;
    if (reason !== undefined) report.reason = reason;
    report.endedAt = clock.now();
    try {
      store?.recordChaosEvent({
        experimentId: `game-day:${report.id}`,
        type: 'game-day',
        at: report.endedAt,
        data: { name: report.name, status, ...(reason === undefined ? {} : { reason }), runs: report.runs.map((r) => ({ id: r.id, name: r.name, status: r.status })), skipped: report.skipped },
      });
    } catch {
      // a store never throws by contract; a broken one must not break the game day
    }
    return report;
  };

  if (!isWithinChaosWindows(options.windows, clock.now())) {
    skipRest(0, 'outside the allowed windows');
    return finish('skipped', 'outside the allowed windows');
  }
  const safety = host.checkSafety();
  if (!safety.safe) {
    const reason = `not safe to run chaos: ${safety.reasons.join('; ')}`;
    skipRest(0, reason);
    return finish('skipped', reason);
  }
  let lease: { readonly signal: AbortSignal; release(): Promise<unknown> } | undefined;
  if (options.lock !== undefined) {
    try {
      lease = await options.lock.acquireGameDay(report.name);
    } catch (error) {
      const reason = `could not take the game-day lock: ${messageOf(error)}`;
      skipRest(0, reason);
      return finish('skipped', reason);
    }
  }
  const signal = combine(options.signal, lease?.signal);
  try {
    for (const [index, name] of names.entries()) {
      if (signal?.aborted) {
        skipRest(index, 'the game day was aborted');
        return finish('stopped', 'the game day was aborted');
      }
      if (!isWithinChaosWindows(options.windows, clock.now())) {
        skipRest(index, 'the allowed window closed');
        return finish('stopped', 'the allowed window closed');
      }
      const check = host.checkSafety(name);
      if (!check.safe) {
        report.skipped.push({ name, reason: check.reasons.join('; ') });
        continue;
      }
      let run: ExperimentRun;
      try {
        run = await host.run(name, signal === undefined ? {} : { signal });
      } catch (error) {
        report.skipped.push({ name, reason: messageOf(error) });
        continue;
      }
      report.runs.push(run);
      if ((options.stopOnFailure ?? true) && (run.status === 'failed' || run.status === 'aborted')) {
        const reason = `stopped after "${name}" ended ${run.status}`;
        skipRest(index + 1, reason);
        return finish('stopped', reason);
      }
    }
    return finish(report.runs.length === 0 ? 'skipped' : 'completed', report.runs.length === 0 ? 'no experiment could run' : undefined);
  } finally {
    await lease?.release().catch(() => undefined);
  }
}

function combine(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return AbortSignal.any([a, b]);
}
