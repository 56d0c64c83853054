import { isResilienceError, ResilienceError } from '../../core/errors.js';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import type { DistributedLock, LockLease } from '../../core/distributed-lock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import type { RedisClient } from './redis-client.js';
import { RedisScript } from './redis-script.js';

/** Deletes KEYS[1] only if it still holds ARGV[1] (our holder record, not a successor's). */
const deleteIfEqual = new RedisScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`);

/** Who holds the game-day lock. */
export interface GameDayHolder {
  /** Name of the game day running. */
  name: string;
  /** Id of the instance running it. */
  by: string;
  /** When it took the lock, epoch ms on that instance's clock. */
  since: number;
}

/**
 * Raised by {@link FleetGameDayLock.acquire} when another game day holds the lock; `holder` says which and
 * where (undefined in the instant between another instance taking the lock and recording its name).
 * Code `GAME_DAY_LOCKED`; recognise it with {@link isGameDayLockedError}.
 */
export class GameDayLockedError extends ResilienceError {
  /** Who holds the lock, when known. */
  readonly holder: GameDayHolder | undefined;
  constructor(requested: string, holder: GameDayHolder | undefined) {
    super(
      'GAME_DAY_LOCKED',
      holder === undefined
        ? `Game day "${requested}" cannot start: another game day holds the fleet lock`
        : `Game day "${requested}" cannot start: game day "${holder.name}" is running on instance ${holder.by} since ${new Date(holder.since).toISOString()}`,
    );
    this.holder = holder;
  }
}
Object.defineProperty(GameDayLockedError.prototype, 'name', { value: 'GameDayLockedError', writable: true, configurable: true });

/** Whether `error` is a {@link GameDayLockedError}, from this or another copy of the package. */
export function isGameDayLockedError(error: unknown): error is GameDayLockedError {
  return isResilienceError(error) && error.code === 'GAME_DAY_LOCKED';
}

/** A held game-day lock, extended automatically until {@link release}d or lost. */
export interface GameDayLease {
  /** Name of the game day. */
  readonly name: string;
  /** Who holds it (this instance) and since when. */
  readonly holder: GameDayHolder;
  /** Whether the lock is still held (false once released or lost). */
  readonly held: boolean;
  /**
   * Aborts when the lease ends, released or lost (reason: an `Error` saying which). Pass it to the game
   * day's work so that it stops when another instance may have taken over.
   */
  readonly signal: AbortSignal;
  /** Stops extending and releases the lock; resolves whether it was still held. Idempotent. */
  release(): Promise<boolean>;
}

/** Options of {@link FleetGameDayLock}. */
export interface FleetGameDayLockOptions {
  /** The fleet-wide lock (a `RedisLock`). */
  lock: DistributedLock;
  /** Connection holding who holds the lock. */
  client: RedisClient;
  /** Id of this instance. */
  instanceId: string;
  /** Lock key (under the lock's own prefix). @default 'game-day' */
  lockKey?: string;
  /** Redis key recording the holder. @default 'antifragile:fleet:game-day:holder' */
  holderKey?: string;
  /** Time source of the extension timer and `since`. @default systemClock */
  clock?: Clock;
}

/** Events of {@link FleetGameDayLock}. */
export interface FleetGameDayLockEvents {
  /**
   * A held game-day lock was lost: an extension found another holder, or none succeeded for a whole
   * time-to-live (Redis unreachable). The lease's signal aborts at the same time.
   */
  lockLost: { name: string; reason: string; error?: unknown };
}

/**
 * Makes sure only one game day runs at a time across the fleet. {@link acquire} takes the lock with a
 * time-to-live, records who holds it, and keeps extending it every `ttlMs / 3` (a housekeeping timer that
 * does not keep the process alive) until released; a second instance is refused with
 * {@link GameDayLockedError} naming the holder. If the holder dies, the lock frees itself after `ttlMs`.
 */
export class FleetGameDayLock {
  private readonly lock: DistributedLock;
  private readonly client: RedisClient;
  private readonly instanceId: string;
  private readonly lockKey: string;
  private readonly holderKey: string;
  private readonly clock: Clock;
  private readonly events = new EventEmitter<FleetGameDayLockEvents>('fleet-game-day-lock', 'game-day');
  private readonly leases = new Set<{ end: (reason: string) => Promise<boolean> }>();

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: FleetGameDayLockOptions) {
    const v = new OptionsValidator('FleetGameDayLock');
    if (v.required('options', options, 'an object') && v.object('options', options)) {
      if (v.required('lock', options.lock, 'a DistributedLock') && typeof (options.lock as { tryAcquire?: unknown }).tryAcquire !== 'function') {
        v.fail('lock', 'a DistributedLock', options.lock);
      }
      if (v.required('client', options.client, 'an ioredis client') && typeof (options.client as { set?: unknown }).set !== 'function') {
        v.fail('client', 'an ioredis client', options.client);
      }
      v.required('instanceId', options.instanceId, 'a string');
      v.string('instanceId', options.instanceId);
      v.string('lockKey', options.lockKey);
      v.string('holderKey', options.holderKey);
      v.clock('clock', options.clock);
    }
    v.throwIfInvalid();
    this.lock = options.lock;
    this.client = options.client;
    this.instanceId = options.instanceId;
    this.lockKey = options.lockKey ?? 'game-day';
    this.holderKey = options.holderKey ?? 'antifragile:fleet:game-day:holder';
    this.clock = options.clock ?? systemClock;
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof FleetGameDayLockEvents>(event: K, listener: Listener<FleetGameDayLockEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Takes the fleet's game-day lock for game day `name`.
   * @param ttlMs how long the lock survives this instance dying (> 0); it is extended every `ttlMs / 3`. @default 30_000
   * @throws GameDayLockedError when another game day holds it; TypeError/RangeError on bad arguments;
   *   the Redis error when Redis cannot be reached.
   */
  async acquire(name: string, ttlMs = 30_000): Promise<GameDayLease> {
    if (typeof name !== 'string' || name === '') throw new TypeError('FleetGameDayLock.acquire: name must be a non-empty string');
    if (typeof ttlMs !== 'number' || !(ttlMs > 0) || !Number.isFinite(ttlMs)) {
      throw new RangeError(`FleetGameDayLock.acquire: ttlMs must be a number > 0, got ${String(ttlMs)}`);
    }
    const lease = await this.lock.tryAcquire(this.lockKey, ttlMs);
    if (lease === undefined) throw new GameDayLockedError(name, await this.holder().catch(() => undefined));
    const holder: GameDayHolder = { name, by: this.instanceId, since: this.clock.now() };
    try {
      await this.client.set(this.holderKey, JSON.stringify(holder), 'PX', Math.ceil(ttlMs));
    } catch (error) {
      await lease.release().catch(() => false);
      throw error;
    }
    return this.hold(lease, holder, ttlMs);
  }

  /** Who holds the game-day lock now, or undefined when nobody does. Rejects when Redis cannot be reached. */
  async holder(): Promise<GameDayHolder | undefined> {
    const raw = await this.client.get(this.holderKey);
    if (raw === null) return undefined;
    try {
      const parsed = JSON.parse(raw) as Partial<GameDayHolder>;
      if (typeof parsed.name === 'string' && typeof parsed.by === 'string' && typeof parsed.since === 'number') {
        return { name: parsed.name, by: parsed.by, since: parsed.since };
      }
    } catch {
      // Not ours: treated as unknown.
    }
    return undefined;
  }

  /** Releases every lease this instance holds (for shutdown). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.leases].map((l) => l.end('released')));
  }

  private hold(lease: LockLease, holder: GameDayHolder, ttlMs: number): GameDayLease {
    const controller = new AbortController();
    let held = true;
    let timer: TimerHandle | undefined;
    let lastExtendedAt = this.clock.now();
    const intervalMs = ttlMs / 3;
    const handle = {
      end: async (reason: string, error?: unknown): Promise<boolean> => {
        if (!held) return false;
        held = false;
        timer?.cancel();
        timer = undefined;
        this.leases.delete(handle);
        controller.abort(new Error(`game day "${holder.name}" lock ${reason}`));
        if (reason !== 'released') {
          this.events.emit('lockLost', { name: holder.name, reason, ...(error === undefined ? {} : { error }) });
          return false;
        }
        const released = await lease.release().catch(() => false);
        await deleteIfEqual.run(this.client, [this.holderKey], [JSON.stringify(holder)]).catch(() => 0);
        return released;
      },
    };
    const extend = async (): Promise<void> => {
      timer = undefined;
      let ok: boolean;
      let failure: unknown;
      try {
        ok = await lease.extend(ttlMs);
        if (ok) await this.client.set(this.holderKey, JSON.stringify(holder), 'PX', Math.ceil(ttlMs));
      } catch (error) {
        ok = false;
        failure = error;
      }
      if (!held) return;
      const now = this.clock.now();
      if (ok) lastExtendedAt = now;
      else if (failure === undefined) return void handle.end('lost: another instance holds it');
      else if (now - lastExtendedAt >= ttlMs) return void handle.end('lost: not extended within its time-to-live', failure);
      timer = this.clock.schedule(() => void extend(), intervalMs, { keepAlive: false });
    };
    timer = this.clock.schedule(() => void extend(), intervalMs, { keepAlive: false });
    this.leases.add(handle);
    return {
      name: holder.name,
      holder,
      get held() {
        return held;
      },
      signal: controller.signal,
      release: () => handle.end('released'),
    };
  }
}

