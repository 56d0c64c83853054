import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisCacheLayer } from '../../../src/adapters/redis/redis-cache-layer.js';
import type { RedisClient } from '../../../src/adapters/redis/redis-client.js';
import { markTagMembersScript, settleTagMarkersScript, tagScript } from '../../../src/adapters/redis/redis-tag-scripts.js';
import { freePort, PrivateRedisServer } from '../../support/redis-server.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

// Tag sets are pruned by sampling: each tagged write checks `tagPruneSample` (n) random members and drops
// those whose key is gone. Bound checked here: with n = 10 (the default), once the keys of a mass expiry
// are gone and new keys keep arriving, SCARD <= live + 10% of live + 50 (expected dead share in a set
// that keeps receiving keys is under 1/n; without pruning SCARD would be live + every dead key).
//
// Expiry is Redis's own, in real time: keys get PX 40-50 ms and each wait is bounded (under 1 s per file
// in total); EXISTS expires keys lazily, so a key past its PX is gone for the pruning script at once.

const SHORT_PX = 50;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** Writes `keys` through the layer, `parallel` at a time. */
async function writeAll(layer: RedisCacheLayer, keys: readonly string[], ttlMs: number, tags: readonly string[], parallel: number): Promise<void> {
  for (let i = 0; i < keys.length; i += parallel) {
    await Promise.all(keys.slice(i, i + parallel).map((key) => layer.set(key, 'v', ttlMs, tags)));
  }
}

/** SMISMEMBER in batches: whether each key is in the set. */
async function membership(client: RedisClient, tagKey: string, keys: readonly string[]): Promise<boolean[]> {
  const out: boolean[] = [];
  for (let i = 0; i < keys.length; i += 1_000) {
    const flags = (await client.smismember(tagKey, ...keys.slice(i, i + 1_000))) as number[];
    out.push(...flags.map((f) => f === 1));
  }
  return out;
}

/** How many of `keys` exist, one EXISTS per key (keys of a Cluster live in different slots). */
async function countExisting(client: RedisClient, keys: readonly string[]): Promise<number> {
  const flags = await Promise.all(keys.map((key) => client.exists(key)));
  return flags.reduce((sum, n) => sum + n, 0);
}

/** Waits (bounded) until `key`, written last with PX SHORT_PX, has expired: then every earlier one has too. */
async function expired(client: RedisClient, key: string): Promise<void> {
  await until(async () => (await client.exists(key)) === 0, 500);
}

/** A tag that 10,000 short-lived keys went through, then 3,000 long-lived ones: checked on both topologies. */
async function massExpiryThenNewWrites(client: RedisClient, layer: RedisCacheLayer, parallel: number, settle: boolean): Promise<void> {
  const tagKey = 'tag:hot';
  // A long-lived member keeps the set itself alive (a set expires with its longest-lived member): the
  // case that grows without pruning is a hot tag whose set never expires.
  await layer.set('anchor', 'v', 60_000, [tagKey]);
  const short = Array.from({ length: 10_000 }, (_, i) => `short:${i}`);
  await writeAll(layer, short, SHORT_PX, [tagKey], parallel);
  await expired(client, short[short.length - 1]!);
  const live = ['anchor', ...Array.from({ length: 3_000 }, (_, i) => `live:${i}`)];
  await writeAll(layer, live.slice(1), 60_000, [tagKey], parallel);

  const bound = live.length + live.length / 10 + 50;
  if (settle) await until(async () => (await client.scard(tagKey)) <= bound); // Cluster prunes after the write
  const size = await client.scard(tagKey);
  expect(size, 'SCARD after 10,000 expired and 3,000 live members').toBeLessThanOrEqual(bound);
  expect(size).toBeGreaterThanOrEqual(live.length);
  expect((await membership(client, tagKey, live)).every(Boolean), 'every live key is still a member').toBe(true);

  expect(await layer.deleteByTag(tagKey)).toBe(live.length);
  expect(await countExisting(client, live), 'live keys left after deleteByTag').toBe(0);
  expect(await client.exists(tagKey)).toBe(0);
}

/**
 * Several writers tag keys of a shared pool with short and long TTLs (and sometimes overwrite them with no
 * tag), so sets are pruned while members expire, come back and are rewritten. At the end, every key that
 * exists and whose last write carried a tag is still in that tag's set; then deleteByTag removes them all.
 */
async function noLiveMemberPruned(client: RedisClient, layers: RedisCacheLayer[]): Promise<void> {
  const tags = ['tag:a', 'tag:b'];
  const keysPerWriter = 150;
  const last = new Map<string, readonly string[]>();
  let seed = 12_345;
  const random = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed % n;
  };
  const start = Date.now();
  let rounds = 0;
  while (Date.now() - start < 200) {
    rounds++;
    await Promise.all(
      layers.map(async (layer, w) => {
        const batch: Promise<void>[] = [];
        for (let i = 0; i < 40; i++) {
          const key = `pool:${w}:${random(keysPerWriter)}`;
          const choice = random(10);
          const keyTags = choice === 0 ? [] : choice < 4 ? [tags[0]!] : choice < 7 ? [tags[1]!] : tags;
          const ttl = random(3) === 0 ? 60_000 : 5 + random(40);
          last.set(key, keyTags);
          batch.push(layer.set(key, 'v', ttl, keyTags));
        }
        await Promise.all(batch);
      }),
    );
  }
  expect(rounds).toBeGreaterThan(3);
  // A key that a Cluster pruning round is checking is, for a moment, a pending marker instead of a plain
  // member: deleteByTag reaches both.
  const pool = [...last.keys()];
  const exists = await Promise.all(pool.map(async (key) => (await client.exists(key)) === 1));
  let checked = 0;
  for (const tagKey of tags) {
    const reachable = new Set(((await client.smembers(tagKey)) as string[]).map(keyOf));
    const tagged = pool.filter((key, i) => exists[i] && last.get(key)!.includes(tagKey));
    checked += tagged.length;
    expect(tagged.filter((key) => !reachable.has(key)), `live keys missing from ${tagKey}`).toEqual([]);
  }
  // Rounds settle: no marker is left behind.
  await until(async () => {
    const members = await Promise.all(tags.map((tagKey) => client.smembers(tagKey)));
    return members.flat().every((m) => !m.startsWith('\ufffd'));
  });
  expect(checked, 'live tagged keys checked').toBeGreaterThan(50);
  for (const tagKey of tags) await layers[0]!.deleteByTag(tagKey);
  const survivors = await Promise.all(pool.map(async (key) => (last.get(key)!.length > 0 && (await client.exists(key)) === 1 ? key : undefined)));
  expect(survivors.filter((k) => k !== undefined), 'tagged keys left after deleteByTag').toEqual([]);
}

/** Adds a pending marker (0xFF + 16-character token + key) as an interrupted Cluster pruning round leaves it. */
async function addMarker(client: RedisClient, tagKey: string, key: string, token = '0123456789abcdef'): Promise<void> {
  await client.eval(`redis.call('SADD', KEYS[1], '\\255' .. ARGV[1] .. ARGV[2])`, 1, tagKey, token, key);
}

/** A member as deleteByTag sees it: a marker (which ioredis decodes as U+FFFD + token + key) is its key. */
function keyOf(member: string): string {
  return member.startsWith('\ufffd') ? member.slice(17) : member;
}

/** A marker's key is still reached by deleteByTag; a later round turns it back into a member or drops it. */
async function pendingMarkers(client: RedisClient, layer: RedisCacheLayer, settle: boolean): Promise<void> {
  const tagKey = 'tag:m';
  await layer.set('m:live', 'v', 60_000, [tagKey]);
  await addMarker(client, tagKey, 'm:live');
  await addMarker(client, tagKey, 'm:other');
  await client.set('m:other', 'v');
  await client.srem(tagKey, 'm:live');
  // Only markers left: deleteByTag still deletes both keys.
  expect(await layer.deleteByTag(tagKey)).toBe(2);
  expect(await countExisting(client, ['m:live', 'm:other'])).toBe(0);

  await layer.set('m:live', 'v', 60_000, []);
  await layer.set('m:anchor', 'v', 60_000, [tagKey]);
  await addMarker(client, tagKey, 'm:live');
  await addMarker(client, tagKey, 'm:gone');
  expect(await client.scard(tagKey)).toBe(3);
  // The sample is larger than the set, so the next write sees both markers.
  await layer.set('m:next', 'v', 60_000, [tagKey]);
  const expected = ['m:anchor', 'm:live', 'm:next'];
  if (settle) await until(async () => (await client.scard(tagKey)) === 3 && (await client.sismember(tagKey, 'm:live')) === 1);
  expect(((await client.smembers(tagKey)) as string[]).sort()).toEqual(expected);
}

describe('RedisCacheLayer tag-set pruning (standalone redis-server)', () => {
  let server: PrivateRedisServer;
  const clients: Redis[] = [];
  const connect = (): Redis => {
    const client = new Redis(server.options);
    client.on('error', () => {});
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await PrivateRedisServer.start();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await server?.stop();
  });
  beforeEach(async () => {
    await connect().flushall();
  });

  it('10,000 expired members are pruned while new keys arrive: SCARD stays near the live count', async () => {
    const redis = connect();
    await massExpiryThenNewWrites(redis, new RedisCacheLayer({ client: redis }), 500, false);
  });

  it('a hot tag under constant churn stays bounded by its live members', async () => {
    const redis = connect();
    const layer = new RedisCacheLayer({ client: redis });
    const tagKey = 'tag:churn';
    const long: string[] = [];
    for (let round = 0; round < 6; round++) {
      const short = Array.from({ length: 1_500 }, (_, i) => `churn:${round}:${i}`);
      const keep = Array.from({ length: 100 }, (_, i) => `keep:${round}:${i}`);
      long.push(...keep);
      await Promise.all([writeAll(layer, short, SHORT_PX, [tagKey], 300), writeAll(layer, keep, 60_000, [tagKey], 20)]);
      await expired(redis, short[short.length - 1]!);
    }
    // Everything short-lived is gone; 600 keys live. 9,000 dead keys went through the set.
    const after = Array.from({ length: 1_000 }, (_, i) => `after:${i}`);
    await writeAll(layer, after, 60_000, [tagKey], 200);
    const live = long.length + after.length;
    const size = await redis.scard(tagKey);
    expect(size, 'SCARD').toBeLessThanOrEqual(live + live / 10 + 50);
    expect((await membership(redis, tagKey, [...long, ...after])).every(Boolean)).toBe(true);
    expect(await layer.deleteByTag(tagKey)).toBe(live);
  });

  it('never prunes a live member, whatever the interleaving of writes, expiries and untagged overwrites', async () => {
    const layers = [connect(), connect(), connect()].map((client) => new RedisCacheLayer({ client, tagPruneSample: 50 }));
    await noLiveMemberPruned(connect(), layers);
  });

  it('pending markers: reached by deleteByTag, then restored or dropped', async () => {
    const redis = connect();
    await pendingMarkers(redis, new RedisCacheLayer({ client: redis }), false);
  });

  it('two Cluster pruning rounds racing on one key: each drops only its own marker, the live key stays', async () => {
    // The scripts of the Cluster path, driven step by step in the order that loses a key if rounds shared
    // one marker per key: round 1 checks k (gone), a writer re-creates and re-tags k, round 2 (whose own
    // first check was also before the write) marks it again, round 1 settles on its stale check.
    const redis = connect();
    const tagKey = 'tag:race';
    const reachable = async (): Promise<string[]> => ((await redis.smembers(tagKey)) as string[]).map(keyOf).sort();
    await redis.sadd(tagKey, 'anchor', 'k');
    expect(await markTagMembersScript.run(redis, [tagKey], ['aaaaaaaaaaaaaaaa', 'k'])).toEqual(['k']); // round 1
    const round1Second = (await redis.exists('k')) === 1; // false: k is gone
    await redis.set('k', 'v'); // writer: SET, then SADD
    await tagScript.run(redis, [tagKey], ['k', 60_000, 0, 1]);
    expect(await markTagMembersScript.run(redis, [tagKey], ['bbbbbbbbbbbbbbbb', 'k'])).toEqual(['k']); // round 2
    expect(await reachable()).toEqual(['anchor', 'k', 'k']);
    await settleTagMarkersScript.run(redis, [tagKey], ['aaaaaaaaaaaaaaaa', 'k', round1Second ? '1' : '0']);
    expect(await reachable(), 'k is still reachable by deleteByTag').toEqual(['anchor', 'k']);
    const round2Second = (await redis.exists('k')) === 1;
    await settleTagMarkersScript.run(redis, [tagKey], ['bbbbbbbbbbbbbbbb', 'k', round2Second ? '1' : '0']);
    expect(((await redis.smembers(tagKey)) as string[]).sort()).toEqual(['anchor', 'k']);
  });

  it('a client with an ioredis keyPrefix: members are checked under the prefix, live ones kept', async () => {
    const raw = connect();
    const prefixed = new Redis({ ...server.options, keyPrefix: 'app:' });
    prefixed.on('error', () => {});
    clients.push(prefixed);
    const layer = new RedisCacheLayer({ client: prefixed, tagPruneSample: 100 });
    await layer.set('gone', 'v', 60_000, ['tag:p']);
    await raw.del('app:gone');
    for (let i = 0; i < 50; i++) await layer.set(`k${i}`, 'v', 60_000, ['tag:p']);
    const members = (await raw.smembers('app:tag:p')) as string[];
    expect(members.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `k${i}`).sort());
    expect(await layer.deleteByTag('tag:p')).toBe(50);
    expect(await raw.dbsize()).toBe(0);
  });

  it('tagPruneSample: 0 keeps every member (no pruning); the option is validated', async () => {
    const redis = connect();
    const layer = new RedisCacheLayer({ client: redis, tagPruneSample: 0 });
    await layer.set('gone', 'v', 60_000, ['tag:off']);
    await redis.del('gone');
    for (let i = 0; i < 20; i++) await layer.set(`k${i}`, 'v', 60_000, ['tag:off']);
    expect(await redis.sismember('tag:off', 'gone')).toBe(1);
    expect(() => new RedisCacheLayer({ client: redis, tagPruneSample: -1 })).toThrow(/tagPruneSample/);
    expect(() => new RedisCacheLayer({ client: redis, tagPruneSample: 1.5 })).toThrow(/tagPruneSample/);
  });
});

/** A cluster-enabled redis-server (its own port and directory), answering PING. */
async function startClusterNode(): Promise<{ port: number; dir: string; child: ChildProcess }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'af-cluster-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-announce-ip', '127.0.0.1', '--loglevel', 'warning'],
    { cwd: dir, stdio: 'ignore' },
  );
  const admin = adminClient(port);
  try {
    await until(async () => (await admin.ping().catch(() => '')) === 'PONG', 10_000);
  } finally {
    admin.disconnect();
  }
  return { port, dir, child };
}

function adminClient(port: number): Redis {
  const admin = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => 20, maxRetriesPerRequest: null });
  admin.on('error', () => {});
  return admin;
}

/**
 * A Redis Cluster of `count` master nodes splitting the 16,384 slots evenly (node i owns a contiguous range).
 * Scripts there may only touch keys whose slot their node owns.
 */
class ClusterNodes {
  private constructor(private readonly nodes: { port: number; dir: string; child: ChildProcess }[]) {}

  static async start(count: number): Promise<ClusterNodes> {
    const nodes = await Promise.all(Array.from({ length: count }, () => startClusterNode()));
    const cluster = new ClusterNodes(nodes);
    const admins = nodes.map((node) => adminClient(node.port));
    try {
      const per = Math.ceil(16_384 / count);
      await Promise.all(admins.map((admin, i) => admin.call('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(16_383, (i + 1) * per - 1)))));
      for (const node of nodes.slice(1)) await admins[0]!.call('CLUSTER', 'MEET', '127.0.0.1', String(node.port));
      for (const admin of admins) await until(async () => String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'), 10_000);
    } catch (error) {
      await cluster.stop();
      throw error;
    } finally {
      for (const admin of admins) admin.disconnect();
    }
    return cluster;
  }

  /** Port of the first node (owning the first slot range). */
  get port(): number {
    return this.nodes[0]!.port;
  }

  async stop(): Promise<void> {
    for (const { child, dir } of this.nodes) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

describe('RedisCacheLayer tag-set pruning on a Redis Cluster (client-side)', () => {
  let node: ClusterNodes;
  const clients: Cluster[] = [];
  const connect = (): Cluster => {
    const client = new Cluster([{ host: '127.0.0.1', port: node.port }]);
    client.on('error', () => {});
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    node = await ClusterNodes.start(1);
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await node?.stop();
  });
  beforeEach(async () => {
    await connect().flushall();
  });

  it('10,000 expired members are pruned while new keys arrive: SCARD stays near the live count', async () => {
    const cluster = connect();
    await massExpiryThenNewWrites(cluster, new RedisCacheLayer({ client: cluster }), 4, true);
  });

  it('never prunes a live member, whatever the interleaving of writes, expiries and untagged overwrites', async () => {
    const layers = [connect(), connect(), connect()].map((client) => new RedisCacheLayer({ client, tagPruneSample: 50 }));
    await noLiveMemberPruned(connect(), layers);
  });

  it('pending markers: reached by deleteByTag, then restored or dropped', async () => {
    const cluster = connect();
    await pendingMarkers(cluster, new RedisCacheLayer({ client: cluster }), true);
  });
});

describe('RedisCacheLayer on a server enforcing slot rules, reached with a plain (non-Cluster) client', () => {
  // A real two-node cluster; the layer's plain ioredis client talks to node A only, as a client of a proxy
  // or of Redis Enterprise does. Node A rejects the inline pruning's EXISTS of a key on node B's slots
  // ("ERR Script attempted to access a non local key in a cluster node") and a multi-key UNLINK over
  // several slots (CROSSSLOT). A one-node cluster owns every slot, so it would reject neither.
  let nodes: ClusterNodes;
  const clients: Redis[] = [];
  const connect = (): Redis => {
    const client = new Redis({ host: '127.0.0.1', port: nodes.port, retryStrategy: () => 20 });
    client.on('error', () => {});
    clients.push(client);
    return client;
  };
  let raw: Redis;
  /** Slot of each name, asked of the server. */
  const slotOf = async (name: string): Promise<number> => Number(await raw.call('CLUSTER', 'KEYSLOT', name));
  /** `count` names with `stem` whose slot is on node A (< 8192), or on node B. */
  const names = async (stem: string, count: number, onA: boolean): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; out.length < count; i++) {
      if ((await slotOf(`${stem}${i}`)) < 8_192 === onA) out.push(`${stem}${i}`);
    }
    return out;
  };
  /** Replies of node A of one error kind (`ERR`, `CROSSSLOT`) so far. */
  const errorReplies = async (kind: string): Promise<number> => Number(new RegExp(`errorstat_${kind}:count=(\\d+)`).exec(String(await raw.info('errorstats')))?.[1] ?? 0);
  /**
   * A plain client of node A, ready, and a counter of the `ERR` replies node A sent from then on (ioredis
   * sends CLIENT SETINFO on connect, which Redis 7.0 answers with ERR: that is before the baseline).
   */
  const ready = async (): Promise<{ redis: Redis; errReplies: () => Promise<number> }> => {
    const redis = connect();
    await redis.ping();
    const base = await errorReplies('ERR');
    return { redis, errReplies: async () => (await errorReplies('ERR')) - base };
  };

  beforeAll(async () => {
    nodes = await ClusterNodes.start(2);
    raw = connect();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await nodes?.stop();
  });
  beforeEach(async () => {
    await raw.flushall();
    await raw.config('RESETSTAT');
    await raw.ping();
  });

  it('a rejected inline pruning switches the layer to client-side pruning for good; the write succeeds', async () => {
    const { redis, errReplies } = await ready();
    const layer = new RedisCacheLayer({ client: redis });
    const [tagKey] = await names('tag:', 1, true);
    const local = await names('k:', 8, true);
    const [remote] = await names('remote:', 1, false);
    const [dead, dead2] = await names('dead:', 2, true);
    await layer.set(local[0]!, 'v', 60_000, [tagKey!]);
    // Another writer (through a slot-aware path) tagged a key that lives on node B; one local key is gone.
    await raw.sadd(tagKey!, remote!, dead!);

    // The sample (10) covers the whole set, so the inline script reaches the remote member and is rejected.
    await layer.set(local[1]!, 'v', 60_000, [tagKey!]);
    expect(await errReplies(), 'the inline script was rejected once').toBe(1);
    expect(await raw.exists(local[1]!)).toBe(1);
    expect(await raw.sismember(tagKey!, local[1]!)).toBe(1);
    // Remembered: later writes no longer run the inline check (no new rejection).
    for (const key of local.slice(2, 5)) await layer.set(key, 'v', 60_000, [tagKey!]);
    expect(await errReplies()).toBe(1);

    // Client-side pruning removes members whose key is gone and keeps every live one.
    await raw.srem(tagKey!, remote!);
    await raw.sadd(tagKey!, dead2!);
    for (const key of local.slice(5)) await layer.set(key, 'v', 60_000, [tagKey!]);
    await until(async () => (await raw.sismember(tagKey!, dead!)) === 0 && (await raw.sismember(tagKey!, dead2!)) === 0);
    expect(((await raw.smembers(tagKey!)) as string[]).sort()).toEqual([...local].sort());
    expect(await errReplies()).toBe(1);
  });

  it('deleteByTag over keys of several slots: a CROSSSLOT UNLINK is redone one key at a time', async () => {
    const { redis } = await ready();
    const layer = new RedisCacheLayer({ client: redis, tagPruneSample: 0 });
    const [tagKey] = await names('tag:', 1, true);
    const local = await names('d:', 5, true);
    expect(new Set(await Promise.all(local.map(slotOf))).size).toBeGreaterThan(1);
    for (const key of local) await layer.set(key, 'v', 60_000, [tagKey!]);
    expect(await layer.deleteByTag(tagKey!)).toBe(5);
    expect(await countExisting(raw, local)).toBe(0);
    expect(await errorReplies('CROSSSLOT'), 'one rejected UNLINK').toBe(1);
  });

  it('tagPruneSample: 0 never runs the check, so nothing is rejected and no member is pruned', async () => {
    const { redis, errReplies } = await ready();
    const layer = new RedisCacheLayer({ client: redis, tagPruneSample: 0 });
    const [tagKey] = await names('tag:', 1, true);
    const local = await names('z:', 5, true);
    const [remote] = await names('remote:', 1, false);
    const [dead] = await names('dead:', 1, true);
    await raw.sadd(tagKey!, remote!, dead!);
    for (const key of local) await layer.set(key, 'v', 60_000, [tagKey!]);
    expect(await errReplies()).toBe(0);
    expect(((await raw.smembers(tagKey!)) as string[]).sort()).toEqual([...local, remote!, dead!].sort());
  });
});
