import { connect, type Socket } from 'node:net';
import type { Clock } from '../../core/clock.js';
import type { Toxic } from './toxic.js';
import { ProxyLink, type LinkOwner } from './proxy-link.js';
import type { ToxicStream } from './toxic-stage.js';

/** What a connection needs from its proxy. @internal */
export interface ConnectionOwner {
  readonly clock: Clock;
  readonly random: () => number;
  received(stream: ToxicStream, bytes: number): void;
  upstreamFailed(connection: ProxyConnection, error: Error): void;
  closed(connection: ProxyConnection): void;
}

/**
 * One proxied connection: the accepted client socket, a socket to the upstream, and a {@link ProxyLink} for
 * each direction. Half-closes are forwarded (each socket is half-open capable), so a client may end its
 * requests and still read the replies. A reset (RST) on one side is passed on as a reset to the other.
 * @internal
 */
export class ProxyConnection implements LinkOwner {
  readonly clock: Clock;
  readonly random: () => number;
  private readonly upstream: Socket;
  private readonly upLink: ProxyLink;
  private readonly downLink: ProxyLink;
  private openSockets = 2;
  private finished = false;

  constructor(
    private readonly owner: ConnectionOwner,
    readonly id: number,
    private readonly client: Socket,
    upstreamHost: string,
    upstreamPort: number,
    toxics: readonly Toxic[],
  ) {
    this.clock = owner.clock;
    this.random = owner.random;
    client.setNoDelay(true);
    const upstream = connect({ host: upstreamHost, port: upstreamPort, allowHalfOpen: true, noDelay: true });
    this.upstream = upstream;
    this.upLink = new ProxyLink(this, 'upstream', client, upstream, toxics);
    this.downLink = new ProxyLink(this, 'downstream', upstream, client, toxics);

    client.on('data', (chunk: Buffer) => this.upLink.receive(chunk));
    client.on('end', () => this.upLink.receiveEnd());
    upstream.on('data', (chunk: Buffer) => this.downLink.receive(chunk));
    upstream.on('end', () => this.downLink.receiveEnd());
    client.on('error', (error: NodeJS.ErrnoException) => this.failed(upstream, error));
    let connected = false;
    upstream.once('connect', () => void (connected = true));
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected) this.owner.upstreamFailed(this, error);
      this.failed(client, error);
    });
    client.on('close', () => this.socketClosed());
    upstream.on('close', () => this.socketClosed());
  }

  /** Bytes read from the client and from the upstream so far. */
  get bytes(): { upstream: number; downstream: number } {
    return { upstream: this.upLink.sourceBytes, downstream: this.downLink.sourceBytes };
  }

  /** The link of `stream`. */
  link(stream: ToxicStream): ProxyLink {
    return stream === 'upstream' ? this.upLink : this.downLink;
  }

  received(stream: ToxicStream, bytes: number): void {
    this.owner.received(stream, bytes);
  }

  /** Ends both sockets after what was written to them, then destroys them. */
  close(): void {
    this.stopLinks();
    this.client.destroySoon();
    this.upstream.destroySoon();
  }

  /** Resets both sockets: each peer sees `ECONNRESET`. */
  reset(): void {
    this.stopLinks();
    resetSocket(this.client);
    resetSocket(this.upstream);
  }

  /** Closes both sockets at once (proxy stopped or disabled). */
  destroy(): void {
    this.stopLinks();
    this.client.destroy();
    this.upstream.destroy();
  }

  private stopLinks(): void {
    this.upLink.dispose();
    this.downLink.dispose();
  }

  /** One socket failed: a reset is passed on as a reset, anything else closes the other socket. */
  private failed(other: Socket, error: NodeJS.ErrnoException): void {
    this.stopLinks();
    if (error.code === 'ECONNRESET') resetSocket(other);
    else other.destroy();
  }

  private socketClosed(): void {
    this.openSockets--;
    if (this.openSockets > 0 || this.finished) return;
    this.finished = true;
    this.stopLinks();
    this.owner.closed(this);
  }
}

function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
