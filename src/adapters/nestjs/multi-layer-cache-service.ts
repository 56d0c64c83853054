import type { CacheDuration } from '../../cache/cache-duration.js';
import type { CacheLayerMetrics, CacheMetrics } from '../../cache/cache-metrics.js';
import { MultiLayerCache, type CacheLoader, type CacheSetOptions, type GetOrSetOptions } from '../../cache/multi-layer-cache.js';
import { OptionsValidator } from '../../core/options.js';
import type { RedisCacheConfig } from '../redis/create-redis-cache.js';

/**
 * Options of `MultiLayerCacheModule.forRoot`: the seed's cache configuration (`l1MaxSize`, `l2Enabled`,
 * `l3Enabled`, `sentinelConfig`), as `createRedisCache` (`antifragile/redis`) takes it. With `l2Enabled: false`
 * and no L3 (`l3Enabled: false`, or neither `sentinelConfig` nor `cluster`), the cache is memory only and
 * ioredis is not loaded.
 */
export type MultiLayerCacheModuleOptions = RedisCacheConfig;

/**
 * The seed's `MultiLayerCacheService`: `get`, `set(key, value, { ttl })` (seconds), `getOrSet`, `delete`,
 * `getMetrics`, `healthCheck`, over a {@link MultiLayerCache} (memory L1, Redis L2 and L3 when configured).
 * A miss reads `undefined`. Provided by `MultiLayerCacheModule.forRoot`, which closes it (and its Redis
 * connections) when the application closes.
 *
 * @example
 * const cached = await cache.get<Quote>(`quote:${tenantId}:${fileId}`);
 * await cache.set(`quote:${tenantId}:${fileId}`, quote, { ttl: 3600 });
 */
export class MultiLayerCacheService {
  /**
   * Builds the service from the seed's configuration: memory only when no Redis layer is enabled, else
   * through `createRedisCache` (loaded on demand, so ioredis is needed only then).
   * @throws InvalidOptionsError listing every invalid option.
   */
  static async create(options: MultiLayerCacheModuleOptions = {}): Promise<MultiLayerCacheService> {
    const v = new OptionsValidator('MultiLayerCacheModule');
    v.object('options', options);
    v.throwIfInvalid();
    const wantsL2 = options.l2Enabled !== false;
    const wantsL3 = options.l3Enabled !== false && (options.sentinelConfig !== undefined || options.cluster !== undefined);
    if (wantsL2 || wantsL3 || options.l3Enabled === true) {
      const { createRedisCache } = await import('../redis/create-redis-cache.js');
      const redis = createRedisCache(options);
      return new MultiLayerCacheService(redis.cache, () => redis.close());
    }
    v.integer('l1MaxSize', options.l1MaxSize, 1);
    v.boolean('l2Enabled', options.l2Enabled);
    v.boolean('l3Enabled', options.l3Enabled);
    v.throwIfInvalid();
    // Memory only: drop the Redis fields and keep the MultiLayerCache ones.
    const { l1MaxSize, l2Enabled: _l2, redis: _redis, l3Enabled: _l3, sentinelConfig: _sentinel, cluster: _cluster, invalidationBus: _bus, fleetLock: _lock, memory, ...cacheOptions } =
      options;
    const cache = new MultiLayerCache({
      ...cacheOptions,
      memory: memory === false ? false : { maxEntries: l1MaxSize ?? 1_000, ...(memory ?? {}) },
    });
    return new MultiLayerCacheService(cache, () => cache.close());
  }

  /**
   * @param cache the cache to serve.
   * @param closeCache what `onModuleDestroy` calls. @default `cache.close()`
   */
  constructor(
    readonly cache: MultiLayerCache,
    private readonly closeCache: () => Promise<void> = () => cache.close(),
  ) {}

  /** The fresh value of `key`, or `undefined`. */
  get<T = unknown>(key: string, options?: { allowStale?: boolean }): Promise<T | undefined> {
    return this.cache.get<T>(key, options);
  }

  /** Stores `value` in every layer; `ttl` in seconds (the seed's unit) or `'5m'`-style. */
  set<T>(key: string, value: T, options?: CacheSetOptions | CacheDuration): Promise<void> {
    return this.cache.set(key, value, options);
  }

  /** The value of `key`, loading it once (per fleet with `fleetLock`) on a miss. */
  getOrSet<T>(key: string, loader: CacheLoader<T>, options?: GetOrSetOptions): Promise<T> {
    return this.cache.getOrSet(key, loader, options);
  }

  /** Whether `key` has a fresh value. */
  has(key: string): Promise<boolean> {
    return this.cache.has(key);
  }

  /** Deletes `key` from every layer (and, with a bus, from other instances' memory). */
  delete(key: string): Promise<void> {
    return this.cache.delete(key);
  }

  /** Deletes every entry tagged with one of `tags`. */
  deleteByTag(...tags: string[]): Promise<void> {
    return this.cache.deleteByTag(...tags);
  }

  /** Counters per cache and per layer (the seed's `getMetrics`). */
  getMetrics(): CacheMetrics {
    return this.cache.getMetrics();
  }

  /** `healthy` while every remote layer's circuit is closed (the seed's `healthCheck`). */
  healthCheck(): { status: 'healthy' | 'degraded'; layers: CacheLayerMetrics[] } {
    return this.cache.healthCheck();
  }

  /** Closes the cache and the connections it owns (Nest calls it when the application closes). */
  onModuleDestroy(): Promise<void> {
    return this.closeCache();
  }
}
