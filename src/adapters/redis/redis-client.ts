import type { Cluster, Redis } from 'ioredis';

/**
 * A connection the Redis adapters accept: a plain ioredis client (standalone or Sentinel, which is an
 * ioredis client configured with `sentinels`) or an ioredis `Cluster`. Multi-key scripts keep their keys
 * in one hash slot with a `{hash tag}`.
 */
export type RedisClient = Redis | Cluster;
