import type { Clock } from '../core/clock.js';
import { jsonClientSettings, requestJson } from './json-request.js';
import type { ProxyToxicSpec } from './scenario.js';

/** Options of {@link ProxyApiClient}. */
export interface ProxyApiClientOptions {
  /** Base URL of the fault proxy's HTTP API, e.g. `http://127.0.0.1:8474`. */
  url: string;
  /** Sent as a bearer token when given. */
  token?: string;
  /** Each request's time budget, ms. @default 5000 */
  timeoutMs?: number;
  /** @default systemClock */
  clock?: Clock;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** What a scenario run needs from a fault proxy: add and remove toxics on named proxies. */
export interface ProxyToxicApi {
  addToxic(proxy: string, name: string, toxic: ProxyToxicSpec, signal?: AbortSignal): Promise<void>;
  /** `false` when the toxic was already gone. */
  removeToxic(proxy: string, name: string, signal?: AbortSignal): Promise<boolean>;
}

/**
 * Adds and removes toxics through a fault proxy's HTTP API in toxiproxy's shape
 * (`POST /proxies/:proxy/toxics { name, type, stream, toxicity, attributes }`,
 * `DELETE /proxies/:proxy/toxics/:name`), so a scenario can slow, cut or corrupt the traffic between the
 * service and a dependency (Redis, Postgres, an HTTP API) that sits behind the proxy.
 */
export class ProxyApiClient implements ProxyToxicApi {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly fetch: typeof fetch;

  /** @throws InvalidOptionsError listing every bad option. */
  constructor(options: ProxyApiClientOptions) {
    const settings = jsonClientSettings('ProxyApiClient', options, false);
    this.url = settings.url;
    this.token = settings.token;
    this.timeoutMs = settings.timeoutMs;
    this.clock = settings.clock;
    this.fetch = settings.fetch;
  }

  async addToxic(proxy: string, name: string, toxic: ProxyToxicSpec, signal?: AbortSignal): Promise<void> {
    const body = { name, type: toxic.type, stream: toxic.stream ?? 'downstream', toxicity: toxic.toxicity ?? 1, attributes: toxic.attributes };
    await requestJson(`${this.url}/proxies/${encodeURIComponent(proxy)}/toxics`, this.options('POST', body, signal));
  }

  async removeToxic(proxy: string, name: string, signal?: AbortSignal): Promise<boolean> {
    const { status } = await requestJson(`${this.url}/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(name)}`, {
      ...this.options('DELETE', undefined, signal),
      tolerate: [404],
    });
    return status !== 404;
  }

  private options(method: 'POST' | 'DELETE', body: unknown, signal: AbortSignal | undefined): Parameters<typeof requestJson>[1] {
    return {
      method,
      ...(body === undefined ? {} : { body }),
      ...(this.token === undefined ? {} : { token: this.token }),
      timeoutMs: this.timeoutMs,
      clock: this.clock,
      fetch: this.fetch,
      ...(signal === undefined ? {} : { signal }),
    };
  }
}
