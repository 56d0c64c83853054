import { EventEmitter, type Listener, type Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import { BoundedMap } from '../../protection/bounded-map.js';
import type { KeyedLimit, KeyedRateLimitResult, KeyedRateLimitStore } from '../../protection/keyed-rate-limit-store.js';
import { DistributedRateLimiter, type DistributedRateLimiterOptions, type RedisUnavailableMode } from './distributed-rate-limiter.js';

/** Options of {@link AdaptiveRateLimitStore}: those of {@link DistributedRateLimiter} but the limit itself. */
export type AdaptiveRateLimitStoreOptions = Omit<DistributedRateLimiterOptions, 'capacity' | 'refillPerSecond' | 'defaultKey'> & {
  /**
   * Most distinct limits (capacity and rate pairs) kept at once, an integer >= 1. An {@link AdaptiveRateLimiter}
   * rounds its factor to 1/64, so it produces at most 64 distinct limits per base limit.
   * @default 64
   */
  maxLimits?: number;
};

/** Events of an {@link AdaptiveRateLimitStore}. */
export interface AdaptiveRateLimitStoreEvents {
  /** Redis stopped answering; decisions are made by `onRedisUnavailable`. */
  fallback: { name: string; mode: RedisUnavailableMode; error: unknown };
  /** Redis answered again for every limit that had fallen back. */
  recovered: { name: string };
}

/**
 * A {@link KeyedRateLimitStore} in Redis, so an {@link AdaptiveRateLimiter} limits a whole fleet: each decision
 * runs the atomic GCRA script of {@link DistributedRateLimiter}. The per-key limit varies with load and
 * behaviour, so the store keeps one `DistributedRateLimiter` per distinct limit, all under the same name: a key
 * has one Redis entry (its theoretical arrival time) whichever limit decides, and its fill ratio carries over
 * when the limit scales. Redis outages are handled as by `DistributedRateLimiter` (`onRedisUnavailable`,
 * `redisTimeoutMs`); `fallback` is emitted once when the first limit falls back and `recovered` once all of
 * them answer again.
 *
 * @example
 * ```ts
 * const store = new AdaptiveRateLimitStore({ client: redis, name: 'api' });
 * const limiter = new AdaptiveRateLimiter({ capacity: 60, refillPerSecond: 10, store });
 * ```
 */
export class AdaptiveRateLimitStore implements KeyedRateLimitStore {
  /** Name used in events and Redis keys. */
  readonly name: string;
  private readonly options: Omit<DistributedRateLimiterOptions, 'capacity' | 'refillPerSecond'>;
  private readonly limiters: BoundedMap<string, { limiter: DistributedRateLimiter; unsubscribe: Unsubscribe[] }>;
  private readonly down = new Set<DistributedRateLimiter>();
  private readonly events: EventEmitter<AdaptiveRateLimitStoreEvents>;

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: AdaptiveRateLimitStoreOptions) {
    const v = new OptionsValidator('AdaptiveRateLimitStore');
    if (v.required('options', options, 'an object') && v.object('options', options)) {
      v.integer('maxLimits', (options as { maxLimits?: unknown }).maxLimits, 1);
    }
    v.throwIfInvalid();
    const { maxLimits, ...shared } = options;
    // Validates the shared options eagerly (they are those of every limiter to come).
    new DistributedRateLimiter({ ...shared, capacity: 1, refillPerSecond: 1 });
    this.options = shared;
    this.name = options.name ?? 'rate-limiter';
    this.events = new EventEmitter('adaptive-rate-limit-store', this.name);
    this.limiters = new BoundedMap(maxLimits ?? 64, (_, entry) => {
      for (const off of entry.unsubscribe) off();
      this.down.delete(entry.limiter);
    });
  }

  /** Whether some limit currently decides without Redis. */
  get usingFallback(): boolean {
    return this.down.size > 0;
  }

  /** Takes one permit from `key`'s bucket under `limit`, in Redis (or the fallback while Redis is unavailable). */
  async consume(key: string, limit: KeyedLimit): Promise<KeyedRateLimitResult> {
    const decision = await this.limiterFor(limit).tryAcquire(key, 1);
    return {
      allowed: decision.allowed,
      remaining: decision.remaining,
      retryAfterMs: decision.retryAfterMs,
      resetAfterMs: decision.resetAfterMs,
    };
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof AdaptiveRateLimitStoreEvents>(event: K, listener: Listener<AdaptiveRateLimitStoreEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  private limiterFor(limit: KeyedLimit): DistributedRateLimiter {
    const id = `${limit.capacity}:${limit.refillPerSecond}`;
    const entry = this.limiters.get(id);
    if (entry !== undefined) return entry.limiter;
    const limiter = new DistributedRateLimiter({ ...this.options, capacity: limit.capacity, refillPerSecond: limit.refillPerSecond });
    const unsubscribe = [
      limiter.on('fallback', ({ mode, error }) => {
        const first = this.down.size === 0;
        this.down.add(limiter);
        if (first && this.events.wants('fallback')) this.events.emit('fallback', { name: this.name, mode, error });
      }),
      limiter.on('recovered', () => {
        if (this.down.delete(limiter) && this.down.size === 0 && this.events.wants('recovered')) {
          this.events.emit('recovered', { name: this.name });
        }
      }),
    ];
    this.limiters.set(id, { limiter, unsubscribe });
    return limiter;
  }
}
