import type { Clock } from '../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import type { CircuitBreakerEvents, CircuitBreakerMetrics, CircuitBreakerOptions } from './circuit-breaker.js';
import { ManagedCircuitBreaker } from './managed-circuit-breaker.js';

/**
 * Breaker settings in the seed's names, accepted by {@link CircuitBreakerManager.getOrCreate} next to (and
 * overridden by) the core {@link CircuitBreakerOptions}.
 */
export interface SeedCircuitBreakerConfig {
  /** Failures within `monitorWindow` that open the circuit. @default 5 */
  failureThreshold?: number;
  /** Successful half-open probes that close it. @default 2 */
  successThreshold?: number;
  /** How long it stays open before probing, in ms. @default 60_000 */
  timeout?: number;
  /** Length of the failure-counting window, in ms. @default 60_000 */
  monitorWindow?: number;
  /** Probe calls allowed at once in half-open. @default 3 */
  halfOpenRequests?: number;
}

/** Config accepted by {@link CircuitBreakerManager.getOrCreate}: seed names and/or core options. */
export type ManagedBreakerConfig = SeedCircuitBreakerConfig & Omit<CircuitBreakerOptions, 'name'>;

/** Options of {@link CircuitBreakerManager}. */
export interface CircuitBreakerManagerOptions {
  /**
   * Config applied to every breaker before its own. Its seed options are validated when the manager is
   * created; its core options when a breaker is created with them.
   * @default {}
   */
  defaults?: ManagedBreakerConfig;
  /**
   * Time source for every breaker (a breaker's own `clock` overrides it).
   * @default systemClock
   */
  clock?: Clock;
  /** Most breakers held at once; creating one more throws. @default 1_000 */
  maxBreakers?: number;
}

/** Result of {@link CircuitBreakerManager.healthCheck}. */
export interface BreakerFleetHealth {
  /** True when no breaker is open or isolated. */
  healthy: boolean;
  total: number;
  open: string[];
  halfOpen: string[];
  isolated: string[];
  /** Mean health score of all breakers, 0..100 (100 when there are none). */
  score: number;
}

/** Events of a {@link CircuitBreakerManager}. */
export interface CircuitBreakerManagerEvents {
  created: { name: string };
  removed: { name: string };
  /** Any managed breaker changed state. */
  stateChange: CircuitBreakerEvents['stateChange'];
}

/**
 * Creates and keeps named breakers (one per dependency), the seed's `CircuitBreakerManager`. Accepts the
 * seed's option names (`failureThreshold`, `successThreshold`, `timeout`, `monitorWindow`,
 * `halfOpenRequests`) and maps them onto the core {@link CircuitBreaker}: a time window of `monitorWindow`
 * that opens on `failureThreshold` failures, `timeout` open time, `halfOpenRequests` concurrent probes and
 * `successThreshold` successes to close. Bounded by `maxBreakers`; `remove` leaves no trace.
 *
 * @example
 * ```ts
 * const circuitBreakers = new CircuitBreakerManager();
 * const breaker = circuitBreakers.getOrCreate('api-service', { failureThreshold: 5, timeout: 60_000 });
 * await breaker.execute(() => apiCall());
 * ```
 */
export class CircuitBreakerManager {
  private readonly breakers = new Map<string, { breaker: ManagedCircuitBreaker; off: Unsubscribe }>();
  private readonly events = new EventEmitter<CircuitBreakerManagerEvents>('circuit-breaker-manager', 'manager');
  private readonly defaults: ManagedBreakerConfig;
  private readonly clock: Clock | undefined;
  private readonly maxBreakers: number;

  /** @throws InvalidOptionsError listing every invalid option, those of `defaults` included. */
  constructor(options: CircuitBreakerManagerOptions = {}) {
    const v = new OptionsValidator('CircuitBreakerManager');
    if (v.object('options', options)) {
      v.integer('maxBreakers', options.maxBreakers, 1);
      if (v.object('defaults', options.defaults)) validateSeedConfig(v, 'defaults.', options.defaults as ManagedBreakerConfig);
      v.clock('clock', options.clock);
    }
    v.throwIfInvalid();
    this.defaults = options.defaults ?? {};
    this.clock = options.clock;
    this.maxBreakers = options.maxBreakers ?? 1_000;
  }

  /** The breaker named `name`, created with `config` (merged over the defaults) if it does not exist yet. */
  getOrCreate(name: string, config: ManagedBreakerConfig = {}): ManagedCircuitBreaker {
    const existing = this.breakers.get(name);
    if (existing !== undefined) return existing.breaker;
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`CircuitBreakerManager.getOrCreate: name must be a non-empty string, received ${String(name)}`);
    }
    if (this.breakers.size >= this.maxBreakers) {
      throw new RangeError(
        `CircuitBreakerManager: cannot create "${name}", the limit of ${this.maxBreakers} breakers is reached (maxBreakers)`,
      );
    }
    const breaker = new ManagedCircuitBreaker(toCoreOptions(name, { ...this.defaults, ...config }, this.clock));
    const off = breaker.on('stateChange', (event) => this.events.emit('stateChange', event));
    this.breakers.set(name, { breaker, off });
    this.events.emit('created', { name });
    return breaker;
  }

  /** The breaker named `name`, if any. */
  get(name: string): ManagedCircuitBreaker | undefined {
    return this.breakers.get(name)?.breaker;
  }

  /** Names of every breaker held. */
  names(): string[] {
    return [...this.breakers.keys()];
  }

  /** Number of breakers held. */
  get size(): number {
    return this.breakers.size;
  }

  /** Removes the breaker named `name` and every listener on it. Returns whether it existed. */
  remove(name: string): boolean {
    const entry = this.breakers.get(name);
    if (entry === undefined) return false;
    entry.off();
    entry.breaker.dispose();
    this.breakers.delete(name);
    this.events.emit('removed', { name });
    return true;
  }

  /** Removes the breaker named `name`, or every breaker when no name is given. */
  dispose(name?: string): void {
    if (name !== undefined) {
      this.remove(name);
      return;
    }
    for (const key of [...this.breakers.keys()]) this.remove(key);
  }

  /** Resets every breaker to closed with empty windows. */
  resetAll(): void {
    for (const { breaker } of this.breakers.values()) breaker.reset();
  }

  /** Metrics of every breaker, keyed by name. */
  getAllMetrics(): Record<string, CircuitBreakerMetrics> {
    const out: Record<string, CircuitBreakerMetrics> = {};
    for (const [name, { breaker }] of this.breakers) out[name] = breaker.metrics();
    return out;
  }

  /** Which breakers are open, half-open or isolated, and a mean health score. */
  healthCheck(): BreakerFleetHealth {
    const health: BreakerFleetHealth = { healthy: true, total: this.breakers.size, open: [], halfOpen: [], isolated: [], score: 100 };
    let scoreSum = 0;
    for (const [name, { breaker }] of this.breakers) {
      const state = breaker.state;
      if (state === 'open') health.open.push(name);
      else if (state === 'half-open') health.halfOpen.push(name);
      else if (state === 'isolated') health.isolated.push(name);
      scoreSum += breaker.healthScore();
    }
    health.healthy = health.open.length === 0 && health.isolated.length === 0;
    if (this.breakers.size > 0) health.score = Math.round(scoreSum / this.breakers.size);
    return health;
  }

  /** Subscribes to manager events; returns an unsubscribe function. */
  on<K extends keyof CircuitBreakerManagerEvents>(event: K, listener: Listener<CircuitBreakerManagerEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }
}

function toCoreOptions(name: string, config: ManagedBreakerConfig, clock: Clock | undefined): CircuitBreakerOptions {
  const v = new OptionsValidator(`CircuitBreakerManager breaker "${name}"`);
  validateSeedConfig(v, '', config);
  v.throwIfInvalid();
  // A `name` inside the config (the seed's entries carry one) never overrides the name asked for.
  const { failureThreshold = 5, successThreshold = 2, timeout = 60_000, monitorWindow = 60_000, halfOpenRequests = 3, ...rest } =
    config;
  const { name: _configName, ...core } = rest as typeof rest & { name?: unknown };
  const options: CircuitBreakerOptions = {
    name,
    window: { type: 'time', ms: monitorWindow, buckets: 10 },
    failureThreshold,
    failureRateThreshold: 1,
    minimumCalls: failureThreshold,
    openMs: timeout,
    ...core,
    halfOpen: { maxCalls: halfOpenRequests, successes: successThreshold, ...core.halfOpen },
  };
  const effectiveClock = core.clock ?? clock;
  if (effectiveClock !== undefined) options.clock = effectiveClock;
  return options;
}

/** Checks the seed's option names of `config`, each reported as `prefix + name`. */
function validateSeedConfig(v: OptionsValidator, prefix: string, config: SeedCircuitBreakerConfig): void {
  v.integer(`${prefix}failureThreshold`, config.failureThreshold, 1);
  v.integer(`${prefix}successThreshold`, config.successThreshold, 1);
  v.duration(`${prefix}timeout`, config.timeout);
  v.duration(`${prefix}monitorWindow`, config.monitorWindow, true);
  v.integer(`${prefix}halfOpenRequests`, config.halfOpenRequests, 1);
}
