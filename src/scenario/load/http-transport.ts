import { Agent } from 'undici';
import type { Dispatcher } from 'undici';
import { OptionsValidator } from '../../core/options.js';
import type { LoadRequest, LoadTransport } from './load-transport.js';

/** Options of {@link HttpTransport}. */
export interface HttpTransportOptions {
  /** Base URL of the target, `http://` or `https://`; a path in it prefixes every request's path. */
  url: string;
  /**
   * Most connections open to the target at once. Requests beyond it wait in undici's queue; their latency
   * still counts from their intended start, so an undersized pool shows as latency, never as missing samples.
   * @default 64
   */
  connections?: number;
  /** Idle time after which a kept-alive connection is closed, in milliseconds. @default 4000 */
  keepAliveTimeoutMs?: number;
}

/**
 * A {@link LoadTransport} over HTTP/1.1 with undici: one dedicated connection pool ({@link Agent}) for the
 * run, closed by {@link close}. Each response body is read to the end and discarded.
 */
export class HttpTransport implements LoadTransport {
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly basePath: string;

  /** @throws InvalidOptionsError when `url` is not an http(s) URL or `connections` is not a positive integer. */
  constructor(options: HttpTransportOptions) {
    const v = new OptionsValidator('HttpTransport');
    let parsed: URL | undefined;
    try {
      parsed = new URL(options.url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      v.fail('url', 'an http:// or https:// URL', options.url);
    }
    v.integer('connections', options.connections, 1);
    v.duration('keepAliveTimeoutMs', options.keepAliveTimeoutMs, true);
    v.throwIfInvalid();
    const url = parsed as URL;
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.agent = new Agent({
      connections: options.connections ?? 64,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
      pipelining: 1,
    });
  }

  /** Whether {@link close} finished: every connection of the pool is closed. */
  get closed(): boolean {
    return this.agent.destroyed;
  }

  async send(request: LoadRequest, signal: AbortSignal): Promise<number> {
    const response = await this.agent.request({
      origin: this.origin,
      path: this.basePath + request.path,
      method: request.method as Dispatcher.HttpMethod,
      headers: request.headers ?? null,
      body: request.body ?? null,
      signal,
    });
    for await (const _chunk of response.body) {
      // read to the end: the request is complete when the whole response arrived
    }
    return response.statusCode;
  }

  async close(): Promise<void> {
    if (!this.agent.closed) await this.agent.close();
  }
}
