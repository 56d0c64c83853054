import { randomUUID } from 'node:crypto';
import type { DistributedLock, LockLease } from '../../core/distributed-lock.js';
import { OptionsValidator } from '../../core/options.js';
import type { RedisClient } from './redis-client.js';
import { RedisScript } from './redis-script.js';

const releaseScript = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

const extendScript = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`);

/** Options of {@link RedisLock}. */
export interface RedisLockOptions {
  client: RedisClient;
  /** Prefix of the lock keys. @default 'antifragile:lock:' */
  prefix?: string;
}

/**
 * A {@link DistributedLock} on one Redis (standalone, Sentinel or one Cluster slot): `SET key token NX PX`,
 * extended and released by a script that checks the token, so a holder whose lease expired can never
 * release someone else's lock. It is a lease, not a fencing token: work done under it must tolerate the
 * rare case of a holder stalled past its time-to-live.
 */
export class RedisLock implements DistributedLock {
  private readonly client: RedisClient;
  private readonly prefix: string;

  constructor(options: RedisLockOptions) {
    const v = new OptionsValidator('RedisLock');
    if (typeof options !== 'object' || options === null) v.fail('options', 'an object', options);
    else {
      if (v.required('client', options.client, 'an ioredis client') && typeof (options.client as { set?: unknown }).set !== 'function') {
        v.fail('client', 'an ioredis client', options.client);
      }
      v.string('prefix', options.prefix);
    }
    v.throwIfInvalid();
    this.client = options.client;
    this.prefix = options.prefix ?? 'antifragile:lock:';
  }

  async tryAcquire(key: string, ttlMs: number): Promise<LockLease | undefined> {
    const redisKey = this.prefix + key;
    const token = randomUUID();
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const reply = await this.client.set(redisKey, token, 'PX', ttl, 'NX');
    if (reply !== 'OK') return undefined;
    return {
      key,
      token,
      extend: async (nextTtlMs) =>
        Number(await extendScript.run(this.client, [redisKey], [token, Math.max(1, Math.ceil(nextTtlMs))])) === 1,
      release: async () => Number(await releaseScript.run(this.client, [redisKey], [token])) === 1,
    };
  }
}
