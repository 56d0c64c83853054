import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { systemClock, type Clock } from '../../core/clock.js';
import { OptionsValidator } from '../../core/options.js';
import type { HealthCheckContext, HealthCheckFunction, HealthCheckResult } from '../health-check.js';

/** Options of {@link httpCheck}. */
export interface HttpCheckOptions {
  /** `http:` or `https:` URL to GET. */
  url: string | URL;
  /** Budget for the response headers in milliseconds (> 0). @default 5_000 */
  timeoutMs?: number;
  /**
   * Expected status: one code, a list, or a predicate.
   * @default any 2xx or 3xx
   */
  expectStatus?: number | readonly number[] | ((status: number) => boolean);
  /** Request headers. */
  headers?: Record<string, string>;
  /** Source of time and timers. @default systemClock */
  clock?: Clock;
}

/**
 * Checks an HTTP(S) endpoint with a GET (node:http / node:https): healthy when the status is expected,
 * unhealthy (throws) on another status, a network error or the budget running out. The body is discarded.
 * Honours the run's signal. Report measurement `responseTime` in `ms`.
 *
 * @example
 * ```ts
 * monitor.registerCheck('pricing', httpCheck({ url: 'http://pricing/healthz', timeoutMs: 1_000, expectStatus: 200 }), { critical: true });
 * ```
 * @throws InvalidOptionsError listing every invalid option.
 */
export function httpCheck(options: HttpCheckOptions): HealthCheckFunction {
  const v = new OptionsValidator('httpCheck');
  const o: Partial<HttpCheckOptions> | undefined = options;
  let url: URL | undefined;
  if (v.required('options', o, 'an object') && v.object('options', o)) {
    if (v.required('url', o.url, 'an http: or https: URL')) {
      try {
        url = new URL(String(o.url));
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('protocol');
      } catch {
        url = undefined;
        v.fail('url', 'an http: or https: URL', o.url);
      }
    }
    v.duration('timeoutMs', o.timeoutMs, true);
    const e = o.expectStatus;
    const code = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599;
    if (e !== undefined && typeof e !== 'function' && !(Array.isArray(e) ? e.every(code) : code(e))) {
      v.fail('expectStatus', 'a status code (100..599), a list of them, or a function', e);
    }
    if (o.headers !== undefined) v.object('headers', o.headers);
    v.clock('clock', o.clock);
  }
  v.throwIfInvalid();
  const target = url as URL;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const clock = options.clock ?? systemClock;
  const e = options.expectStatus;
  const expected: (status: number) => boolean =
    e === undefined ? (s) => s >= 200 && s < 400 : typeof e === 'function' ? e : typeof e === 'number' ? (s) => s === e : (s) => e.includes(s);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers = { ...options.headers };

  return (context?: HealthCheckContext) =>
    new Promise<Partial<HealthCheckResult>>((resolve, reject) => {
      const signal = context?.signal;
      if (signal?.aborted) return reject(signal.reason);
      const started = clock.now();
      const controller = new AbortController();
      let settled = false;
      const done = (error: unknown, response?: IncomingMessage): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        if (error !== undefined) {
          controller.abort(error);
          return reject(error);
        }
        const res = response as IncomingMessage;
        res.resume();
        const status = res.statusCode ?? 0;
        const ms = clock.now() - started;
        let ok: boolean;
        try {
          ok = expected(status);
        } catch (cause) {
          return reject(new Error(`httpCheck expectStatus threw for ${status}`, { cause }));
        }
        if (!ok) return reject(new Error(`GET ${target.href} answered ${status}`));
        resolve({
          status: 'healthy',
          responseTime: ms,
          details: { measurement: 'responseTime', observedValue: ms, observedUnit: 'ms', statusCode: status, url: target.href },
        });
      };
      const onAbort = (): void => done(signal?.reason);
      const timer = clock.schedule(() => done(new Error(`GET ${target.href} timed out after ${timeoutMs} ms`)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      const req = request(target, { method: 'GET', headers, signal: controller.signal }, (res) => done(undefined, res));
      req.on('error', (error) => done(new Error(`GET ${target.href} failed: ${error.message}`, { cause: error })));
      req.end();
    });
}
