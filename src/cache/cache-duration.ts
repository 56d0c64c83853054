/**
 * A cache duration: a number of **seconds** (the seed's and Redis `EX` unit: `{ ttl: 3600 }` is one hour),
 * `Infinity` for "never", or a string with a unit: `'500ms'`, `'30s'`, `'5m'`, `'1h'`, `'7d'`.
 */
export type CacheDuration = number | string;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** What a {@link CacheDuration} option expects, for error messages. */
export const CACHE_DURATION_EXPECTED = "seconds >= 0, Infinity, or a string such as '500ms', '30s', '5m', '1h', '1d'";

/** Converts a {@link CacheDuration} to milliseconds; `undefined` when it is not one. */
export function cacheDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') {
    if (Number.isNaN(value) || value < 0) return undefined;
    return value === Infinity ? Infinity : value * 1_000;
  }
  if (typeof value !== 'string') return undefined;
  const match = PATTERN.exec(value.trim());
  if (match === null) return undefined;
  return Number(match[1]) * (UNITS[match[2] as string] as number);
}
