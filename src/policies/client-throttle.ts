import { systemClock, type Clock } from '../core/clock.js';
import { isLocalRefusalError, isTimeoutError, ThrottledError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import { TimeWindow } from '../core/time-window.js';
import { contextOf } from './context.js';
import { isContextAborted } from './lazy-context.js';
import type { ExecuteOptions, Policy, PolicyFunction } from './policy.js';

/** Options of {@link ClientThrottle}. Every field is optional. */
export interface ClientThrottleOptions {
  /**
   * How many requests per accepted one the client may send before it starts throttling, >= 1. Lower is
   * more aggressive (1.1 throttles early); higher wastes more backend work on requests it will refuse.
   * @default 2
   */
  k?: number;
  /** The rolling window over which requests and accepts are counted, in ms, > 0. @default 120_000 */
  windowMs?: number;
  /** Buckets of the window (it slides bucket by bucket, lazily, with no timer), an integer >= 1. @default 12 */
  buckets?: number;
  /**
   * Whether a failed call means the backend refused it (it counts as a request but not an accept); other
   * errors count as accepted (the backend answered, as with an HTTP 404). Not consulted for calls that never
   * reached the backend, which are not counted at all: calls whose caller aborted for a reason other than a
   * `TimeoutError`, and calls refused locally by an inner policy (`BrokenCircuitError`, `BulkheadFullError`,
   * `RateLimitedError`, `ConcurrencyLimitError`, `ThrottledError`, `RetryBudgetExhaustedError`).
   * For HTTP, something like `(e) => e.status === 429 || e.status >= 500`. If it throws, the throw is
   * reported as a process warning (code `ANTIFRAGILE_CALLBACK_ERROR`), the call counts as a rejection and
   * its error propagates unchanged.
   * @default every error (including timeouts) is a rejection
   */
  isRejection?: (error: unknown) => boolean;
  /** Random source in `[0, 1)`; consulted once per call, and only while the rejection probability is > 0. @default Math.random */
  random?: () => number;
  /** Name used in events. @default 'client-throttle' */
  name?: string;
  /** Time source. @default systemClock */
  clock?: Clock;
}

/** Events of a {@link ClientThrottle}. */
export interface ClientThrottleEvents {
  /** A call was rejected locally. */
  throttled: { name: string; probability: number; requests: number; accepts: number };
}

const everyError = (): boolean => true;

/**
 * Client-side adaptive throttling, from the Google SRE book ("Handling Overload"): over a rolling window the
 * client counts `requests` it attempted and `accepts` the backend accepted, and rejects each new call
 * locally, with {@link ThrottledError}, with probability `max(0, (requests - k * accepts) / (requests + 1))`.
 * While the backend accepts everything nothing is rejected; as it refuses more, the client sends it less,
 * and locally rejected calls still count as requests, so the pressure lifts only as accepts come back.
 * Calls are counted when they settle.
 *
 * @example
 * ```ts
 * const throttle = new ClientThrottle({ k: 2, isRejection: (e) => e instanceof HttpError && e.status === 503 });
 * const quote = await throttle.execute(({ signal }) => fetchQuote(id, { signal }));
 * ```
 */
export class ClientThrottle implements Policy {
  /** Name used in events. */
  readonly name: string;
  private readonly k: number;
  private readonly isRejection: (error: unknown) => boolean;
  private readonly random: () => number;
  private readonly events: EventEmitter<ClientThrottleEvents>;
  /** `calls()` are requests; `failures()` are requests not accepted (refused by the backend or locally). */
  private readonly window: TimeWindow;

  constructor(options: ClientThrottleOptions = {}) {
    validate(options);
    this.name = options.name ?? 'client-throttle';
    this.k = options.k ?? 2;
    this.isRejection = options.isRejection ?? everyError;
    this.random = options.random ?? Math.random;
    this.window = new TimeWindow(options.clock ?? systemClock, options.windowMs ?? 120_000, options.buckets ?? 12);
    this.events = new EventEmitter('client-throttle', this.name);
  }

  /** Requests counted in the window, locally rejected ones included. */
  get requests(): number {
    return this.window.calls();
  }

  /** Requests in the window the backend accepted. */
  get accepts(): number {
    return this.window.calls() - this.window.failures();
  }

  /** The probability, 0..1, that the next call is rejected locally: `max(0, (requests - k * accepts) / (requests + 1))`. */
  get probability(): number {
    const requests = this.window.calls();
    const accepts = requests - this.window.failures();
    return Math.max(0, (requests - this.k * accepts) / (requests + 1));
  }

  /**
   * Rejects with {@link ThrottledError} with the current {@link probability}; otherwise runs `fn` and
   * records whether the backend accepted it.
   */
  async execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    const context = contextOf(options);
    if (isContextAborted(context)) throw context.signal.reason;
    const probability = this.probability;
    if (probability > 0 && this.random() < probability) {
      this.window.record(true, false);
      if (this.events.wants('throttled')) {
        this.events.emit('throttled', { name: this.name, probability, requests: this.requests, accepts: this.accepts });
      }
      throw new ThrottledError(probability);
    }
    let result: T;
    try {
      result = await fn(context);
    } catch (error) {
      const uncounted =
        (isContextAborted(context) && !isTimeoutError(context.signal.reason)) ||
        isLocalRefusalError(error);
      if (!uncounted) this.window.record(this.rejected(error), false);
      throw error;
    }
    this.window.record(false, false);
    return result;
  }

  /** `isRejection`, guarded: a predicate that throws is reported and the call counted as a rejection. */
  private rejected(error: unknown): boolean {
    try {
      return this.isRejection(error);
    } catch (predicateError) {
      reportCallbackError(predicateError, `ClientThrottle "${this.name}" option isRejection`);
      return true;
    }
  }

  /** Forgets every request and accept. */
  reset(): void {
    this.window.reset();
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof ClientThrottleEvents>(event: K, listener: Listener<ClientThrottleEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }
}

function validate(options: ClientThrottleOptions): void {
  const v = new OptionsValidator('ClientThrottle');
  if (!v.required('options', options, 'an object') || !v.object('options', options)) return v.throwIfInvalid();
  v.number('k', options.k, { min: 1 });
  v.duration('windowMs', options.windowMs, true);
  v.integer('buckets', options.buckets, 1);
  v.func('isRejection', options.isRejection);
  v.func('random', options.random);
  v.string('name', options.name);
  v.clock('clock', options.clock);
  v.throwIfInvalid();
}
