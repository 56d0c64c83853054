import { systemClock, type Clock } from '../core/clock.js';
import { OptionsValidator } from '../core/options.js';
import { BoundedMap } from './bounded-map.js';

/** What a client did that counts against it. */
export type BehaviorEvent = 'error' | 'rejection';

/** Options of {@link BehaviorTracker}. */
export interface BehaviorTrackerOptions {
  /** Penalty points an error response (a 4xx the client caused) adds, >= 0. @default 1 */
  errorWeight?: number;
  /** Penalty points a refusal by the rate limiter adds, >= 0. @default 0.5 */
  rejectionWeight?: number;
  /** Half-life of penalty points in ms (> 0): a client that behaves is forgiven exponentially. @default 60_000 */
  halfLifeMs?: number;
  /** Penalty points at which a client's limit is halved (> 0): factor = `1 / (1 + points / tolerance)`. @default 10 */
  tolerance?: number;
  /** The factor never goes below this, in 0..1. @default 0.1 */
  minFactor?: number;
  /** Most clients tracked (least recently seen forgotten first, which forgives them), an integer >= 1. @default 10_000 */
  maxKeys?: number;
  /** Time source. @default systemClock */
  clock?: Clock;
}

interface Penalty {
  points: number;
  at: number;
}

/** Below this many points an entry is dropped (its factor is 1 to within 1e-4). */
const NEGLIGIBLE_POINTS = 1e-3;

/**
 * Per-key penalty points from a client's error and rejection history, decaying exponentially with a half-life
 * (no timer: decay is applied when a key is read or written). Turns points into a limit factor in
 * `minFactor..1`: `1 / (1 + points / tolerance)`. Memory is bounded by `maxKeys`.
 *
 * @example
 * ```ts
 * const behavior = new BehaviorTracker({ halfLifeMs: 30_000 });
 * behavior.record(apiKey, 'error');
 * behavior.factor(apiKey); // < 1 for a client that keeps failing
 * ```
 */
export class BehaviorTracker {
  private readonly weights: Record<BehaviorEvent, number>;
  private readonly decayPerMs: number;
  private readonly tolerance: number;
  private readonly minFactor: number;
  private readonly clock: Clock;
  private readonly penalties: BoundedMap<string, Penalty>;

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: BehaviorTrackerOptions = {}) {
    validate(options);
    this.weights = { error: options.errorWeight ?? 1, rejection: options.rejectionWeight ?? 0.5 };
    this.decayPerMs = Math.LN2 / (options.halfLifeMs ?? 60_000);
    this.tolerance = options.tolerance ?? 10;
    this.minFactor = options.minFactor ?? 0.1;
    this.clock = options.clock ?? systemClock;
    this.penalties = new BoundedMap(options.maxKeys ?? 10_000);
  }

  /** Keys with penalty points held now (at most `maxKeys`). */
  get size(): number {
    return this.penalties.size;
  }

  /** Adds the weight of `event` to `key`'s penalty points. */
  record(key: string, event: BehaviorEvent): void {
    const weight = this.weights[event];
    if (weight === 0) return;
    const now = this.clock.now();
    const entry = this.penalties.get(key);
    if (entry === undefined) {
      this.penalties.set(key, { points: weight, at: now });
      return;
    }
    entry.points = this.decayed(entry, now) + weight;
    entry.at = now;
  }

  /** `key`'s penalty points now, after decay. */
  points(key: string): number {
    const entry = this.penalties.peek(key);
    if (entry === undefined) return 0;
    const points = this.decayed(entry, this.clock.now());
    if (points < NEGLIGIBLE_POINTS) {
      this.penalties.delete(key);
      return 0;
    }
    return points;
  }

  /** `key`'s limit factor now, in `minFactor..1` (1 for a client with no history). */
  factor(key: string): number {
    const points = this.points(key);
    if (points === 0) return 1;
    const factor = 1 / (1 + points / this.tolerance);
    return factor > this.minFactor ? factor : this.minFactor;
  }

  /** Forgets `key`'s history. */
  forgive(key: string): void {
    this.penalties.delete(key);
  }

  private decayed(entry: Penalty, now: number): number {
    const elapsed = now - entry.at;
    return elapsed > 0 ? entry.points * Math.exp(-this.decayPerMs * elapsed) : entry.points;
  }
}

function validate(options: BehaviorTrackerOptions): void {
  const v = new OptionsValidator('BehaviorTracker');
  if (!v.object('options', options)) return v.throwIfInvalid();
  const o = options as unknown as Partial<Record<string, unknown>>;
  v.number('errorWeight', o.errorWeight, { min: 0 });
  v.number('rejectionWeight', o.rejectionWeight, { min: 0 });
  v.duration('halfLifeMs', o.halfLifeMs, true);
  v.number('tolerance', o.tolerance, { minExclusive: 0 });
  v.rate('minFactor', o.minFactor);
  v.integer('maxKeys', o.maxKeys, 1);
  v.clock('clock', o.clock);
  v.throwIfInvalid();
}
