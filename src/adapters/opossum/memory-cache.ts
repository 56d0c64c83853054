import type { Clock } from '../../core/clock.js';

/**
 * Where `options.cache` keeps results: opossum's cache transport contract. `set` receives the action's
 * result promise and an absolute expiry time in clock milliseconds (`0` for never); `get` returns a
 * truthy value on a hit, which `fire()` resolves with.
 */
export interface CacheTransport {
  /** The cached value for `key`, or a falsy value on a miss. */
  get(key: string): unknown;
  /** Stores `value` under `key` until `expiresAt` (clock ms since the epoch; 0 = no expiry). */
  set(key: string, value: unknown, expiresAt: number): void;
  /** Removes every entry. */
  flush(): void;
}

interface Entry {
  expiresAt: number;
  value: unknown;
}

/**
 * The default {@link CacheTransport}: a `Map` bounded to `maxEntries` (the oldest insertion is evicted
 * first), with expiry checked lazily on `get` against the injected clock (no timer).
 */
export class MemoryCache implements CacheTransport {
  private readonly entries = new Map<unknown, Entry>();

  /**
   * @param clock time source for expiry.
   * @param maxEntries largest number of entries kept. @default 2 ** 24 - 1 (the most a Map holds)
   */
  constructor(
    private readonly clock: Clock,
    readonly maxEntries = 2 ** 24 - 1,
  ) {}

  get(key: unknown): unknown {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt === 0 || entry.expiresAt > this.clock.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: unknown, value: unknown, expiresAt: number): void {
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { expiresAt, value });
  }

  /** Removes `key`; with `value`, only when that is still the stored value. */
  delete(key: unknown, value?: unknown): void {
    if (value !== undefined && this.entries.get(key)?.value !== value) return;
    this.entries.delete(key);
  }

  flush(): void {
    this.entries.clear();
  }

  /** Number of entries held (expired ones included until read). */
  get size(): number {
    return this.entries.size;
  }
}
