import { randomUUID } from 'node:crypto';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { ChaosRefusedError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { contextOf } from '../policies/context.js';
import type { ExecuteOptions, Policy, PolicyContext, PolicyFunction } from '../policies/policy.js';
import { ChaosControl } from './chaos-control.js';
import { invoke } from './chaos-strategy.js';
import { strategyOf, type FaultKind, type FaultSpec } from './fault-spec.js';

/** Options of {@link ChaosRegistry}. */
export interface ChaosRegistryOptions {
  /** Kill switch and environment gate of every injector. @default ChaosControl.global */
  control?: ChaosControl;
  /** Fault kinds that may be injected (the seed's `allowedFaults`). @default every kind */
  allowedKinds?: readonly FaultKind[];
  /** Most faults active at once across all dependencies. @default 100 */
  maxActiveFaults?: number;
  /** Time source (fault expiry, latency). @default systemClock */
  clock?: Clock;
  /** Randomness for injection rates. @default Math.random */
  random?: () => number;
}

/** An active fault, as listed by {@link ChaosRegistry.active} (JSON-safe). */
export interface ActiveFaultInfo {
  id: string;
  dependency: string;
  kind: FaultKind;
  /** The fault as given, without functions. */
  spec: Omit<FaultSpec, 'behavior'>;
  startedAt: number;
  /** When it removes itself, if it has a duration. */
  expiresAt: number | undefined;
  /** Calls it was injected into so far. */
  injections: number;
}

/** An injected fault; `remove()` takes it out (idempotent). */
export interface ActiveFault extends Readonly<Omit<ActiveFaultInfo, 'injections'>> {
  remove(): boolean;
}

/** Events of {@link ChaosRegistry}. */
export interface ChaosRegistryEvents {
  faultAdded: ActiveFaultInfo;
  faultRemoved: ActiveFaultInfo & { reason: 'removed' | 'expired' | 'cleared' };
  /** A call of `dependency` was affected by fault `id`. */
  injected: { dependency: string; id: string; kind: FaultKind };
}

interface Entry {
  info: ActiveFaultInfo;
  policy: { execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<unknown> };
  timer: TimerHandle | undefined;
}

/**
 * Faults by dependency name, switched on and off at run time. Put `registry.injector('pricing')` in the
 * pipeline of the pricing dependency once; experiments, the admin API and the `antifragile` CLI then
 * inject and remove faults for `'pricing'` without touching the code. An injector with no active fault, or
 * with chaos switched off, costs one check per call.
 *
 * @example
 * const chaos = new ChaosRegistry({ control: new ChaosControl({ enabled: true }) });
 * const callPricing = pipeline(new Retry({ maxAttempts: 3 }), breaker, chaos.injector('pricing'));
 * const fault = chaos.inject('pricing', { kind: 'error', rate: 0.3, durationMs: 60_000 });
 */
export class ChaosRegistry {
  readonly control: ChaosControl;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly allowedKinds: ReadonlySet<FaultKind> | undefined;
  private readonly maxActiveFaults: number;
  private readonly injectors = new Map<string, ChaosInjector>();
  private readonly byId = new Map<string, { dependency: string; entry: Entry }>();
  private readonly events = new EventEmitter<ChaosRegistryEvents>('chaos-registry', 'chaos');

  constructor(options: ChaosRegistryOptions = {}) {
    const v = new OptionsValidator('ChaosRegistry');
    if (options.control !== undefined && !(options.control instanceof ChaosControl)) v.fail('control', 'a ChaosControl', options.control);
    if (options.allowedKinds !== undefined && !Array.isArray(options.allowedKinds)) v.fail('allowedKinds', 'an array of fault kinds', options.allowedKinds);
    v.integer('maxActiveFaults', options.maxActiveFaults, 1);
    v.clock('clock', options.clock);
    v.func('random', options.random);
    v.throwIfInvalid();
    this.control = options.control ?? ChaosControl.global;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.allowedKinds = options.allowedKinds === undefined ? undefined : new Set(options.allowedKinds);
    this.maxActiveFaults = options.maxActiveFaults ?? 100;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof ChaosRegistryEvents>(event: K, listener: Listener<ChaosRegistryEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** The policy injecting the faults of `dependency`; the same instance for the same name. */
  injector(dependency: string): ChaosInjector {
    if (typeof dependency !== 'string' || dependency === '') throw new TypeError('dependency name must be a non-empty string');
    let injector = this.injectors.get(dependency);
    if (injector === undefined) {
      injector = new ChaosInjector(dependency, this.control);
      this.injectors.set(dependency, injector);
    }
    return injector;
  }

  /** Names of the dependencies that have an injector (that is, that faults can reach). */
  dependencies(): string[] {
    return [...this.injectors.keys()];
  }

  /**
   * Starts injecting `spec` into the calls of `dependency`. Throws {@link ChaosRefusedError} when the kind is
   * not allowed or too many faults are active. Chaos still has to be enabled on the control for it to act.
   */
  inject(dependency: string, spec: FaultSpec): ActiveFault {
    if (this.allowedKinds !== undefined && !this.allowedKinds.has(spec.kind)) {
      throw new ChaosRefusedError(`Fault kind "${spec.kind}" is not allowed (allowed: ${[...this.allowedKinds].join(', ')})`);
    }
    if (this.byId.size >= this.maxActiveFaults) throw new ChaosRefusedError(`Too many active faults (limit ${this.maxActiveFaults})`);
    const injector = this.injector(dependency);
    const id = randomUUID();
    const now = this.clock.now();
    const policy = strategyOf(spec, { name: `${dependency}:${spec.kind}`, control: this.control, clock: this.clock, random: this.random });
    const { behavior: _behavior, ...data } = spec as FaultSpec & { behavior?: unknown };
    const info: ActiveFaultInfo = {
      id,
      dependency,
      kind: spec.kind,
      spec: data as Omit<FaultSpec, 'behavior'>,
      startedAt: now,
      expiresAt: spec.durationMs === undefined ? undefined : now + spec.durationMs,
      injections: 0,
    };
    policy.on('injected', () => {
      info.injections++;
      if (this.events.wants('injected')) this.events.emit('injected', { dependency, id, kind: spec.kind });
    });
    const entry: Entry = {
      info,
      policy,
      timer: spec.durationMs === undefined ? undefined : this.clock.schedule(() => this.drop(id, 'expired'), spec.durationMs, { keepAlive: false }),
    };
    injector.add(entry);
    this.byId.set(id, { dependency, entry });
    this.events.emit('faultAdded', { ...info });
    return { ...info, remove: () => this.drop(id, 'removed') };
  }

  /** Removes fault `id`; `false` if it was not active. */
  remove(id: string): boolean {
    return this.drop(id, 'removed');
  }

  /** Removes every fault of `dependency`, or every fault; returns how many. */
  clear(dependency?: string): number {
    let count = 0;
    for (const [id, found] of [...this.byId]) {
      if (dependency === undefined || found.dependency === dependency) if (this.drop(id, 'cleared')) count++;
    }
    return count;
  }

  /** The active faults. */
  active(): ActiveFaultInfo[] {
    return [...this.byId.values()].map(({ entry }) => ({ ...entry.info }));
  }

  private drop(id: string, reason: 'removed' | 'expired' | 'cleared'): boolean {
    const found = this.byId.get(id);
    if (found === undefined) return false;
    this.byId.delete(id);
    found.entry.timer?.cancel();
    this.injectors.get(found.dependency)?.delete(found.entry);
    this.events.emit('faultRemoved', { ...found.entry.info, reason });
    return true;
  }
}

/**
 * The policy a {@link ChaosRegistry} hands out for one dependency: it runs the call through the dependency's
 * active faults, in the order they were injected.
 */
export class ChaosInjector implements Policy {
  private entries: readonly Entry[] = [];

  /** @internal */
  constructor(
    readonly dependency: string,
    private readonly control: ChaosControl,
  ) {}

  /** Number of active faults. */
  get activeFaults(): number {
    return this.entries.length;
  }

  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    const entries = this.entries;
    if (entries.length === 0 || !this.control.enabled) return invoke(fn, contextOf(options));
    let next: PolicyFunction<T> = fn;
    for (let i = entries.length - 1; i >= 0; i--) {
      const policy = (entries[i] as Entry).policy;
      const inner = next;
      next = (context: PolicyContext) => policy.execute(inner, context) as Promise<T>;
    }
    return invoke(next, contextOf(options));
  }

  /** @internal */
  add(entry: Entry): void {
    this.entries = [...this.entries, entry];
  }

  /** @internal */
  delete(entry: Entry): void {
    this.entries = this.entries.filter((e) => e !== entry);
  }
}
