import { LRUCache } from 'lru-cache';
import type { CacheEntry } from './cache-entry.js';

/** What the memory layer keeps per key. @internal */
export interface MemoryRecord {
  entry: CacheEntry;
  /** Bus epoch the record was written in; a record of an older epoch is suspect. */
  epoch: number;
  /** The memory layer's own limit on keeping it (the `memory.ttl` cap), clock ms. */
  holdUntil: number;
  /** Full keys of the tag sets the entry belongs to. */
  tagKeys: readonly string[] | undefined;
  /** Bytes counted against `maxSizeBytes`. */
  size: number;
}

/** Options of the memory layer (L1), as given to `MultiLayerCache`'s `memory` option. */
export interface MemoryLayerOptions {
  /** Most entries kept; the least recently used go first. @default 1000 (the seed's l1MaxSize) */
  maxEntries?: number;
  /**
   * Most bytes kept, counted as the serialized length of each value (or `sizeOf`). Off unless set.
   */
  maxSizeBytes?: number;
  /** Size of a value in bytes for `maxSizeBytes`. @default the length of its serialized form */
  sizeOf?: (value: unknown, key: string) => number;
  /**
   * Longest time the memory layer keeps an entry before reading it again from the remote layers, whatever
   * its TTL: bounds how long an instance without a bus can serve a value another instance changed. Seconds
   * or a duration string. @default no cap
   */
  ttl?: number | string;
}

/**
 * The in-process L1: an LRU (lru-cache) bounded by entries and optionally bytes, with a tag index kept in
 * step with evictions. Expiry is judged by the cache on its clock, so the LRU runs no timer.
 * @internal
 */
export class MemoryCacheLayer {
  private readonly lru: LRUCache<string, MemoryRecord>;
  private readonly byTag = new Map<string, Set<string>>();

  constructor(maxEntries: number, maxSizeBytes: number | undefined) {
    this.lru = new LRUCache<string, MemoryRecord>({
      max: maxEntries,
      ...(maxSizeBytes === undefined ? {} : { maxSize: maxSizeBytes, sizeCalculation: (record) => Math.max(1, record.size) }),
      dispose: (record, key) => {
        if (record.tagKeys !== undefined) this.untag(key, record.tagKeys);
      },
    });
  }

  get size(): number {
    return this.lru.size;
  }

  get(key: string): MemoryRecord | undefined {
    return this.lru.get(key);
  }

  set(key: string, record: MemoryRecord): void {
    this.lru.set(key, record);
    // lru-cache refuses an item larger than maxSize (and then never calls dispose for it).
    if (record.tagKeys === undefined || this.lru.peek(key) !== record) return;
    for (const tagKey of record.tagKeys) {
      let keys = this.byTag.get(tagKey);
      if (keys === undefined) this.byTag.set(tagKey, (keys = new Set()));
      keys.add(key);
    }
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  deleteByPrefix(prefix: string): number {
    const doomed: string[] = [];
    for (const key of this.lru.keys()) if (key.startsWith(prefix)) doomed.push(key);
    for (const key of doomed) this.lru.delete(key);
    return doomed.length;
  }

  deleteByTag(tagKey: string): number {
    const keys = this.byTag.get(tagKey);
    if (keys === undefined) return 0;
    const doomed = [...keys];
    for (const key of doomed) this.lru.delete(key);
    this.byTag.delete(tagKey);
    return doomed.length;
  }

  clear(): void {
    this.lru.clear();
    this.byTag.clear();
  }

  private untag(key: string, tagKeys: readonly string[]): void {
    for (const tagKey of tagKeys) {
      const keys = this.byTag.get(tagKey);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) this.byTag.delete(tagKey);
    }
  }
}
