import { reportCallbackError } from '../core/report-callback-error.js';
import type { RestartRequester } from './health-source.js';

/** Message type a {@link Supervisor} sends a worker it is about to drain. @internal */
export const DRAIN_MESSAGE_TYPE = 'antifragile:drain';
/** Message type a worker sends to ask for its own graceful replacement (the seed's `graceful-shutdown`). */
export const GRACEFUL_SHUTDOWN_MESSAGE_TYPE = 'graceful-shutdown';
/** Message type a worker sends to ask for a rolling restart of every worker. */
export const ROLLING_RESTART_MESSAGE_TYPE = 'antifragile:rolling-restart';

/** A function run when the supervisor drains this worker; may be async. */
export type DrainHandler = () => void | Promise<void>;

const handlers: DrainHandler[] = [];
let listening = false;
let draining = false;

function send(message: object): boolean {
  if (typeof process.send !== 'function' || !process.connected) return false;
  process.send(message);
  return true;
}

/**
 * In a worker started by a {@link Supervisor}: asks the supervisor to replace this worker gracefully (the
 * replacement starts and becomes ready first, then this worker is drained). Returns false when this
 * process has no supervisor (no IPC channel).
 */
export function requestGracefulRestart(reason = 'requested by worker'): boolean {
  return send({ type: GRACEFUL_SHUTDOWN_MESSAGE_TYPE, reason });
}

/** In a supervised worker: asks the supervisor to replace every worker, one at a time. */
export function requestRollingRestartFromWorker(reason = 'requested by worker'): boolean {
  return send({ type: ROLLING_RESTART_MESSAGE_TYPE, reason });
}

/**
 * In a supervised worker: tells the supervisor this worker is ready, for a supervisor created with
 * `readyMessage` (without it, the supervisor waits for the worker's first `listen()`).
 */
export function signalReady(readyMessage = 'ready'): boolean {
  return send({ type: readyMessage });
}

/** Whether the supervisor has started draining this worker. */
export function isDraining(): boolean {
  return draining;
}

/**
 * Registers a handler run when the supervisor drains this worker (close pools, flush buffers). Listening
 * servers are closed by the cluster itself: new connections go to other workers and in-flight requests
 * finish. Once every handler has settled and the servers have closed (the IPC channel is gone), the
 * worker exits with code 0; the supervisor kills it after its `drainTimeoutMs` otherwise. A throwing
 * handler is reported as a process warning and does not stop the others. Returns an unsubscribe function.
 */
export function onDrain(handler: DrainHandler): () => void {
  handlers.push(handler);
  if (!listening && typeof process.send === 'function') {
    listening = true;
    process.on('message', onMessage);
  }
  return () => {
    const index = handlers.indexOf(handler);
    if (index >= 0) handlers.splice(index, 1);
  };
}

/**
 * A {@link RestartRequester} for a self-healer running inside a supervised worker: `requestRollingRestart`
 * asks the supervisor to replace this worker gracefully. Rejects when the process is not supervised.
 */
export const gracefulRestartRequester: RestartRequester = {
  requestRollingRestart(reason: string): Promise<void> {
    return requestGracefulRestart(reason)
      ? Promise.resolve()
      : Promise.reject(new Error('requestRollingRestart: this process is not a supervised worker (no IPC channel)'));
  },
};

function onMessage(message: unknown): void {
  if (draining || typeof message !== 'object' || message === null) return;
  if ((message as { type?: unknown }).type !== DRAIN_MESSAGE_TYPE) return;
  draining = true;
  const disconnected = new Promise<void>((resolve) => {
    if (!process.connected) resolve();
    else process.once('disconnect', () => resolve());
  });
  const settled = Promise.allSettled(
    handlers.map((handler) => Promise.resolve().then(handler).catch((error: unknown) => reportCallbackError(error, 'onDrain handler'))),
  );
  void Promise.all([settled, disconnected]).then(() => process.exit(0));
}
