import type { Clock } from '../../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import type { CircuitState } from '../../policies/circuit-breaker.js';
import { CircuitBreaker } from '../opossum/circuit-breaker.js';
import type { CircuitBreakerOptions } from '../opossum/options.js';
import type { Stats } from '../opossum/status.js';

/** Options of `CircuitBreakerModule.forRoot` (the seed's), applied to every breaker `create` makes. */
export interface CircuitBreakerModuleOptions {
  /** Time in ms an action may run before it fails with `ETIMEDOUT`. @default 3_000 */
  defaultTimeout?: number;
  /** Percentage (0..100) of failures in the window that opens a circuit. @default 50 */
  defaultErrorThreshold?: number;
  /** Time in ms a circuit stays open before a probe. @default 30_000 */
  defaultResetTimeout?: number;
  /** Length of the rolling window in ms. @default 10_000 */
  defaultRollingCountTimeout?: number;
  /** Buckets of the rolling window. @default 10 */
  defaultRollingCountBuckets?: number;
  /** Calls needed in the window before a circuit may open. @default 10 */
  defaultVolumeThreshold?: number;
  /** Most breakers the service keeps (integer >= 1); `create` beyond it throws. @default 1_000 */
  maxBreakers?: number;
  /** Time source of every breaker. @default systemClock */
  clock?: Clock;
}

/** Options of one {@link CircuitBreakerService.create}: opossum's, plus the seed's `fallbackFunction`. */
export interface CreateCircuitBreakerOptions<TI extends unknown[] = unknown[]> extends CircuitBreakerOptions<TI> {
  /** Runs instead of a failed or refused call, with the call's arguments and then the error. */
  fallbackFunction?: ((...args: never[]) => unknown) | undefined;
}

/** Payload of the service's breaker events. */
export interface BreakerEvent {
  /** Name given to `create`. */
  name: string;
}

/** Events of {@link CircuitBreakerService}, by name (the seed's `breaker.open` and friends, plus `stateChange`). */
export interface CircuitBreakerServiceEvents {
  'breaker.open': BreakerEvent;
  'breaker.halfOpen': BreakerEvent;
  'breaker.close': BreakerEvent;
  'breaker.fallback': BreakerEvent & { error: Error };
  /** Any state change of a breaker's core circuit (the shape chaos experiments watch). */
  stateChange: { name: string; from: CircuitState; to: CircuitState; reason: string; at: number };
}

/** What `getAllMetrics()` reports per breaker. */
export interface BreakerMetrics {
  name: string;
  state: 'closed' | 'open' | 'half-open' | 'shutdown';
  enabled: boolean;
  /** Totals of the rolling window. */
  stats: Stats;
  /** 0..100, from the core breaker. */
  healthScore: number;
}

/** Result of {@link CircuitBreakerService.healthCheck}. */
export interface BreakersHealth {
  status: 'healthy' | 'degraded';
  /** Names of the open circuits. */
  open: string[];
  /** Names of the half-open circuits. */
  halfOpen: string[];
}

interface Entry {
  breaker: CircuitBreaker<never[], unknown>;
  unsubscribe: () => void;
}

/**
 * The seed's `CircuitBreakerService`: `create(name, action, options)` returns an opossum-compatible
 * {@link CircuitBreaker} (`fire`, `fallback`, `open`, `on('open')`...) on antifragile's circuit breaker, with
 * the module's defaults and the seed's `fallbackFunction`. Breakers are kept by name for `get`, metrics and
 * health; creating a name again shuts the previous breaker down and replaces it.
 *
 * It is provided by `CircuitBreakerModule.forRoot`; outside Nest, construct it directly. The seed's adaptive
 * timeout (scaling `options.timeout` on every call) is deliberately left out: it fights the breaker's own
 * statistics; choose `timeout` per breaker instead.
 *
 * @example
 * const breaker = circuitBreaker.create('quote-calculation', (data) => pricing.calculate(data), {
 *   timeout: 5_000, errorThresholdPercentage: 30, fallbackFunction: (data) => estimate(data),
 * });
 * const quote = await breaker.fire(data);
 */
export class CircuitBreakerService {
  private readonly defaults: Required<Omit<CircuitBreakerModuleOptions, 'clock' | 'maxBreakers'>>;
  private readonly clock: Clock | undefined;
  private readonly maxBreakers: number;
  private readonly breakers = new Map<string, Entry>();
  private readonly events = new EventEmitter<CircuitBreakerServiceEvents>('nestjs-circuit-breaker-service', 'circuit-breakers');

  /** @throws InvalidOptionsError listing every invalid option. */
  constructor(options: CircuitBreakerModuleOptions = {}) {
    const v = new OptionsValidator('CircuitBreakerModule');
    if (v.object('options', options)) {
      v.number('defaultTimeout', options.defaultTimeout, { min: 0 });
      v.number('defaultErrorThreshold', options.defaultErrorThreshold, { min: 0, max: 100 });
      v.number('defaultResetTimeout', options.defaultResetTimeout, { min: 0 });
      v.number('defaultRollingCountTimeout', options.defaultRollingCountTimeout, { minExclusive: 0 });
      v.integer('defaultRollingCountBuckets', options.defaultRollingCountBuckets, 1);
      v.integer('defaultVolumeThreshold', options.defaultVolumeThreshold, 0);
      v.integer('maxBreakers', options.maxBreakers, 1);
      v.clock('clock', options.clock);
    }
    v.throwIfInvalid();
    this.defaults = {
      defaultTimeout: options.defaultTimeout ?? 3_000,
      defaultErrorThreshold: options.defaultErrorThreshold ?? 50,
      defaultResetTimeout: options.defaultResetTimeout ?? 30_000,
      defaultRollingCountTimeout: options.defaultRollingCountTimeout ?? 10_000,
      defaultRollingCountBuckets: options.defaultRollingCountBuckets ?? 10,
      defaultVolumeThreshold: options.defaultVolumeThreshold ?? 10,
    };
    this.clock = options.clock;
    this.maxBreakers = options.maxBreakers ?? 1_000;
  }

  /**
   * Creates (or replaces) the breaker `name` around `action`. Options not given take the module's defaults;
   * `fallbackFunction` becomes the breaker's fallback.
   * @throws InvalidOptionsError for invalid options; RangeError when `maxBreakers` breakers exist already.
   */
  create<TI extends unknown[], TR>(
    name: string,
    action: (...args: TI) => TR | PromiseLike<TR>,
    options: CreateCircuitBreakerOptions<TI> = {},
  ): CircuitBreaker<TI, Awaited<TR>> {
    const v = new OptionsValidator('CircuitBreakerService.create');
    if (typeof name !== 'string' || name === '') v.fail('name', 'a non-empty string', name);
    v.func('action', action);
    if (v.object('options', options)) v.func('fallbackFunction', options.fallbackFunction);
    v.throwIfInvalid();
    const previous = this.breakers.get(name);
    if (previous === undefined && this.breakers.size >= this.maxBreakers) {
      throw new RangeError(`CircuitBreakerService: already ${this.maxBreakers} breakers (maxBreakers); cannot create "${name}"`);
    }
    const { fallbackFunction, ...rest } = options;
    const breaker = new CircuitBreaker<TI, Awaited<TR>>(action as (...args: TI) => Awaited<TR>, {
      timeout: this.defaults.defaultTimeout,
      errorThresholdPercentage: this.defaults.defaultErrorThreshold,
      resetTimeout: this.defaults.defaultResetTimeout,
      rollingCountTimeout: this.defaults.defaultRollingCountTimeout,
      rollingCountBuckets: this.defaults.defaultRollingCountBuckets,
      volumeThreshold: this.defaults.defaultVolumeThreshold,
      ...(this.clock === undefined ? {} : { clock: this.clock }),
      ...withoutUndefined(rest),
      name,
    });
    if (fallbackFunction !== undefined) breaker.fallback(fallbackFunction);
    const onOpen = (): void => this.events.emit('breaker.open', { name });
    const onHalfOpen = (): void => this.events.emit('breaker.halfOpen', { name });
    const onClose = (): void => this.events.emit('breaker.close', { name });
    const onFallback = (_result: unknown, error: Error): void => this.events.emit('breaker.fallback', { name, error });
    breaker.on('open', onOpen);
    breaker.on('halfOpen', onHalfOpen);
    breaker.on('close', onClose);
    breaker.on('fallback', onFallback);
    const offCore = breaker.core.on('stateChange', (change) => this.events.emit('stateChange', { ...change, name }));
    const unsubscribe = (): void => {
      breaker.off('open', onOpen);
      breaker.off('halfOpen', onHalfOpen);
      breaker.off('close', onClose);
      breaker.off('fallback', onFallback);
      offCore();
    };
    if (previous !== undefined) this.release(previous);
    this.breakers.set(name, { breaker: breaker as unknown as CircuitBreaker<never[], unknown>, unsubscribe });
    return breaker;
  }

  /** The breaker created as `name`, if any. */
  get(name: string): CircuitBreaker<never[], unknown> | undefined {
    return this.breakers.get(name)?.breaker;
  }

  /** Names of the breakers, in creation order. */
  getNames(): string[] {
    return [...this.breakers.keys()];
  }

  /** Shuts the breaker `name` down and forgets it; returns whether it existed. */
  remove(name: string): boolean {
    const entry = this.breakers.get(name);
    if (entry === undefined) return false;
    this.release(entry);
    this.breakers.delete(name);
    return true;
  }

  /** Subscribes to a service event; returns the unsubscribe function. */
  on<K extends keyof CircuitBreakerServiceEvents>(event: K, listener: Listener<CircuitBreakerServiceEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** State, window totals and health score of every breaker, by name (the seed's `getAllMetrics`). */
  getAllMetrics(): Record<string, BreakerMetrics> {
    const metrics: Record<string, BreakerMetrics> = {};
    for (const [name, { breaker }] of this.breakers) {
      metrics[name] = {
        name,
        state: breaker.isShutdown ? 'shutdown' : breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed',
        enabled: breaker.enabled,
        stats: breaker.stats,
        healthScore: breaker.core.healthScore(),
      };
    }
    return metrics;
  }

  /** `degraded` while any circuit is open or half-open (the seed's `healthCheck`). */
  healthCheck(): BreakersHealth {
    const open: string[] = [];
    const halfOpen: string[] = [];
    for (const [name, { breaker }] of this.breakers) {
      if (breaker.opened) open.push(name);
      else if (breaker.halfOpen) halfOpen.push(name);
    }
    return { status: open.length > 0 || halfOpen.length > 0 ? 'degraded' : 'healthy', open, halfOpen };
  }

  /** Shuts every breaker down and removes every listener (Nest calls it when the application closes). */
  onModuleDestroy(): void {
    for (const entry of this.breakers.values()) this.release(entry);
    this.breakers.clear();
    this.events.removeAllListeners();
  }

  private release(entry: Entry): void {
    entry.unsubscribe();
    entry.breaker.shutdown();
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  const result: Partial<T> = {};
  for (const key of Object.keys(options) as (keyof T)[]) if (options[key] !== undefined) result[key] = options[key];
  return result;
}
