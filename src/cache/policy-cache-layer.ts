import type { Policy } from '../policies/policy.js';
import type { CacheLayer } from './cache-layer.js';

/**
 * Runs every command of a remote cache layer through `policy`. With a chaos injector it is a fault-injection
 * decorator for the layer (`policyCacheLayer(redisLayer, chaos.injector('redis'))` lets a game day fail or
 * slow Redis without touching Redis); with a rate limiter or bulkhead it bounds what the cache sends.
 */
export function policyCacheLayer(layer: CacheLayer, policy: Policy<never>): CacheLayer {
  return {
    name: layer.name,
    get: (key) => policy.execute(() => layer.get(key)),
    set: (key, value, ttlMs, tagKeys) => policy.execute(() => layer.set(key, value, ttlMs, tagKeys)),
    delete: (keys) => policy.execute(() => layer.delete(keys)),
    deleteByPrefix: (prefix) => policy.execute(() => layer.deleteByPrefix(prefix)),
    deleteByTag: (tagKey) => policy.execute(() => layer.deleteByTag(tagKey)),
  };
}
