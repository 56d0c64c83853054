/**
 * A shared, remote cache store (Redis, a Redis Cluster, anything reachable over the network) as seen by
 * {@link MultiLayerCache}: strings in, strings out. The cache adds the circuit breaker, the timeouts, the
 * serialization and the metrics, so an implementation is a thin mapping to the store's commands.
 * `RedisCacheLayer` (antifragile/redis) is the production one; {@link InMemoryCacheLayer} runs without a server.
 */
export interface CacheLayer {
  /** Name in metrics and events, e.g. `'redis'`. */
  readonly name: string;
  /** The stored string, or `undefined` when absent. */
  get(key: string): Promise<string | undefined>;
  /**
   * Stores `value` for `ttlMs` milliseconds (`Infinity`: no expiry) and adds `key` to each tag set in
   * `tagKeys`, keeping each tag set at least as long as its longest-lived member.
   */
  set(key: string, value: string, ttlMs: number, tagKeys: readonly string[]): Promise<void>;
  /** Removes `keys`. */
  delete(keys: readonly string[]): Promise<void>;
  /** Removes every key starting with `prefix`; resolves how many. */
  deleteByPrefix(prefix: string): Promise<number>;
  /** Removes every key of the tag set `tagKey` and the set itself; resolves how many keys. */
  deleteByTag(tagKey: string): Promise<number>;
}
