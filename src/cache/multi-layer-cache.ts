import type { Bus } from '../core/bus.js';
import { coarseNowOf, systemClock, type Clock } from '../core/clock.js';
import type { DistributedLock, LockLease } from '../core/distributed-lock.js';
import { TimeoutError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { sleep } from '../core/abort.js';
import { CACHE_DURATION_EXPECTED, cacheDurationMs, type CacheDuration } from './cache-duration.js';
import { createEntry, retentionMs, type CacheEntry } from './cache-entry.js';
import type { CacheLayer } from './cache-layer.js';
import type { CacheLayerMetrics, CacheMetrics, MultiLayerCacheEvents, StaleReason } from './cache-metrics.js';
import { CronSchedule } from './cron-schedule.js';
import { decodeEntry, encodeEntry } from './entry-codec.js';
import { GuardedCacheLayer, UNAVAILABLE, type LayerGuardOptions } from './guarded-cache-layer.js';
import { MemoryCacheLayer, type MemoryLayerOptions, type MemoryRecord } from './memory-cache-layer.js';
import { richSerializer, type Serializer } from './serializer.js';

/** Options of one write. */
export interface CacheSetOptions {
  /** Freshness: seconds (the seed's unit), `Infinity`, or `'30s'`, `'5m'`, `'1h'`... @default the cache's `ttl` */
  ttl?: CacheDuration;
  /** How long after the TTL a stale value may still be served (see {@link GetOrSetOptions}). @default the cache's `grace` */
  grace?: CacheDuration;
  /** Tags to delete the entry by, with {@link MultiLayerCache.deleteByTag}. */
  tags?: readonly string[];
}

/** What a loader receives. */
export interface CacheLoaderContext<T> {
  /** The key being loaded (without the cache's prefix). */
  key: string;
  /** Aborts at the hard timeout; pass it on to I/O. */
  signal: AbortSignal;
  /** The stale value being refreshed, if any. */
  stale: T | undefined;
}

/** Loads the value of a key on a miss. */
export type CacheLoader<T> = (context: CacheLoaderContext<T>) => T | Promise<T>;

/** Options of {@link MultiLayerCache.getOrSet}. */
export interface GetOrSetOptions extends CacheSetOptions {
  /**
   * With a stale value in grace: after this long, answer with it and let the loader finish in the background
   * (stale-if-timeout). Without a stale value the caller waits for the loader (up to `hardTimeoutMs`).
   * @default the cache's `loader.softTimeoutMs` (no soft timeout)
   */
  softTimeoutMs?: number;
  /** Abort the loader (its signal) and fail, or serve stale, after this long. @default the cache's `loader.hardTimeoutMs` (none) */
  hardTimeoutMs?: number;
  /** With a stale value in grace: answer with it at once and refresh in the background. @default false */
  staleWhileRevalidate?: boolean;
  /** Whether to take the cache's distributed lock so the fleet loads the key once. @default true when the cache has a `lock` */
  lock?: boolean;
}

/** One entry of cache warming. */
export interface WarmEntry {
  /** Key, without the cache's prefix (relative to the cache or namespace that warms). */
  key: string;
  loader: () => unknown;
  ttl?: CacheDuration;
  grace?: CacheDuration;
  tags?: readonly string[];
}

/** Cache warming: keys loaded on {@link MultiLayerCache.start} and/or on a cron schedule. */
export interface CacheWarmingOptions {
  entries: readonly WarmEntry[];
  /** Warm when `start()` is called. @default true */
  onStart?: boolean;
  /** A cron pattern (croner syntax), e.g. `'0 0 * * *'` for daily at midnight (the seed's schedule). */
  cron?: string;
  /** IANA timezone of the cron pattern. @default the process's */
  timezone?: string;
  /** Loaders run at once. @default 4 */
  concurrency?: number;
}

/** Options of {@link MultiLayerCache}. */
export interface MultiLayerCacheOptions {
  /** Name in metrics and events. @default 'cache' */
  name?: string;
  /** Prefix of every key in the remote layers (and of the bus channel). @default `${name}:` */
  prefix?: string;
  /** The in-process L1, or `false` for none. @default { maxEntries: 1000 } */
  memory?: MemoryLayerOptions | false;
  /** Remote layers, fastest first: L2, L3... (e.g. `new RedisCacheLayer({ client })` from antifragile/redis). */
  layers?: readonly CacheLayer[];
  /** Protection of every remote layer (soft/hard timeouts, circuit breaker). */
  remote?: LayerGuardOptions;
  /** Per-layer overrides of {@link remote}, by layer name. */
  remoteByLayer?: Record<string, LayerGuardOptions>;
  /** Default freshness of entries. @default 3600 (one hour, the seed's default) */
  ttl?: CacheDuration;
  /** Default grace after the TTL, during which a stale value covers for a failing loader. @default 0 */
  grace?: CacheDuration;
  /**
   * Default loader timeouts of {@link MultiLayerCache.getOrSet}. The hard timeout aborts the loader's signal
   * and fails the call (or serves stale); it keeps one hung loader from holding a key forever (every later
   * miss of the key would join it). `Infinity` turns it off. @default { hardTimeoutMs: 10000 }
   */
  loader?: { softTimeoutMs?: number; hardTimeoutMs?: number };
  /**
   * Cross-instance invalidation: deletes and writes are announced so other instances drop their L1 copy.
   * While the bus is down, and for entries cached before it came back, L1 copies are suspect: they are
   * read again from the remote layers, and served only if those cannot answer.
   */
  bus?: Bus;
  /** A lock so that concurrent misses load a key once per fleet, not once per instance. */
  lock?: DistributedLock;
  /**
   * Lock options: `ttlMs` of a lease (@default the loader's hard timeout), `waitMs` before loading anyway
   * (@default 5000), `pollMs` (@default 50), `acquireTimeoutMs`: longest wait for the lock backend itself
   * before loading without the lock (@default 100).
   */
  lockOptions?: { ttlMs?: number; waitMs?: number; pollMs?: number; acquireTimeoutMs?: number };
  /**
   * Names of remote layers private to each instance (a Redis on the same host): bus messages from other
   * instances delete their keys there too, not only from L1. Shared layers are written by the sender itself.
   * @default none
   */
  localLayers?: readonly string[];
  /** Encoding of values for the remote layers. @default richSerializer (Date, Map, Set, BigInt round-trip) */
  serializer?: Serializer;
  /** Cache warming. */
  warm?: CacheWarmingOptions;
  /** Time source. @default systemClock */
  clock?: Clock;
}

interface Defaults {
  ttlMs: number;
  graceMs: number;
  softTimeoutMs: number | undefined;
  hardTimeoutMs: number | undefined;
  lockTtlMs: number | undefined;
  lockWaitMs: number;
  lockPollMs: number;
  lockAcquireTimeoutMs: number;
}

/** A load in flight; an invalidation of its key while it runs keeps its value out of the cache. */
interface LoadToken {
  invalidated: boolean;
}

/** State shared by a cache and its namespaces. */
interface Runtime {
  name: string;
  prefix: string;
  clock: Clock;
  coarseNow: () => number;
  memory: MemoryCacheLayer | undefined;
  sizeOf: ((value: unknown, key: string) => number) | undefined;
  measureSize: boolean;
  holdMs: number;
  remotes: GuardedCacheLayer[];
  serializer: Serializer;
  bus: Bus | undefined;
  channel: string;
  lock: DistributedLock | undefined;
  defaults: Defaults;
  events: EventEmitter<MultiLayerCacheEvents>;
  inflight: Map<string, Promise<unknown>>;
  /** Loads in flight by key (several for one key when a refresh overlaps a miss). */
  loads: Map<string, Set<LoadToken>>;
  /** Number of invalidations so far; a read-through compares it before filling L1. */
  invalidationSeq: number;
  /** The last {@link RECENT_INVALIDATIONS} invalidations, by `seq % RECENT_INVALIDATIONS`. */
  recentInvalidations: (InvalidationMessage | undefined)[];
  /** Invalidations made while the bus was down, announced when it is back. */
  unannounced: InvalidationMessage[];
  unannouncedOverflow: boolean;
  localLayers: GuardedCacheLayer[];
  /** Wall-clock minus clock time (entry times are shared across processes, so they are wall-clock). */
  wallOffset: number;
  wallOffsetAt: number;
  wallClock: boolean;
  epoch: number;
  trusted: boolean;
  counters: { hits: number; misses: number; staleHits: number; loads: number; loadErrors: number; coalesced: number; memoryHits: number; memoryMisses: number; memoryStale: number };
  warm: CacheWarmingOptions | undefined;
  schedule: CronSchedule | undefined;
  unsubscribes: Unsubscribe[];
  started: boolean;
}

/** A value found by a lookup. */
type Found =
  | { kind: 'fresh'; value: unknown }
  | { kind: 'stale'; entry: CacheEntry }
  | { kind: 'miss' };

const MISS: Found = { kind: 'miss' };
/** Invalidations remembered for read-throughs in flight; a read that saw more does not fill L1. */
const RECENT_INVALIDATIONS = 64;
const TAG_SEGMENT = '__tags__:';

/** Bus messages: keys, a prefix, or a tag set to drop from L1. */
interface InvalidationMessage {
  k?: string[];
  p?: string;
  t?: string;
}

/**
 * A cache through any number of layers: an in-process LRU (L1) then remote layers (Redis L2, a Redis
 * Cluster or Sentinel L3...). Reads go down the layers and fill the faster ones; writes go to all.
 *
 * - A remote layer that fails, hangs or times out never fails a call: it is counted, the call carries on
 *   without it after its soft timeout, and its own circuit breaker bypasses it while it is down. Changes
 *   made during its outage are deleted from it when it recovers.
 * - `getOrSet` runs one loader per key per instance however many callers miss at once, or one per fleet
 *   with a `lock`.
 * - A value past its TTL but within its grace covers for a loader that fails or is slow (stale-if-error,
 *   soft timeout) and can be served while refreshing (stale-while-revalidate).
 * - With a `bus`, other instances' L1 copies are dropped on every write and delete, and L1 is treated as
 *   suspect while the bus is down and after it comes back (an epoch bump).
 *
 * Values are kept by reference in L1 (do not mutate what you get) and serialized for remote layers.
 *
 * @example
 * const cache = new MultiLayerCache({ layers: [new RedisCacheLayer({ client: redis })], grace: '1h' });
 * const quote = await cache.getOrSet(`quote:${tenant}:${file}`, () => pricing.calculate(file), { ttl: 3600 });
 * await cache.delete('non-critical:*');
 */
export class MultiLayerCache {
  private readonly rt: Runtime;
  /** Prefix of this view's keys: the cache prefix plus the namespace path. */
  private readonly keyPrefix: string;

  constructor(options: MultiLayerCacheOptions = {}) {
    validateOptions(options);
    const name = options.name ?? 'cache';
    const clock = options.clock ?? systemClock;
    const memoryOptions = options.memory === false ? undefined : (options.memory ?? {});
    const events = new EventEmitter<MultiLayerCacheEvents>('cache', name);
    const hardTimeoutMs = options.loader?.hardTimeoutMs ?? 10_000;
    const prefix = options.prefix ?? `${name}:`;
    const announceReplayed = (ops: { keys: string[]; prefixes: string[]; tagKeys: string[] }): void => {
      if (ops.keys.length > 0) this.announce({ k: ops.keys });
      for (const p of ops.prefixes) this.announce({ p });
      for (const t of ops.tagKeys) this.announce({ t });
    };
    const remotes = (options.layers ?? []).map(
      (layer) => new GuardedCacheLayer(layer, { ...options.remote, ...options.remoteByLayer?.[layer.name] }, clock, events, prefix, announceReplayed),
    );
    this.rt = {
      name,
      prefix,
      clock,
      coarseNow: coarseNowOf(clock),
      memory: memoryOptions === undefined ? undefined : new MemoryCacheLayer(memoryOptions.maxEntries ?? 1_000, memoryOptions.maxSizeBytes),
      sizeOf: memoryOptions?.sizeOf,
      measureSize: memoryOptions?.maxSizeBytes !== undefined,
      holdMs: memoryOptions?.ttl === undefined ? Infinity : (cacheDurationMs(memoryOptions.ttl) as number),
      remotes,
      serializer: options.serializer ?? richSerializer,
      bus: options.bus,
      channel: `cache:${prefix}`,
      lock: options.lock,
      defaults: {
        ttlMs: cacheDurationMs(options.ttl ?? 3_600) as number,
        graceMs: cacheDurationMs(options.grace ?? 0) as number,
        softTimeoutMs: options.loader?.softTimeoutMs,
        hardTimeoutMs: hardTimeoutMs === Infinity ? undefined : hardTimeoutMs,
        lockTtlMs: options.lockOptions?.ttlMs,
        lockWaitMs: options.lockOptions?.waitMs ?? 5_000,
        lockPollMs: options.lockOptions?.pollMs ?? 50,
        lockAcquireTimeoutMs: options.lockOptions?.acquireTimeoutMs ?? 100,
      },
      events,
      inflight: new Map(),
      loads: new Map(),
      invalidationSeq: 0,
      recentInvalidations: new Array<InvalidationMessage | undefined>(RECENT_INVALIDATIONS),
      unannounced: [],
      unannouncedOverflow: false,
      localLayers: remotes.filter((remote) => options.localLayers?.includes(remote.name) === true),
      wallOffset: clock === systemClock ? Date.now() - clock.now() : 0,
      wallOffsetAt: clock.now(),
      wallClock: clock === systemClock,
      epoch: 0,
      trusted: options.bus === undefined || options.bus.connected,
      counters: { hits: 0, misses: 0, staleHits: 0, loads: 0, loadErrors: 0, coalesced: 0, memoryHits: 0, memoryMisses: 0, memoryStale: 0 },
      warm: options.warm,
      schedule: undefined,
      unsubscribes: [],
      started: false,
    };
    this.keyPrefix = prefix;
    if (options.warm?.cron !== undefined) {
      this.rt.schedule = new CronSchedule(options.warm.cron, options.warm.timezone, clock, () => this.warm(), `cache "${name}" warming`);
    }
    if (options.bus !== undefined) this.listen(options.bus);
  }

  /** The cache's name. */
  get name(): string {
    return this.rt.name;
  }

  /**
   * A view of this cache whose keys live under `name:` (nested namespaces add up). It shares the layers,
   * the bus and the metrics; its `clear()` removes only its own keys.
   */
  namespace(name: string): MultiLayerCache {
    if (typeof name !== 'string' || name === '') throw new TypeError('namespace name must be a non-empty string');
    const view = Object.create(MultiLayerCache.prototype) as MultiLayerCache;
    Object.assign(view, { rt: this.rt, keyPrefix: `${this.keyPrefix}${name}:` });
    return view;
  }

  /** Subscribes to a cache event; returns the unsubscribe function. */
  on<K extends keyof MultiLayerCacheEvents>(event: K, listener: Listener<MultiLayerCacheEvents[K]>): Unsubscribe {
    return this.rt.events.on(event, listener);
  }

  /**
   * The fresh value of `key`, or `undefined`. With `allowStale`, a value in its grace period is returned too.
   * Never rejects because a layer is down.
   */
  get<T = unknown>(key: string, options?: { allowStale?: boolean }): Promise<T | undefined> {
    const fullKey = this.fullKey(key);
    const rt = this.rt;
    const hit = this.memoryHit(fullKey);
    if (hit !== undefined) return Promise.resolve(hit.entry.value as T);
    return this.lookup(fullKey).then((found) => {
      if (found.kind === 'fresh') return found.value as T;
      if (found.kind === 'stale' && options?.allowStale === true) {
        this.countStale(key, 'refreshing');
        return found.entry.value as T;
      }
      rt.counters.misses++;
      return undefined;
    });
  }

  /** The L1 record of `fullKey` when it is fresh and trusted (the hot path: no exact clock read), counted as a hit. */
  private memoryHit(fullKey: string): MemoryRecord | undefined {
    const rt = this.rt;
    if (rt.memory === undefined) return undefined;
    const record = rt.memory.get(fullKey);
    if (record === undefined || !rt.trusted || record.epoch !== rt.epoch) return undefined;
    const now = rt.coarseNow() + rt.wallOffset;
    if (now >= record.entry.expiresAt || now >= record.holdUntil) return undefined;
    rt.counters.memoryHits++;
    rt.counters.hits++;
    return record;
  }

  /** Whether `key` has a fresh value. */
  async has(key: string): Promise<boolean> {
    return (await this.lookup(this.fullKey(key))).kind === 'fresh';
  }

  /**
   * Writes `value` to every layer (L1 at once, remote layers waited for up to their soft timeout) and
   * tells other instances to drop their L1 copy. Rejects with `CacheSerializationError`, writing nothing,
   * when a remote layer exists and the value cannot be serialized.
   */
  async set<T>(key: string, value: T, options?: CacheSetOptions | CacheDuration): Promise<void> {
    const opts = typeof options === 'object' ? options : options === undefined ? undefined : { ttl: options };
    validateSetOptions(opts, 'set');
    const fullKey = this.fullKey(key);
    await this.commit(fullKey, this.prepare(fullKey, value, opts), true);
  }

  /**
   * The value of `key`, loading it with `loader` on a miss and caching it. Concurrent misses of one key share
   * one loader call (one per fleet with a `lock`). A stale value in grace covers for a loader that fails or
   * passes `softTimeoutMs`, and is refreshed in the background.
   */
  getOrSet<T>(key: string, loader: CacheLoader<T>, options?: GetOrSetOptions): Promise<T> {
    if (typeof loader !== 'function') return Promise.reject(new TypeError('getOrSet: loader must be a function'));
    const fullKey = this.fullKey(key);
    const rt = this.rt;
    const hit = this.memoryHit(fullKey);
    if (hit !== undefined) return Promise.resolve(hit.entry.value as T);
    const pending = rt.inflight.get(fullKey);
    if (pending !== undefined) {
      rt.counters.coalesced++;
      return pending as Promise<T>;
    }
    try {
      validateGetOrSetOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const load = this.resolveMiss(fullKey, key, loader, options).finally(() => rt.inflight.delete(fullKey));
    rt.inflight.set(fullKey, load);
    return load;
  }

  /**
   * Deletes `key` from every layer and from other instances' L1. A key ending in `*` deletes every key with
   * that prefix (`'non-critical:*'`). Resolves once remote layers answered or passed their soft timeout.
   */
  async delete(key: string): Promise<void> {
    if (typeof key !== 'string') throw new TypeError('delete: key must be a string');
    if (key.endsWith('*')) {
      await this.deletePrefix(this.fullKey(key.slice(0, -1)));
      return;
    }
    await this.deleteMany([key]);
  }

  /** Deletes several keys (no patterns). */
  async deleteMany(keys: readonly string[]): Promise<void> {
    const fullKeys = keys.map((key) => this.fullKey(key));
    const rt = this.rt;
    this.invalidated({ k: fullKeys });
    for (const fullKey of fullKeys) rt.memory?.delete(fullKey);
    await Promise.all(rt.remotes.map((remote) => remote.delete(fullKeys)));
    this.announce({ k: fullKeys });
  }

  /** Deletes every entry written with any of `tags`, in every layer and other instances' L1. */
  async deleteByTag(...tags: string[]): Promise<void> {
    const rt = this.rt;
    await Promise.all(
      tags.map(async (tag) => {
        const tagKey = this.tagKey(tag);
        this.invalidated({ t: tagKey });
        rt.memory?.deleteByTag(tagKey);
        await Promise.all(rt.remotes.map((remote) => remote.deleteByTag(tagKey)));
        this.announce({ t: tagKey });
      }),
    );
  }

  /** Deletes every key of this cache (or of this namespace), in every layer and other instances' L1. */
  async clear(): Promise<void> {
    await this.deletePrefix(this.keyPrefix);
  }

  /**
   * Loads the warming entries (or `entries`) and writes them. Never rejects: failures are reported in the
   * result and the `warmed` event.
   */
  async warm(entries: readonly WarmEntry[] = this.rt.warm?.entries ?? []): Promise<{ loaded: string[]; failed: { key: string; error: unknown }[] }> {
    const loaded: string[] = [];
    const failed: { key: string; error: unknown }[] = [];
    const queue = [...entries];
    const worker = async (): Promise<void> => {
      for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
        try {
          const value = await entry.loader();
          const opts: CacheSetOptions = {};
          if (entry.ttl !== undefined) opts.ttl = entry.ttl;
          if (entry.grace !== undefined) opts.grace = entry.grace;
          if (entry.tags !== undefined) opts.tags = entry.tags;
          validateSetOptions(opts, `warm entry "${entry.key}"`);
          const fullKey = this.fullKey(entry.key);
          await this.commit(fullKey, this.prepare(fullKey, value, opts), true);
          loaded.push(entry.key);
        } catch (error) {
          failed.push({ key: entry.key, error });
        }
      }
    };
    const concurrency = Math.max(1, Math.min(this.rt.warm?.concurrency ?? 4, queue.length));
    await Promise.all(Array.from({ length: concurrency }, worker));
    const result = { loaded, failed };
    this.rt.events.emit('warmed', result);
    return result;
  }

  /** Warms on start (unless `warm.onStart` is false) and starts the warming schedule. */
  async start(): Promise<void> {
    if (this.rt.started) return;
    this.rt.started = true;
    this.rt.schedule?.start();
    if (this.rt.warm !== undefined && this.rt.warm.onStart !== false) await this.warm();
  }

  /**
   * Stops the warming schedule and leaves the bus. Layers' connections belong to the caller and stay open.
   * On a namespace view it does nothing: the cache it belongs to owns the bus and the schedule.
   */
  close(): Promise<void> {
    const rt = this.rt;
    if (this.keyPrefix !== rt.prefix) return Promise.resolve();
    for (const remote of rt.remotes) remote.dispose();
    rt.started = false;
    rt.schedule?.stop();
    for (const unsubscribe of rt.unsubscribes.splice(0)) unsubscribe();
    return Promise.resolve();
  }

  /** Counters per cache and per layer. */
  getMetrics(): CacheMetrics {
    const rt = this.rt;
    const c = rt.counters;
    const lookups = c.hits + c.misses + c.staleHits;
    const memoryLookups = c.memoryHits + c.memoryMisses + c.memoryStale;
    const layers: CacheLayerMetrics[] = [];
    if (rt.memory !== undefined) {
      layers.push({
        name: 'memory',
        state: 'memory',
        hits: c.memoryHits,
        misses: c.memoryMisses,
        staleHits: c.memoryStale,
        hitRate: memoryLookups === 0 ? 0 : c.memoryHits / memoryLookups,
        errors: 0,
        softTimeouts: 0,
        skipped: 0,
        pendingResync: 0,
        latency: { count: 0, mean: 0, p50: 0, p99: 0 },
      });
    }
    for (const remote of rt.remotes) layers.push(remote.metrics());
    return {
      name: rt.name,
      hits: c.hits,
      misses: c.misses,
      staleHits: c.staleHits,
      hitRate: lookups === 0 ? 0 : c.hits / lookups,
      loads: c.loads,
      loadErrors: c.loadErrors,
      coalesced: c.coalesced,
      epoch: rt.epoch,
      memoryEntries: rt.memory?.size ?? 0,
      layers,
    };
  }

  /**
   * The seed's `healthCheck()`: `healthy` when every remote layer's circuit is closed, `degraded` when some
   * are bypassed (the cache still answers from the others, L1 and loaders), with per-layer metrics.
   */
  healthCheck(): { status: 'healthy' | 'degraded'; layers: CacheLayerMetrics[] } {
    const layers = this.getMetrics().layers;
    const down = this.rt.remotes.some((remote) => !remote.available);
    return { status: down ? 'degraded' : 'healthy', layers };
  }

  // --- internals -------------------------------------------------------------------------------------

  private fullKey(key: string): string {
    if (typeof key !== 'string') throw new TypeError(`cache key must be a string, received ${typeof key}`);
    return this.keyPrefix + key;
  }

  /**
   * Wall-clock time for entry timestamps, which other processes compare with theirs: the clock's exact time
   * plus an offset to `Date.now()` refreshed once a second (the system clock is monotonic and drifts from the
   * wall clock over days; an injected clock is used as is).
   */
  private exactTime(): number {
    const rt = this.rt;
    const now = rt.clock.now();
    if (rt.wallClock && now - rt.wallOffsetAt > 1_000) {
      rt.wallOffset = Date.now() - now;
      rt.wallOffsetAt = now;
    }
    return now + rt.wallOffset;
  }

  /** Like {@link exactTime}, a few milliseconds stale at most: for freshness checks, never for deadlines. */
  private coarseTime(): number {
    const rt = this.rt;
    const now = rt.coarseNow();
    if (rt.wallClock && now - rt.wallOffsetAt > 1_000) return this.exactTime() - (rt.clock.now() - now);
    return now + rt.wallOffset;
  }

  private tagKey(tag: string): string {
    if (typeof tag !== 'string' || tag === '') throw new TypeError('cache tags must be non-empty strings');
    // The namespace path is length-prefixed so that no namespace/tag pair can collide with another.
    const ns = this.keyPrefix.slice(this.rt.prefix.length);
    return `${this.rt.prefix}${TAG_SEGMENT}${ns.length}:${ns}${tag}`;
  }

  private countStale(key: string, reason: StaleReason): void {
    this.rt.counters.staleHits++;
    if (this.rt.events.wants('staleServed')) this.rt.events.emit('staleServed', { key, reason });
  }

  /**
   * Finds `fullKey` through the layers. A trusted fresh L1 copy wins; otherwise the remote layers are asked
   * in order, the first value found fills the faster layers. A suspect or capped L1 copy is used only when
   * no remote layer could answer.
   */
  private async lookup(fullKey: string): Promise<Found> {
    const rt = this.rt;
    // Freshness is judged on the coarse clock (a few ms stale at most); deadlines never use it.
    const now = this.coarseTime();
    const record = rt.memory?.get(fullKey);
    let fallback: MemoryRecord | undefined;
    if (record !== undefined) {
      const entry = record.entry;
      if (now >= entry.graceUntil) rt.memory?.delete(fullKey);
      else if (now < entry.expiresAt && now < record.holdUntil && rt.trusted && record.epoch === rt.epoch) {
        rt.counters.memoryHits++;
        rt.counters.hits++;
        return { kind: 'fresh', value: entry.value };
      } else fallback = record;
    }
    if (rt.memory !== undefined) {
      if (fallback !== undefined && now >= fallback.entry.expiresAt) rt.counters.memoryStale++;
      else rt.counters.memoryMisses++;
    }
    let answered = false;
    const seq = rt.invalidationSeq;
    for (let i = 0; i < rt.remotes.length; i++) {
      const remote = rt.remotes[i] as GuardedCacheLayer;
      const text = await remote.get(fullKey);
      if (text === UNAVAILABLE) continue;
      answered = true;
      const entry = text === undefined ? undefined : decodeEntry(text, rt.serializer);
      if (entry === undefined || now >= entry.graceUntil) {
        if (text !== undefined) {
          // Not ours or corrupt: remove it rather than trip over it on every read.
          remote.errors++;
          void remote.delete([fullKey]);
        }
        remote.misses++;
        continue;
      }
      this.fill(fullKey, entry, i, now, text as string, seq);
      if (now < entry.expiresAt) {
        remote.hits++;
        rt.counters.hits++;
        return { kind: 'fresh', value: entry.value };
      }
      remote.staleHits++;
      return { kind: 'stale', entry };
    }
    // Every remote layer is unreachable: the L1 copy is the best answer there is.
    if (fallback !== undefined && !answered) return this.fallback(fullKey, fallback, now);
    return MISS;
  }

  /** An L1 copy that could not be checked against a remote layer: fresh by its TTL, or stale. */
  private fallback(fullKey: string, record: MemoryRecord, now: number): Found {
    if (now < record.entry.expiresAt) {
      if (this.rt.remotes.length > 0) this.countStale(fullKey.slice(this.keyPrefix.length), 'layers-unavailable');
      return { kind: 'fresh', value: record.entry.value };
    }
    return { kind: 'stale', entry: record.entry };
  }

  /**
   * Copies an entry found in remote layer `index` to L1 and to the remote layers above it, unless the key
   * was invalidated while it was being read: the value read may be the one that was removed.
   */
  private fill(fullKey: string, entry: CacheEntry, index: number, now: number, text: string, seq: number): void {
    const rt = this.rt;
    if (rt.invalidationSeq !== seq && this.invalidatedSince(fullKey, seq)) return;
    if (rt.memory !== undefined) this.remember(fullKey, entry, now, rt.sizeOf !== undefined ? rt.sizeOf(entry.value, fullKey) : text.length);
    if (index === 0) return;
    const ttlMs = retentionMs(entry, now);
    const tagKeys = this.tagKeysOf(entry);
    for (let j = 0; j < index; j++) {
      const remote = rt.remotes[j] as GuardedCacheLayer;
      if (remote.available) void remote.set(fullKey, text, ttlMs, tagKeys);
    }
  }

  /** Whether an invalidation since `seq` covers `fullKey` (true when too many happened to tell). */
  private invalidatedSince(fullKey: string, seq: number): boolean {
    const rt = this.rt;
    if (rt.invalidationSeq - seq >= RECENT_INVALIDATIONS) return true;
    for (let s = seq + 1; s <= rt.invalidationSeq; s++) {
      const message = rt.recentInvalidations[s % RECENT_INVALIDATIONS];
      if (message === undefined || covers(message, fullKey)) return true;
    }
    return false;
  }

  /** Entries carry the full keys of their tag sets, so any view of the cache indexes them alike. */
  private tagKeysOf(entry: CacheEntry): readonly string[] {
    return entry.tags ?? [];
  }

  private remember(fullKey: string, entry: CacheEntry, now: number, size: number): void {
    const rt = this.rt;
    rt.memory?.set(fullKey, { entry, epoch: rt.epoch, holdUntil: now + rt.holdMs, tagKeys: entry.tags, size });
  }

  /**
   * Builds what a write stores: the entry and its encoded form. Throws `CacheSerializationError` before
   * anything is written.
   */
  private prepare(fullKey: string, value: unknown, options: CacheSetOptions | undefined): { entry: CacheEntry; text: string; now: number } {
    const rt = this.rt;
    if (fullKey.startsWith(rt.prefix + TAG_SEGMENT)) throw new TypeError(`cache keys starting with "${TAG_SEGMENT}" are reserved for tag sets`);
    const now = this.exactTime();
    const ttlMs = options?.ttl === undefined ? rt.defaults.ttlMs : (cacheDurationMs(options.ttl) as number);
    const graceMs = options?.grace === undefined ? rt.defaults.graceMs : (cacheDurationMs(options.grace) as number);
    const entry = createEntry(value, now, ttlMs, graceMs, options?.tags?.map((tag) => this.tagKey(tag)));
    const needsText = rt.remotes.length > 0 || (rt.measureSize && rt.sizeOf === undefined);
    const text = needsText ? encodeEntry(entry, rt.serializer, fullKey.slice(this.keyPrefix.length)) : '';
    return { entry, text, now };
  }

  /**
   * Writes a prepared entry: L1 at once, then every remote layer; then tells other instances to drop their
   * L1 copy. A write by the application (`byCaller`) also keeps loads of the key in flight from writing
   * their older value over it.
   */
  private async commit(fullKey: string, prepared: { entry: CacheEntry; text: string; now: number }, byCaller: boolean): Promise<void> {
    const rt = this.rt;
    const { entry, text, now } = prepared;
    if (byCaller) this.invalidated({ k: [fullKey] });
    if (rt.memory !== undefined) {
      const size = rt.sizeOf !== undefined ? rt.sizeOf(entry.value, fullKey) : text.length;
      this.remember(fullKey, entry, now, size);
    }
    if (rt.remotes.length > 0) {
      const retention = retentionMs(entry, now);
      const tagKeys = this.tagKeysOf(entry);
      await Promise.all(rt.remotes.map((remote) => remote.set(fullKey, text, retention, tagKeys)));
    }
    this.announce({ k: [fullKey] });
  }

  private async deletePrefix(prefix: string): Promise<void> {
    const rt = this.rt;
    this.invalidated({ p: prefix });
    rt.memory?.deleteByPrefix(prefix);
    await Promise.all(rt.remotes.map((remote) => remote.deleteByPrefix(prefix)));
    this.announce({ p: prefix });
  }

  /** A miss of the L1 fast path: look further, then load (once per key), covering with stale values. */
  private async resolveMiss<T>(fullKey: string, key: string, loader: CacheLoader<T>, options: GetOrSetOptions | undefined): Promise<T> {
    const rt = this.rt;
    const found = await this.lookup(fullKey);
    if (found.kind === 'fresh') return found.value as T;
    const stale = found.kind === 'stale' ? (found.entry as CacheEntry<T>) : undefined;
    if (stale !== undefined) {
      if (rt.loads.has(fullKey)) {
        this.countStale(key, 'refreshing');
        return stale.value;
      }
      if (options?.staleWhileRevalidate === true) {
        this.countStale(key, 'revalidate');
        void this.loadWithLock(fullKey, key, loader, stale, options).catch(() => {
          // Reported through the loaderError event.
        });
        return stale.value;
      }
    }
    rt.counters.misses++;
    return this.loadWithLock(fullKey, key, loader, stale, options);
  }

  private async loadWithLock<T>(fullKey: string, key: string, loader: CacheLoader<T>, stale: CacheEntry<T> | undefined, options: GetOrSetOptions | undefined): Promise<T> {
    const rt = this.rt;
    // Registered before the lock is asked for, so concurrent stale callers see the refresh under way.
    const token = this.beginLoad(fullKey);
    let lease: LockLease | undefined;
    try {
      if (rt.lock !== undefined && options?.lock !== false && rt.remotes.some((remote) => remote.available)) {
        const hardMs = options?.hardTimeoutMs ?? rt.defaults.hardTimeoutMs;
        const acquired = await this.acquire(fullKey, stale, rt.defaults.lockTtlMs ?? (hardMs === undefined || hardMs === Infinity ? 10_000 : hardMs));
        if (acquired.kind === 'value') {
          this.endLoad(fullKey, token);
          return acquired.value as T;
        }
        if (acquired.kind === 'stale') {
          this.endLoad(fullKey, token);
          this.countStale(key, 'refreshing');
          return (stale as CacheEntry<T>).value;
        }
        lease = acquired.lease;
      }
    } catch (error) {
      this.endLoad(fullKey, token);
      throw error;
    }
    return this.load(fullKey, key, loader, stale, options, lease, token);
  }

  private beginLoad(fullKey: string): LoadToken {
    return track(this.rt.loads, fullKey);
  }

  private endLoad(fullKey: string, token: LoadToken): void {
    untrack(this.rt.loads, fullKey, token);
  }

  /**
   * Records an invalidation: read-throughs started before it will not fill L1, and loads of the keys it
   * covers will not write their (older) value. A tag invalidation covers every load in flight (their tags
   * are not known yet).
   */
  private invalidated(message: InvalidationMessage): void {
    const rt = this.rt;
    rt.invalidationSeq++;
    rt.recentInvalidations[rt.invalidationSeq % RECENT_INVALIDATIONS] = message;
    if (rt.loads.size === 0) return;
    for (const [key, tokens] of rt.loads) if (covers(message, key)) for (const token of tokens) token.invalidated = true;
  }

  /**
   * Takes the fleet lock for `fullKey`. While another instance holds it, a stale value is served at once;
   * otherwise the remote layers are polled for the value it is loading until the lock frees or `waitMs`
   * passes (then this instance loads anyway: availability first). A lock backend that fails or is slower
   * than `acquireTimeoutMs` never blocks: the load goes ahead without the lock.
   */
  private async acquire(
    fullKey: string,
    stale: CacheEntry | undefined,
    ttlMs: number,
  ): Promise<{ kind: 'lease'; lease: LockLease | undefined } | { kind: 'value'; value: unknown } | { kind: 'stale' }> {
    const rt = this.rt;
    const deadline = rt.clock.now() + rt.defaults.lockWaitMs;
    for (;;) {
      const attempt = await this.tryLock(fullKey, ttlMs);
      if (attempt === 'unavailable') return { kind: 'lease', lease: undefined };
      if (attempt !== undefined) {
        // Someone may have finished loading between our lookup and the lock.
        const found = await this.lookupRemote(fullKey);
        if (found !== undefined) {
          void attempt.release().catch(() => {});
          return { kind: 'value', value: found };
        }
        return { kind: 'lease', lease: attempt };
      }
      if (stale !== undefined) return { kind: 'stale' };
      if (rt.clock.now() >= deadline) return { kind: 'lease', lease: undefined };
      await sleep(rt.clock, Math.min(rt.defaults.lockPollMs, Math.max(1, deadline - rt.clock.now())));
      const found = await this.lookupRemote(fullKey);
      if (found !== undefined) return { kind: 'value', value: found };
    }
  }

  /** One lock attempt bounded by `acquireTimeoutMs`; a lease granted after that is released at once. */
  private tryLock(fullKey: string, ttlMs: number): Promise<LockLease | undefined | 'unavailable'> {
    const rt = this.rt;
    const lock = rt.lock as DistributedLock;
    return new Promise((resolve) => {
      let answered = false;
      const timer = rt.clock.schedule(() => {
        answered = true;
        resolve('unavailable');
      }, rt.defaults.lockAcquireTimeoutMs);
      let pending: Promise<LockLease | undefined>;
      try {
        pending = lock.tryAcquire(fullKey, ttlMs);
      } catch {
        timer.cancel();
        resolve('unavailable');
        return;
      }
      pending.then(
        (lease) => {
          timer.cancel();
          if (answered) void lease?.release().catch(() => {});
          else resolve(lease);
        },
        () => {
          timer.cancel();
          if (!answered) resolve('unavailable');
        },
      );
    });
  }

  /** A fresh value of `fullKey` from the remote layers only (filling L1), or `undefined`. */
  private async lookupRemote(fullKey: string): Promise<unknown> {
    const rt = this.rt;
    const now = this.coarseTime();
    const seq = rt.invalidationSeq;
    for (let i = 0; i < rt.remotes.length; i++) {
      const text = await (rt.remotes[i] as GuardedCacheLayer).get(fullKey);
      if (text === UNAVAILABLE || text === undefined) continue;
      const entry = decodeEntry(text, rt.serializer);
      if (entry === undefined || now >= entry.expiresAt) continue;
      this.fill(fullKey, entry, i, now, text, seq);
      return entry.value;
    }
    return undefined;
  }

  /**
   * Runs the loader with its timeouts; writes its value unless the key was invalidated meanwhile; covers
   * with `stale` on failure or soft timeout. The lease is released once the value is written.
   */
  private load<T>(
    fullKey: string,
    key: string,
    loader: CacheLoader<T>,
    stale: CacheEntry<T> | undefined,
    options: GetOrSetOptions | undefined,
    lease: LockLease | undefined,
    token: LoadToken,
  ): Promise<T> {
    const rt = this.rt;
    const softMs = options?.softTimeoutMs ?? rt.defaults.softTimeoutMs;
    const hardOption = options?.hardTimeoutMs ?? rt.defaults.hardTimeoutMs;
    const hardMs = hardOption === Infinity ? undefined : hardOption;
    rt.counters.loads++;
    const controller = new AbortController();
    const release = (): void => {
      if (lease !== undefined) void lease.release().catch(() => {});
    };
    return new Promise<T>((resolve, reject) => {
      let answered = false;
      let done = false;
      const answer = (settle: () => void): void => {
        if (answered) return;
        answered = true;
        settle();
      };
      const finish = (): void => {
        done = true;
        softTimer?.cancel();
        hardTimer?.cancel();
        this.endLoad(fullKey, token);
      };
      const fail = (error: unknown): void => {
        if (done) return;
        finish();
        release();
        rt.counters.loadErrors++;
        if (rt.events.wants('loaderError')) rt.events.emit('loaderError', { key, error });
        if (stale !== undefined && this.exactTime() < stale.graceUntil) {
          answer(() => {
            this.countStale(key, error instanceof TimeoutError ? 'loader-timeout' : 'loader-error');
            resolve(stale.value);
          });
        } else answer(() => reject(error));
      };
      const softTimer =
        stale !== undefined && softMs !== undefined
          ? rt.clock.schedule(() => {
              answer(() => {
                this.countStale(key, 'loader-timeout');
                resolve(stale.value);
              });
            }, softMs)
          : undefined;
      const hardTimer =
        hardMs !== undefined
          ? rt.clock.schedule(() => {
              const error = new TimeoutError(hardMs);
              controller.abort(error);
              fail(error);
            }, hardMs)
          : undefined;
      let result: T | Promise<T>;
      try {
        result = loader({ key, signal: controller.signal, stale: stale?.value });
      } catch (error) {
        fail(error);
        return;
      }
      Promise.resolve(result).then(
        (value) => {
          if (done) return;
          if (token.invalidated) {
            // The key was written or deleted while this value was being loaded: it is older than that
            // change, so the caller gets it but the cache does not.
            finish();
            release();
            answer(() => resolve(value));
            return;
          }
          let prepared: { entry: CacheEntry; text: string; now: number };
          try {
            prepared = this.prepare(fullKey, value, options);
          } catch (error) {
            fail(error);
            return;
          }
          finish();
          // The caller has its value now; remote writes finish in the background (failures are counted),
          // and the lease is held until they have.
          answer(() => resolve(value));
          this.commit(fullKey, prepared, false).then(release, release);
        },
        (error: unknown) => fail(error),
      );
    });
  }

  /**
   * Announces an invalidation on the bus. While the bus is down (or a publish fails) it is kept, up to 1000,
   * and announced when the bus is back; past that, the whole cache prefix is announced instead.
   */
  private announce(message: InvalidationMessage): void {
    const rt = this.rt;
    const bus = rt.bus;
    if (bus === undefined) return;
    if (!bus.connected) {
      this.keepUnannounced(message);
      return;
    }
    bus.publish(rt.channel, message).catch(() => this.keepUnannounced(message));
  }

  private keepUnannounced(message: InvalidationMessage): void {
    const rt = this.rt;
    if (rt.unannouncedOverflow) return;
    if (rt.unannounced.length >= 1_000) {
      rt.unannounced = [];
      rt.unannouncedOverflow = true;
    } else rt.unannounced.push(message);
  }

  private flushUnannounced(): void {
    const rt = this.rt;
    const pending = rt.unannouncedOverflow ? [{ p: rt.prefix }] : rt.unannounced;
    rt.unannounced = [];
    rt.unannouncedOverflow = false;
    for (const message of pending) this.announce(message);
  }

  private listen(bus: Bus): void {
    const rt = this.rt;
    rt.unsubscribes.push(
      bus.subscribe(rt.channel, (message) => {
        if (typeof message !== 'object' || message === null) return;
        const m = message as InvalidationMessage;
        const keys = Array.isArray(m.k) ? m.k.filter((key): key is string => typeof key === 'string') : undefined;
        const valid: InvalidationMessage = {
          ...(keys === undefined ? {} : { k: keys }),
          ...(typeof m.p === 'string' ? { p: m.p } : {}),
          ...(typeof m.t === 'string' ? { t: m.t } : {}),
        };
        this.invalidated(valid);
        const memory = rt.memory;
        if (valid.k !== undefined) for (const key of valid.k) memory?.delete(key);
        if (valid.p !== undefined) memory?.deleteByPrefix(valid.p);
        if (valid.t !== undefined) memory?.deleteByTag(valid.t);
        // Layers private to this instance hold copies the sender could not reach.
        for (const local of rt.localLayers) {
          if (valid.k !== undefined && valid.k.length > 0) void local.delete(valid.k);
          if (valid.p !== undefined) void local.deleteByPrefix(valid.p);
          if (valid.t !== undefined) void local.deleteByTag(valid.t);
        }
      }),
      bus.onStatusChange((status) => {
        rt.trusted = status === 'connected';
        rt.epoch++;
        rt.events.emit('busStatus', { connected: rt.trusted, epoch: rt.epoch });
        if (status === 'connected') this.flushUnannounced();
      }),
    );
  }
}

/** Whether an invalidation covers `key` (a tag invalidation covers every key: tags are not known here). */
function covers(message: InvalidationMessage, key: string): boolean {
  return (message.k !== undefined && message.k.includes(key)) || (message.p !== undefined && key.startsWith(message.p)) || message.t !== undefined;
}

/** Registers an operation in flight on `key`; an invalidation of the key marks its token. */
function track(pending: Map<string, Set<LoadToken>>, key: string): LoadToken {
  const token: LoadToken = { invalidated: false };
  let tokens = pending.get(key);
  if (tokens === undefined) pending.set(key, (tokens = new Set()));
  tokens.add(token);
  return token;
}

function untrack(pending: Map<string, Set<LoadToken>>, key: string, token: LoadToken): void {
  const tokens = pending.get(key);
  if (tokens === undefined) return;
  tokens.delete(token);
  if (tokens.size === 0) pending.delete(key);
}

function validateDuration(v: OptionsValidator, path: string, value: unknown): void {
  if (value !== undefined && cacheDurationMs(value) === undefined) v.fail(path, CACHE_DURATION_EXPECTED, value);
}

function validateSetOptions(options: CacheSetOptions | undefined, where: string, validator?: OptionsValidator): void {
  if (options === undefined) return;
  const v = validator ?? new OptionsValidator(`MultiLayerCache ${where}`);
  validateDuration(v, 'ttl', options.ttl);
  validateDuration(v, 'grace', options.grace);
  if (options.tags !== undefined && (!Array.isArray(options.tags) || options.tags.some((t) => typeof t !== 'string' || t === ''))) {
    v.fail('tags', 'an array of non-empty strings', options.tags);
  }
  if (validator === undefined) v.throwIfInvalid();
}

function validateGetOrSetOptions(options: GetOrSetOptions | undefined): void {
  if (options === undefined) return;
  const v = new OptionsValidator('MultiLayerCache getOrSet');
  validateSetOptions(options, 'getOrSet', v);
  v.duration('softTimeoutMs', options.softTimeoutMs);
  v.number('hardTimeoutMs', options.hardTimeoutMs, { minExclusive: 0, allowInfinity: true });
  v.boolean('staleWhileRevalidate', options.staleWhileRevalidate);
  v.boolean('lock', options.lock);
  v.throwIfInvalid();
}

function validateGuard(v: OptionsValidator, path: string, guard: LayerGuardOptions | undefined): void {
  if (!v.object(path, guard) || guard === undefined) return;
  v.duration(`${path}.softTimeoutMs`, guard.softTimeoutMs, true);
  v.duration(`${path}.hardTimeoutMs`, guard.hardTimeoutMs, true);
  v.integer(`${path}.maxResyncKeys`, guard.maxResyncKeys, 0);
  v.object(`${path}.breaker`, guard.breaker);
  if (guard.softTimeoutMs !== undefined && guard.hardTimeoutMs !== undefined && guard.hardTimeoutMs < guard.softTimeoutMs) {
    v.fail(`${path}.hardTimeoutMs`, `a duration >= softTimeoutMs (${guard.softTimeoutMs})`, guard.hardTimeoutMs);
  }
}

function validateOptions(options: MultiLayerCacheOptions): void {
  const v = new OptionsValidator('MultiLayerCache');
  if (typeof options !== 'object' || options === null) {
    v.fail('options', 'an object', options);
    v.throwIfInvalid();
  }
  v.string('name', options.name);
  v.string('prefix', options.prefix);
  if (options.memory !== undefined && options.memory !== false && v.object('memory', options.memory)) {
    v.integer('memory.maxEntries', options.memory.maxEntries, 1);
    v.integer('memory.maxSizeBytes', options.memory.maxSizeBytes, 1);
    v.func('memory.sizeOf', options.memory.sizeOf);
    validateDuration(v, 'memory.ttl', options.memory.ttl);
  }
  if (options.layers !== undefined) {
    if (!Array.isArray(options.layers)) v.fail('layers', 'an array of cache layers', options.layers);
    else {
      const names = new Set<string>();
      options.layers.forEach((layer: CacheLayer, index: number) => {
        const ok = typeof layer === 'object' && layer !== null && ['get', 'set', 'delete', 'deleteByPrefix', 'deleteByTag'].every((m) => typeof (layer as unknown as Record<string, unknown>)[m] === 'function');
        if (!ok) v.fail(`layers[${index}]`, 'a CacheLayer (get, set, delete, deleteByPrefix, deleteByTag)', layer);
        else if (typeof layer.name !== 'string' || names.has(layer.name)) v.fail(`layers[${index}].name`, 'a name unique among the layers', layer.name);
        else names.add(layer.name);
      });
    }
  }
  validateGuard(v, 'remote', options.remote);
  if (options.remoteByLayer !== undefined && v.object('remoteByLayer', options.remoteByLayer)) {
    for (const [name, guard] of Object.entries(options.remoteByLayer)) validateGuard(v, `remoteByLayer.${name}`, guard);
  }
  validateDuration(v, 'ttl', options.ttl);
  validateDuration(v, 'grace', options.grace);
  if (v.object('loader', options.loader) && options.loader !== undefined) {
    v.duration('loader.softTimeoutMs', options.loader.softTimeoutMs);
    v.number('loader.hardTimeoutMs', options.loader.hardTimeoutMs, { minExclusive: 0, allowInfinity: true });
  }
  if (options.localLayers !== undefined) {
    const names = new Set((options.layers ?? []).map((layer) => layer?.name));
    if (!Array.isArray(options.localLayers) || options.localLayers.some((name) => !names.has(name))) {
      v.fail('localLayers', 'names of layers given in `layers`', options.localLayers);
    }
  }
  if (options.bus !== undefined && (typeof options.bus !== 'object' || options.bus === null || typeof options.bus.publish !== 'function' || typeof options.bus.subscribe !== 'function')) {
    v.fail('bus', 'a Bus (publish, subscribe, onStatusChange)', options.bus);
  }
  if (options.lock !== undefined && (typeof options.lock !== 'object' || options.lock === null || typeof options.lock.tryAcquire !== 'function')) {
    v.fail('lock', 'a DistributedLock (tryAcquire)', options.lock);
  }
  if (v.object('lockOptions', options.lockOptions) && options.lockOptions !== undefined) {
    v.duration('lockOptions.ttlMs', options.lockOptions.ttlMs, true);
    v.duration('lockOptions.waitMs', options.lockOptions.waitMs);
    v.duration('lockOptions.pollMs', options.lockOptions.pollMs, true);
    v.duration('lockOptions.acquireTimeoutMs', options.lockOptions.acquireTimeoutMs, true);
  }
  if (options.serializer !== undefined && (typeof options.serializer?.serialize !== 'function' || typeof options.serializer?.deserialize !== 'function')) {
    v.fail('serializer', 'a Serializer (serialize, deserialize)', options.serializer);
  }
  if (v.object('warm', options.warm) && options.warm !== undefined) {
    const warm = options.warm;
    if (!Array.isArray(warm.entries)) v.fail('warm.entries', 'an array of { key, loader }', warm.entries);
    else
      warm.entries.forEach((entry, index) => {
        if (typeof entry?.key !== 'string') v.fail(`warm.entries[${index}].key`, 'a string', entry?.key);
        if (typeof entry?.loader !== 'function') v.fail(`warm.entries[${index}].loader`, 'a function', entry?.loader);
        validateDuration(v, `warm.entries[${index}].ttl`, entry?.ttl);
        validateDuration(v, `warm.entries[${index}].grace`, entry?.grace);
      });
    v.boolean('warm.onStart', warm.onStart);
    v.string('warm.timezone', warm.timezone);
    v.integer('warm.concurrency', warm.concurrency, 1);
    if (typeof warm.cron === 'string') {
      try {
        new CronSchedule(warm.cron, warm.timezone, systemClock, () => Promise.resolve());
      } catch (error) {
        v.fail('warm.cron', `a valid cron pattern (${error instanceof Error ? error.message : String(error)})`, warm.cron);
      }
    } else v.string('warm.cron', warm.cron);
  }
  v.clock('clock', options.clock);
  v.throwIfInvalid();
}
