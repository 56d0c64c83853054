import type { CacheEntry } from './cache-entry.js';
import { CacheSerializationError, UnserializableValueError, type Serializer } from './serializer.js';

const MAGIC = 'af2 ';

/**
 * Encodes an entry for a remote layer: a header line `af2 <createdAt> <expiresAt> <graceUntil> <tags>`
 * (`-` for `Infinity` or no tags; tags as a JSON array) + a newline + the serialized value. Throws
 * {@link CacheSerializationError}.
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
  const tags = entry.tags === undefined ? '-' : JSON.stringify(entry.tags);
  return `${MAGIC}${entry.createdAt} ${time(entry.expiresAt)} ${time(entry.graceUntil)} ${tags}\n${body}`;
}

/** Decodes what {@link encodeEntry} produced; `undefined` for anything else (a foreign or corrupt value). */
export function decodeEntry(text: string, serializer: Serializer): CacheEntry | undefined {
  if (!text.startsWith(MAGIC)) return undefined;
  const newline = text.indexOf('\n');
  const a = text.indexOf(' ', MAGIC.length);
  const b = a < 0 ? -1 : text.indexOf(' ', a + 1);
  const c = b < 0 ? -1 : text.indexOf(' ', b + 1);
  if (newline < 0 || c < 0 || c > newline) return undefined;
  const createdAt = Number(text.slice(MAGIC.length, a));
  const expiresAt = parseTime(text.slice(a + 1, b));
  const graceUntil = parseTime(text.slice(b + 1, c));
  if (!Number.isFinite(createdAt) || Number.isNaN(expiresAt) || Number.isNaN(graceUntil)) return undefined;
  try {
    const rawTags = text.slice(c + 1, newline);
    const tags = rawTags === '-' ? undefined : (JSON.parse(rawTags) as string[]);
    return { value: serializer.deserialize(text.slice(newline + 1)), createdAt, expiresAt, graceUntil, tags };
  } catch {
    return undefined;
  }
}

function time(value: number): string {
  return value === Infinity ? '-' : String(value);
}

function parseTime(text: string): number {
  return text === '-' ? Infinity : text === '' ? NaN : Number(text);
}

function pathOf(error: unknown): string {
  const path = (error as { path?: unknown } | null)?.path;
  return typeof path === 'string' ? path : '';
}
