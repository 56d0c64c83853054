import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from './clock.js';

/**
 * A lease on a lock: held until {@link release}, or until its time-to-live passes without an
 * {@link extend}. A holder that loses its lease (it expired and someone else took the lock) learns it from
 * `extend` or `release` resolving `false`.
 */
export interface LockLease {
  readonly key: string;
  /** Random token identifying this holder; only the holder of the token can extend or release. */
  readonly token: string;
  /** Resets the time-to-live to `ttlMs`; `false` if the lease was lost. */
  extend(ttlMs: number): Promise<boolean>;
  /** Releases the lock if this lease still holds it; `false` if it was lost. */
  release(): Promise<boolean>;
}

/**
 * A mutual-exclusion lock with leases, shared by everyone using the same backend: {@link LocalLock} inside
 * one process, `RedisLock` (antifragile/redis) across a fleet. Used for once-per-fleet cache loads and for
 * making sure only one game day runs at a time.
 */
export interface DistributedLock {
  /** Tries once to take `key` for `ttlMs`; resolves the lease, or `undefined` when another holder has it. */
  tryAcquire(key: string, ttlMs: number): Promise<LockLease | undefined>;
}

/** Options of {@link LocalLock}. */
export interface LocalLockOptions {
  /** Time source for lease expiry. @default systemClock */
  clock?: Clock;
}

/** A {@link DistributedLock} within one process (leases expire on its clock; no timer is kept). */
export class LocalLock implements DistributedLock {
  private readonly clock: Clock;
  private readonly held = new Map<string, { token: string; expiresAt: number }>();

  constructor(options: LocalLockOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  tryAcquire(key: string, ttlMs: number): Promise<LockLease | undefined> {
    const now = this.clock.now();
    const current = this.held.get(key);
    if (current !== undefined && current.expiresAt > now) return Promise.resolve(undefined);
    const token = randomUUID();
    this.held.set(key, { token, expiresAt: now + ttlMs });
    const lease: LockLease = {
      key,
      token,
      extend: (nextTtlMs) => Promise.resolve(this.extend(key, token, nextTtlMs)),
      release: () => Promise.resolve(this.release(key, token)),
    };
    return Promise.resolve(lease);
  }

  private holds(key: string, token: string): boolean {
    const current = this.held.get(key);
    return current !== undefined && current.token === token && current.expiresAt > this.clock.now();
  }

  private extend(key: string, token: string, ttlMs: number): boolean {
    if (!this.holds(key, token)) return false;
    this.held.set(key, { token, expiresAt: this.clock.now() + ttlMs });
    return true;
  }

  private release(key: string, token: string): boolean {
    const held = this.holds(key, token);
    if (this.held.get(key)?.token === token) this.held.delete(key);
    return held;
  }
}
