import { parse, stringify } from 'devalue';
import { ResilienceError } from '../core/errors.js';

/** Turns cached values into strings for the remote layers and back. */
export interface Serializer {
  /** Encodes `value`; throws when it cannot be represented. */
  serialize(value: unknown): string;
  /** Decodes what {@link serialize} produced. */
  deserialize(text: string): unknown;
}

/**
 * Raised when a value cannot be cached because the serializer cannot represent it (a function, a class
 * instance, a symbol...). Nothing is written when it is raised. `path` locates the offending part.
 */
export class CacheSerializationError extends ResilienceError {
  /** Cache key of the value. */
  readonly key: string;
  /** Where in the value the problem is (`.items[2].callback`), `''` for the value itself. */
  readonly path: string;
  constructor(key: string, path: string, detail: string, options?: { cause?: unknown }) {
    super('CACHE_SERIALIZATION', `Cannot cache "${key}": ${detail}${path === '' ? '' : ` at ${path}`}`, options);
    this.key = key;
    this.path = path;
  }
}
Object.defineProperty(CacheSerializationError.prototype, 'name', { value: 'CacheSerializationError', writable: true, configurable: true });

/**
 * The default serializer: JSON plus `Date`, `Map`, `Set`, `BigInt`, `RegExp`, `undefined`,
 * `NaN`/`Infinity`/`-0`, typed arrays and repeated or circular references, all round-tripped exactly (with
 * devalue). Functions, symbols and class instances are refused with the path of the offending part.
 * Values that are plain JSON (the common case) are written as JSON and read back with `JSON.parse`, which is
 * several times faster than devalue's reader; the first character of the text says which form it is.
 */
export const richSerializer: Serializer = {
  serialize: (value) => (isPlainJson(value, 0) ? `J${JSON.stringify(value)}` : `D${stringify(value)}`),
  deserialize: (text) => (text.charCodeAt(0) === 74 /* J */ ? (JSON.parse(text.slice(1)) as unknown) : parse(text.slice(1))),
};

/** Whether JSON round-trips `value` exactly (and it is not too deep to check cheaply). */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth > 64) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!(i in value) || !isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      for (const key in value) {
        if (!Object.prototype.hasOwnProperty.call(value, key)) return false;
        if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return Object.getOwnPropertySymbols(value).length === 0;
    }
    default:
      return false;
  }
}

/**
 * Plain `JSON.stringify`/`JSON.parse`, for values shared with non-JavaScript readers. It refuses what JSON
 * would silently change (`Date`, `Map`, `Set`, `BigInt`, `undefined` values, functions, non-finite numbers).
 */
export const jsonSerializer: Serializer = {
  serialize(value) {
    assertPlainJson(value, '');
    return JSON.stringify(value);
  },
  deserialize: (text) => JSON.parse(text) as unknown,
};

/** @internal Thrown by {@link jsonSerializer}, carrying the path of the bad part. */
export class UnserializableValueError extends TypeError {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

function assertPlainJson(value: unknown, path: string): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new UnserializableValueError(`JSON cannot represent ${value}`, path);
      return;
    case 'object':
      if (value === null) return;
      if (Array.isArray(value)) {
        value.forEach((item, index) => assertPlainJson(item, `${path}[${index}]`));
        return;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
        const kind = (value as object).constructor?.name ?? 'object';
        throw new UnserializableValueError(`JSON cannot represent a ${kind} (use the default rich serializer)`, path);
      }
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined) throw new UnserializableValueError('JSON drops undefined values', `${path}.${key}`);
        assertPlainJson(item, `${path}.${key}`);
      }
      return;
    default:
      throw new UnserializableValueError(`JSON cannot represent a ${typeof value}`, path);
  }
}
