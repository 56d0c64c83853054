import { systemClock, type Clock } from '../core/clock.js';
import type { CacheLayer } from './cache-layer.js';

/** Options of {@link InMemoryCacheLayer}. */
export interface InMemoryCacheLayerOptions {
  /** @default 'in-memory' */
  name?: string;
  /** Time source for expiry. @default systemClock */
  clock?: Clock;
}

/**
 * A {@link CacheLayer} kept in a `Map` with expiry on the clock: a stand-in for Redis in tests and
 * single-process tools. Two caches given the same instance behave like two instances sharing one Redis.
 * It is unbounded apart from expiry; do not use it as a production L1 (that is the memory layer's job).
 */
export class InMemoryCacheLayer implements CacheLayer {
  readonly name: string;
  private readonly clock: Clock;
  private readonly values = new Map<string, { value: string; expiresAt: number }>();
  private readonly tags = new Map<string, { keys: Set<string>; expiresAt: number }>();

  constructor(options: InMemoryCacheLayerOptions = {}) {
    this.name = options.name ?? 'in-memory';
    this.clock = options.clock ?? systemClock;
  }

  /** Number of live keys. */
  get size(): number {
    this.purge();
    return this.values.size;
  }

  get(key: string): Promise<string | undefined> {
    const found = this.values.get(key);
    if (found === undefined) return Promise.resolve(undefined);
    if (found.expiresAt <= this.clock.now()) {
      this.values.delete(key);
      return Promise.resolve(undefined);
    }
    return Promise.resolve(found.value);
  }

  set(key: string, value: string, ttlMs: number, tagKeys: readonly string[]): Promise<void> {
    const expiresAt = this.clock.now() + ttlMs;
    this.values.set(key, { value, expiresAt });
    for (const tagKey of tagKeys) {
      const tag = this.tags.get(tagKey);
      if (tag === undefined) this.tags.set(tagKey, { keys: new Set([key]), expiresAt });
      else {
        tag.keys.add(key);
        tag.expiresAt = Math.max(tag.expiresAt, expiresAt);
      }
    }
    return Promise.resolve();
  }

  delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.values.delete(key);
    return Promise.resolve();
  }

  deleteByPrefix(prefix: string): Promise<number> {
    let count = 0;
    for (const key of [...this.values.keys()]) {
      if (key.startsWith(prefix)) {
        this.values.delete(key);
        count++;
      }
    }
    for (const key of [...this.tags.keys()]) if (key.startsWith(prefix)) this.tags.delete(key);
    return Promise.resolve(count);
  }

  deleteByTag(tagKey: string): Promise<number> {
    const tag = this.tags.get(tagKey);
    this.tags.delete(tagKey);
    if (tag === undefined) return Promise.resolve(0);
    let count = 0;
    for (const key of tag.keys) if (this.values.delete(key)) count++;
    return Promise.resolve(count);
  }

  private purge(): void {
    const now = this.clock.now();
    for (const [key, found] of this.values) if (found.expiresAt <= now) this.values.delete(key);
    for (const [key, tag] of this.tags) if (tag.expiresAt <= now) this.tags.delete(key);
  }
}
