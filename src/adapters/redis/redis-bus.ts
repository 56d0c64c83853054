import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Bus, BusHandler, BusStatus } from '../../core/bus.js';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
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
   * Most publishes written to Redis and still waiting for its reply (an integer >= 16): what a hung server
   * (or a connection lost mid-flight, whose commands ioredis holds to resend) can make ioredis keep. Further
   * publishes wait in the bus's own queue (see {@link maxQueuedPublishes}) and are written as replies arrive.
   * @default 1000
   */
  maxPendingPublishes?: number;
  /**
   * Most publishes waiting in the bus's queue behind `maxPendingPublishes` unanswered ones (an integer >= 0).
   * A publish that finds the queue full is dropped (rejected at once, counted in
   * {@link RedisBus.droppedPublishes}), and since a message was lost the bus reports `disconnected` until
   * half of the whole backlog (unanswered plus queued) has drained.
   * @default 20000
   */
  maxQueuedPublishes?: number;
  /**
   * How long (ms, > 0) the oldest unanswered publish may wait, while `maxPendingPublishes` are unanswered,
   * before Redis is deemed not answering: the bus then reports `disconnected`, drops what is queued and every
   * new publish until half of the unanswered ones have been answered. A burst that Redis answers, however
   * large, never does this.
   * @default 1000
   */
  publishStallMs?: number;
  /** Time source of the stall detection. @default systemClock */
  clock?: Clock;
}

const DEFAULT_MAX_PENDING_PUBLISHES = 1_000;
const MIN_MAX_PENDING_PUBLISHES = 16;
const DEFAULT_MAX_QUEUED_PUBLISHES = 20_000;
const DEFAULT_PUBLISH_STALL_MS = 1_000;

interface Envelope {
  f: string;
  m: unknown;
}

/** A publish waiting for room among the unanswered ones. */
interface QueuedPublish {
  channel: string;
  raw: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * A {@link Bus} over Redis pub/sub. It is `connected` while its subscriber connection is ready and
 * subscribed; a `connected` status change is announced only after the channels are subscribed again, so
 * a consumer that resynchronises on reconnect misses nothing published after that point. `publish`
 * rejects at once while the publishing connection is not ready instead of queueing behind an outage.
 *
 * Memory stays bounded without mistaking a burst for an outage. At most `maxPendingPublishes` publishes are
 * written to Redis and wait for its reply; the next ones wait, in order, in a queue of at most
 * `maxQueuedPublishes`, and are written as replies come back. A burst that Redis answers (thousands of
 * invalidations at once) is therefore delivered in full and never changes the status: a consumer such as
 * `MultiLayerCache` would otherwise distrust and flush its memory layer on every burst.
 *
 * A server that hangs (frozen, overloaded) keeps its connection `ready`, so publishes are written and wait
 * for replies. Only when `maxPendingPublishes` are unanswered AND the oldest of them has waited
 * `publishStallMs` is Redis deemed not answering: the bus reports `disconnected`, rejects what it queued,
 * and until half of the unanswered publishes have been answered each new message is dropped: `publish`
 * rejects at once and {@link droppedPublishes} counts it. A publish that finds the queue itself full is
 * dropped the same way, and also reports `disconnected` (a message was lost) until half the backlog has
 * drained. The newest messages are the ones dropped because the older ones are already written to the
 * socket, and because the caller learns of a rejected message (a silently discarded old one would be
 * believed sent). A consumer that must not lose messages does what the {@link Bus} contract asks of it
 * anyway: keep what `publish` rejected, and treat `disconnected` → `connected` as "messages may have been
 * missed". `MultiLayerCache` does both: it keeps rejected invalidations (collapsed into one prefix-wide
 * invalidation past 1000) and announces them, and bumps its epoch, when the bus is back.
 */
export class RedisBus implements Bus {
  readonly id = randomUUID();
  private readonly client: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly ownsSubscriber: boolean;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly handlers = new Map<string, Set<BusHandler>>();
  private readonly statusListeners = new Set<(status: BusStatus) => void>();
  private readonly maxPending: number;
  private readonly maxQueued: number;
  private readonly stallMs: number;
  /** Unanswered publishes: id → when written (insertion order, so the first one is the oldest). */
  private readonly inFlight = new Map<number, number>();
  private nextPublish = 0;
  /** Publishes waiting for room among the unanswered ones, from `queueHead` on. */
  private queue: QueuedPublish[] = [];
  private queueHead = 0;
  private dropped = 0;
  private stallTimer: TimerHandle | undefined;
  /** Whether the subscriber connection is ready and subscribed. */
  private subscribed = false;
  /** Whether Redis stopped answering (see publishStallMs) and half of the unanswered ones are not answered yet. */
  private stalled = false;
  /** Whether a publish found the queue full and half of the backlog has not drained yet. */
  private overflowed = false;
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
      v.integer('maxPendingPublishes', options.maxPendingPublishes, MIN_MAX_PENDING_PUBLISHES);
      v.integer('maxQueuedPublishes', options.maxQueuedPublishes, 0);
      v.duration('publishStallMs', options.publishStallMs, true);
      v.clock('clock', options.clock);
    }
    v.throwIfInvalid();
    this.client = options.client;
    this.maxPending = options.maxPendingPublishes ?? DEFAULT_MAX_PENDING_PUBLISHES;
    this.maxQueued = options.maxQueuedPublishes ?? DEFAULT_MAX_QUEUED_PUBLISHES;
    this.stallMs = options.publishStallMs ?? DEFAULT_PUBLISH_STALL_MS;
    this.clock = options.clock ?? systemClock;
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

  /** Publishes written to Redis and still waiting for its reply; at most `maxPendingPublishes`. */
  get pendingPublishes(): number {
    return this.inFlight.size;
  }

  /** Publishes waiting in the bus's queue for room among the unanswered ones; at most `maxQueuedPublishes`. */
  get queuedPublishes(): number {
    return this.queue.length - this.queueHead;
  }

  /** Messages dropped since the bus was created: Redis was not answering, or the queue was full. */
  get droppedPublishes(): number {
    return this.dropped;
  }

  /**
   * Publishes `message` to the other endpoints. Rejects at once when the bus is closed, the publishing
   * connection is not ready, Redis is deemed not answering or the queue is full (the message is then dropped
   * and counted); otherwise resolves when Redis has accepted it.
   */
  async publish(channel: string, message: unknown): Promise<void> {
    if (this.closed) throw new Error('RedisBus is closed');
    if (this.client.status !== 'ready') throw new Error(`RedisBus cannot publish: connection is ${this.client.status}`);
    if (!this.stalled && this.inFlight.size >= this.maxPending && this.oldestWait() >= this.stallMs) this.stall();
    if (this.stalled) {
      this.dropped++;
      throw new Error(`RedisBus dropped the message: Redis has not answered ${this.inFlight.size} publishes for ${this.stallMs} ms (maxPendingPublishes ${this.maxPending}, publishStallMs ${this.stallMs})`);
    }
    const envelope: Envelope = { f: this.id, m: message ?? null };
    const raw = JSON.stringify(envelope);
    if (this.inFlight.size < this.maxPending && this.queuedPublishes === 0) return this.send(this.prefix + channel, raw);
    if (this.overflowed || this.queuedPublishes >= this.maxQueued) {
      this.dropped++;
      if (!this.overflowed) this.setOverflowed(true);
      throw new Error(`RedisBus dropped the message: ${this.inFlight.size} publishes are waiting for Redis and ${this.queuedPublishes} more are queued (maxQueuedPublishes ${this.maxQueued})`);
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ channel: this.prefix + channel, raw, resolve, reject });
    });
  }

  /** Writes one publish and waits for Redis's reply, then lets queued ones take its place. */
  private async send(redisChannel: string, raw: string): Promise<void> {
    const id = this.nextPublish++;
    this.inFlight.set(id, this.clock.now());
    if (this.inFlight.size >= this.maxPending) this.watchStall();
    try {
      await this.client.publish(redisChannel, raw);
    } finally {
      this.inFlight.delete(id);
      this.drain();
    }
  }

  /** Moves queued publishes into the room freed by answers; clears `stalled`/`overflowed` once half drained. */
  private drain(): void {
    while (this.inFlight.size < this.maxPending && this.queueHead < this.queue.length && !this.stalled && !this.closed) {
      const next = this.queue[this.queueHead] as QueuedPublish;
      this.queue[this.queueHead++] = undefined as unknown as QueuedPublish;
      if (this.client.status !== 'ready') next.reject(new Error(`RedisBus cannot publish: connection is ${this.client.status}`));
      else this.send(next.channel, next.raw).then(next.resolve, next.reject);
    }
    this.compactQueue();
    if (this.stalled && this.inFlight.size <= Math.floor(this.maxPending / 2)) {
      this.stalled = false;
      this.announceStatus();
    }
    if (this.overflowed && this.inFlight.size + this.queuedPublishes <= Math.floor((this.maxPending + this.maxQueued) / 2)) this.setOverflowed(false);
  }

  private compactQueue(): void {
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1_024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  /** How long the oldest unanswered publish has waited (0 when none). */
  private oldestWait(): number {
    const oldest = this.inFlight.values().next();
    return oldest.done === true ? 0 : this.clock.now() - oldest.value;
  }

  /** Arms the (single, housekeeping) timer that checks whether the oldest unanswered publish stalled. */
  private watchStall(): void {
    if (this.stallTimer !== undefined || this.stalled || this.closed) return;
    this.stallTimer = this.clock.schedule(
      () => {
        this.stallTimer = undefined;
        if (this.stalled || this.closed || this.inFlight.size < this.maxPending) return;
        if (this.oldestWait() >= this.stallMs) this.stall();
        else this.watchStall();
      },
      Math.max(0, this.stallMs - this.oldestWait()),
      { keepAlive: false },
    );
  }

  /** Redis is deemed not answering: reports `disconnected` and rejects (drops) every queued publish. */
  private stall(): void {
    this.stalled = true;
    this.rejectQueued((n) => new Error(`RedisBus dropped the message: Redis has not answered ${n} publishes for ${this.stallMs} ms`), true);
    this.announceStatus();
  }

  private rejectQueued(error: (pending: number) => Error, count: boolean): void {
    const waiting = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    if (count) this.dropped += waiting.length;
    for (const item of waiting) item.reject(error(this.inFlight.size));
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
    this.stallTimer?.cancel();
    this.stallTimer = undefined;
    this.rejectQueued(() => new Error('RedisBus is closed'), false);
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

  private setOverflowed(overflowed: boolean): void {
    this.overflowed = overflowed;
    this.announceStatus();
  }

  /** Tells the status listeners when `connected` (subscribed, Redis answering, nothing lost, not closed) changed. */
  private announceStatus(): void {
    const connected = this.subscribed && !this.stalled && !this.overflowed && !this.closed;
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
