import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../../../core/clock.js';

/** Settings of an {@link AdminEventStream}. */
export interface AdminEventStreamSettings {
  clock: Clock;
  /** Least time between two snapshots sent, ms. */
  minIntervalMs: number;
  /** How often the state is re-read while clients are connected (for changes no event reports: hit rates, an open breaker turning half-open), ms. */
  pollIntervalMs: number;
  /** Longest silence before a heartbeat comment, ms. */
  heartbeatMs: number;
  /** Most clients connected at once. */
  maxClients: number;
  /** A client whose unsent output exceeds this many bytes is dropped. */
  maxBufferedBytes: number;
  /** Longest life of one stream, ms: it ends then (or at its credential's expiry, if sooner) and the client must authenticate again. */
  maxLifetimeMs: number;
  /** Turns the JSON `read` returned (compared to detect changes) into the data sent, e.g. adding a timestamp. */
  stamp: (json: string, now: number) => string;
}

/** What a stream's client authenticated with: checked when the stream opens and while it lasts. */
export interface AdminStreamLease {
  /** Clock milliseconds from which the credential is refused (a ticket's expiry; `Infinity` for none). */
  expiresAt: number;
  /** Id of the token the credential rests on (see `AdminAuth.isCurrent`). */
  tokenId: number;
}

interface Client {
  lease: AdminStreamLease;
  /** Clock milliseconds at which the stream ends: the lease's expiry or the lifetime limit, whichever comes first. */
  endsAt: number;
}

/** Why a stream was ended, sent as the data of the last event (`event: end`). */
export type AdminStreamEndReason = 'expired' | 'revoked';

/**
 * Server-sent events of the admin API: each client gets the current snapshot at once (`event: snapshot`),
 * then a new one whenever it changed, at most one per `minIntervalMs` (changes are coalesced), and a
 * heartbeat comment after `heartbeatMs` of silence. Timers run only while a client is connected and never
 * keep the process alive; a client is removed when its connection closes or it stops reading.
 *
 * A stream lasts only as long as what opened it: at its credential's expiry (a ticket's) or after
 * `maxLifetimeMs`, whichever comes first, it gets `event: end` with data `{"reason":"expired"}` and is ended;
 * {@link endWhere} ends streams whose token was revoked (`{"reason":"revoked"}`). One timer, set for the
 * soonest end, serves every stream. A client reconnects by authenticating again (the dashboard fetches a
 * fresh ticket).
 */
export class AdminEventStream {
  private readonly clients = new Map<ServerResponse, Client>();
  private flushTimer: TimerHandle | undefined;
  private endTimer: TimerHandle | undefined;
  private endTimerAt = Infinity;
  private pollTimer: TimerHandle | undefined;
  private lastJson = '';
  private lastSentAt = -Infinity;
  private lastWriteAt = 0;
  private nextId = 0;

  constructor(
    private readonly settings: AdminEventStreamSettings,
    /** The state, as JSON without anything that changes on its own (a timestamp): compared to detect changes. */
    private readonly read: () => string,
  ) {}

  /** Clients connected now. */
  get size(): number {
    return this.clients.size;
  }

  private closed = false;

  /** Whether one more client may connect (never after {@link close}). */
  get full(): boolean {
    return this.closed || this.clients.size >= this.settings.maxClients;
  }

  /** Starts streaming to `res` (check {@link full} first) until `lease` expires, at most `maxLifetimeMs`. */
  accept(req: IncomingMessage, res: ServerResponse, lease: AdminStreamLease): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true);
    const now = this.settings.clock.now();
    const endsAt = Math.min(lease.expiresAt, now + this.settings.maxLifetimeMs);
    this.clients.set(res, { lease, endsAt });
    const remove = (): void => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTimers();
    };
    res.once('close', remove);
    res.once('error', remove);
    const json = this.read();
    this.lastJson = json;
    this.lastSentAt = now;
    this.write(res, `retry: 3000\nid: ${++this.nextId}\nevent: snapshot\ndata: ${this.settings.stamp(json, now)}\n\n`);
    this.lastWriteAt = now;
    if (this.pollTimer === undefined) this.schedulePoll();
    if (endsAt < this.endTimerAt) this.scheduleEnd(endsAt);
  }

  /** Ends every stream whose lease matches (e.g. its token was revoked), telling the client `reason`. */
  endWhere(predicate: (lease: AdminStreamLease) => boolean, reason: AdminStreamEndReason = 'revoked'): void {
    for (const [res, client] of [...this.clients]) {
      if (predicate(client.lease)) this.end(res, reason);
    }
  }

  /** Signals that the state may have changed: a snapshot goes out within `minIntervalMs` if it did. */
  markDirty(): void {
    if (this.clients.size === 0 || this.flushTimer !== undefined) return;
    const delay = Math.max(0, this.lastSentAt + this.settings.minIntervalMs - this.settings.clock.now());
    this.flushTimer = this.settings.clock.schedule(() => {
      this.flushTimer = undefined;
      this.flush();
    }, delay, { keepAlive: false });
  }

  /** Ends every client's stream and stops the timers. */
  close(): void {
    this.closed = true;
    for (const res of [...this.clients.keys()]) res.end();
    this.clients.clear();
    this.stopTimers();
  }

  private flush(): void {
    if (this.clients.size === 0) return;
    const now = this.settings.clock.now();
    const json = this.read();
    if (json !== this.lastJson) {
      this.lastJson = json;
      this.lastSentAt = now;
      this.broadcast(`id: ${++this.nextId}\nevent: snapshot\ndata: ${this.settings.stamp(json, now)}\n\n`, now);
    } else if (now - this.lastWriteAt >= this.settings.heartbeatMs) {
      this.broadcast(': heartbeat\n\n', now);
    }
  }

  private broadcast(chunk: string, now: number): void {
    this.lastWriteAt = now;
    for (const res of [...this.clients.keys()]) this.write(res, chunk);
  }

  private write(res: ServerResponse, chunk: string): void {
    if (res.writableLength > this.settings.maxBufferedBytes) {
      this.clients.delete(res);
      res.destroy();
      if (this.clients.size === 0) this.stopTimers();
      return;
    }
    res.write(chunk);
  }

  private schedulePoll(): void {
    this.pollTimer = this.settings.clock.schedule(() => {
      this.pollTimer = undefined;
      if (this.clients.size === 0) return;
      if (this.flushTimer === undefined) this.flush();
      if (this.clients.size > 0) this.schedulePoll();
    }, this.settings.pollIntervalMs, { keepAlive: false });
  }

  private end(res: ServerResponse, reason: AdminStreamEndReason): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stopTimers();
    res.end(`event: end\ndata: {"reason":"${reason}"}\n\n`);
  }

  /** Sets the one end timer for `at` (the soonest end of any stream). */
  private scheduleEnd(at: number): void {
    this.endTimer?.cancel();
    this.endTimerAt = at;
    this.endTimer = this.settings.clock.schedule(() => {
      this.endTimer = undefined;
      this.endTimerAt = Infinity;
      const now = this.settings.clock.now();
      let next = Infinity;
      for (const [res, client] of [...this.clients]) {
        if (client.endsAt <= now) this.end(res, 'expired');
        else if (client.endsAt < next) next = client.endsAt;
      }
      if (next !== Infinity) this.scheduleEnd(next);
    }, at - this.settings.clock.now(), { keepAlive: false });
  }

  private stopTimers(): void {
    this.endTimer?.cancel();
    this.endTimer = undefined;
    this.endTimerAt = Infinity;
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    this.pollTimer?.cancel();
    this.pollTimer = undefined;
  }
}
