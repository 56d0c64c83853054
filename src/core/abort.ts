import type { Clock } from './clock.js';

/** A signal that never aborts; the default when a caller passes none. Shared, so it costs nothing per call. */
export const neverAbortedSignal: AbortSignal = new AbortController().signal;

/** Throws `signal.reason` if `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/**
 * An AbortController that also aborts when `parent` does. Call `dispose()` when done: it removes the
 * listener placed on the parent, so long-lived parent signals never accumulate listeners.
 */
export class LinkedAbortController extends AbortController {
  private parent: AbortSignal | undefined;
  private readonly onParentAbort = (): void => {
    this.abort(this.parent?.reason);
  };

  constructor(parent?: AbortSignal) {
    super();
    if (parent === undefined || parent === neverAbortedSignal) return;
    if (parent.aborted) {
      this.abort(parent.reason);
      return;
    }
    this.parent = parent;
    parent.addEventListener('abort', this.onParentAbort, { once: true });
  }

  /** Detaches from the parent signal. Idempotent. */
  dispose(): void {
    if (this.parent !== undefined) {
      this.parent.removeEventListener('abort', this.onParentAbort);
      this.parent = undefined;
    }
  }
}

/**
 * Resolves after `ms` on `clock`, or rejects with `signal.reason` as soon as `signal` aborts. The pending
 * timer keeps the process alive, as an awaited `setTimeout` would, and the abort listener is always removed.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.schedule(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
