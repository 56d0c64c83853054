import { OptionsValidator } from '../core/options.js';
import type { HealingContext, HealingStep, HealingStrategy } from './healing-strategy.js';

/** Options of {@link healingStrategies.memoryLeak}. */
export interface MemoryLeakHealingOptions {
  /** Heap use (bytes) below which the leak counts as healed, > 0. */
  heapLimitBytes: number;
  /**
   * Reads the heap in use, in bytes; inject one in tests.
   * @default () => process.memoryUsage().heapUsed
   */
  readHeapUsed?: () => number;
  /**
   * Forces a garbage collection as a first step (pass `global.gc` when node runs with `--expose-gc`).
   * @default no such step
   */
  gc?: () => void;
  /**
   * Time given to the collector after each step before the heap is read, in milliseconds.
   * @default 1_000
   */
  settleMs?: number;
  /** @default 'memory-leak' */
  name?: string;
}

/** A hook of a connection-pool or service strategy. */
export type HealingHook = (ctx: HealingContext) => void | PromiseLike<void>;
/** A verification of a connection-pool or service strategy. */
export type HealingCheck = (ctx: HealingContext) => boolean | PromiseLike<boolean>;

/** Options of {@link healingStrategies.connectionExhaustion}. */
export interface ConnectionExhaustionHealingOptions {
  /** Closes the pool's connections and opens fresh ones (e.g. `() => pool.end().then(() => pool.connect())`). */
  resetPool: HealingHook;
  /** First step, when given: ends connections idle too long (e.g. `pg_terminate_backend` of idle sessions). */
  killIdleConnections?: HealingHook;
  /** Last step, when given: grows the pool. */
  scalePool?: HealingHook;
  /**
   * Whether connections are available again.
   * @default the component's health check (the context's `verify`)
   */
  verify?: HealingCheck;
  /** Time before each verification, in milliseconds. @default 0 */
  settleMs?: number;
  /** @default 'connection-exhaustion' */
  name?: string;
}

/** Options of {@link healingStrategies.serviceDegradation}. */
export interface ServiceDegradationHealingOptions {
  /**
   * Breaker to reset first, by name or from the context.
   * @default the failing component's name
   */
  breaker?: string | ((ctx: HealingContext) => string);
  /** Second step, when given: serve more from cache (longer TTLs, stale-if-error). */
  enableCacheFallback?: HealingHook;
  /** Last step, when given: turn off the service's optional features. */
  degradeFeatures?: HealingHook;
  /**
   * Whether the service works again.
   * @default the component's health check (the context's `verify`)
   */
  verify?: HealingCheck;
  /** Time before each verification, in milliseconds. @default 0 */
  settleMs?: number;
  /** @default 'service-degradation' */
  name?: string;
}

function validateHooks(v: OptionsValidator, o: object, names: readonly string[]): void {
  for (const name of names) v.func(name, (o as Record<string, unknown>)[name]);
}

function step(name: string, run: HealingHook, verify: HealingCheck | undefined, settleMs: number): HealingStep {
  return { name, run, ...(verify === undefined ? {} : { verify }), ...(settleMs > 0 ? { settleMs } : {}) };
}

/**
 * Seed 001's three healing strategies, written for real. Each is a {@link HealingStrategy} to put in the
 * {@link SelfHealer}'s `strategyMap` (or run with `runHealingStrategy`): its steps act through the context
 * (registered caches, the breaker manager, the restart requester) and through the hooks given here.
 *
 * @example
 * ```ts
 * const healer = new SelfHealer({ strategyMap: {
 *   memory: healingStrategies.memoryLeak({ heapLimitBytes: 1_500e6 }),
 *   'db-pool': healingStrategies.connectionExhaustion({ resetPool: () => pool.reset(), verify: () => pool.available > 20 }),
 *   service: healingStrategies.serviceDegradation({ degradeFeatures: () => degradation.degrade('reduced', 'pricing down') }),
 * } });
 * ```
 */
export const healingStrategies: {
  /**
   * Optional forced GC, then clear the registered caches, each verified by the heap dropping below
   * `heapLimitBytes`; then a rolling restart (verified by the restart completing: the replacement worker
   * starts with a fresh heap).
   * @throws InvalidOptionsError listing every bad option.
   */
  readonly memoryLeak: (options: MemoryLeakHealingOptions) => HealingStrategy;
  /**
   * Optional kill of idle connections, pool reset, optional pool growth; each verified by `verify`.
   * @throws InvalidOptionsError listing every bad option.
   */
  readonly connectionExhaustion: (options: ConnectionExhaustionHealingOptions) => HealingStrategy;
  /**
   * Reset the service's breaker, optional cache fallback, optional feature degradation; each verified.
   * @throws InvalidOptionsError listing every bad option.
   */
  readonly serviceDegradation: (options?: ServiceDegradationHealingOptions) => HealingStrategy;
} = Object.freeze({
  memoryLeak(options: MemoryLeakHealingOptions): HealingStrategy {
    const v = new OptionsValidator('healingStrategies.memoryLeak');
    const o: Partial<MemoryLeakHealingOptions> | undefined = options;
    if (v.required('options', o, 'an object') && v.object('options', o)) {
      if (v.required('heapLimitBytes', o.heapLimitBytes, 'a number > 0')) v.number('heapLimitBytes', o.heapLimitBytes, { minExclusive: 0 });
      validateHooks(v, o, ['readHeapUsed', 'gc']);
      v.duration('settleMs', o.settleMs);
      v.string('name', o.name);
    }
    v.throwIfInvalid();
    const limit = options.heapLimitBytes;
    const read = options.readHeapUsed ?? (() => process.memoryUsage().heapUsed);
    const settleMs = options.settleMs ?? 1_000;
    const below = (): boolean => read() < limit;
    const steps: HealingStep[] = [];
    const gc = options.gc;
    if (gc !== undefined) steps.push(step('force-gc', () => gc(), below, settleMs));
    steps.push(step('clear-caches', async (ctx) => void (await ctx.clearCaches()), below, settleMs));
    steps.push(
      step(
        'rolling-restart',
        (ctx) =>
          ctx.requestRollingRestart(
            `memory leak on ${ctx.component}: heap ${Math.round(read() / 1e6)} MB above the ${Math.round(limit / 1e6)} MB limit`,
          ),
        () => true,
        0,
      ),
    );
    return { name: options.name ?? 'memory-leak', steps };
  },

  connectionExhaustion(options: ConnectionExhaustionHealingOptions): HealingStrategy {
    const v = new OptionsValidator('healingStrategies.connectionExhaustion');
    const o: Partial<ConnectionExhaustionHealingOptions> | undefined = options;
    if (v.required('options', o, 'an object') && v.object('options', o)) {
      if (v.required('resetPool', o.resetPool, 'a function')) v.func('resetPool', o.resetPool);
      validateHooks(v, o, ['killIdleConnections', 'scalePool', 'verify']);
      v.duration('settleMs', o.settleMs);
      v.string('name', o.name);
    }
    v.throwIfInvalid();
    const settleMs = options.settleMs ?? 0;
    const steps: HealingStep[] = [];
    if (options.killIdleConnections !== undefined) steps.push(step('kill-idle-connections', options.killIdleConnections, options.verify, settleMs));
    steps.push(step('reset-pool', options.resetPool, options.verify, settleMs));
    if (options.scalePool !== undefined) steps.push(step('scale-pool', options.scalePool, options.verify, settleMs));
    return { name: options.name ?? 'connection-exhaustion', steps };
  },

  serviceDegradation(options: ServiceDegradationHealingOptions = {}): HealingStrategy {
    const v = new OptionsValidator('healingStrategies.serviceDegradation');
    if (v.object('options', options)) {
      if (options.breaker !== undefined && typeof options.breaker !== 'string' && typeof options.breaker !== 'function') {
        v.fail('breaker', 'a breaker name or a function returning one', options.breaker);
      }
      validateHooks(v, options, ['enableCacheFallback', 'degradeFeatures', 'verify']);
      v.duration('settleMs', options.settleMs);
      v.string('name', options.name);
    }
    v.throwIfInvalid();
    const settleMs = options.settleMs ?? 0;
    const breaker = options.breaker;
    const breakerName = (ctx: HealingContext): string =>
      breaker === undefined ? ctx.component : typeof breaker === 'string' ? breaker : breaker(ctx);
    const steps: HealingStep[] = [step('circuit-reset', (ctx) => void ctx.resetBreaker(breakerName(ctx)), options.verify, settleMs)];
    if (options.enableCacheFallback !== undefined) steps.push(step('cache-fallback', options.enableCacheFallback, options.verify, settleMs));
    if (options.degradeFeatures !== undefined) steps.push(step('feature-degradation', options.degradeFeatures, options.verify, settleMs));
    return { name: options.name ?? 'service-degradation', steps };
  },
});
