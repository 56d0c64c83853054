import { systemClock, type Clock } from '../core/clock.js';
import { OptionsValidator } from '../core/options.js';
import { TIME_SLACK_MS } from '../policies/rate-limit/rate-limit-algorithm.js';
import { BoundedMap } from './bounded-map.js';
import type { KeyedLimit, KeyedRateLimitResult, KeyedRateLimitStore } from './keyed-rate-limit-store.js';

/** Options of {@link LocalRateLimitStore}. */
export interface LocalRateLimitStoreOptions {
  /**
   * Most keys tracked (an integer >= 1); the least recently used key is forgotten first, and a forgotten key
   * starts again with a full bucket.
   * @default 10_000
   */
  maxKeys?: number;
  /** Time source. @default systemClock */
  clock?: Clock;
}

/**
 * In-process per-key token buckets, kept as GCRA (one number per key, the theoretical arrival time; no timer)
 * in a {@link BoundedMap}. The same arithmetic as `TokenBucket` of the {@link RateLimiter}, whose instances
 * fix capacity and rate at construction, whereas here each call brings its own limit.
 */
export class LocalRateLimitStore implements KeyedRateLimitStore {
  private readonly clock: Clock;
  /** Per key, its theoretical arrival time, in a mutable cell so a request costs one map lookup. */
  private readonly tats: BoundedMap<string, { tat: number }>;

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: LocalRateLimitStoreOptions = {}) {
    const v = new OptionsValidator('LocalRateLimitStore');
    if (v.object('options', options)) {
      const o = options as unknown as Partial<Record<string, unknown>>;
      v.integer('maxKeys', o.maxKeys, 1);
      v.clock('clock', o.clock);
    }
    v.throwIfInvalid();
    this.clock = options.clock ?? systemClock;
    this.tats = new BoundedMap(options.maxKeys ?? 10_000);
  }

  /** Keys tracked now (at most `maxKeys`). */
  get size(): number {
    return this.tats.size;
  }

  consume(key: string, limit: KeyedLimit): KeyedRateLimitResult {
    const now = this.clock.now();
    const interval = 1000 / limit.refillPerSecond;
    const cell = this.tats.get(key);
    const tat = cell !== undefined && cell.tat > now ? cell.tat : now;
    const nextTat = tat + interval;
    const allowed = nextTat - limit.capacity * interval - now <= TIME_SLACK_MS;
    if (allowed) {
      if (cell !== undefined) cell.tat = nextTat;
      else this.tats.set(key, { tat: nextTat });
    }
    const resetAfterMs = (allowed ? nextTat : tat) - now;
    const tokens = limit.capacity - resetAfterMs / interval;
    const remaining = tokens > 0 ? Math.min(limit.capacity, Math.floor(tokens + TIME_SLACK_MS / interval)) : 0;
    let retryAfterMs = 0;
    if (!allowed) {
      const wait = resetAfterMs - (limit.capacity - 1) * interval;
      retryAfterMs = wait > TIME_SLACK_MS ? wait : 0;
    }
    return { allowed, remaining, retryAfterMs, resetAfterMs };
  }
}
