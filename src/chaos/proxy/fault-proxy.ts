import { createServer, type Server, type Socket } from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import { FaultProxyError } from './fault-proxy-error.js';
import { formatHostPort, parseHostPort, type HostPort } from './host-port.js';
import { ProxyConnection, type ConnectionOwner } from './proxy-connection.js';
import type { Toxic, ToxicPatch, ToxicSpec } from './toxic.js';
import { parseToxic, patchToxic } from './toxic-catalog.js';
import type { ToxicStream } from './toxic-stage.js';

/** Options of {@link FaultProxy}: toxiproxy's proxy fields, plus the clock and random source. */
export interface FaultProxyOptions {
  /** Unique name of the proxy (used by the control API and in events). */
  name: string;
  /**
   * Address to listen on, `host:port`; port 0 picks a free port, kept across `disable()`/`enable()` (read
   * it from {@link FaultProxy.port} or {@link FaultProxy.listen} after `start()`).
   * @default '127.0.0.1:0'
   */
  listen?: string;
  /** Address of the dependency, `host:port`. */
  upstream: string;
  /** Whether the proxy accepts connections; a disabled proxy refuses them, as a server that is down. @default true */
  enabled?: boolean;
  /** Toxics in force from the start, validated together with the proxy (all or none). @default [] */
  toxics?: readonly ToxicSpec[];
  /** Source of time for every toxic delay. @default systemClock */
  clock?: Clock;
  /** Random source in [0, 1) for toxicity, jitter, slice sizes and packet loss (inject one for exact tests). @default Math.random */
  random?: () => number;
}

/** A change to a proxy's fields, as toxiproxy's `POST /proxies/{name}`. */
export interface FaultProxyUpdate {
  /** New listen address: the listener moves and existing connections are closed. */
  listen?: string;
  /** New upstream: existing connections are closed, new ones go to the new address. */
  upstream?: string;
  /** Enables or disables the proxy. */
  enabled?: boolean;
}

/** A proxy as toxiproxy's JSON shows it. */
export interface FaultProxyJson {
  name: string;
  /** The address listened on (with the real port once started). */
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: Toxic[];
}

/** Counters of a {@link FaultProxy} since it was created. */
export interface FaultProxyStats {
  /** Connections open now. */
  activeConnections: number;
  /** Connections accepted in total. */
  totalConnections: number;
  /** Bytes read from clients (requests). */
  bytesUpstream: number;
  /** Bytes read from the upstream (replies). */
  bytesDownstream: number;
  /** Connections whose upstream could not be reached. */
  upstreamErrors: number;
}

/** Events of a {@link FaultProxy}. */
export interface FaultProxyEvents {
  /** A client connected. */
  connectionOpen: { proxy: string; connectionId: number; remoteAddress: string | undefined };
  /** A proxied connection is fully closed; bytes read from each side. */
  connectionClose: { proxy: string; connectionId: number; bytesUpstream: number; bytesDownstream: number };
  /** The upstream could not be reached for a connection (the client was disconnected). */
  upstreamError: { proxy: string; connectionId: number; error: Error };
}

/**
 * A TCP fault-injection proxy, toxiproxy done in Node: put it between a service and Redis, PostgreSQL or an
 * HTTP dependency, point the service at {@link listen}, and add toxics to slow, cut, slice, reset or corrupt
 * the traffic, per direction (`upstream`: client to server; `downstream`: server to client).
 *
 * Toxic names, attributes and units are toxiproxy's (`latency`, `bandwidth`, `slow_close`, `timeout`,
 * `reset_peer`, `slicer`, `limit_data`), plus `packet_loss` (loss as retransmission stalls) and the
 * protocol-aware `redis_error` and `pg_reset`. Each toxic acts on a connection with probability `toxicity`,
 * drawn when it starts on the connection. Toxics of one direction run in the order they were added. Adding,
 * changing and removing toxics takes effect on live connections; removing one hands on at once whatever it
 * held (queued chunks, held data), so removal never hangs a connection.
 *
 * A disabled proxy closes its listener (clients get `ECONNREFUSED`) and its open connections, as toxiproxy
 * does; `enable()` listens again on the same port.
 *
 * @example
 * ```ts
 * const proxy = await FaultProxy.start({ name: 'redis', upstream: '127.0.0.1:6379' });
 * const redis = new Redis({ host: '127.0.0.1', port: proxy.port });
 * await proxy.with({ type: 'latency', attributes: { latency: 200 } }, async () => {
 *   await assertDegradedButWorking(redis);
 * });
 * await proxy.stop();
 * ```
 */
export class FaultProxy {
  /** Unique name of the proxy. */
  readonly name: string;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly events: EventEmitter<FaultProxyEvents>;
  private listenAddress: HostPort;
  private upstreamAddress: HostPort;
  private isEnabled: boolean;
  private boundPort = 0;
  private started = false;
  private server: Server | undefined;
  private toxicList: Toxic[] = [];
  private readonly connections = new Set<ProxyConnection>();
  private nextConnectionId = 1;
  private operations: Promise<unknown> = Promise.resolve();
  private readonly counters: FaultProxyStats = {
    activeConnections: 0,
    totalConnections: 0,
    bytesUpstream: 0,
    bytesDownstream: 0,
    upstreamErrors: 0,
  };
  private readonly owner: ConnectionOwner;

  /** Validates every option (toxics included) and throws one `InvalidOptionsError` listing each problem. */
  constructor(options: FaultProxyOptions) {
    const { listen, upstream, toxics } = validate(options);
    this.name = options.name;
    this.listenAddress = listen;
    this.upstreamAddress = upstream;
    this.isEnabled = options.enabled ?? true;
    this.toxicList = toxics;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.events = new EventEmitter('fault-proxy', this.name);
    this.owner = {
      clock: this.clock,
      random: this.random,
      received: (stream: ToxicStream, bytes: number) => {
        if (stream === 'upstream') this.counters.bytesUpstream += bytes;
        else this.counters.bytesDownstream += bytes;
      },
      upstreamFailed: (connection: ProxyConnection, error: Error) => {
        this.counters.upstreamErrors++;
        if (this.events.wants('upstreamError')) {
          this.events.emit('upstreamError', { proxy: this.name, connectionId: connection.id, error });
        }
      },
      closed: (connection: ProxyConnection) => {
        if (!this.connections.delete(connection)) return;
        this.counters.activeConnections--;
        if (this.events.wants('connectionClose')) {
          const bytes = connection.bytes;
          this.events.emit('connectionClose', {
            proxy: this.name,
            connectionId: connection.id,
            bytesUpstream: bytes.upstream,
            bytesDownstream: bytes.downstream,
          });
        }
      },
    };
  }

  /** Creates a proxy and starts it. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await proxy.start();
    return proxy;
  }

  /** The listen address, `host:port`, with the real port once started. */
  get listen(): string {
    return formatHostPort(this.listenAddress.host, this.port);
  }

  /** The listening host. */
  get host(): string {
    return this.listenAddress.host;
  }

  /** The listening port: the configured one, or the one picked for port 0 once started (0 before). */
  get port(): number {
    return this.boundPort !== 0 ? this.boundPort : this.listenAddress.port;
  }

  /** The upstream address, `host:port`. */
  get upstream(): string {
    return formatHostPort(this.upstreamAddress.host, this.upstreamAddress.port);
  }

  /** Whether the proxy accepts connections (when started). */
  get enabled(): boolean {
    return this.isEnabled;
  }

  /** Whether `start()` was called and `stop()` not since. */
  get running(): boolean {
    return this.started;
  }

  /**
   * Whether the proxy has a listener now: started and enabled, unless a move of its listen address lost its
   * old address too (see {@link update}), which leaves it disabled.
   */
  get listening(): boolean {
    return this.server !== undefined;
  }

  /** The toxics in force, in the order they were added. */
  get toxics(): readonly Toxic[] {
    return this.toxicList.slice();
  }

  /** Counters since the proxy was created (a snapshot). */
  get stats(): FaultProxyStats {
    return { ...this.counters };
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof FaultProxyEvents>(event: K, listener: Listener<FaultProxyEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Starts the proxy: binds its listen address (a disabled proxy binds only to learn a port 0's real port,
   * then closes). Rejects with a `FaultProxyError` (`PROXY_LISTEN_FAILED`) when the address is taken.
   */
  start(): Promise<this> {
    return this.serial(async () => {
      if (this.started) return this;
      await this.openListener();
      this.started = true;
      if (!this.isEnabled) await this.closeListener();
      return this;
    });
  }

  /** Stops listening and closes every connection at once. Never waits on a peer. Safe to call twice. */
  stop(): Promise<void> {
    return this.serial(async () => {
      this.started = false;
      await this.closeListener();
    });
  }

  /** Accepts connections again (listening on the same port). */
  enable(): Promise<void> {
    return this.update({ enabled: true });
  }

  /** Refuses new connections (the listener closes: clients get `ECONNREFUSED`) and closes open ones. */
  disable(): Promise<void> {
    return this.update({ enabled: false });
  }

  /**
   * Changes the proxy's fields, as toxiproxy's `POST /proxies/{name}`: validated first (nothing changes on
   * an `InvalidOptionsError`). A new `listen` moves the listener; a new `upstream` closes open connections.
   * The new listener is bound before the old one closes: when the address cannot be listened on (in use,
   * not local), the update rejects with a `FaultProxyError` (`PROXY_LISTEN_FAILED`) naming the address and
   * nothing changes, the proxy keeps serving on its old address.
   *
   * One exception: a move to the same port on another host (which may clash with the proxy's own listener)
   * closes the old listener first, then binds the new address and, if that fails, the old one again. Should
   * the old address be lost meanwhile (taken by another process), the proxy is left stopped: the update
   * rejects with a `PROXY_LISTEN_FAILED` error saying so (the rebind's error as `cause`), the proxy is disabled
   * (`enabled` and {@link listening} false, open connections closed, its listen address unchanged), and
   * `enable()` tries its old address again.
   */
  update(patch: FaultProxyUpdate): Promise<void> {
    const v = new OptionsValidator('FaultProxy update');
    if (!v.required('update', patch, 'an object') || !v.object('update', patch)) v.throwIfInvalid();
    const listen = patch.listen === undefined ? undefined : checkAddress(v, 'listen', patch.listen, 0);
    const upstream = patch.upstream === undefined ? undefined : checkAddress(v, 'upstream', patch.upstream, 1);
    v.boolean('enabled', patch.enabled);
    v.throwIfInvalid();
    return this.serial(async () => {
      const enabled = patch.enabled ?? this.isEnabled;
      const moved = listen !== undefined && (listen.host !== this.listenAddress.host || listen.port !== this.listenAddress.port);
      const redirected =
        upstream !== undefined && (upstream.host !== this.upstreamAddress.host || upstream.port !== this.upstreamAddress.port);
      const target = moved ? listen : this.listenAddress;
      const targetPort = moved ? listen.port : this.port;
      let next: Server | undefined;
      if (this.started && enabled && (moved || this.server === undefined)) {
        // Bind the new listener before anything changes: a busy address leaves the proxy as it was.
        next = await this.bindListener(target, targetPort).catch(async (error: unknown) => {
          // The same port on another host may clash with our own listener: move by close-then-bind, rolling back.
          if (!moved || this.server === undefined || targetPort === 0 || targetPort !== this.boundPort) throw error;
          const own = this.server;
          this.server = undefined;
          // Frees the port at once; not awaited, as close() reports only once the open connections are gone.
          own.close();
          try {
            return await this.bindListener(target, targetPort);
          } catch (retryError) {
            try {
              this.server = await this.bindListener(this.listenAddress, this.boundPort);
            } catch (rebindError) {
              throw this.lostListener(retryError, rebindError);
            }
            throw retryError;
          }
        });
      }
      const previous = moved || !enabled || next !== undefined ? this.server : undefined;
      if (previous !== undefined) this.server = undefined;
      if (moved || !enabled || redirected) this.closeConnections();
      if (moved) {
        this.listenAddress = listen;
        this.boundPort = 0;
      }
      if (upstream !== undefined) this.upstreamAddress = upstream;
      this.isEnabled = enabled;
      if (next !== undefined) this.useListener(next);
      if (previous !== undefined) await closeServer(previous);
    });
  }

  /**
   * Adds a toxic; it starts at once on every open connection (last in its direction's chain). Throws an
   * `InvalidOptionsError` for a bad toxic and a `FaultProxyError` (`TOXIC_EXISTS`) for a name in use.
   */
  addToxic(spec: ToxicSpec): Toxic {
    return this.addToxics([spec])[0] as Toxic;
  }

  /** Adds several toxics, all or none (every one is validated before any is added). */
  addToxics(specs: readonly ToxicSpec[]): Toxic[] {
    const v = new OptionsValidator('toxic');
    if (!Array.isArray(specs)) v.fail('toxics', 'an array', specs);
    v.throwIfInvalid();
    const parsed = specs.map((spec, i) => parseToxic(spec, v, specs.length === 1 ? '' : `[${i}]`));
    v.throwIfInvalid();
    const toxics = parsed as Toxic[];
    const names = new Set(this.toxicList.map((t) => t.name));
    for (const toxic of toxics) {
      if (names.has(toxic.name)) {
        throw new FaultProxyError('TOXIC_EXISTS', `Proxy "${this.name}" already has a toxic named "${toxic.name}"`);
      }
      names.add(toxic.name);
    }
    for (const toxic of toxics) {
      this.toxicList.push(toxic);
      for (const connection of this.connections) connection.link(toxic.stream).addToxic(toxic);
    }
    return toxics;
  }

  /**
   * Changes a toxic's toxicity and/or attributes (merged over the current ones); live connections take the
   * new attributes in place. Throws `FaultProxyError` (`TOXIC_NOT_FOUND`) or `InvalidOptionsError`.
   */
  updateToxic(name: string, patch: ToxicPatch): Toxic {
    const index = this.indexOf(name);
    const v = new OptionsValidator('toxic');
    const updated = patchToxic(this.toxicList[index] as Toxic, patch, v, '');
    v.throwIfInvalid();
    const toxic = updated as Toxic;
    this.toxicList[index] = toxic;
    for (const connection of this.connections) connection.link(toxic.stream).updateToxic(toxic);
    return toxic;
  }

  /**
   * Removes a toxic from the proxy and every open connection; whatever it held is handed on at once.
   * Throws `FaultProxyError` (`TOXIC_NOT_FOUND`) for an unknown name.
   */
  removeToxic(name: string): void {
    const index = this.indexOf(name);
    const [toxic] = this.toxicList.splice(index, 1) as [Toxic];
    for (const connection of this.connections) connection.link(toxic.stream).removeToxic(name);
  }

  /** Removes every toxic (as toxiproxy's `POST /reset` does for each proxy). */
  removeAllToxics(): void {
    for (const toxic of this.toxicList.slice()) this.removeToxic(toxic.name);
  }

  /** The toxic named `name`, if any. */
  getToxic(name: string): Toxic | undefined {
    return this.toxicList.find((t) => t.name === name);
  }

  /**
   * Runs `fn` with `toxics` added, and always removes them afterwards, also when `fn` throws: the scoped way
   * to inject a fault in a test.
   *
   * @example
   * ```ts
   * await proxy.with({ type: 'timeout', attributes: { timeout: 0 } }, async () => {
   *   await expect(client.get('k')).rejects.toThrow(TimeoutError);
   * });
   * ```
   */
  async with<T>(toxics: ToxicSpec | readonly ToxicSpec[], fn: (proxy: this) => T | Promise<T>): Promise<T> {
    const added = this.addToxics(Array.isArray(toxics) ? (toxics as readonly ToxicSpec[]) : [toxics as ToxicSpec]);
    try {
      return await fn(this);
    } finally {
      for (const toxic of added) if (this.getToxic(toxic.name) !== undefined) this.removeToxic(toxic.name);
    }
  }

  /** The proxy in toxiproxy's JSON shape. */
  toJSON(): FaultProxyJson {
    return { name: this.name, listen: this.listen, upstream: this.upstream, enabled: this.isEnabled, toxics: this.toxicList.slice() };
  }

  /**
   * Records that the proxy lost its listener while moving it (`moveError`: why the new address failed;
   * `rebindError`: why the old one could not be bound again): it becomes disabled, and the returned error says so.
   */
  private lostListener(moveError: unknown, rebindError: unknown): FaultProxyError {
    this.isEnabled = false;
    this.closeConnections();
    const old = formatHostPort(this.listenAddress.host, this.port);
    const why = (error: unknown): string => (error instanceof Error ? error.message : String(error));
    return new FaultProxyError(
      'PROXY_LISTEN_FAILED',
      `${why(moveError)}; listening again on its old address ${old} failed too (${why(rebindError)}): ` +
        `proxy "${this.name}" is now stopped (disabled, no listener); enable() tries ${old} again`,
      { cause: rebindError },
    );
  }

  private indexOf(name: string): number {
    const index = this.toxicList.findIndex((t) => t.name === name);
    if (index < 0) throw new FaultProxyError('TOXIC_NOT_FOUND', `Proxy "${this.name}" has no toxic named "${name}"`);
    return index;
  }

  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.operations.then(operation, operation);
    this.operations = run.catch(() => undefined);
    return run;
  }

  private async openListener(): Promise<void> {
    this.useListener(await this.bindListener(this.listenAddress, this.port));
  }

  /**
   * Binds a new listener on `address` (`port` instead of its port: the one picked earlier for port 0) without
   * touching the current one. Rejects with `PROXY_LISTEN_FAILED` naming the address.
   */
  private bindListener(address: HostPort, port: number): Promise<Server> {
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      if (this.server === server) this.accept(socket);
      else socket.destroy();
    });
    return new Promise<Server>((resolve, reject) => {
      server.once('error', (error) => {
        reject(
          new FaultProxyError('PROXY_LISTEN_FAILED', `Proxy "${this.name}" cannot listen on ${formatHostPort(address.host, port)}: ${error.message}`, {
            cause: error,
          }),
        );
      });
      server.listen({ host: address.host, port }, () => {
        server.removeAllListeners('error');
        server.on('error', () => undefined);
        resolve(server);
      });
    });
  }

  /** Makes `server` the proxy's listener and records its port. */
  private useListener(server: Server): void {
    const address = server.address();
    if (typeof address === 'object' && address !== null) this.boundPort = address.port;
    this.server = server;
  }

  private closeListener(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.closeConnections();
    return server === undefined ? Promise.resolve() : closeServer(server);
  }

  private closeConnections(): void {
    for (const connection of this.connections) connection.destroy();
  }

  private accept(client: Socket): void {
    if (this.server === undefined || !this.isEnabled) {
      client.destroy();
      return;
    }
    const id = this.nextConnectionId++;
    const { host, port } = this.upstreamAddress;
    const connection = new ProxyConnection(this.owner, id, client, host, port, this.toxicList);
    this.connections.add(connection);
    this.counters.activeConnections++;
    this.counters.totalConnections++;
    if (this.events.wants('connectionOpen')) {
      this.events.emit('connectionOpen', { proxy: this.name, connectionId: id, remoteAddress: client.remoteAddress });
    }
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

function checkAddress(v: OptionsValidator, path: string, value: unknown, minPort: number): HostPort | undefined {
  const parsed = parseHostPort(value, minPort);
  if (parsed === undefined) v.fail(path, `"host:port" with a port in ${minPort}..65535`, value);
  return parsed;
}

function validate(options: FaultProxyOptions): { listen: HostPort; upstream: HostPort; toxics: Toxic[] } {
  const v = new OptionsValidator('FaultProxy');
  if (!v.required('options', options, 'an object') || !v.object('options', options)) v.throwIfInvalid();
  if (v.required('name', options.name, 'a non-empty string') && (typeof options.name !== 'string' || options.name === '')) {
    v.fail('name', 'a non-empty string', options.name);
  }
  const listen = checkAddress(v, 'listen', options.listen ?? '127.0.0.1:0', 0);
  const upstream = v.required('upstream', options.upstream, '"host:port"') ? checkAddress(v, 'upstream', options.upstream, 1) : undefined;
  v.boolean('enabled', options.enabled);
  v.clock('clock', options.clock);
  v.func('random', options.random);
  const toxics: Toxic[] = [];
  if (options.toxics !== undefined) {
    if (!Array.isArray(options.toxics)) v.fail('toxics', 'an array', options.toxics);
    else {
      const names = new Set<string>();
      options.toxics.forEach((spec: unknown, i: number) => {
        const toxic = parseToxic(spec, v, `toxics[${i}]`);
        if (toxic === undefined) return;
        if (names.has(toxic.name)) v.fail(`toxics[${i}].name`, 'a name no other toxic of the proxy has', toxic.name);
        names.add(toxic.name);
        toxics.push(toxic);
      });
    }
  }
  v.throwIfInvalid();
  return { listen: listen as HostPort, upstream: upstream as HostPort, toxics };
}
