/**
 * A map that holds at most `maxSize` entries, forgetting the least recently used one first: `get` and `set`
 * mark an entry as recently used, `peek` does not. Backed by one `Map` (its insertion order is the recency
 * order), so reads and writes are O(1) and an eviction costs one iterator step.
 *
 * @typeParam K key type.
 * @typeParam V value type.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  /** The most recently used key, when known (reset whenever an operation may have changed it). */
  private newest: K | undefined = undefined;

  /**
   * @param maxSize most entries kept, an integer >= 1.
   * @param onEvict called with an entry forgotten to make room (not for `delete` or `clear`).
   * @throws RangeError when `maxSize` is not an integer >= 1.
   */
  constructor(
    readonly maxSize: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`BoundedMap: maxSize must be an integer >= 1, got ${String(maxSize)}`);
  }

  /** Entries held now (never more than `maxSize`). */
  get size(): number {
    return this.map.size;
  }

  /** The value of `key`, marking it as the most recently used. */
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) return undefined;
    // Re-inserting the newest entry would change nothing but churn the table (a delete leaves a hole that a
    // later rehash collects): a key read many times in a row, one client's burst, costs one lookup each.
    if (key !== this.newest) {
      this.map.delete(key);
      this.map.set(key, value);
      this.newest = key;
    }
    return value;
  }

  /** The value of `key`, leaving its recency alone. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Whether `key` is held. */
  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Stores `value` as the most recently used entry, forgetting the least recently used one if full. */
  set(key: K, value: V): this {
    if (key === this.newest) {
      this.map.set(key, value);
      return this;
    }
    if (this.map.has(key)) this.map.delete(key);
    else if (this.map.size >= this.maxSize) this.evictOldest();
    this.map.set(key, value);
    this.newest = key;
    return this;
  }

  /** Forgets `key`; returns whether it was held. */
  delete(key: K): boolean {
    if (key === this.newest) this.newest = undefined;
    return this.map.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.newest = undefined;
    this.map.clear();
  }

  /** Entries from least to most recently used. */
  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  private evictOldest(): void {
    const oldest = this.map.entries().next();
    if (oldest.done === true) return;
    const [key, value] = oldest.value;
    this.map.delete(key);
    this.onEvict?.(key, value);
  }
}
