import { neverAbortedSignal, throwIfAborted } from '../core/abort.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import type { ExecuteOptions, PolicyContext, PolicyFunction } from '../policies/policy.js';
import { messageOf, RecoveryFailedError } from './errors.js';
import type { RecoveryContext, RecoveryRequest, RecoveryStrategy } from './recovery-strategy.js';

/** What a fallback provider receives. */
export interface FallbackProviderContext {
  /** The error that made the chain run (the primary's, or the previous provider's). */
  error: unknown;
  /** Aborts when the caller gives up. */
  signal: AbortSignal;
  /** The recovery context, when the self-healer runs the chain. */
  context: RecoveryContext;
}

/** One link of a fallback chain. */
export interface FallbackProvider<T = unknown> {
  name: string;
  /** Lower runs first (1 before 2); ties keep their order in the chain. */
  priority: number;
  execute: (context: FallbackProviderContext) => PromiseLike<T> | T;
}

/** Options of {@link FallbackRecovery}, in the seed's names. */
export interface FallbackRecoveryConfig<T = unknown> {
  name: string;
  /** Providers tried by ascending `priority`; at least one. */
  fallbackChain: readonly FallbackProvider<T>[];
  /**
   * When a provider fails, try the next one (`true`), or give up after the first provider (`false`).
   * @default true
   */
  cascadeOnFailure?: boolean;
  /**
   * Which primary errors the chain replaces; others propagate unchanged.
   * @default every error
   */
  shouldFallback?: (error: unknown) => boolean;
}

/** Events of {@link FallbackRecovery}. */
export interface FallbackRecoveryEvents {
  /** A provider failed. */
  providerFailed: { provider: string; error: unknown };
  /** A provider served the result. */
  served: { provider: string };
}

/**
 * A fallback chain as a recovery strategy: the seed's `createFallback`. `execute(primary)` runs `primary`;
 * when it fails, providers run by ascending priority until one succeeds (or only the first, without
 * `cascadeOnFailure`). When all fail it rejects with a {@link RecoveryFailedError} listing each provider's
 * error, with the primary's error as `cause`.
 */
export class FallbackRecovery<T = unknown> implements RecoveryStrategy {
  readonly type = 'fallback' as const;
  readonly name: string;
  /** Whether a failing provider hands over to the next. */
  readonly cascadeOnFailure: boolean;
  private readonly chain: readonly FallbackProvider<T>[];
  private readonly shouldFallback: ((error: unknown) => boolean) | undefined;
  private readonly events: EventEmitter<FallbackRecoveryEvents>;

  /** @throws InvalidOptionsError listing every bad option. */
  constructor(config: FallbackRecoveryConfig<T>) {
    const v = new OptionsValidator('FallbackRecovery');
    const c: Partial<FallbackRecoveryConfig<T>> | undefined = config;
    if (v.required('config', c, 'an object') && v.object('config', c)) {
      if (v.required('name', c.name, 'a non-empty string')) v.string('name', c.name);
      if (v.required('fallbackChain', c.fallbackChain, 'a non-empty array of providers')) {
        if (!Array.isArray(c.fallbackChain) || c.fallbackChain.length === 0) {
          v.fail('fallbackChain', 'a non-empty array of providers', c.fallbackChain);
        } else {
          c.fallbackChain.forEach((p: Partial<FallbackProvider<T>> | null, i) => {
            if (!v.object(`fallbackChain[${i}]`, p ?? null) || p === null) return;
            if (typeof p.name !== 'string' || p.name.length === 0) v.fail(`fallbackChain[${i}].name`, 'a non-empty string', p.name);
            if (v.required(`fallbackChain[${i}].priority`, p.priority, 'a finite number')) v.number(`fallbackChain[${i}].priority`, p.priority, {});
            if (typeof p.execute !== 'function') v.fail(`fallbackChain[${i}].execute`, 'a function', p.execute);
          });
        }
      }
      v.boolean('cascadeOnFailure', c.cascadeOnFailure);
      v.func('shouldFallback', c.shouldFallback);
    }
    v.throwIfInvalid();
    this.name = config.name;
    this.chain = config.fallbackChain.map((p, i) => ({ p, i })).sort((a, b) => a.p.priority - b.p.priority || a.i - b.i).map(({ p }) => p);
    this.cascadeOnFailure = config.cascadeOnFailure ?? true;
    this.shouldFallback = config.shouldFallback;
    this.events = new EventEmitter('fallback-recovery', this.name);
  }

  /** Provider names in the order they are tried. */
  get order(): string[] {
    return this.chain.map((p) => p.name);
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof FallbackRecoveryEvents>(event: K, listener: Listener<FallbackRecoveryEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Runs `primary`; on failure, the chain. */
  async execute<R extends T>(primary: PolicyFunction<R>, options?: ExecuteOptions): Promise<T> {
    const signal = options?.signal ?? neverAbortedSignal;
    try {
      return await primary({ signal, attempt: 1 } satisfies PolicyContext);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (this.shouldFallback !== undefined && !this.shouldFallback(error)) throw error;
      return this.runChain(error, signal, {});
    }
  }

  /** Runs the chain in place of the operation that failed (the primary is not run again). */
  recover(request: RecoveryRequest): Promise<unknown> {
    return this.runChain(request.error, request.signal ?? neverAbortedSignal, request.context);
  }

  private async runChain(primaryError: unknown, signal: AbortSignal, context: RecoveryContext): Promise<T> {
    const errors: { name: string; error: unknown }[] = [];
    let last = primaryError;
    for (const provider of this.chain) {
      throwIfAborted(signal);
      try {
        const value = await provider.execute({ error: last, signal, context });
        this.events.emit('served', { provider: provider.name });
        return value;
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        errors.push({ name: provider.name, error });
        last = error;
        this.events.emit('providerFailed', { provider: provider.name, error });
        if (!this.cascadeOnFailure) break;
      }
    }
    throw new RecoveryFailedError(
      `Fallback chain "${this.name}" failed: ${errors.map((e) => `${e.name}: ${messageOf(e.error)}`).join('; ')}`,
      { cause: primaryError, strategy: this.name, errors, ...(typeof context.component === 'string' ? { component: context.component } : {}) },
    );
  }
}
