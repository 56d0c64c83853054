import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Bus } from '../../core/bus.js';
import { systemClock, type Clock } from '../../core/clock.js';
import type { DistributedLock } from '../../core/distributed-lock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import type { GracefulDegradation } from '../../degradation/graceful-degradation.js';
import { FleetDegradationSync, type FleetOverride } from './fleet-degradation-sync.js';
import { FleetExperiments, type ExperimentEvent, type ExperimentState } from './fleet-experiments.js';
import { FleetGameDayLock, type GameDayHolder, type GameDayLease } from './fleet-game-day-lock.js';
import { RedisBus } from './redis-bus.js';
import type { RedisClient } from './redis-client.js';
import { RedisLock } from './redis-lock.js';

/** Options of {@link FleetCoordinator}. */
export interface FleetCoordinatorOptions {
  /** Connection for the stored values, scripts and (by default) the bus and the lock. */
  client: RedisClient;
  /** Bus between the instances. @default a `RedisBus` on `client`, closed by {@link FleetCoordinator.close} */
  bus?: Bus;
  /** Fleet-wide lock for game days. @default a `RedisLock` on `client` with prefix `<prefix>lock:` */
  lock?: DistributedLock;
  /** Id of this instance in everything it announces. @default `<hostname>:<pid>:<8 random hex digits>` */
  instanceId?: string;
  /** Prefix of the Redis keys and bus channels, to run several fleets on one Redis. @default 'antifragile:fleet:' */
  prefix?: string;
  /**
   * How long an announced active experiment outlives its announcer, in ms (> 0); refreshed every third of it.
   * @default 30_000
   */
  experimentTtlMs?: number;
  /** Most experiments tracked, an integer >= 1. @default 100 */
  maxExperiments?: number;
  /** Time source of the housekeeping timers. @default systemClock */
  clock?: Clock;
}

/** Events of {@link FleetCoordinator}. */
export interface FleetCoordinatorEvents {
  /** An experiment's state changed, here or elsewhere in the fleet (`status: 'expired'` when its announcer went silent). */
  experiment: ExperimentEvent;
  /** A held game-day lock was lost; the lease's signal aborted. */
  lockLost: { name: string; reason: string; error?: unknown };
  /** A degradation override set elsewhere in the fleet was applied here. */
  degradationApplied: FleetOverride & { version: number };
  /** This instance's degradation override change was published to the fleet. */
  degradationPublished: FleetOverride & { version: number };
  /** Something failed in the background (Redis unreachable, a malformed or unknown value); nothing is thrown. */
  error: { source: 'degradation' | 'experiments'; operation: string; error: unknown };
}

/**
 * What the instances of a fleet share beyond breakers and caches: the manual degradation override
 * ({@link syncDegradation}), which chaos experiments are running ({@link publishExperiment},
 * {@link current}, `experiment` event), and a lock so that only one game day runs at a time
 * ({@link acquireGameDay}). Built on a {@link Bus} (a `RedisBus`) for changes, Redis keys for the last
 * values (read on {@link start} and whenever the bus reconnects), and a `DistributedLock`.
 *
 * @example
 * ```ts
 * const fleet = new FleetCoordinator({ client: redis });
 * await fleet.start();
 * await fleet.syncDegradation(degradation);      // setOverride('minimal') on one instance pins it on all
 * fleet.on('experiment', ({ state }) => log.info(`${state.name} is ${state.status} on ${state.by}`));
 *
 * const lease = await fleet.acquireGameDay('redis-outage');   // GameDayLockedError if one is running
 * try {
 *   await fleet.publishExperiment({ id, name: 'redis-outage', status: 'running', startedAt: Date.now() });
 *   await runGameDay({ signal: lease.signal });
 * } finally {
 *   await lease.release();
 * }
 * ```
 */
export class FleetCoordinator {
  /** Id of this instance. */
  readonly instanceId: string;
  private readonly client: RedisClient;
  private readonly bus: Bus;
  private readonly ownsBus: boolean;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly events: EventEmitter<FleetCoordinatorEvents>;
  private readonly experiments: FleetExperiments;
  private readonly gameDay: FleetGameDayLock;
  private readonly syncs = new Map<GracefulDegradation, FleetDegradationSync>();
  private closed = false;

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: FleetCoordinatorOptions) {
    const v = new OptionsValidator('FleetCoordinator');
    if (v.required('options', options, 'an object') && v.object('options', options)) {
      if (v.required('client', options.client, 'an ioredis client') && typeof (options.client as { evalsha?: unknown }).evalsha !== 'function') {
        v.fail('client', 'an ioredis client', options.client);
      }
      if (options.bus !== undefined && typeof (options.bus as { publish?: unknown } | null)?.publish !== 'function') v.fail('bus', 'a Bus', options.bus);
      if (options.lock !== undefined && typeof (options.lock as { tryAcquire?: unknown } | null)?.tryAcquire !== 'function') {
        v.fail('lock', 'a DistributedLock', options.lock);
      }
      v.string('instanceId', options.instanceId);
      if (options.instanceId === '') v.fail('instanceId', 'a non-empty string', options.instanceId);
      v.string('prefix', options.prefix);
      v.duration('experimentTtlMs', options.experimentTtlMs, true);
      v.integer('maxExperiments', options.maxExperiments, 1);
      v.clock('clock', options.clock);
    }
    v.throwIfInvalid();
    this.client = options.client;
    this.prefix = options.prefix ?? 'antifragile:fleet:';
    this.instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.clock = options.clock ?? systemClock;
    this.ownsBus = options.bus === undefined;
    this.bus = options.bus ?? new RedisBus({ client: options.client });
    this.events = new EventEmitter('fleet-coordinator', this.instanceId);
    this.experiments = new FleetExperiments({
      client: this.client,
      bus: this.bus,
      instanceId: this.instanceId,
      prefix: this.prefix,
      channel: `${this.prefix}experiment`,
      ...(options.experimentTtlMs === undefined ? {} : { ttlMs: options.experimentTtlMs }),
      ...(options.maxExperiments === undefined ? {} : { maxExperiments: options.maxExperiments }),
      clock: this.clock,
    });
    this.experiments.on('experiment', (event) => this.events.emit('experiment', event));
    this.experiments.on('error', ({ operation, error }) => this.events.emit('error', { source: 'experiments', operation, error }));
    this.gameDay = new FleetGameDayLock({
      lock: options.lock ?? new RedisLock({ client: this.client, prefix: `${this.prefix}lock:` }),
      client: this.client,
      instanceId: this.instanceId,
      holderKey: `${this.prefix}game-day:holder`,
      clock: this.clock,
    });
    this.gameDay.on('lockLost', (event) => this.events.emit('lockLost', event));
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof FleetCoordinatorEvents>(event: K, listener: Listener<FleetCoordinatorEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Starts following the fleet's experiments and reads those active now. Resolves once read (a failed read
   * is an `error` event and is retried when the bus connects).
   */
  async start(): Promise<void> {
    this.assertOpen('start');
    await this.experiments.start();
  }

  /**
   * Keeps `degradation`'s manual override the same on every instance that syncs a degradation under the
   * same `name`: see {@link FleetDegradationSync} for what is shared (overrides) and what stays local
   * (automatic evaluation). Applies the fleet's current override first, if any. Resolves the sync (its
   * `stop()` unbinds); {@link close} stops it too. Syncing the same instance twice returns the same sync.
   * @param options.name distinguishes several degradation instances in one fleet. @default 'degradation'
   */
  async syncDegradation(degradation: GracefulDegradation, options: { name?: string } = {}): Promise<FleetDegradationSync> {
    this.assertOpen('syncDegradation');
    const existing = this.syncs.get(degradation);
    if (existing !== undefined) return existing;
    const name = options.name ?? 'degradation';
    if (typeof name !== 'string' || name === '') throw new TypeError('FleetCoordinator.syncDegradation: options.name must be a non-empty string');
    const sync = new FleetDegradationSync({
      degradation,
      client: this.client,
      bus: this.bus,
      instanceId: this.instanceId,
      key: `${this.prefix}${name}`,
      channel: `${this.prefix}${name}`,
      clock: this.clock,
    });
    sync.on('applied', (event) => this.events.emit('degradationApplied', event));
    sync.on('published', (event) => this.events.emit('degradationPublished', event));
    sync.on('error', ({ operation, error }) => this.events.emit('error', { source: 'degradation', operation, error }));
    this.syncs.set(degradation, sync);
    await sync.start();
    return sync;
  }

  /**
   * Announces a chaos experiment's state to the fleet (`by` defaults to this instance). Active states
   * (`scheduled`, `running`, `paused`) are kept, and refreshed by this instance, until a final one is
   * announced. Starts following the fleet's experiments if {@link start} was not called. Rejects when Redis
   * cannot store it, and with a TypeError when `state` is invalid.
   */
  async publishExperiment<Details>(state: Omit<ExperimentState<Details>, 'by'> & { by?: string }): Promise<ExperimentState<Details>> {
    this.assertOpen('publishExperiment');
    await this.experiments.start(); // an announcer must be running to refresh what it announced
    return this.experiments.publish(state);
  }

  /** The chaos experiments active in the fleet, as far as this instance knows. */
  current(): ExperimentState[] {
    return this.experiments.current();
  }

  /**
   * Takes the fleet-wide game-day lock for `name`, extended automatically every `ttlMs / 3` until
   * released; `lockLost` is emitted (and the lease's signal aborts) if it cannot be kept.
   * @param ttlMs how long the lock outlives this instance if it dies. @default 30_000
   * @throws GameDayLockedError naming the holder when another game day runs.
   */
  async acquireGameDay(name: string, ttlMs?: number): Promise<GameDayLease> {
    this.assertOpen('acquireGameDay');
    return this.gameDay.acquire(name, ttlMs);
  }

  /** Who runs a game day now, or undefined. */
  gameDayHolder(): Promise<GameDayHolder | undefined> {
    return this.gameDay.holder();
  }

  /**
   * Stops every degradation sync and the experiment tracking, releases game-day leases this instance still
   * holds, and closes the bus if it was created here. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const sync of this.syncs.values()) sync.stop();
    this.syncs.clear();
    this.experiments.stop();
    await this.gameDay.releaseAll();
    if (this.ownsBus) await this.bus.close();
  }

  private assertOpen(method: string): void {
    if (this.closed) throw new Error(`FleetCoordinator.${method}: the coordinator is closed`);
  }
}
