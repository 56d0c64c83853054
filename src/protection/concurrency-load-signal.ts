import type { AdaptiveConcurrency } from '../policies/adaptive-concurrency.js';
import { OptionsValidator } from '../core/options.js';
import { clampUnit, type LoadSignal } from './load-signal.js';

/** The part of an {@link AdaptiveConcurrency} a {@link ConcurrencyLoadSignal} reads. */
export type ConcurrencyReading = Pick<AdaptiveConcurrency, 'limit' | 'inflight'>;

/** Options of {@link ConcurrencyLoadSignal}. */
export interface ConcurrencyLoadSignalOptions {
  /** The adaptive limit to read. */
  concurrency: ConcurrencyReading;
  /**
   * The limit a healthy dependency settles at (an integer >= 1), usually the `maxLimit` or `initialLimit` of the
   * {@link AdaptiveConcurrency}. When given, a limit that has shrunk below it also counts as load:
   * `1 - limit / referenceLimit`, so a dependency the limiter has learnt to protect slows admission even
   * while few calls run.
   * @default undefined (only utilisation counts)
   */
  referenceLimit?: number;
}

/**
 * Load read from an {@link AdaptiveConcurrency}: the larger of its utilisation (`inflight / limit`) and,
 * with `referenceLimit`, how far its learnt limit has shrunk. Costs two property reads.
 *
 * @example
 * ```ts
 * const db = new AdaptiveConcurrency({ algorithm: 'gradient2', maxLimit: 100 });
 * const signal = new ConcurrencyLoadSignal({ concurrency: db, referenceLimit: 100 });
 * ```
 */
export class ConcurrencyLoadSignal implements LoadSignal {
  private readonly concurrency: ConcurrencyReading;
  private readonly referenceLimit: number | undefined;

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: ConcurrencyLoadSignalOptions) {
    const v = new OptionsValidator('ConcurrencyLoadSignal');
    if (v.required('options', options, 'an object') && v.object('options', options)) {
      const o = options as unknown as Partial<Record<string, unknown>>;
      const c = o.concurrency as Partial<Record<string, unknown>> | null | undefined;
      if (typeof c !== 'object' || c === null || typeof c.limit !== 'number' || typeof c.inflight !== 'number') {
        v.fail('concurrency', 'an AdaptiveConcurrency (numeric limit and inflight)', o.concurrency);
      }
      v.integer('referenceLimit', o.referenceLimit, 1);
    }
    v.throwIfInvalid();
    this.concurrency = options.concurrency;
    this.referenceLimit = options.referenceLimit;
  }

  /** `max(inflight / limit, 1 - limit / referenceLimit)`, in 0..1. */
  load(): number {
    const limit = this.concurrency.limit;
    const utilisation = limit > 0 ? this.concurrency.inflight / limit : 1;
    const shrink = this.referenceLimit === undefined ? 0 : 1 - limit / this.referenceLimit;
    return clampUnit(utilisation > shrink ? utilisation : shrink);
  }
}
