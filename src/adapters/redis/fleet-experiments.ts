import type { Bus } from '../../core/bus.js';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import type { RedisClient } from './redis-client.js';
import { RedisScript } from './redis-script.js';

/** Where a chaos experiment is. `scheduled`, `running` and `paused` are active; the others are final. */
export type ExperimentStatus = 'scheduled' | 'running' | 'paused' | 'stopped' | 'completed' | 'failed' | 'aborted' | 'expired';

/** Statuses of an experiment still in progress. */
export const ACTIVE_EXPERIMENT_STATUSES: readonly ExperimentStatus[] = ['scheduled', 'running', 'paused'];

const STATUSES: readonly ExperimentStatus[] = [...ACTIVE_EXPERIMENT_STATUSES, 'stopped', 'completed', 'failed', 'aborted', 'expired'];

/**
 * The state of a chaos experiment as announced to the fleet (a JSON value). `expired` is never published:
 * receivers report it when the announcing instance stopped refreshing an active experiment (it crashed or
 * lost Redis) for `ttlMs`.
 * @typeParam Details the shape of `details` (a JSON value).
 */
export interface ExperimentState<Details = unknown> {
  /** Unique id of this run of the experiment. */
  id: string;
  /** The experiment's name. */
  name: string;
  status: ExperimentStatus;
  /** When the run started, epoch ms. */
  startedAt: number;
  /** Id of the instance that announced it. */
  by: string;
  /** Anything else worth sharing (targets, faults, blast radius), as JSON. */
  details?: Details;
}

/** Payload of the `experiment` event. */
export interface ExperimentEvent<Details = unknown> {
  state: ExperimentState<Details>;
  /** Whether this instance announced it (`publish`), rather than another instance. */
  local: boolean;
}

/** Options of {@link FleetExperiments}. */
export interface FleetExperimentsOptions {
  /** Connection holding the states of active experiments. */
  client: RedisClient;
  /** Bus the states are broadcast on. Not closed by {@link FleetExperiments.stop}. */
  bus: Bus;
  /** Id of this instance (the default `by`). */
  instanceId: string;
  /** Prefix of the two Redis keys (`<prefix>{experiments}` and `<prefix>{experiments}:expiry`). @default 'antifragile:fleet:' */
  prefix?: string;
  /** Bus channel of the states. @default 'fleet:experiment' */
  channel?: string;
  /**
   * How long an active experiment is kept without being refreshed, in ms (> 0). The announcing instance
   * refreshes its active experiments every `ttlMs / 3` (a housekeeping timer), so an experiment outlives its
   * announcer by at most `ttlMs`.
   * @default 30_000
   */
  ttlMs?: number;
  /** Most experiments tracked (oldest updates dropped first), an integer >= 1. @default 100 */
  maxExperiments?: number;
  /** Time source of leases and the refresh timer. @default systemClock */
  clock?: Clock;
}

/** Events of {@link FleetExperiments}. */
export interface FleetExperimentsEvents {
  /** An experiment's state changed, here or elsewhere in the fleet. */
  experiment: ExperimentEvent;
  /** Reading, refreshing or broadcasting failed (publishing failures reject `publish` instead). */
  error: { operation: 'read' | 'refresh' | 'broadcast'; error: unknown };
}

/**
 * Stores (active) or removes (final) one experiment under the next version: one more than the last, and at
 * least Redis' time in µs, so versions keep growing across a Redis restart that lost the counter.
 * ARGV: id, state JSON, ttlMs, active.
 */
const putScript = new RedisScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = (tonumber(redis.call('HGET', KEYS[1], '#')) or 0) + 1
local micros = tonumber(t[1]) * 1000000 + tonumber(t[2])
if micros > v then v = micros end
redis.call('HSET', KEYS[1], '#', string.format('%d', v))
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], 'e:' .. ARGV[1], '{"v":' .. string.format('%d', v) .. ',"state":' .. ARGV[2] .. '}')
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
else
  redis.call('HDEL', KEYS[1], 'e:' .. ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return v`);

/** Extends the expiry of the listed experiments; replies the ids no longer stored. ARGV: ttlMs, ids... */
const refreshScript = new RedisScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local missing = {}
for i = 2, #ARGV do
  if redis.call('HEXISTS', KEYS[1], 'e:' .. ARGV[i]) == 1 then redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), ARGV[i])
  else missing[#missing + 1] = ARGV[i] end
end
return missing`);

/** Drops expired experiments, then replies every stored one as `{"v":..,"state":..}` JSON. */
const listScript = new RedisScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do redis.call('HDEL', KEYS[1], 'e:' .. id) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'e:' then out[#out + 1] = all[i + 1] end
end
return out`);

interface Entry {
  version: number;
  state: ExperimentState;
  /** Local clock ms after which the experiment counts as expired, unless refreshed. */
  expiresAt: number;
  /** Whether this instance announced it (and so refreshes it). */
  own: boolean;
}

interface Message {
  v: number;
  state: ExperimentState;
  ttlMs: number;
}

/**
 * Announces chaos experiments to the whole fleet: each state change is stored in Redis (active experiments
 * only, with a lease) and broadcast on the bus, so every instance knows which experiments run anywhere
 * ({@link current}) and hears about changes (`experiment` event). A new instance, or one whose bus
 * reconnects, reads the active experiments from Redis. Changes are versioned by Redis, so a late or
 * replayed message never overrides a newer state.
 */
export class FleetExperiments {
  private readonly client: RedisClient;
  private readonly bus: Bus;
  private readonly instanceId: string;
  private readonly keys: [string, string];
  private readonly channel: string;
  private readonly ttlMs: number;
  private readonly maxExperiments: number;
  private readonly clock: Clock;
  private readonly events = new EventEmitter<FleetExperimentsEvents>('fleet-experiments', 'experiments');
  /** Known experiments by id, least recently updated first. */
  private readonly entries = new Map<string, Entry>();
  private readonly subscriptions: Unsubscribe[] = [];
  private timer: TimerHandle | undefined;
  private running = false;

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: FleetExperimentsOptions) {
    const v = new OptionsValidator('FleetExperiments');
    if (v.required('options', options, 'an object') && v.object('options', options)) {
      if (v.required('client', options.client, 'an ioredis client') && typeof (options.client as { evalsha?: unknown }).evalsha !== 'function') {
        v.fail('client', 'an ioredis client', options.client);
      }
      if (v.required('bus', options.bus, 'a Bus') && typeof (options.bus as { publish?: unknown }).publish !== 'function') v.fail('bus', 'a Bus', options.bus);
      v.required('instanceId', options.instanceId, 'a string');
      v.string('instanceId', options.instanceId);
      v.string('prefix', options.prefix);
      v.string('channel', options.channel);
      v.duration('ttlMs', options.ttlMs, true);
      v.integer('maxExperiments', options.maxExperiments, 1);
      v.clock('clock', options.clock);
    }
    v.throwIfInvalid();
    this.client = options.client;
    this.bus = options.bus;
    this.instanceId = options.instanceId;
    const prefix = options.prefix ?? 'antifragile:fleet:';
    this.keys = [`${prefix}{experiments}`, `${prefix}{experiments}:expiry`];
    this.channel = options.channel ?? 'fleet:experiment';
    this.ttlMs = options.ttlMs ?? 30_000;
    this.maxExperiments = options.maxExperiments ?? 100;
    this.clock = options.clock ?? systemClock;
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof FleetExperimentsEvents>(event: K, listener: Listener<FleetExperimentsEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Starts following the fleet and reads the experiments active now (a failed read is an `error` event,
   * retried when the bus connects). Idempotent.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.subscriptions.push(
      this.bus.subscribe(this.channel, (message) => this.receive(message)),
      this.bus.onStatusChange((status) => {
        if (status === 'connected') void this.resync();
      }),
    );
    await this.resync();
  }

  /**
   * Stops following the fleet and refreshing this instance's experiments (which then expire after `ttlMs`
   * unless announced final first). Does not close the bus.
   */
  stop(): void {
    this.running = false;
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe();
    this.timer?.cancel();
    this.timer = undefined;
  }

  /**
   * Announces `state` to the fleet (`by` defaults to this instance): an active state is stored and refreshed
   * by this instance until a final state is announced; a final state removes it. Resolves the announced
   * state once stored; rejects when Redis cannot store it.
   * @throws TypeError when `state` is not a valid experiment state (as a rejection).
   */
  async publish<Details>(state: Omit<ExperimentState<Details>, 'by'> & { by?: string }): Promise<ExperimentState<Details>> {
    const full = { ...state, by: state.by ?? this.instanceId } as ExperimentState<Details>;
    const problem = invalid(full);
    if (problem !== undefined) throw new TypeError(`FleetExperiments.publish: ${problem}`);
    if (full.status === 'expired') throw new TypeError('FleetExperiments.publish: status "expired" is reported by receivers, not published');
    const json = JSON.stringify(full);
    const active = ACTIVE_EXPERIMENT_STATUSES.includes(full.status);
    const version = Number(await putScript.run(this.client, this.keys, [full.id, json, this.ttlMs, active ? '1' : '0']));
    const stored = JSON.parse(json) as ExperimentState<Details>;
    this.record({ v: version, state: stored, ttlMs: this.ttlMs }, true);
    this.broadcast({ v: version, state: stored, ttlMs: this.ttlMs });
    return stored;
  }

  /** The experiments active in the fleet, as far as this instance knows, oldest update first. */
  current(): ExperimentState[] {
    const now = this.clock.now();
    const out: ExperimentState[] = [];
    for (const entry of this.entries.values()) if (entry.expiresAt > now) out.push(entry.state);
    return out;
  }

  private receive(message: unknown): void {
    if (!this.running) return;
    const parsed = parseMessage(message);
    if (parsed === undefined) return;
    this.record(parsed, false);
  }

  /** Takes in a state if newer than the one known (an equal version refreshes its lease). */
  private record(message: Message, own: boolean): void {
    const { v, state, ttlMs } = message;
    const known = this.entries.get(state.id);
    if (known !== undefined && v < known.version) return;
    if (known !== undefined && v === known.version) {
      known.expiresAt = this.clock.now() + ttlMs;
      return;
    }
    if (ACTIVE_EXPERIMENT_STATUSES.includes(state.status)) {
      this.entries.delete(state.id);
      this.entries.set(state.id, { version: v, state, expiresAt: this.clock.now() + ttlMs, own });
      if (this.entries.size > this.maxExperiments) this.entries.delete(this.entries.keys().next().value as string);
      this.arm();
    } else {
      this.entries.delete(state.id);
    }
    this.events.emit('experiment', { state, local: own });
  }

  private broadcast(message: Message): void {
    this.bus.publish(this.channel, message).catch((error: unknown) => {
      // Stored: other instances read it when their bus connects again.
      this.events.emit('error', { operation: 'broadcast', error });
    });
  }

  /** One housekeeping timer while anything is tracked: refreshes own experiments, expires silent ones. */
  private arm(): void {
    if (this.timer !== undefined || !this.running) return;
    this.timer = this.clock.schedule(() => this.tick(), this.ttlMs / 3, { keepAlive: false });
  }

  private tick(): void {
    this.timer = undefined;
    if (!this.running) return;
    const now = this.clock.now();
    const own: Entry[] = [];
    for (const entry of [...this.entries.values()]) {
      if (entry.own) own.push(entry);
      else if (entry.expiresAt <= now) this.expire(entry);
    }
    if (own.length > 0) void this.refresh(own);
    if (this.entries.size > 0) this.arm();
  }

  /** Extends this instance's experiments in Redis and tells the fleet; stores again those Redis lost. */
  private async refresh(own: Entry[]): Promise<void> {
    let missing: Set<string>;
    try {
      const reply = await refreshScript.run(this.client, this.keys, [this.ttlMs, ...own.map((e) => e.state.id)]);
      missing = new Set(Array.isArray(reply) ? reply.map(String) : []);
    } catch (error) {
      this.events.emit('error', { operation: 'refresh', error });
      return;
    }
    const now = this.clock.now();
    for (const entry of own) {
      if (this.entries.get(entry.state.id) !== entry) continue;
      if (missing.has(entry.state.id)) {
        void this.restore(entry);
        continue;
      }
      entry.expiresAt = now + this.ttlMs;
      this.broadcast({ v: entry.version, state: entry.state, ttlMs: this.ttlMs });
    }
  }

  /** Stores again, under a new version, an experiment of this instance that Redis lost (a restart). */
  private async restore(entry: Entry): Promise<void> {
    const { state } = entry;
    let version: number;
    try {
      version = Number(await putScript.run(this.client, this.keys, [state.id, JSON.stringify(state), this.ttlMs, '1']));
    } catch (error) {
      this.events.emit('error', { operation: 'refresh', error });
      return;
    }
    if (this.entries.get(state.id) !== entry) return;
    entry.version = version;
    entry.expiresAt = this.clock.now() + this.ttlMs;
    this.broadcast({ v: version, state, ttlMs: this.ttlMs });
  }

  private expire(entry: Entry): void {
    this.entries.delete(entry.state.id);
    this.events.emit('experiment', { state: { ...entry.state, status: 'expired' }, local: entry.own });
  }

  /** Replaces what is known by what Redis holds: newer states are taken in, vanished ones expire. */
  private async resync(): Promise<void> {
    if (!this.running) return;
    let reply: unknown;
    try {
      reply = await listScript.run(this.client, this.keys, []);
    } catch (error) {
      this.events.emit('error', { operation: 'read', error });
      return;
    }
    if (!this.running || !Array.isArray(reply)) return;
    const seen = new Set<string>();
    for (const raw of reply) {
      let parsed: Message | undefined;
      try {
        const { v, state } = JSON.parse(String(raw)) as { v: unknown; state: unknown };
        parsed = parseMessage({ v, state, ttlMs: this.ttlMs });
      } catch {
        parsed = undefined;
      }
      if (parsed === undefined) continue;
      seen.add(parsed.state.id);
      this.record(parsed, parsed.state.by === this.instanceId && this.entries.get(parsed.state.id)?.own === true);
    }
    for (const entry of [...this.entries.values()]) {
      if (seen.has(entry.state.id)) continue;
      if (entry.own) void this.restore(entry);
      else this.expire(entry);
    }
  }
}

function invalid(state: ExperimentState<unknown>): string | undefined {
  if (typeof state !== 'object' || state === null) return 'state must be an object';
  if (typeof state.id !== 'string' || state.id === '') return 'id must be a non-empty string';
  if (typeof state.name !== 'string') return 'name must be a string';
  if (!STATUSES.includes(state.status)) return `status must be one of ${STATUSES.map((s) => JSON.stringify(s)).join(', ')}`;
  if (typeof state.startedAt !== 'number' || !Number.isFinite(state.startedAt)) return 'startedAt must be a finite number (epoch ms)';
  if (typeof state.by !== 'string' || state.by === '') return 'by must be a non-empty string';
  return undefined;
}

function parseMessage(message: unknown): Message | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { v, state, ttlMs } = message as { v?: unknown; state?: unknown; ttlMs?: unknown };
  if (typeof v !== 'number' || !Number.isInteger(v) || typeof ttlMs !== 'number' || !(ttlMs > 0)) return undefined;
  if (invalid(state as ExperimentState) !== undefined) return undefined;
  return { v, state: state as ExperimentState, ttlMs };
}
