import { systemClock, type Clock } from '../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import type { OptionsValidator } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import { contextOf } from '../policies/context.js';
import type { ExecuteOptions, PolicyContext, PolicyFunction } from '../policies/policy.js';
import { ChaosControl } from './chaos-control.js';
import { currentChaosScope, type ChaosScope } from './chaos-scope.js';

/** A call as seen by chaos options given as functions. */
export interface ChaosCall {
  context: PolicyContext;
  /** The scope set with `withChaosScope` (tenant, request id, labels), if any. */
  scope: ChaosScope | undefined;
}

/** Options shared by every chaos strategy. */
export interface ChaosStrategyOptions {
  /** Name in events and error messages. */
  name?: string;
  /** Share of calls affected, 0..1, or a function of the call. @default 1 */
  injectionRate?: number | ((call: ChaosCall) => number);
  /** Whether this strategy injects at all, or a function of the call. The {@link ChaosControl} gates it too. @default true */
  enabled?: boolean | ((call: ChaosCall) => boolean);
  /** Only calls made for these tenants (see `withChaosScope`). */
  tenants?: readonly string[];
  /** Only calls this predicate accepts (per-request targeting). */
  target?: (call: ChaosCall) => boolean;
  /** The kill switch and environment gate. @default ChaosControl.global (off until enabled) */
  control?: ChaosControl;
  /** Source of randomness for the injection rate, in [0, 1). @default Math.random */
  random?: () => number;
  /** Time source (for latency). @default systemClock */
  clock?: Clock;
}

/** Events of every chaos strategy. */
export interface ChaosStrategyEvents {
  /** A fault was injected into a call. */
  injected: { name: string; kind: ChaosKind };
}

/** The four kinds of in-pipeline chaos. */
export type ChaosKind = 'fault' | 'latency' | 'outcome' | 'behavior';

/**
 * Base of the chaos strategies: decides per call whether to inject (control on, enabled, targeted, rate
 * roll). When chaos is off the call costs one property read. @internal
 */
export abstract class ChaosStrategy {
  readonly name: string;
  protected readonly clock: Clock;
  protected readonly events: EventEmitter<ChaosStrategyEvents>;
  private readonly control: ChaosControl;
  private readonly rate: number | ((call: ChaosCall) => number);
  private readonly enabledOption: boolean | ((call: ChaosCall) => boolean);
  private readonly tenants: ReadonlySet<string> | undefined;
  private readonly target: ((call: ChaosCall) => boolean) | undefined;
  private readonly random: () => number;

  protected constructor(
    readonly kind: ChaosKind,
    options: ChaosStrategyOptions,
  ) {
    this.name = options.name ?? `chaos-${kind}`;
    this.control = options.control ?? ChaosControl.global;
    this.rate = options.injectionRate ?? 1;
    this.enabledOption = options.enabled ?? true;
    this.tenants = options.tenants === undefined ? undefined : new Set(options.tenants);
    this.target = options.target;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? systemClock;
    this.events = new EventEmitter<ChaosStrategyEvents>('chaos', this.name);
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof ChaosStrategyEvents>(event: K, listener: Listener<ChaosStrategyEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Runs `fn`, injecting this strategy's chaos when the call is selected (each subclass exposes it as `execute`). */
  protected run<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    const context = contextOf(options);
    if (!this.control.enabled) return invoke(fn, context);
    const call: ChaosCall = { context, scope: currentChaosScope() };
    if (!this.selects(call)) return invoke(fn, context);
    if (this.events.wants('injected')) this.events.emit('injected', { name: this.name, kind: this.kind });
    return this.inject(fn, call);
  }

  /** Applies the chaos to a selected call. */
  protected abstract inject<T>(fn: PolicyFunction<T>, call: ChaosCall): Promise<T>;

  private selects(call: ChaosCall): boolean {
    try {
      const enabled = typeof this.enabledOption === 'function' ? this.enabledOption(call) : this.enabledOption;
      if (!enabled) return false;
      if (this.tenants !== undefined && (call.scope?.tenant === undefined || !this.tenants.has(call.scope.tenant))) return false;
      if (this.target !== undefined && !this.target(call)) return false;
      const rate = typeof this.rate === 'function' ? this.rate(call) : this.rate;
      return rate >= 1 || (rate > 0 && this.random() < rate);
    } catch (error) {
      // A broken selector must not break the call: chaos simply does not apply.
      reportCallbackError(error, `chaos strategy "${this.name}" selector`);
      return false;
    }
  }
}

/** Calls `fn`, turning a synchronous throw into a rejection. @internal */
export function invoke<T>(fn: PolicyFunction<T>, context: PolicyContext): Promise<T> {
  try {
    return Promise.resolve(fn(context));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Validates the options shared by every strategy into `v`. @internal */
export function validateStrategyOptions(v: OptionsValidator, options: ChaosStrategyOptions): void {
  v.string('name', options.name);
  if (typeof options.injectionRate !== 'function') v.rate('injectionRate', options.injectionRate);
  if (typeof options.enabled !== 'function') v.boolean('enabled', options.enabled);
  if (options.tenants !== undefined && (!Array.isArray(options.tenants) || options.tenants.some((t) => typeof t !== 'string'))) {
    v.fail('tenants', 'an array of tenant ids', options.tenants);
  }
  v.func('target', options.target);
  v.func('random', options.random);
  v.clock('clock', options.clock);
  if (options.control !== undefined && !(options.control instanceof ChaosControl)) v.fail('control', 'a ChaosControl', options.control);
}
