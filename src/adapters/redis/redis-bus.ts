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
}

interface Envelope {
  f: string;
  m: unknown;
}

/**
 * A {@link Bus} over Redis pub/sub. It is `connected` while its subscriber connection is ready and
 * subscribed; a `connected` status change is announced only after the channels are subscribed again, so
 * a consumer that resynchronises on reconnect misses nothing published after that point. `publish`
 * rejects at once while the publishing connection is not ready instead of queueing behind an outage.
 */
export class RedisBus implements Bus {
  readonly id = randomUUID();
  private readonly client: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly ownsSubscriber: boolean;
  private readonly prefix: string;
  private readonly handlers = new Map<string, Set<BusHandler>>();
  private readonly statusListeners = new Set<(status: BusStatus) => void>();
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
    }
    v.throwIfInvalid();
    this.client = options.client;
    this.prefix = options.prefix ?? 'antifragile:bus:';
    this.ownsSubscriber = options.subscriber === undefined;
    this.subscriber = options.subscriber ?? duplicate(options.client);

    const onMessage = (channel: string, raw: string): void => this.receive(channel, raw);
    const onReady = (): void => void this.resubscribe();
    const onDown = (): void => this.setStatus(false);
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

  async publish(channel: string, message: unknown): Promise<void> {
    if (this.closed) throw new Error('RedisBus is closed');
    if (this.client.status !== 'ready') throw new Error(`RedisBus cannot publish: connection is ${this.client.status}`);
    const envelope: Envelope = { f: this.id, m: message ?? null };
    await this.client.publish(this.prefix + channel, JSON.stringify(envelope));
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
    this.setStatus(false);
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
      if (this.subscriber.status === 'ready') this.setStatus(true);
    } catch {
      this.setStatus(false);
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

  private setStatus(connected: boolean): void {
    if (this.isConnected === connected) return;
    if (connected && this.closed) return;
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
