import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Bus, BusHandler, BusStatus } from '../../core/bus.js';
import type { Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import type { RedisClient } from './redis-client.js';

/** Options of {@link RedisBus}. */
export interface RedisBusOptions {
  /** Connection used to publish (usually the application's). */
  client: RedisClient;
  /**
   * Connection used to subscribe; a subscribed connection can do nothing else.
   * @default `client.duplicate()`, closed by {@link RedisBus.close}
   */
  subscriber?: RedisClient;
  /** Prefix of every Redis channel name. @default 'antifragile:bus:' */
  prefix?: string;
  /**
   * Most publishes sent and still waiting for Redis's reply (an integer >= 1): what a hung server (or a
   * connection lost mid-flight, whose commands ioredis holds to resend) can make this process keep. When the
   * backlog is full the bus reports `disconnected`, and each further `publish` is dropped (rejected at once
   * and counted in {@link RedisBus.droppedPublishes}) until half of the backlog has drained.
   * @default 1000
   */
  maxPendingPublishes?: number;
}

const DEFAULT_MAX_PENDING_PUBLISHES = 1_000;

interface Envelope {
  f: string;
  m: unknown;
}

/**
 * A {@link Bus} over Redis pub/sub. It is `connected` while its subscriber connection is ready and
 * subscribed; a `connected` status change is announced only after the channels are subscribed again, so
 * a consumer that resynchronises on reconnect misses nothing published after that point. `publish`
 * rejects at once while the publishing connection is not ready instead of queueing behind an outage.
 *
 * A server that hangs (frozen, overloaded) keeps its connection `ready`, so publishes are written and wait
 * for replies. At most `maxPendingPublishes` wait: when the backlog is full the bus reports `disconnected`,
 * and until half of it has drained each new message is dropped: `publish` rejects at once and
 * {@link droppedPublishes} counts it. The newest messages are the ones dropped because the older ones are
 * already written to the socket, and because the caller learns of a rejected message (a silently discarded
 * old one would be believed sent). A consumer that must not lose messages does what the {@link Bus} contract
 * asks of it anyway: keep what `publish` rejected, and treat `disconnected` → `connected` as "messages may
 * have been missed". `MultiLayerCache` does both: it keeps rejected invalidations (collapsed into one
 * prefix-wide invalidation past 1000) and announces them, and bumps its epoch, when the bus is back.
 */
export class RedisBus implements Bus {
  readonly id = randomUUID();
  private readonly client: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly ownsSubscriber: boolean;
  private readonly prefix: string;
  private readonly handlers = new Map<string, Set<BusHandler>>();
  private readonly statusListeners = new Set<(status: BusStatus) => void>();
  private readonly maxPending: number;
  private pending = 0;
  private dropped = 0;
  /** Whether the subscriber connection is ready and subscribed. */
  private subscribed = false;
  /** Whether the publish backlog filled up and has not yet drained to half. */
  private saturated = false;
  private isConnected = false;
  private closed = false;
  private readonly detach: () => void;

  constructor(options: RedisBusOptions) {
    const v = new OptionsValidator('RedisBus');
    if (typeof options !== 'object' || options === null) v.fail('options', 'an object', options);
    else {
      if (v.required('client', options.client, 'an ioredis client')) {
        if (typeof (options.client as { publish?: unknown }).publish !== 'function') v.fail('client', 'an ioredis client', options.client);
      }
      v.string('prefix', options.prefix);
      v.integer('maxPendingPublishes', options.maxPendingPublishes, 1);
    }
    v.throwIfInvalid();
    this.client = options.client;
    this.maxPending = options.maxPendingPublishes ?? DEFAULT_MAX_PENDING_PUBLISHES;
    this.prefix = options.prefix ?? 'antifragile:bus:';
    this.ownsSubscriber = options.subscriber === undefined;
    this.subscriber = options.subscriber ?? duplicate(options.client);

    const onMessage = (channel: string, raw: string): void => this.receive(channel, raw);
    const onReady = (): void => void this.resubscribe();
    const onDown = (): void => this.setSubscribed(false);
    this.subscriber.on('message', onMessage);
    this.subscriber.on('ready', onReady);
    this.subscriber.on('close', onDown);
    this.subscriber.on('end', onDown);
    // An unreachable server makes ioredis emit 'error'; the status change is what consumers act on.
    const onError = (): void => {};
    this.subscriber.on('error', onError);
    this.detach = () => {
      this.subscriber.off('message', onMessage);
      this.subscriber.off('ready', onReady);
      this.subscriber.off('close', onDown);
      this.subscriber.off('end', onDown);
      this.subscriber.off('error', onError);
    };
    if (this.subscriber.status === 'ready') void this.resubscribe();
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Publishes sent and still waiting for Redis's reply; at most `maxPendingPublishes`. */
  get pendingPublishes(): number {
    return this.pending;
  }

  /** Messages dropped since the bus was created because `maxPendingPublishes` were already waiting. */
  get droppedPublishes(): number {
    return this.dropped;
  }

  /**
   * Publishes `message` to the other endpoints. Rejects at once when the bus is closed, the publishing
   * connection is not ready, or the backlog of unanswered publishes is full (the message is then dropped
   * and counted); otherwise resolves when Redis has accepted it.
   */
  async publish(channel: string, message: unknown): Promise<void> {
    if (this.closed) throw new Error('RedisBus is closed');
    if (this.client.status !== 'ready') throw new Error(`RedisBus cannot publish: connection is ${this.client.status}`);
    if (this.saturated) {
      this.dropped++;
      throw new Error(`RedisBus dropped the message: ${this.pending} publishes are waiting for Redis (maxPendingPublishes ${this.maxPending})`);
    }
    const envelope: Envelope = { f: this.id, m: message ?? null };
    const raw = JSON.stringify(envelope);
    this.pending++;
    if (this.pending >= this.maxPending) this.setSaturated(true);
    try {
      await this.client.publish(this.prefix + channel, raw);
    } finally {
      this.pending--;
      if (this.saturated && this.pending <= Math.floor(this.maxPending / 2)) this.setSaturated(false);
    }
  }

  subscribe(channel: string, handler: BusHandler): Unsubscribe {
    let set = this.handlers.get(channel);
    if (set === undefined) {
      this.handlers.set(channel, (set = new Set()));
      if (this.subscriber.status === 'ready') {
        this.subscriber.subscribe(this.prefix + channel).catch(() => {
          // Resubscribed on the next 'ready'.
        });
      }
    }
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  onStatusChange(listener: (status: BusStatus) => void): Unsubscribe {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.announceStatus();
    this.detach();
    this.handlers.clear();
    this.statusListeners.clear();
    if (this.ownsSubscriber) this.subscriber.disconnect();
  }

  private async resubscribe(): Promise<void> {
    if (this.closed) return;
    const channels = [...this.handlers.keys()].map((c) => this.prefix + c);
    try {
      if (channels.length > 0) await this.subscriber.subscribe(...channels);
      if (this.subscriber.status === 'ready') this.setSubscribed(true);
    } catch {
      this.setSubscribed(false);
    }
  }

  private receive(redisChannel: string, raw: string): void {
    if (!redisChannel.startsWith(this.prefix)) return;
    const set = this.handlers.get(redisChannel.slice(this.prefix.length));
    if (set === undefined || set.size === 0) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(raw) as Envelope;
    } catch {
      return;
    }
    if (envelope.f === this.id) return;
    for (const handler of [...set]) {
      try {
        handler(envelope.m, envelope.f);
      } catch (error) {
        reportCallbackError(error, `RedisBus handler for "${redisChannel}"`);
      }
    }
  }

  private setSubscribed(subscribed: boolean): void {
    this.subscribed = subscribed;
    this.announceStatus();
  }

  private setSaturated(saturated: boolean): void {
    this.saturated = saturated;
    this.announceStatus();
  }

  /** Tells the status listeners when `connected` (subscribed, backlog not full, not closed) changed. */
  private announceStatus(): void {
    const connected = this.subscribed && !this.saturated && !this.closed;
    if (this.isConnected === connected) return;
    this.isConnected = connected;
    for (const listener of [...this.statusListeners]) {
      try {
        listener(connected ? 'connected' : 'disconnected');
      } catch (error) {
        reportCallbackError(error, 'RedisBus status listener');
      }
    }
  }
}

function duplicate(client: RedisClient): RedisClient {
  // Resubscription is ours: we announce `connected` only once it is done.
  if ('isCluster' in client && client.isCluster) return client.duplicate();
  return (client as Redis).duplicate({ autoResubscribe: false });
}
