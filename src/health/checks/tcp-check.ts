import { connect } from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';
import { OptionsValidator } from '../../core/options.js';
import type { HealthCheckContext, HealthCheckFunction, HealthCheckResult } from '../health-check.js';

/** Options of {@link tcpCheck}. */
export interface TcpCheckOptions {
  /** Host to connect to. @default '127.0.0.1' */
  host?: string;
  /** TCP port (integer 0..65535; 0 is refused by the OS, handy for failure tests). */
  port: number;
  /** Connect budget in milliseconds (> 0). @default 5_000 */
  timeoutMs?: number;
  /** Source of time and timers. @default systemClock */
  clock?: Clock;
}

/**
 * Checks that a TCP connection to `host:port` opens within `timeoutMs`, then closes it. Healthy on
 * connect; a refusal, an error or the budget running out throws (unhealthy). Honours the run's signal.
 * Report measurement `connect` in `ms`.
 *
 * @example
 * ```ts
 * monitor.registerCheck('postgres-port', tcpCheck({ host: 'db', port: 5432, timeoutMs: 1_000 }), { component: 'database' });
 * ```
 * @throws InvalidOptionsError listing every invalid option.
 */
export function tcpCheck(options: TcpCheckOptions): HealthCheckFunction {
  const v = new OptionsValidator('tcpCheck');
  const o: Partial<TcpCheckOptions> | undefined = options;
  if (v.required('options', o, 'an object') && v.object('options', o)) {
    v.string('host', o.host);
    if (v.required('port', o.port, 'an integer in 0..65535')) v.number('port', o.port, { integer: true, min: 0, max: 65_535 });
    v.duration('timeoutMs', o.timeoutMs, true);
    v.clock('clock', o.clock);
  }
  v.throwIfInvalid();
  const host = options.host ?? '127.0.0.1';
  const { port } = options;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const clock = options.clock ?? systemClock;

  const check = (context?: HealthCheckContext): Promise<Partial<HealthCheckResult>> =>
    new Promise<Partial<HealthCheckResult>>((resolve, reject) => {
      const signal = context?.signal;
      if (signal?.aborted) return reject(signal.reason);
      const started = clock.now();
      const socket = connect({ host, port });
      const done = (error: unknown): void => {
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('connect');
        socket.destroy();
        if (error !== undefined) return reject(error);
        const ms = clock.now() - started;
        resolve({
          status: 'healthy',
          responseTime: ms,
          details: { measurement: 'connect', observedValue: ms, observedUnit: 'ms', host, port },
        });
      };
      const onAbort = (): void => done(signal?.reason);
      const timer = clock.schedule(() => done(new Error(`TCP connect to ${host}:${port} timed out after ${timeoutMs} ms`)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => done(undefined));
      socket.on('error', (error) => done(new Error(`TCP connect to ${host}:${port} failed: ${error.message}`, { cause: error })));
    });
  return Object.assign(check, { measurement: 'connect' });
}
