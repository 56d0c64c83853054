/**
 * A cached value with its timing. Times are clock milliseconds. An entry is **fresh** until `expiresAt`,
 * then **stale** until `graceUntil` (served only when the loader fails or times out, or with
 * stale-while-revalidate), then gone.
 */
export interface CacheEntry<T = unknown> {
  value: T;
  /** When the value was written. */
  createdAt: number;
  /** End of freshness; `Infinity` for no expiry. */
  expiresAt: number;
  /** End of the grace period (>= `expiresAt`). */
  graceUntil: number;
  /** Full keys of the tag sets the entry belongs to (the cache prefix, namespace and tag). */
  tags: readonly string[] | undefined;
}

/** Builds an entry written at `now` with `ttlMs` of freshness and `graceMs` of grace after it. */
export function createEntry<T>(value: T, now: number, ttlMs: number, graceMs: number, tags?: readonly string[]): CacheEntry<T> {
  const expiresAt = now + ttlMs;
  return { value, createdAt: now, expiresAt, graceUntil: expiresAt + graceMs, tags: tags !== undefined && tags.length > 0 ? tags : undefined };
}

/** Milliseconds a store must keep `entry` from `now` (to the end of its grace), at least 1; `Infinity` for never. */
export function retentionMs(entry: CacheEntry, now: number): number {
  return entry.graceUntil === Infinity ? Infinity : Math.max(1, Math.ceil(entry.graceUntil - now));
}
