import type { Bus } from '../../core/bus.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import type { GracefulDegradation } from '../../degradation/graceful-degradation.js';
import type { RedisClient } from './redis-client.js';
import { RedisScript } from './redis-script.js';

/**
 * Stores a new fleet override under the next version, atomically; replies the version. A version is one
 * more than the last and at least Redis' time in µs, so versions keep growing across a Redis restart that
 * lost the key (receivers ignore versions not above the last they applied).
 */
const writeScript = new RedisScript(`
local t = redis.call('TIME')
local v = (tonumber(redis.call('HGET', KEYS[1], 'v')) or 0) + 1
local micros = tonumber(t[1]) * 1000000 + tonumber(t[2])
if micros > v then v = micros end
redis.call('HSET', KEYS[1], 'v', string.format('%d', v), 'state', ARGV[1])
return v`);

/** The fleet-wide degradation override, as stored in Redis and broadcast on the bus. */
export interface FleetOverride {
  /** The pinned level, or null when no level is pinned. */
  override: string | null;
  /** Id of the instance that set it. */
  by: string;
  /** When it was set, on that instance's clock (ms). */
  at: number;
}

/** Options of {@link FleetDegradationSync}. */
export interface FleetDegradationSyncOptions {
  /** The local degradation instance kept in step with the fleet. */
  degradation: GracefulDegradation;
  /** Connection holding the last value. */
  client: RedisClient;
  /** Bus the changes are broadcast on (a `RedisBus` across processes). Not closed by {@link FleetDegradationSync.stop}. */
  bus: Bus;
  /** Id of this instance, carried in what it publishes. */
  instanceId: string;
  /** Redis key of the last value (a hash: `v` version, `state` JSON). @default 'antifragile:fleet:degradation' */
  key?: string;
  /** Bus channel of the changes. @default 'fleet:degradation' */
  channel?: string;
  /** Time source for `at`. @default systemClock */
  clock?: Clock;
}

/** Events of {@link FleetDegradationSync}. */
export interface FleetDegradationSyncEvents {
  /** This instance published its own override change under `version`. */
  published: FleetOverride & { version: number };
  /** A change made elsewhere in the fleet was applied here. */
  applied: FleetOverride & { version: number };
  /**
   * Publishing, reading or applying failed (Redis down, a level this instance does not know). A change
   * that could not be published is retried when the bus connects again.
   */
  error: { operation: 'publish' | 'read' | 'apply'; error: unknown };
}

interface Message {
  v: number;
  state: FleetOverride;
}

/**
 * Keeps the manual override of a {@link GracefulDegradation} the same on every instance of a fleet.
 *
 * What is shared: the override only, that is a level pinned with `setOverride(level)`, its removal
 * (`setOverride(null)`, `forceRecover()`), and `degrade(level)` while an override is set (which moves it).
 * What stays local: automatic evaluation, which follows each instance's own health, and a manual
 * `degrade()` made while no override is set. An instance receiving a cleared override keeps its level until
 * its own evaluation moves it.
 *
 * How: a local change is written to one Redis hash under the next version (an atomic script) and then
 * broadcast with that version; a receiver applies a change only if its version is higher than the last it
 * applied, so every instance converges on the latest write. A change applied from the fleet is never
 * published again (no echo), because it is applied under a guard that the `overrideChange` listener
 * honours. On {@link start} and whenever the bus connects again, the last value is read from Redis, so a new
 * instance or one that missed messages during a partition catches up. A local change that could not be
 * published (Redis down) is published when the bus connects again, as the latest intent.
 */
export class FleetDegradationSync {
  private readonly degradation: GracefulDegradation;
  private readonly client: RedisClient;
  private readonly bus: Bus;
  private readonly instanceId: string;
  private readonly key: string;
  private readonly channel: string;
  private readonly clock: Clock;
  private readonly events = new EventEmitter<FleetDegradationSyncEvents>('fleet-degradation-sync', 'degradation');
  private readonly subscriptions: Unsubscribe[] = [];
  /** Highest version applied or published here. */
  private version = 0;
  /** Set while a fleet change is being applied, so the `overrideChange` it causes is not published. */
  private applying = false;
  /** A local change not yet published (Redis was down), retried on reconnect. */
  private pending: FleetOverride | undefined;
  private running = false;

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: FleetDegradationSyncOptions) {
    const v = new OptionsValidator('FleetDegradationSync');
    if (v.required('options', options, 'an object') && v.object('options', options)) {
      const d = options.degradation as unknown as { setOverride?: unknown; on?: unknown } | undefined;
      if (v.required('degradation', d, 'a GracefulDegradation') && (typeof d?.setOverride !== 'function' || typeof d.on !== 'function')) {
        v.fail('degradation', 'a GracefulDegradation', d);
      }
      if (v.required('client', options.client, 'an ioredis client') && typeof (options.client as { evalsha?: unknown }).evalsha !== 'function') {
        v.fail('client', 'an ioredis client', options.client);
      }
      if (v.required('bus', options.bus, 'a Bus') && typeof (options.bus as { publish?: unknown }).publish !== 'function') v.fail('bus', 'a Bus', options.bus);
      v.required('instanceId', options.instanceId, 'a string');
      v.string('instanceId', options.instanceId);
      v.string('key', options.key);
      v.string('channel', options.channel);
      v.clock('clock', options.clock);
    }
    v.throwIfInvalid();
    this.degradation = options.degradation;
    this.client = options.client;
    this.bus = options.bus;
    this.instanceId = options.instanceId;
    this.key = options.key ?? 'antifragile:fleet:degradation';
    this.channel = options.channel ?? 'fleet:degradation';
    this.clock = options.clock ?? systemClock;
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof FleetDegradationSyncEvents>(event: K, listener: Listener<FleetDegradationSyncEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Version of the last fleet override applied or published here (0: none yet). */
  get appliedVersion(): number {
    return this.version;
  }

  /**
   * Starts listening to local changes and to the fleet, then applies the fleet's last override if there is
   * one (the fleet wins over this instance's initial state). Resolves once that read is done; a failed read
   * is reported as an `error` event and retried when the bus connects. Idempotent.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.subscriptions.push(
      this.degradation.on('overrideChange', ({ override }) => {
        if (!this.applying) void this.publish(override);
      }),
      this.bus.subscribe(this.channel, (message) => this.receive(message)),
      this.bus.onStatusChange((status) => {
        if (status === 'connected') void this.resync();
      }),
    );
    await this.resync();
  }

  /** Stops following the fleet and publishing local changes. Does not close the bus. */
  stop(): void {
    this.running = false;
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe();
  }

  /** Publishes a local change: stored under the next version, then broadcast. Never rejects. */
  private async publish(override: string | null): Promise<void> {
    const state: FleetOverride = { override, by: this.instanceId, at: this.clock.now() };
    this.pending = state;
    let version: number;
    try {
      version = Number(await writeScript.run(this.client, [this.key], [JSON.stringify(state)]));
    } catch (error) {
      this.events.emit('error', { operation: 'publish', error });
      return;
    }
    if (this.pending === state) this.pending = undefined;
    if (!this.running || version <= this.version) return; // a newer change was applied meanwhile: it wins
    this.version = version;
    // An older fleet change may have been applied while the write was in flight: ours is newer.
    if (this.degradation.getCurrentState().override !== override) this.apply(state);
    this.events.emit('published', { ...state, version });
    try {
      await this.bus.publish(this.channel, { v: version, state } satisfies Message);
    } catch (error) {
      // Stored: instances re-read it when their bus connects again.
      this.events.emit('error', { operation: 'publish', error });
    }
  }

  private receive(message: unknown): void {
    if (!this.running) return;
    const parsed = parseMessage(message);
    if (parsed === undefined) {
      this.events.emit('error', { operation: 'apply', error: new TypeError(`malformed degradation message ${JSON.stringify(message)}`) });
      return;
    }
    this.adopt(parsed);
  }

  /** Applies a fleet value if it is newer than anything applied or published here. */
  private adopt({ v, state }: Message): void {
    if (v <= this.version) return;
    this.version = v;
    if (this.apply(state)) this.events.emit('applied', { ...state, version: v });
  }

  /** Sets the override without publishing it; returns whether it was valid here. */
  private apply(state: FleetOverride): boolean {
    if (this.degradation.getCurrentState().override === state.override) return true;
    this.applying = true;
    try {
      void this.degradation.setOverride(state.override);
      return true;
    } catch (error) {
      this.events.emit('error', { operation: 'apply', error });
      return false;
    } finally {
      this.applying = false;
    }
  }

  /** Publishes a change that failed earlier, else reads the fleet's last value. Never rejects. */
  private async resync(): Promise<void> {
    if (!this.running) return;
    if (this.pending !== undefined) return this.publish(this.pending.override);
    let reply: unknown;
    try {
      reply = await this.client.hmget(this.key, 'v', 'state');
    } catch (error) {
      this.events.emit('error', { operation: 'read', error });
      return;
    }
    if (!this.running || this.pending !== undefined) return;
    const [v, state] = reply as [string | null, string | null];
    if (v === null || state === null) return;
    let parsed: Message | undefined;
    try {
      parsed = parseMessage({ v: Number(v), state: JSON.parse(state) as unknown });
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined) {
      this.events.emit('error', { operation: 'read', error: new TypeError(`malformed degradation state in Redis key "${this.key}"`) });
      return;
    }
    this.adopt(parsed);
  }
}

function parseMessage(message: unknown): Message | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { v, state } = message as { v?: unknown; state?: unknown };
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || typeof state !== 'object' || state === null) return undefined;
  const { override, by, at } = state as { override?: unknown; by?: unknown; at?: unknown };
  if ((override !== null && typeof override !== 'string') || typeof by !== 'string' || typeof at !== 'number') return undefined;
  return { v, state: { override, by, at } };
}
