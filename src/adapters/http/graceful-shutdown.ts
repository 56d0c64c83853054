import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import type { Readiness } from './readiness.js';

/** What {@link gracefulShutdown} needs of a server (node:http `Server`; pass `fastify.server` for Fastify). */
export interface ClosableServer {
  close(callback?: (error?: Error) => void): unknown;
  /** node:http >= 18.2: closes keep-alive connections that carry no request. */
  closeIdleConnections?(): void;
  /** node:http >= 18.2: closes every connection, busy or not. */
  closeAllConnections?(): void;
}

/** Options of {@link gracefulShutdown}. */
export interface GracefulShutdownOptions {
  /** Switch flipped to draining first, so `/health/ready` fails while the load balancer catches up. */
  readiness: Readiness;
  /** How long to keep serving after readiness turned false, in milliseconds (>= 0). @default 5_000 */
  drainMs?: number;
  /** Signals that start the shutdown (handlers removed by `dispose`). @default ['SIGTERM'] */
  signals?: NodeJS.Signals[];
  /**
   * Runs when the drain is over, just before the server stops accepting connections: end long-lived
   * responses here (an admin API's event streams: `admin.close()`), or the close would wait for them.
   */
  beforeClose?: () => void | Promise<void>;
  /**
   * Longest wait for in-flight requests once the server stopped accepting, in ms; then every connection is
   * closed (a long poll or a stuck handler never holds the process). @default 10_000
   */
  closeTimeoutMs?: number;
  /** Runs after the server closed (close pools, flush stores); may return a promise. */
  onClosed?: (error: Error | undefined) => void | Promise<void>;
  /** Source of time and timers. @default systemClock */
  clock?: Clock;
}

/** Handle returned by {@link gracefulShutdown}. */
export interface GracefulShutdownHandle {
  /** Starts the shutdown as a signal would; resolves once the server closed. Calling it again returns the same promise. */
  trigger(reason?: string): Promise<void>;
  /** Removes the signal handlers (the shutdown, if started, carries on). */
  dispose(): void;
}

/**
 * Drains and closes a server on SIGTERM: readiness turns false at once, the server keeps serving for
 * `drainMs` (an awaited timer that keeps the process alive), then it stops accepting connections, idle
 * keep-alive connections are closed, and `onClosed` runs once in-flight requests finished.
 *
 * @example
 * const readiness = new Readiness();
 * gracefulShutdown(server, { readiness, drainMs: 10_000, onClosed: () => pool.end() });
 */
export function gracefulShutdown(server: ClosableServer, options: GracefulShutdownOptions): GracefulShutdownHandle {
  const v = new OptionsValidator('gracefulShutdown');
  if (typeof server !== 'object' || server === null || typeof server.close !== 'function') v.fail('server', 'a server with close()', server);
  if (typeof options !== 'object' || options === null) {
    v.fail('options', 'an object', options);
    v.throwIfInvalid();
  }
  if (typeof options.readiness !== 'object' || options.readiness === null || typeof options.readiness.drain !== 'function') {
    v.fail('readiness', 'a Readiness', options.readiness);
  }
  v.duration('drainMs', options.drainMs);
  if (options.signals !== undefined && (!Array.isArray(options.signals) || options.signals.some((s) => typeof s !== 'string'))) {
    v.fail('signals', 'an array of signal names', options.signals);
  }
  v.func('onClosed', options.onClosed);
  v.func('beforeClose', options.beforeClose);
  v.duration('closeTimeoutMs', options.closeTimeoutMs);
  v.clock('clock', options.clock);
  v.throwIfInvalid();

  const clock = options.clock ?? systemClock;
  const drainMs = options.drainMs ?? 5_000;
  const signals = options.signals ?? ['SIGTERM'];
  let started: Promise<void> | undefined;

  const run = async (reason: string): Promise<void> => {
    options.readiness.drain(reason);
    await new Promise<void>((resolve) => clock.schedule(resolve, drainMs, { keepAlive: true }));
    if (options.beforeClose !== undefined) {
      try {
        await options.beforeClose();
      } catch (err) {
        reportCallbackError(err, 'gracefulShutdown option beforeClose');
      }
    }
    const error = await new Promise<Error | undefined>((resolve) => {
      const force = clock.schedule(() => server.closeAllConnections?.(), options.closeTimeoutMs ?? 10_000, { keepAlive: true });
      server.close((err) => {
        force.cancel();
        resolve(err ?? undefined);
      });
      server.closeIdleConnections?.();
    });
    if (options.onClosed !== undefined) {
      try {
        await options.onClosed(error);
      } catch (err) {
        reportCallbackError(err, 'gracefulShutdown option onClosed');
      }
    }
  };
  const trigger = (reason = 'shutting down'): Promise<void> => (started ??= run(reason));
  const onSignal = (signal: NodeJS.Signals): void => void trigger(`received ${signal}`);
  for (const s of signals) process.on(s, onSignal);
  return {
    trigger,
    dispose: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}
