import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { CacheLayer } from '../../cache/cache-layer.js';
import { OptionsValidator } from '../../core/options.js';
import type { RedisClient } from './redis-client.js';
import { markTagMembersScript, popTagScript, settleTagMarkersScript, tagScript, TOKEN_LENGTH } from './redis-tag-scripts.js';

/** Background pruning rounds a Cluster layer runs at once; a tagged write finding them all busy skips pruning. */
const MAX_CLUSTER_PRUNES = 4;

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
  /**
   * Members of a tag set checked each time a key is added to it (SRANDMEMBER): those whose key no longer
   * exists are removed, so a tag that is written forever does not keep every key it ever had. With `n`,
   * the expected share of dead members in a set that keeps receiving new keys stays under `1/n`. On a
   * standalone or Sentinel server the check runs inside the tagging script; on a Cluster (keys and tag
   * sets live in different slots) it runs after the write, from the client, with `n` EXISTS per tag. A
   * standalone connection whose server enforces slot rules (a cluster node reached with a plain client,
   * Redis Enterprise, Envoy) rejects the script's check ("non local key", CROSSSLOT): the layer then
   * switches to the client-side check for good and redoes that write.
   * `0` turns pruning off. @default 10
   */
  tagPruneSample?: number;
}

/**
 * A remote cache layer on Redis for `MultiLayerCache`: `GET`, `SET PX`, `UNLINK`, prefix deletion with
 * `SCAN` (on every master of a Cluster) and tag sets kept by a small script, which also drops a few members
 * whose keys are gone on every write (see {@link RedisCacheLayerOptions.tagPruneSample}). The cache guards
 * it with its own circuit breaker and timeouts; the layer itself only maps calls to commands.
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
  /**
   * Whether tag sets are pruned from the client (see pruneTag) and keys unlinked one per command: always on
   * a Cluster; switched on for good when a standalone connection turns out to enforce slot rules.
   */
  private clientSidePruning: boolean;
  private readonly pruneSample: number;
  /** ioredis `keyPrefix`: added to KEYS but not to members, so the inline EXISTS adds it itself. */
  private readonly keyPrefix: string;
  private prunesRunning = 0;

  constructor(options: RedisCacheLayerOptions) {
    const v = new OptionsValidator('RedisCacheLayer');
    if (typeof options !== 'object' || options === null) v.fail('options', 'an object', options);
    else {
      if (v.required('client', options.client, 'an ioredis client') && typeof (options.client as { get?: unknown }).get !== 'function') {
        v.fail('client', 'an ioredis client', options.client);
      }
      v.string('name', options.name);
      v.integer('scanCount', options.scanCount, 1);
      v.integer('tagPruneSample', options.tagPruneSample, 0);
    }
    v.throwIfInvalid();
    this.client = options.client;
    this.name = options.name ?? 'redis';
    this.scanCount = options.scanCount ?? 500;
    this.cluster = 'isCluster' in options.client && options.client.isCluster === true;
    this.clientSidePruning = this.cluster;
    this.pruneSample = options.tagPruneSample ?? 10;
    this.keyPrefix = this.cluster ? '' : ((options.client as Redis).options?.keyPrefix ?? '');
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
    if (!this.clientSidePruning) {
      // One connection: Redis runs the SET before the scripts, so a script never sees this key missing.
      try {
        await Promise.all([write, ...tagKeys.map((tagKey) => tagScript.run(this.client, [tagKey], [key, tagTtl, this.pruneSample, 1, this.keyPrefix]))]);
        return;
      } catch (error) {
        // A server that enforces slot rules (a cluster node reached with a plain client, Redis Enterprise,
        // a proxy) rejects the inline EXISTS of members on other slots: prune from the client from now on,
        // and redo the tagging that way (SADD and the TTL steps are idempotent).
        if (!isSlotRuleError(error)) throw error;
        this.clientSidePruning = true;
      }
    }
    // Cluster (or a server enforcing slot rules): the key and its tag sets are on different slots, maybe
    // different nodes. The key is written before it joins any set, which is what makes client-side pruning
    // safe (see pruneTag).
    await write;
    const sample = this.pruneSample > 0 && this.prunesRunning < MAX_CLUSTER_PRUNES ? this.pruneSample : 0;
    const samples = (await Promise.all(tagKeys.map((tagKey) => tagScript.run(this.client, [tagKey], [key, tagTtl, sample, 0])))) as [string[], [string, string][]][];
    if (sample === 0) return;
    this.prunesRunning++;
    void Promise.all(tagKeys.map((tagKey, i) => this.pruneTag(tagKey, samples[i]?.[0] ?? [], samples[i]?.[1] ?? [])))
      // Housekeeping: a failed round leaves members or pending markers behind, which a later round or
      // deleteByTag handles; the write itself has succeeded.
      .catch(() => {})
      .finally(() => this.prunesRunning--);
  }

  /**
   * Cluster pruning of one tag set, given sampled members and sampled pending markers (`[token, key]`).
   * A member whose key is missing becomes a marker of this round (still expanded by deleteByTag), its key is
   * checked again, and the marker is then dropped, or turned back into a member if the key exists again.
   * A key that is written and tagged meanwhile was written before its SADD: if the SADD came before the
   * marker, the second check sees the key; if after, the key is a member again. A round drops only its own
   * markers (or a sampled one, after checking its key), so a live, tagged key is never out of its set.
   */
  private async pruneTag(tagKey: string, members: readonly string[], markers: readonly (readonly [string, string])[]): Promise<void> {
    const firstCheck = await this.existing(members);
    const missing = members.filter((_, i) => !firstCheck[i]);
    const token = randomBytes(TOKEN_LENGTH / 2).toString('hex');
    const marked = missing.length === 0 ? [] : ((await markTagMembersScript.run(this.client, [tagKey], [token, ...missing])) as string[]);
    const toSettle: (readonly [string, string])[] = [...marked.map((key) => [token, key] as const), ...markers];
    if (toSettle.length === 0) return;
    const secondCheck = await this.existing(toSettle.map(([, key]) => key));
    await settleTagMarkersScript.run(
      this.client,
      [tagKey],
      toSettle.flatMap(([owner, key], i) => [owner, key, secondCheck[i] ? '1' : '0']),
    );
  }

  /** Whether each key exists, one EXISTS per key (keys of a Cluster may live in different slots). */
  private async existing(keys: readonly string[]): Promise<boolean[]> {
    return Promise.all(keys.map(async (key) => (await this.client.exists(key)) === 1));
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
    const keys = (await popTagScript.run(this.client, [tagKey], [])) as string[];
    return this.unlink(keys);
  }

  /**
   * UNLINK in one command, or one per key on a Cluster or a server enforcing slot rules (keys of a batch may
   * live in different slots); a CROSSSLOT rejection of the single command switches to the latter for good.
   */
  private async unlink(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    if (!this.clientSidePruning) {
      try {
        return await (this.client as Redis).unlink(...keys);
      } catch (error) {
        if (!isSlotRuleError(error)) throw error;
        this.clientSidePruning = true;
      }
    }
    const counts = await Promise.all(keys.map((key) => this.client.unlink(key)));
    return counts.reduce((sum, n) => sum + n, 0);
  }
}

/**
 * Whether `error` is a server refusing a command or script for touching keys outside its slot rules: a
 * script reaching an undeclared key on another node ("Script attempted to access a non local key in a
 * cluster node"), keys of one command in different slots (CROSSSLOT, "...do not hash to the same slot").
 */
function isSlotRuleError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /non[- ]local key|CROSSSLOT|(?:do not|don't) hash to the same slot/i.test(message);
}

/** Escapes Redis glob metacharacters so a prefix matches literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
