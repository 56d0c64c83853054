import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Clock } from '../../core/clock.js';
import { InvalidOptionsError, OptionsValidator } from '../../core/options.js';
import type { FaultProxy, FaultProxyUpdate } from './fault-proxy.js';
import { FaultProxyError, isFaultProxyError } from './fault-proxy-error.js';
import { ProxyRegistry, type ProxyDefinition } from './proxy-registry.js';
import type { ToxicPatch, ToxicSpec } from './toxic.js';

/** Options of {@link ProxyControlServer}. */
export interface ProxyControlServerOptions {
  /** Host to listen on. Keep it on loopback: the API can open ports and cut traffic. @default '127.0.0.1' */
  host?: string;
  /** Port to listen on (toxiproxy's is 8474); 0 picks a free one. @default 8474 */
  port?: number;
  /** The proxies to manage; a new empty registry when absent (stopped with the server). */
  registry?: ProxyRegistry;
  /** Clock of the proxies of a registry the server creates. @default systemClock */
  clock?: Clock;
  /** Random source of the proxies of a registry the server creates. @default Math.random */
  random?: () => number;
  /** What `GET /version` reports. @default '2.12.0-antifragile' */
  version?: string;
}

/** Largest request body accepted, in bytes. */
const MAX_BODY = 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: readonly { path: string; expected: string; received: string }[],
  ) {
    super(message);
  }
}

type Handler = (params: string[], body: () => Promise<unknown>) => Promise<[status: number, payload?: unknown]>;

/**
 * An HTTP control API for {@link FaultProxy}s with toxiproxy's paths and JSON shapes, so existing toxiproxy
 * clients and scripts work against it:
 *
 * `GET /version`, `GET /proxies`, `POST /proxies` (201), `POST /populate` (201, all or none), `GET|POST|PATCH|DELETE
 * /proxies/{proxy}`, `GET|POST /proxies/{proxy}/toxics`, `GET|POST|PATCH|DELETE /proxies/{proxy}/toxics/{toxic}`,
 * `POST /reset` (enable every proxy and remove every toxic; 204).
 *
 * Errors are `{ "error": message, "status": code }` as toxiproxy's, plus `issues` (each bad field with its path)
 * for a 400: malformed JSON, unknown toxic type, bad attribute. Unknown proxy or toxic: 404; a name in use or
 * an address that cannot be listened on: 409. Nothing changes on an error. As toxiproxy, requests from browsers
 * (a `Mozilla/` user agent) are refused with 403, so a web page cannot drive the API.
 *
 * @example
 * ```ts
 * const control = await new ProxyControlServer({ port: 8474 }).start();
 * // then, from any toxiproxy client:
 * // POST /proxies {"name":"redis","listen":"127.0.0.1:26379","upstream":"127.0.0.1:6379"}
 * // POST /proxies/redis/toxics {"type":"latency","attributes":{"latency":1000}}
 * ```
 */
export class ProxyControlServer {
  /** The proxies this server manages. */
  readonly registry: ProxyRegistry;
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly version: string;
  private readonly ownsRegistry: boolean;
  private server: Server | undefined;
  private boundPort = 0;
  private readonly routes: { method: string; pattern: RegExp; handler: Handler }[];

  constructor(options: ProxyControlServerOptions = {}) {
    const v = new OptionsValidator('ProxyControlServer');
    v.string('host', options.host);
    v.integer('port', options.port, 0);
    v.number('port', options.port, { max: 65535 });
    v.clock('clock', options.clock);
    v.func('random', options.random);
    v.string('version', options.version);
    if (options.registry !== undefined && !(options.registry instanceof ProxyRegistry)) {
      v.fail('registry', 'a ProxyRegistry', options.registry);
    }
    v.throwIfInvalid();
    this.host = options.host ?? '127.0.0.1';
    this.requestedPort = options.port ?? 8474;
    this.version = options.version ?? '2.12.0-antifragile';
    this.ownsRegistry = options.registry === undefined;
    const registryOptions: { clock?: Clock; random?: () => number } = {};
    if (options.clock !== undefined) registryOptions.clock = options.clock;
    if (options.random !== undefined) registryOptions.random = options.random;
    this.registry = options.registry ?? new ProxyRegistry(registryOptions);
    this.routes = this.buildRoutes();
  }

  /** The port listened on (the picked one for port 0, once started). */
  get port(): number {
    return this.boundPort !== 0 ? this.boundPort : this.requestedPort;
  }

  /** Base URL of the API, e.g. `http://127.0.0.1:8474`. */
  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Starts listening. */
  start(): Promise<this> {
    if (this.server !== undefined) return Promise.resolve(this);
    const server = createServer((request, response) => void this.handle(request, response));
    return new Promise<this>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.host, port: this.requestedPort }, () => {
        server.off('error', reject);
        const address = server.address();
        if (typeof address === 'object' && address !== null) this.boundPort = address.port;
        this.server = server;
        resolve(this);
      });
    });
  }

  /** Stops the API (closing its idle and open connections) and, when it created its registry, every proxy. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    if (this.ownsRegistry) await this.registry.stopAll();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      if ((request.headers['user-agent'] ?? '').startsWith('Mozilla/')) throw new HttpError(403, 'User agent not allowed');
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      let pathMatched = false;
      for (const route of this.routes) {
        const match = route.pattern.exec(path);
        if (match === null) continue;
        pathMatched = true;
        if (route.method !== request.method) continue;
        const params = match.slice(1).map((p) => decodeURIComponent(p));
        const [status, payload] = await route.handler(params, () => readJson(request));
        send(response, status, payload);
        return;
      }
      throw pathMatched ? new HttpError(405, 'method not allowed') : new HttpError(404, 'not found');
    } catch (error) {
      const failure = toHttpError(error);
      const payload: Record<string, unknown> = { error: failure.message, status: failure.status };
      if (failure.issues !== undefined) payload['issues'] = failure.issues;
      request.resume();
      send(response, failure.status, payload);
    }
  }

  private proxy(name: string): FaultProxy {
    const proxy = this.registry.get(name);
    if (proxy === undefined) throw new FaultProxyError('PROXY_NOT_FOUND', `proxy not found: ${name}`);
    return proxy;
  }

  private buildRoutes(): { method: string; pattern: RegExp; handler: Handler }[] {
    const registry = this.registry;
    const proxyWithToxics = (proxy: FaultProxy): unknown => proxy.toJSON();
    const segment = '([^/]+)';
    const route = (method: string, path: string, handler: Handler): { method: string; pattern: RegExp; handler: Handler } => ({
      method,
      pattern: new RegExp(`^${path}/?$`),
      handler,
    });
    const updateProxy: Handler = async ([name], body) => {
      const proxy = this.proxy(name as string);
      const input = objectBody(await body());
      const v = new OptionsValidator('proxy');
      for (const key of Object.keys(input)) {
        if (key === 'name' && input[key] === proxy.name) continue;
        if (!['listen', 'upstream', 'enabled'].includes(key)) v.fail(key, 'one of the proxy fields (listen, upstream, enabled)', input[key]);
      }
      v.throwIfInvalid();
      await proxy.update(input as FaultProxyUpdate);
      return [200, proxyWithToxics(proxy)];
    };
    const updateToxic: Handler = async ([name, toxic], body) => {
      const proxy = this.proxy(name as string);
      return [200, proxy.updateToxic(toxic as string, objectBody(await body()) as ToxicPatch)];
    };
    return [
      route('GET', '/version', async () => [200, { version: this.version }]),
      route('POST', '/reset', async () => {
        await registry.reset();
        return [204];
      }),
      route('GET', '/proxies', async () => [200, registry.toJSON()]),
      route('POST', '/proxies', async (_, body) => {
        const input = objectBody(await body());
        const proxy = await registry.create(input as unknown as ProxyDefinition);
        return [201, proxyWithToxics(proxy)];
      }),
      route('POST', '/populate', async (_, body) => {
        const input = await body();
        const list = isRecord(input) && Array.isArray(input['proxies']) ? input['proxies'] : input;
        if (!Array.isArray(list)) throw new HttpError(400, 'bad request body: expected an array of proxies');
        const proxies = await registry.populate(list as ProxyDefinition[]);
        return [201, { proxies: proxies.map(proxyWithToxics) }];
      }),
      route('GET', `/proxies/${segment}`, async ([name]) => [200, proxyWithToxics(this.proxy(name as string))]),
      route('POST', `/proxies/${segment}`, updateProxy),
      route('PATCH', `/proxies/${segment}`, updateProxy),
      route('DELETE', `/proxies/${segment}`, async ([name]) => {
        await registry.remove(name as string);
        return [204];
      }),
      route('GET', `/proxies/${segment}/toxics`, async ([name]) => [200, this.proxy(name as string).toxics]),
      route('POST', `/proxies/${segment}/toxics`, async ([name], body) => {
        const proxy = this.proxy(name as string);
        return [200, proxy.addToxic(objectBody(await body()) as unknown as ToxicSpec)];
      }),
      route('GET', `/proxies/${segment}/toxics/${segment}`, async ([name, toxic]) => {
        const found = this.proxy(name as string).getToxic(toxic as string);
        if (found === undefined) throw new FaultProxyError('TOXIC_NOT_FOUND', `toxic not found: ${toxic as string}`);
        return [200, found];
      }),
      route('POST', `/proxies/${segment}/toxics/${segment}`, updateToxic),
      route('PATCH', `/proxies/${segment}/toxics/${segment}`, updateToxic),
      route('DELETE', `/proxies/${segment}/toxics/${segment}`, async ([name, toxic]) => {
        this.proxy(name as string).removeToxic(toxic as string);
        return [204];
      }),
    ];
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectBody(value: unknown): Record<string, unknown> {
  if (!isRecord(value)) throw new HttpError(400, 'bad request body: expected a JSON object');
  return value;
}

function readJson(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, `request body larger than ${MAX_BODY} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', reject);
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        reject(new HttpError(400, `bad request body: ${error instanceof Error ? error.message : String(error)}`));
      }
    });
  });
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof InvalidOptionsError) {
    const fields = error.issues.map((i) => i.path).join(', ');
    return new HttpError(400, `bad request body: invalid ${fields}`, error.issues);
  }
  if (isFaultProxyError(error)) {
    const status = error.code === 'PROXY_NOT_FOUND' || error.code === 'TOXIC_NOT_FOUND' ? 404 : 409;
    return new HttpError(status, error.message);
  }
  return new HttpError(500, error instanceof Error ? error.message : String(error));
}

function send(response: ServerResponse, status: number, payload?: unknown): void {
  if (response.headersSent) return;
  if (payload === undefined) {
    response.writeHead(status);
    response.end();
    return;
  }
  const body = JSON.stringify(payload);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
