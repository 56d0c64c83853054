import { systemClock, type Clock } from '../core/clock.js';
import { OptionsValidator } from '../core/options.js';
import { TargetRequestError } from './target-request-error.js';

/** What a JSON HTTP client of a target (chaos admin endpoint, fault proxy API) is configured with. @internal */
export interface JsonClientOptions {
  url: string;
  token?: string | undefined;
  timeoutMs?: number;
  clock?: Clock;
  fetch?: typeof fetch;
}

/** The validated settings of a JSON HTTP client, defaults applied. @internal */
export interface JsonClientSettings {
  /** Without a trailing slash. */
  url: string;
  token: string | undefined;
  timeoutMs: number;
  clock: Clock;
  fetch: typeof fetch;
}

/**
 * Validates a client's options (an http(s) `url`; a bearer `token`, required when `tokenRequired`; `timeoutMs`,
 * `clock`, `fetch`) and applies the defaults (5 s, systemClock, globalThis.fetch).
 * @throws InvalidOptionsError listing every bad option, named after `component`. @internal
 */
export function jsonClientSettings(component: string, options: JsonClientOptions, tokenRequired: boolean): JsonClientSettings {
  const v = new OptionsValidator(component);
  if (typeof options.url !== 'string' || !URL.canParse(options.url) || !/^https?:$/.test(new URL(options.url).protocol)) v.fail('url', 'an http(s) URL', options.url);
  if (tokenRequired) {
    if (typeof options.token !== 'string' || options.token === '') v.fail('token', 'a non-empty bearer token', options.token === undefined ? undefined : 'a value');
  } else v.string('token', options.token);
  v.duration('timeoutMs', options.timeoutMs, true);
  v.clock('clock', options.clock);
  v.func('fetch', options.fetch);
  v.throwIfInvalid();
  return {
    url: options.url.replace(/\/+$/, ''),
    token: options.token,
    timeoutMs: options.timeoutMs ?? 5_000,
    clock: options.clock ?? systemClock,
    fetch: options.fetch ?? globalThis.fetch,
  };
}

/** Options of {@link requestJson}. @internal */
export interface JsonRequestOptions {
  method: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  timeoutMs: number;
  clock: Clock;
  signal?: AbortSignal;
  fetch: typeof fetch;
  /** Statuses answered without a body that are not errors (e.g. 404 for "already gone"). */
  tolerate?: readonly number[];
}

/**
 * Sends one JSON request with a deadline and returns `{ status, body }` (body `undefined` when empty).
 * Non-2xx answers (other than `tolerate`) throw {@link TargetRequestError} with the problem's detail. @internal
 */
export async function requestJson(url: string, options: JsonRequestOptions): Promise<{ status: number; body: unknown }> {
  const controller = new AbortController();
  const timer = options.clock.schedule(() => controller.abort(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
  const onAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const what = `${options.method} ${url}`;
  try {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await options.fetch(url, {
        method: options.method,
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: controller.signal,
      });
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : error;
      const cause = reason instanceof Error && reason.cause instanceof Error ? `${reason.message} (${reason.cause.message})` : reason instanceof Error ? reason.message : String(reason);
      throw new TargetRequestError(`${what} failed: ${cause}`, { status: 0, cause: reason });
    }
    const text = await response.text();
    let body: unknown;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = text;
      }
    }
    if (response.ok || options.tolerate?.includes(response.status) === true) return { status: response.status, body };
    const problem = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
    // RFC 9457 problems carry `detail`; toxiproxy-shaped APIs (the fault proxy) carry `error`
    const detail = typeof problem?.detail === 'string' ? problem.detail : typeof problem?.error === 'string' ? problem.error : typeof body === 'string' ? body.slice(0, 200) : response.statusText;
    throw new TargetRequestError(`${what} answered ${response.status}: ${detail}`, { status: response.status, ...(problem === undefined ? {} : { problem }) });
  } finally {
    timer.cancel();
    options.signal?.removeEventListener('abort', onAbort);
  }
}
