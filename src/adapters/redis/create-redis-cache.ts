import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions, type SentinelAddress } from 'ioredis';
import type { CacheLayer } from '../../cache/cache-layer.js';
import { MultiLayerCache, type MultiLayerCacheOptions } from '../../cache/multi-layer-cache.js';
import { OptionsValidator } from '../../core/options.js';
import { RedisBus } from './redis-bus.js';
import { RedisCacheLayer } from './redis-cache-layer.js';
import type { RedisClient } from './redis-client.js';
import { RedisLock } from './redis-lock.js';

/**
 * The seed's cache configuration (`MultiLayerCacheModule.forRoot({ l1MaxSize, l2Enabled, l3Enabled,
 * sentinelConfig })`), plus every {@link MultiLayerCacheOptions} field except `layers`, `bus` and `lock`.
 */
export interface RedisCacheConfig extends Omit<MultiLayerCacheOptions, 'layers' | 'bus' | 'lock'> {
  /** Entries kept in memory (L1). @default 1000 */
  l1MaxSize?: number;
  /** Use the local Redis as L2. @default true */
  l2Enabled?: boolean;
  /** Connection of L2: a `redis://` URL or ioredis options. @default 'redis://127.0.0.1:6379' */
  redis?: string | RedisOptions;
  /** Use a shared Redis (Sentinel or Cluster) as L3. @default true when `sentinelConfig` or `cluster` is given */
  l3Enabled?: boolean;
  /** L3 through Redis Sentinel: ioredis options with `sentinels` and the master `name`. */
  sentinelConfig?: RedisOptions & { sentinels: Partial<SentinelAddress>[]; name: string };
  /** L3 on a Redis Cluster. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
  /**
   * Announce writes and deletes on a RedisBus, for other instances' L1 (and their host-local L2). It runs on
   * the shared Redis: L3 when there is one, else L2. @default true
   */
  invalidationBus?: boolean;
  /** Load missed keys once per fleet with a RedisLock on the shared Redis (L3 when there is one). @default false */
  fleetLock?: boolean;
}

/** What {@link createRedisCache} builds: the cache and the connections it owns. */
export interface RedisCache {
  cache: MultiLayerCache;
  /** The connections opened for the layers (L2 first). */
  clients: RedisClient[];
  bus: RedisBus | undefined;
  /** Closes the cache, the bus and every connection opened here. */
  close(): Promise<void>;
}

/**
 * Builds a {@link MultiLayerCache} from the seed's configuration: memory L1 of `l1MaxSize` entries, the local
 * Redis as L2, a Sentinel- or Cluster-backed Redis as L3, an invalidation bus and, optionally, a fleet lock.
 * Connections are opened here and closed by `close()`. Connection errors never throw out of the cache: each
 * Redis layer is guarded by its own circuit breaker and timeouts.
 *
 * @example
 * const { cache, close } = createRedisCache({
 *   l1MaxSize: 1000, l2Enabled: true, l3Enabled: true,
 *   sentinelConfig: { sentinels: [{ host: 'sentinel-1', port: 26379 }], name: 'mymaster' },
 * });
 */
export function createRedisCache(config: RedisCacheConfig = {}): RedisCache {
  const v = new OptionsValidator('createRedisCache');
  v.integer('l1MaxSize', config.l1MaxSize, 1);
  v.boolean('l2Enabled', config.l2Enabled);
  v.boolean('l3Enabled', config.l3Enabled);
  v.boolean('invalidationBus', config.invalidationBus);
  v.boolean('fleetLock', config.fleetLock);
  if (config.redis !== undefined && typeof config.redis !== 'string') v.object('redis', config.redis);
  if (v.object('sentinelConfig', config.sentinelConfig) && config.sentinelConfig !== undefined) {
    if (!Array.isArray(config.sentinelConfig.sentinels) || config.sentinelConfig.sentinels.length === 0) {
      v.fail('sentinelConfig.sentinels', 'a non-empty array of { host, port }', config.sentinelConfig.sentinels);
    }
    if (typeof config.sentinelConfig.name !== 'string') v.fail('sentinelConfig.name', 'the master name (a string)', config.sentinelConfig.name);
  }
  if (v.object('cluster', config.cluster) && config.cluster !== undefined && !Array.isArray(config.cluster.nodes)) {
    v.fail('cluster.nodes', 'an array of cluster nodes', config.cluster.nodes);
  }
  if (config.sentinelConfig !== undefined && config.cluster !== undefined) v.fail('cluster', 'only one of sentinelConfig and cluster', 'both');
  if (config.l3Enabled === true && config.sentinelConfig === undefined && config.cluster === undefined) {
    v.fail('l3Enabled', 'sentinelConfig or cluster to connect L3 to', config.l3Enabled);
  }
  v.throwIfInvalid();

  const { l1MaxSize, l2Enabled, redis, l3Enabled, sentinelConfig, cluster, invalidationBus, fleetLock, memory, ...cacheOptions } = config;
  const clients: RedisClient[] = [];
  const layers: CacheLayer[] = [];
  const quiet = (client: RedisClient): RedisClient => {
    // Outages surface through the layer's breaker and the cache's events, not as unhandled 'error' events.
    client.on('error', () => {});
    clients.push(client);
    return client;
  };
  if (l2Enabled !== false) {
    const client = quiet(typeof redis === 'object' ? new Redis(redis) : new Redis(redis ?? 'redis://127.0.0.1:6379'));
    layers.push(new RedisCacheLayer({ client, name: 'l2' }));
  }
  if (l3Enabled !== false && (sentinelConfig !== undefined || cluster !== undefined)) {
    const client = quiet(
      sentinelConfig !== undefined
        ? new Redis(sentinelConfig as RedisOptions)
        : new Cluster((cluster as { nodes: ClusterNode[] }).nodes, cluster?.options ?? {}),
    );
    layers.push(new RedisCacheLayer({ client, name: 'l3' }));
  }
  // The bus and the lock must reach the whole fleet: they go on the shared Redis (L3) when there is one,
  // and L2 is then treated as private to the host (other instances' invalidations delete from it too).
  const shared = clients[clients.length - 1];
  const hasL3 = layers.some((layer) => layer.name === 'l3');
  const bus = shared !== undefined && invalidationBus !== false ? new RedisBus({ client: shared }) : undefined;
  const cache = new MultiLayerCache({
    ...cacheOptions,
    memory: memory === false ? false : { maxEntries: l1MaxSize ?? 1_000, ...(memory ?? {}) },
    layers,
    ...(hasL3 && layers.length > 1 ? { localLayers: ['l2'] } : {}),
    ...(bus === undefined ? {} : { bus }),
    ...(shared !== undefined && fleetLock === true ? { lock: new RedisLock({ client: shared }) } : {}),
  });
  return {
    cache,
    clients,
    bus,
    async close() {
      await cache.close();
      await bus?.close();
      await Promise.all(clients.map(closeClient));
    },
  };
}

/**
 * Quits politely and resolves once the connection has ended. A server that does not answer within a second
 * (hung, or unreachable and reconnecting) is disconnected instead, without waiting for it to acknowledge.
 */
function closeClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      client.disconnect();
      resolve();
    }, 1_000);
    timer.unref();
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
    if (client.status === 'ready') client.quit().catch(() => client.disconnect());
    else client.disconnect();
  });
}
