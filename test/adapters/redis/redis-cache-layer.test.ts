import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisBus } from '../../../src/adapters/redis/redis-bus.js';
import { RedisCacheLayer } from '../../../src/adapters/redis/redis-cache-layer.js';
import { RedisLock } from '../../../src/adapters/redis/redis-lock.js';
import { MultiLayerCache } from '../../../src/cache/multi-layer-cache.js';
import { PrivateRedisServer } from '../../support/redis-server.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

let l2: PrivateRedisServer;
let l3: PrivateRedisServer;
const clients: Redis[] = [];

function connect(server: PrivateRedisServer): Redis {
  const client = new Redis(server.options);
  client.on('error', () => {});
  clients.push(client);
  return client;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  [l2, l3] = await Promise.all([PrivateRedisServer.start(), PrivateRedisServer.start()]);
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await Promise.all([l2?.stop(), l3?.stop()]);
});

beforeEach(async () => {
  const admin = connect(l2);
  await admin.flushall();
  const admin3 = connect(l3);
  await admin3.flushall();
});

describe('RedisCacheLayer', () => {
  it('stores with PX, reads back, deletes', async () => {
    const redis = connect(l2);
    const layer = new RedisCacheLayer({ client: redis });
    await layer.set('a', 'x', 10_000, []);
    expect(await layer.get('a')).toBe('x');
    const pttl = await redis.pttl('a');
    expect(pttl).toBeGreaterThan(9_000);
    expect(pttl).toBeLessThanOrEqual(10_000);
    await layer.set('forever', 'y', Infinity, []);
    expect(await redis.pttl('forever')).toBe(-1);
    await layer.delete(['a', 'forever']);
    expect(await layer.get('a')).toBeUndefined();
    expect(await redis.exists('forever')).toBe(0);
  });

  it('deletes by prefix with SCAN, matching glob characters literally', async () => {
    const redis = connect(l2);
    const layer = new RedisCacheLayer({ client: redis, scanCount: 10 });
    for (let i = 0; i < 120; i++) await redis.set(`app:nc:${i}`, '1');
    await redis.set('app:nc*:literal', '1');
    await redis.set('app:ncX', '1');
    await redis.set('app:keep', '1');
    expect(await layer.deleteByPrefix('app:nc:')).toBe(120);
    expect(await layer.deleteByPrefix('app:nc*')).toBe(1);
    expect((await redis.keys('*')).sort()).toEqual(['app:keep', 'app:ncX']);
  });

  it('keeps tag sets alive as long as their longest-lived member and deletes by tag', async () => {
    const redis = connect(l2);
    const layer = new RedisCacheLayer({ client: redis });
    await layer.set('k1', 'a', 5_000, ['tag:t']);
    await layer.set('k2', 'b', 60_000, ['tag:t']);
    await layer.set('k3', 'c', 1_000, ['tag:t']);
    const ttl = await redis.pttl('tag:t');
    expect(ttl).toBeGreaterThan(59_000);
    await layer.set('k4', 'd', Infinity, ['tag:t']);
    expect(await redis.pttl('tag:t')).toBe(-1);
    expect(await layer.deleteByTag('tag:t')).toBe(4);
    expect(await redis.exists('k1', 'k2', 'k3', 'k4', 'tag:t')).toBe(0);
  });

  it('validates its options', () => {
    expect(() => new RedisCacheLayer({ client: {} as Redis })).toThrow(/client: expected an ioredis client/);
  });
});

describe('MultiLayerCache on real Redis', () => {
  it('L1 -> L2 -> L3: a value only in L3 fills L2 with its remaining TTL', async () => {
    const r2 = connect(l2);
    const r3 = connect(l3);
    const seeder = new MultiLayerCache({ memory: false, layers: [new RedisCacheLayer({ client: r3, name: 'l3' })] });
    await seeder.set('quote:t1:f1', { price: 10, at: new Date(0) }, { ttl: 60 });
    const cache = new MultiLayerCache({
      layers: [new RedisCacheLayer({ client: r2, name: 'l2' }), new RedisCacheLayer({ client: r3, name: 'l3' })],
    });
    expect(await cache.get('quote:t1:f1')).toEqual({ price: 10, at: new Date(0) });
    await until(async () => (await r2.exists('cache:quote:t1:f1')) === 1);
    expect(await r2.pttl('cache:quote:t1:f1')).toBeGreaterThan(55_000);
    const layers = cache.getMetrics().layers.map((l) => [l.name, l.hits, l.misses]);
    expect(layers).toEqual([
      ['memory', 0, 1],
      ['l2', 0, 1],
      ['l3', 1, 0],
    ]);
  });

  it('a foreign or corrupt value under a cache key is a miss and is removed', async () => {
    const redis = connect(l2);
    await redis.set('cache:k', 'not ours');
    const cache = new MultiLayerCache({ memory: false, layers: [new RedisCacheLayer({ client: redis })] });
    expect(await cache.getOrSet('k', () => 'fresh')).toBe('fresh');
    expect(await cache.get('k')).toBe('fresh');
  });

  it('two instances on a RedisBus drop each other L1 copies; a bus reconnect bumps the epoch', async () => {
    const ra = connect(l2);
    const rb = connect(l2);
    const busA = new RedisBus({ client: ra });
    const busB = new RedisBus({ client: rb });
    const a = new MultiLayerCache({ layers: [new RedisCacheLayer({ client: ra })], bus: busA });
    const b = new MultiLayerCache({ layers: [new RedisCacheLayer({ client: rb })], bus: busB });
    await until(() => busA.connected && busB.connected);
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    await a.set('k', 'v2');
    await until(async () => (await b.get('k')) === 'v2');
    await b.delete('k');
    await until(async () => (await a.get('k')) === undefined);

    const statuses: boolean[] = [];
    b.on('busStatus', ({ connected }) => statuses.push(connected));
    await l2.restart();
    await until(() => statuses.length >= 2 && busB.connected, 10_000);
    expect(statuses.slice(0, 2)).toEqual([false, true]);
    expect(b.getMetrics().epoch).toBeGreaterThanOrEqual(2);
    await busA.close();
    await busB.close();
    await a.close();
    await b.close();
  });

  it('RedisLock: one holder at a time, only the holder releases, leases expire', async () => {
    const redis = connect(l2);
    const lock = new RedisLock({ client: redis });
    const lease = await lock.tryAcquire('game-day', 200);
    expect(lease).toBeDefined();
    expect(await lock.tryAcquire('game-day', 200)).toBeUndefined();
    expect(await lease?.extend(5_000)).toBe(true);
    expect(await redis.pttl('antifragile:lock:game-day')).toBeGreaterThan(4_000);
    expect(await lease?.release()).toBe(true);
    expect(await lease?.release()).toBe(false);
    const short = await lock.tryAcquire('x', 20);
    await until(async () => (await redis.exists('antifragile:lock:x')) === 0);
    const other = await lock.tryAcquire('x', 10_000);
    expect(other).toBeDefined();
    expect(await short?.release()).toBe(false);
    expect(await redis.exists('antifragile:lock:x')).toBe(1);
  });

  it('two instances with a RedisLock load a missed key once for the fleet', async () => {
    const ra = connect(l2);
    const rb = connect(l2);
    let calls = 0;
    const loader = async (): Promise<string> => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return 'once';
    };
    const make = (client: Redis): MultiLayerCache =>
      new MultiLayerCache({ layers: [new RedisCacheLayer({ client })], lock: new RedisLock({ client }), lockOptions: { pollMs: 10 } });
    const a = make(ra);
    const b = make(rb);
    const results = await Promise.all([
      ...Array.from({ length: 50 }, () => a.getOrSet('hot', loader)),
      ...Array.from({ length: 50 }, () => b.getOrSet('hot', loader)),
    ]);
    expect(new Set(results)).toEqual(new Set(['once']));
    expect(calls).toBe(1);
  });
});
