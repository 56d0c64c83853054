import { FallbackError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import { contextOf } from './context.js';
import { LazyContext } from './lazy-context.js';
import type { ExecuteOptions, Policy, PolicyContext, PolicyFunction } from './policy.js';

/** What a {@link Fallback}'s function receives when the call failed with a handled error. */
export interface FallbackErrorContext extends PolicyContext {
  readonly kind: 'error';
  /** The error the call failed with. */
  readonly error: unknown;
  readonly result?: undefined;
}

/** What a {@link Fallback}'s function receives when the call returned a handled result. */
export interface FallbackResultContext extends PolicyContext {
  readonly kind: 'result';
  /** The result `shouldHandleResult` rejected. */
  readonly result: unknown;
  readonly error?: undefined;
}

/**
 * What a {@link Fallback}'s function receives: why it runs (`kind`), the error or result, and the caller's
 * context (its `signal` aborts when the caller gives up; pass it to any I/O the fallback does).
 */
export type FallbackContext = FallbackErrorContext | FallbackResultContext;

/** Options of {@link Fallback}. */
export interface FallbackOptions<R> {
  /** Produces the value returned in place of a failed call or a handled result. */
  fallback: (context: FallbackContext) => R | PromiseLike<R>;
  /**
   * Which errors the fallback replaces. Never consulted when the caller's signal has aborted: the caller's
   * own abort always propagates. If it throws, the throw is reported as a process warning (code
   * `ANTIFRAGILE_CALLBACK_ERROR`) and the error is not handled: it propagates unchanged.
   * @default every error
   */
  shouldHandle?: (error: unknown) => boolean;
  /**
   * Which successful results the fallback replaces (an empty list, a `{ ok: false }` response...). If it
   * throws, the throw is reported as a process warning (code `ANTIFRAGILE_CALLBACK_ERROR`) and the result
   * is returned unchanged.
   * @default none
   */
  shouldHandleResult?: (result: unknown) => boolean;
  /**
   * Instance name carried in diagnostics_channel messages.
   * @default 'fallback'
   */
  name?: string;
}

/** Events of {@link Fallback}, by name. */
export interface FallbackEvents {
  /** The fallback is about to run, for an error or for a result. */
  fallback: { kind: 'error'; error: unknown } | { kind: 'result'; result: unknown };
}

/**
 * Replaces a failed call (or an unwanted result) with the value of a fallback function, so the caller
 * resolves with `T | R`; in a `pipeline` the inferred result type includes `R`.
 *
 * - Errors: every error by default, filtered by `shouldHandle`. An error raised while the caller's signal
 *   is aborted is never handled: it propagates unchanged (nobody is waiting for a substitute).
 * - Results: only when `shouldHandleResult` says so.
 * - If the fallback for an error throws that error, or an error whose `cause` is that error, it propagates
 *   unchanged; anything else it throws is wrapped in a {@link FallbackError} whose `cause` is the original
 *   error, so nothing is lost. Give your own errors `{ cause: error }` to propagate them as they are. What
 *   the fallback for a result throws propagates unchanged (there is no original error).
 *
 * @example
 * ```ts
 * const cachedPrice = new Fallback({
 *   fallback: () => cache.lastKnownPrice(),            // Price | undefined
 *   shouldHandle: (error) => !(error instanceof ValidationError),
 *   shouldHandleResult: (result) => result === null,
 * });
 * const call = pipeline(cachedPrice, new Timeout({ ms: 1_000 }));
 * const price = await call.execute(fetchPrice);        // Price | null | undefined
 * ```
 */
export class Fallback<R> implements Policy<R> {
  /** Type-level only: lets a `pipeline` infer `T | R`. */
  declare readonly '~types'?: { readonly extra: R };
  /** Instance name. */
  readonly name: string;
  private readonly fallback: (context: FallbackContext) => R | PromiseLike<R>;
  private readonly shouldHandle: ((error: unknown) => boolean) | undefined;
  private readonly shouldHandleResult: ((result: unknown) => boolean) | undefined;
  private readonly events: EventEmitter<FallbackEvents>;

  /** @throws InvalidOptionsError listing every invalid option. */
  constructor(options: FallbackOptions<R>) {
    const v = new OptionsValidator('Fallback');
    const o: Partial<FallbackOptions<R>> = options ?? {};
    if (v.object('options', o)) {
      if (typeof o.fallback !== 'function') v.fail('fallback', 'a function', o.fallback);
      v.func('shouldHandle', o.shouldHandle);
      v.func('shouldHandleResult', o.shouldHandleResult);
      v.string('name', o.name);
    }
    v.throwIfInvalid();
    this.fallback = options.fallback;
    this.shouldHandle = options.shouldHandle;
    this.shouldHandleResult = options.shouldHandleResult;
    this.name = options.name ?? 'fallback';
    this.events = new EventEmitter('fallback', this.name);
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof FallbackEvents>(event: K, listener: Listener<FallbackEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Runs `fn`; on a handled error or result, resolves with the fallback's value instead. */
  async execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T | R> {
    const context = contextOf(options);
    if (context.signal.aborted) throw context.signal.reason;
    let result: T;
    try {
      result = await fn(context);
    } catch (error) {
      if (context.signal.aborted || (this.shouldHandle !== undefined && !this.handles(error))) throw error;
      if (this.events.wants('fallback')) this.events.emit('fallback', { kind: 'error', error });
      return this.runFallback({ ...fields(context), kind: 'error', error });
    }
    if (this.shouldHandleResult === undefined || !this.handlesResult(result)) return result;
    if (this.events.wants('fallback')) this.events.emit('fallback', { kind: 'result', result });
    return this.runFallback({ ...fields(context), kind: 'result', result });
  }

  /** `shouldHandle`, guarded: a predicate that throws is reported and the error not handled. */
  private handles(error: unknown): boolean {
    try {
      return (this.shouldHandle as (error: unknown) => boolean)(error);
    } catch (predicateError) {
      reportCallbackError(predicateError, `Fallback "${this.name}" option shouldHandle`);
      return false;
    }
  }

  /** `shouldHandleResult`, guarded: a predicate that throws is reported and the result not handled. */
  private handlesResult(result: unknown): boolean {
    try {
      return (this.shouldHandleResult as (result: unknown) => boolean)(result);
    } catch (predicateError) {
      reportCallbackError(predicateError, `Fallback "${this.name}" option shouldHandleResult`);
      return false;
    }
  }

  private async runFallback(context: FallbackContext): Promise<R> {
    try {
      return await this.fallback(context);
    } catch (error) {
      const original = context.error;
      if (context.kind === 'result' || error === original || (error instanceof Error && error.cause === original)) {
        throw error;
      }
      throw new FallbackError(original, error);
    }
  }
}

/**
 * The caller's context as plain fields for the fallback's own context. A lazy context keeps its `signal`
 * in a prototype getter that a spread would drop (and its own fields are internals), so it is read
 * explicitly, which creates the signal: fine on the fallback path. A plain context is spread, keeping any
 * other fields of outer policies.
 */
function fields(context: PolicyContext): PolicyContext {
  return context instanceof LazyContext ? { signal: context.signal, attempt: context.attempt } : context;
}
