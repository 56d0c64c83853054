import type { EventEmitter } from '../core/events.js';
import type { StoreEvents } from './store.js';

const BRAND = Symbol.for('antifragile.StoreError');

/** Stable codes of a {@link StoreError}. */
export type StoreErrorCode = 'STORE_OPEN_FAILED' | 'STORE_CLOSED' | 'STORE_WRITE_FAILED' | 'STORE_INVALID_RECORD';

/**
 * Raised by a store: at open when the file cannot be opened, is not a database or was written by a newer
 * schema (`STORE_OPEN_FAILED`, thrown); for writes after `close()` (`STORE_CLOSED`), records refused because a
 * required field is missing or not storable, e.g. a `NaN` number (`STORE_INVALID_RECORD`), and failed
 * writes (`STORE_WRITE_FAILED`), reported through the store's `error` event and never thrown.
 */
export class StoreError extends Error {
  /** Stable machine-readable code. */
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}
Object.defineProperty(StoreError.prototype, 'name', { value: 'StoreError', writable: true, configurable: true });
Object.defineProperty(StoreError.prototype, BRAND, { value: true });

/** Whether `error` is a {@link StoreError} (also from another copy of the package). */
export function isStoreError(error: unknown): error is StoreError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Emits a store `error` event, or a process warning when nobody listens, so no failure goes unseen.
 * @internal
 */
export function reportStoreError(events: EventEmitter<StoreEvents>, payload: StoreEvents['error']): void {
  if (events.wants('error')) {
    events.emit('error', payload);
    return;
  }
  const detail = payload.error instanceof Error ? payload.error.message : String(payload.error);
  process.emitWarning(`Store ${payload.operation} failed (${payload.droppedRows} rows dropped): ${detail}`, {
    code: 'ANTIFRAGILE_STORE_ERROR',
  });
}
