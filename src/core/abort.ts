import type { Clock } from './clock.js';

/** A signal that never aborts; the default when a caller passes none. Shared, so it costs nothing per call. */
export const neverAbortedSignal: AbortSignal = new AbortController().signal;

/** Callbacks waiting for each signal, behind one native listener per signal. */
const abortCallbacks = new WeakMap<AbortSignal, Set<() => void>>();

function dispatchAbort(this: AbortSignal): void {
  const callbacks = abortCallbacks.get(this);
  if (callbacks === undefined) return;
  abortCallbacks.delete(this);
  for (const callback of callbacks) callback();
}

/**
 * Runs `callback` once when `signal` aborts; returns a function that unsubscribes (idempotent). However
 * many calls wait on one long-lived signal (a server's shutdown signal, a request signal shared by many
 * calls), the signal carries a single native listener, so Node never warns about too many listeners and
 * unsubscribing is O(1). Check `signal.aborted` before subscribing: an already aborted signal never fires.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  if (signal === neverAbortedSignal || signal.aborted) return noop;
  let callbacks = abortCallbacks.get(signal);
  if (callbacks === undefined) {
    callbacks = new Set();
    abortCallbacks.set(signal, callbacks);
    signal.addEventListener('abort', dispatchAbort, { once: true });
  }
  // A wrapper per subscription, so the same callback may be subscribed twice and removed once.
  const entry = (): void => callback();
  callbacks.add(entry);
  return () => {
    const current = abortCallbacks.get(signal);
    if (current === undefined || !current.delete(entry)) return;
    if (current.size === 0) {
      abortCallbacks.delete(signal);
      signal.removeEventListener('abort', dispatchAbort);
    }
  };
}

const noop = (): void => undefined;

/** Throws `signal.reason` if `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/**
 * An AbortController that also aborts when `parent` does. Call `dispose()` when done: it removes the
 * listener placed on the parent, so long-lived parent signals never accumulate listeners.
 */
export class LinkedAbortController extends AbortController {
  private unsubscribe: (() => void) | undefined;

  constructor(parent?: AbortSignal) {
    super();
    if (parent === undefined || parent === neverAbortedSignal) return;
    if (parent.aborted) {
      this.abort(parent.reason);
      return;
    }
    this.unsubscribe = onAbort(parent, () => this.abort(parent.reason));
  }

  /** Detaches from the parent signal. Idempotent. */
  dispose(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
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
    const timer = clock.schedule(() => {
      unsubscribe();
      resolve();
    }, ms);
    const unsubscribe =
      signal === undefined
        ? noop
        : onAbort(signal, () => {
            timer.cancel();
            reject(signal.reason);
          });
  });
}
