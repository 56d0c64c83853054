import type { CacheEntry } from './cache-entry.js';
import { CacheSerializationError, UnserializableValueError, type Serializer } from './serializer.js';

const MAGIC = 'af1';

/**
 * Encodes an entry for a remote layer: `af1` + a JSON header `[createdAt, expiresAt, graceUntil, tags]`
 * (`null` for `Infinity`) + a newline + the serialized value. Throws {@link CacheSerializationError}.
 */
export function encodeEntry(entry: CacheEntry, serializer: Serializer, key: string): string {
  let body: string;
  try {
    body = serializer.serialize(entry.value);
  } catch (error) {
    const path = error instanceof UnserializableValueError ? error.path : pathOf(error);
    const detail = error instanceof Error ? error.message : String(error);
    throw new CacheSerializationError(key, path, detail, { cause: error });
  }
  const header = [entry.createdAt, finite(entry.expiresAt), finite(entry.graceUntil), entry.tags ?? 0];
  return `${MAGIC}${JSON.stringify(header)}\n${body}`;
}

/** Decodes what {@link encodeEntry} produced; `undefined` for anything else (a foreign or corrupt value). */
export function decodeEntry(text: string, serializer: Serializer): CacheEntry | undefined {
  if (!text.startsWith(MAGIC)) return undefined;
  const newline = text.indexOf('\n');
  if (newline < 0) return undefined;
  try {
    const header = JSON.parse(text.slice(MAGIC.length, newline)) as unknown;
    if (!Array.isArray(header) || header.length !== 4 || typeof header[0] !== 'number') return undefined;
    const tags = header[3] === 0 ? undefined : (header[3] as string[]);
    return {
      value: serializer.deserialize(text.slice(newline + 1)),
      createdAt: header[0],
      expiresAt: (header[1] as number | null) ?? Infinity,
      graceUntil: (header[2] as number | null) ?? Infinity,
      tags,
    };
  } catch {
    return undefined;
  }
}

function finite(value: number): number | null {
  return value === Infinity ? null : value;
}

function pathOf(error: unknown): string {
  const path = (error as { path?: unknown } | null)?.path;
  return typeof path === 'string' ? path : '';
}
