import type { Cluster, Redis } from 'ioredis';
import type { CacheLayer } from '../../cache/cache-layer.js';
import { OptionsValidator } from '../../core/options.js';
import type { RedisClient } from './redis-client.js';
import { RedisScript } from './redis-script.js';

/** Adds a key to a tag set and keeps the set alive at least as long as that key (-1: forever). */
const tagScript = new RedisScript(`
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl < 0 then
  redis.call('PERSIST', KEYS[1])
elseif existed == 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  local current = redis.call('PTTL', KEYS[1])
  if current >= 0 and current < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
end
return 1`);

/** Empties a tag set atomically and returns its members. */
const popTagScript = new RedisScript(`
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members`);

/** Options of {@link RedisCacheLayer}. */
export interface RedisCacheLayerOptions {
  /**
   * An ioredis connection: standalone, Sentinel (`new Redis({ sentinels, name })`) or `new Cluster(...)`.
   * It stays the caller's: the layer never closes it.
   */
  client: RedisClient;
  /** Name in metrics and events. @default 'redis' */
  name?: string;
  /** Keys asked per SCAN step when deleting by prefix. @default 500 */
  scanCount?: number;
}

/**
 * A remote cache layer on Redis for `MultiLayerCache`: `GET`, `SET PX`, `UNLINK`, prefix deletion with
 * `SCAN` (on every master of a Cluster) and tag sets kept by a small script. The cache guards it with its
 * own circuit breaker and timeouts; the layer itself only maps calls to commands.
 *
 * @example
 * const cache = new MultiLayerCache({
 *   layers: [new RedisCacheLayer({ client: new Redis(url) }), new RedisCacheLayer({ client: cluster, name: 'cluster' })],
 * });
 */
export class RedisCacheLayer implements CacheLayer {
  readonly name: string;
  private readonly client: RedisClient;
  private readonly scanCount: number;
  private readonly cluster: boolean;

  constructor(options: RedisCacheLayerOptions) {
    const v = new OptionsValidator('RedisCacheLayer');
    if (typeof options !== 'object' || options === null) v.fail('options', 'an object', options);
    else {
      if (v.required('client', options.client, 'an ioredis client') && typeof (options.client as { get?: unknown }).get !== 'function') {
        v.fail('client', 'an ioredis client', options.client);
      }
      v.string('name', options.name);
      v.integer('scanCount', options.scanCount, 1);
    }
    v.throwIfInvalid();
    this.client = options.client;
    this.name = options.name ?? 'redis';
    this.scanCount = options.scanCount ?? 500;
    this.cluster = 'isCluster' in options.client && options.client.isCluster === true;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(key)) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number, tagKeys: readonly string[]): Promise<void> {
    const write = ttlMs === Infinity ? this.client.set(key, value) : this.client.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    if (tagKeys.length === 0) {
      await write;
      return;
    }
    const tagTtl = ttlMs === Infinity ? -1 : Math.max(1, Math.ceil(ttlMs));
    await Promise.all([write, ...tagKeys.map((tagKey) => tagScript.run(this.client, [tagKey], [key, tagTtl]))]);
  }

  async delete(keys: readonly string[]): Promise<void> {
    await this.unlink(keys);
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    const nodes: (Redis | Cluster)[] = this.cluster ? (this.client as Cluster).nodes('master') : [this.client];
    let deleted = 0;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await (node as Redis).scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', this.scanCount);
        cursor = next;
        deleted += await this.unlink(keys);
      } while (cursor !== '0');
    }
    return deleted;
  }

  async deleteByTag(tagKey: string): Promise<number> {
    const members = (await popTagScript.run(this.client, [tagKey], [])) as string[];
    return this.unlink(members);
  }

  /** UNLINK in one command, or one per key on a Cluster (keys of a batch may live in different slots). */
  private async unlink(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    if (!this.cluster) return (this.client as Redis).unlink(...keys);
    const counts = await Promise.all(keys.map((key) => this.client.unlink(key)));
    return counts.reduce((sum, n) => sum + n, 0);
  }
}

/** Escapes Redis glob metacharacters so a prefix matches literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
