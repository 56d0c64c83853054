import { AsyncResource } from 'node:async_hooks';
import { LinkedAbortController, onAbort } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import { TimeoutError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { contextOf, defaultContext, deriveContext } from './context.js';
import { isContextAborted, LazyContext, SignalCell } from './lazy-context.js';
import type { ExecuteOptions, Policy, PolicyContext, PolicyFunction } from './policy.js';

/**
 * What a {@link Timeout} does when the deadline passes. Either way the function's signal aborts with a
 * {@link TimeoutError}.
 * - `'cooperative'`: wait for the function to settle. A rejection becomes the `TimeoutError`; a value that
 *   arrives after the deadline is still returned (as cockatiel and Polly do: the work is done, use it).
 * - `'aggressive'`: reject with the `TimeoutError` at once and abandon the function's promise (its
 *   outcome is ignored; a late rejection is never reported as unhandled).
 */
export type TimeoutStrategy = 'cooperative' | 'aggressive';

/** Options of {@link Timeout}. */
export interface TimeoutOptions {
  /** Time budget of each call in milliseconds, > 0. */
  ms: number;
  /**
   * What happens at the deadline; see {@link TimeoutStrategy}.
   * @default 'cooperative'
   */
  strategy?: TimeoutStrategy;
  /**
   * Source of time and timers.
   * @default systemClock
   */
  clock?: Clock;
  /**
   * Instance name, carried in diagnostics_channel messages and used as the adapters' default metric label.
   * @default 'timeout'
   */
  name?: string;
}

/** Events of {@link Timeout}, by name. */
export interface TimeoutEvents {
  /**
   * A call reached its deadline; `ms` is the budget it exceeded. Emitted once per timed-out call, in the
   * async context the call started in (whatever clock fires the deadline), so AsyncLocalStorage-based
   * consumers such as the OpenTelemetry bridge see the call's own stores.
   */
  timeout: { ms: number };
}

const STRATEGIES: readonly TimeoutStrategy[] = ['cooperative', 'aggressive'];

/**
 * Gives each call a time budget. The function receives a signal that aborts with a {@link TimeoutError}
 * at the deadline (and with the caller's reason when the caller aborts); the call then rejects with that
 * `TimeoutError`, immediately (`'aggressive'`) or once the function settles (`'cooperative'`). When the
 * caller's own signal aborts, the call rejects at once with the caller's `signal.reason`, whatever the
 * strategy. Deadlines go to `clock.schedule` (one shared timer), and every timer and listener is released
 * when the call settles.
 *
 * @example
 * ```ts
 * const timeout = new Timeout({ ms: 2_000, strategy: 'aggressive' });
 * timeout.on('timeout', ({ ms }) => log.warn(`pricing took more than ${ms} ms`));
 * const price = await timeout.execute(({ signal }) => fetch(url, { signal }));
 * ```
 */
export class Timeout implements Policy {
  /** Time budget of each call in milliseconds. */
  readonly ms: number;
  /** What happens at the deadline. */
  readonly strategy: TimeoutStrategy;
  /** Instance name. */
  readonly name: string;
  private readonly clock: Clock;
  private readonly events: EventEmitter<TimeoutEvents>;

  /** @throws InvalidOptionsError listing every invalid option. */
  constructor(options: TimeoutOptions) {
    const v = new OptionsValidator('Timeout');
    const o: Partial<TimeoutOptions> | undefined = options;
    if (v.required('options', o, 'an object') && v.object('options', o)) {
      v.required('ms', o.ms, 'a number > 0');
      v.duration('ms', o.ms, true);
      v.oneOf('strategy', o.strategy, STRATEGIES);
      v.clock('clock', o.clock);
      v.string('name', o.name);
    }
    v.throwIfInvalid();
    this.ms = options.ms;
    this.strategy = options.strategy ?? 'cooperative';
    this.clock = options.clock ?? systemClock;
    this.name = options.name ?? 'timeout';
    this.events = new EventEmitter('timeout', this.name);
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof TimeoutEvents>(event: K, listener: Listener<TimeoutEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Runs `fn` with a signal that aborts at the deadline. */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    const parent = contextOf(options);
    if (parent === defaultContext || parent instanceof LazyContext) return this.executeLazy(fn, parent);
    const callerSignal = parent.signal;
    if (callerSignal.aborted) return Promise.reject(callerSignal.reason);
    const { ms, strategy, events } = this;
    let scope = emitScope(events);

    return new Promise<T>((resolve, reject) => {
      const controller = new LinkedAbortController(callerSignal);
      let timeoutError: TimeoutError | undefined;
      let settled = false;
      /** Releases the timer and both abort listeners; true for the first caller only. */
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        timer.cancel();
        controller.dispose();
        unsubscribe();
        scope = releaseScope(scope);
        return true;
      };
      const timer = this.clock.schedule(() => {
        timeoutError = new TimeoutError(ms);
        emitTimeout(events, ms, scope);
        scope = releaseScope(scope);
        controller.abort(timeoutError);
        if (strategy === 'aggressive' && settle()) reject(timeoutError);
      }, ms);
      // Shared per signal (core onAbort): many calls on one caller signal add one native listener in all.
      const unsubscribe = onAbort(callerSignal, () => {
        if (settle()) reject(callerSignal.reason);
      });

      let pending: PromiseLike<T> | T;
      try {
        pending = fn(deriveContext(parent, controller.signal));
      } catch (error) {
        pending = Promise.reject(error);
      }
      // Always attached, so an abandoned promise never rejects unhandled.
      Promise.resolve(pending).then(
        (value) => {
          if (settle()) resolve(value);
        },
        (error: unknown) => {
          if (!settle()) return;
          if (timeoutError === undefined || error === timeoutError) reject(error);
          else reject(new TimeoutError(ms, { cause: error }));
        },
      );
    });
  }

  /**
   * The path for callers that cannot abort (no signal, or only an outer timeout's): the call's signal is
   * created only if `fn` reads it, so a function that ignores its signal costs no AbortController.
   */
  private executeLazy<T>(fn: PolicyFunction<T>, parent: PolicyContext): Promise<T> {
    if (isContextAborted(parent)) return Promise.reject(parent.signal.reason);
    if (this.strategy === 'aggressive') return this.executeLazyAggressive(fn, parent);
    // Cooperative: the call settles when `fn` does, so the promise of `fn` is chained, not wrapped.
    const cell = new SignalCell(parent === defaultContext ? undefined : parent, parent.attempt);
    const { ms, events } = this;
    let scope = emitScope(events);
    let timeoutError: TimeoutError | undefined;
    const timer = this.clock.schedule(() => {
      timeoutError = new TimeoutError(ms);
      emitTimeout(events, ms, scope);
      scope = releaseScope(scope);
      cell.abort(timeoutError);
    }, ms);
    let pending: PromiseLike<T> | T;
    try {
      pending = fn(cell);
    } catch (error) {
      timer.cancel();
      cell.dispose();
      scope = releaseScope(scope);
      return Promise.reject(error);
    }
    return Promise.resolve(pending).then(
      (value) => {
        timer.cancel();
        cell.dispose();
        scope = releaseScope(scope);
        return value;
      },
      (error: unknown) => {
        timer.cancel();
        cell.dispose();
        scope = releaseScope(scope);
        throw timeoutError === undefined || error === timeoutError ? error : new TimeoutError(ms, { cause: error });
      },
    );
  }

  private executeLazyAggressive<T>(fn: PolicyFunction<T>, parent: PolicyContext): Promise<T> {
    const cell = new SignalCell(parent === defaultContext ? undefined : parent, parent.attempt);
    const { ms, events } = this;
    let scope = emitScope(events);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = this.clock.schedule(() => {
        const timeoutError = new TimeoutError(ms);
        emitTimeout(events, ms, scope);
        scope = releaseScope(scope);
        cell.abort(timeoutError);
        if (!settled) {
          settled = true;
          cell.dispose();
          reject(timeoutError);
        }
      }, ms);
      let pending: PromiseLike<T> | T;
      try {
        pending = fn(cell);
      } catch (error) {
        pending = Promise.reject(error);
      }
      // Always attached, so an abandoned promise never rejects unhandled.
      Promise.resolve(pending).then(
        (value) => {
          if (settled) return;
          settled = true;
          timer.cancel();
          cell.dispose();
          scope = releaseScope(scope);
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          timer.cancel();
          cell.dispose();
          scope = releaseScope(scope);
          reject(error);
        },
      );
    });
  }

}

/**
 * The async context of the call, kept only while someone listens to `timeout`: a deadline may fire from a
 * clock that does not carry contexts (a VirtualClock fires in its caller's), and the event belongs to the call.
 * Released with {@link releaseScope} once the deadline fired or the call settled, whichever comes first.
 */
function emitScope(events: EventEmitter<TimeoutEvents>): AsyncResource | undefined {
  return events.wants('timeout') ? new AsyncResource('antifragile:timeout', { requireManualDestroy: true }) : undefined;
}

/**
 * Ends the resource of {@link emitScope} (destroy hooks see it go, so destroy-hook-based context managers
 * release the call's context); returns undefined for the caller to forget it, so that it ends exactly once.
 */
function releaseScope(scope: AsyncResource | undefined): undefined {
  scope?.emitDestroy();
  return undefined;
}

/** Emits `timeout` in the call's context when one was kept. */
function emitTimeout(events: EventEmitter<TimeoutEvents>, ms: number, scope: AsyncResource | undefined): void {
  if (scope !== undefined) scope.runInAsyncScope(() => events.emit('timeout', { ms }));
  else if (events.wants('timeout')) events.emit('timeout', { ms });
}
