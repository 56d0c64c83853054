export type { RedisCache, RedisCacheConfig } from './create-redis-cache.js';
export type { RedisBusOptions } from './redis-bus.js';
export type { RedisCacheLayerOptions } from './redis-cache-layer.js';
export type { RedisClient } from './redis-client.js';
export type { RedisLockOptions } from './redis-lock.js';
export { createRedisCache } from './create-redis-cache.js';
export { RedisBus } from './redis-bus.js';
export { RedisCacheLayer } from './redis-cache-layer.js';
export { RedisLock } from './redis-lock.js';
