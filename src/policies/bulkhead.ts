import { systemClock, type Clock } from '../core/clock.js';
import { BulkheadFullError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { contextOf } from './context.js';
import { isContextAborted } from './lazy-context.js';
import type { ExecuteOptions, Policy, PolicyContext, PolicyFunction } from './policy.js';
import { WaiterQueue, type LeaveReason, type WaitExpiry } from '../core/waiter-queue.js';

/** Options of {@link Bulkhead}. */
export interface BulkheadOptions {
  /** Most calls running at once, an integer >= 1. */
  maxConcurrent: number;
  /** Most calls waiting for a slot, first-in first-out, an integer >= 0; calls beyond it are refused. @default 0 */
  maxQueued?: number;
  /**
   * Longest a call waits in the queue for a slot, in ms; then it is refused with {@link BulkheadFullError}.
   * Off unless set (a queued call then waits until a slot frees or its signal aborts).
   */
  queueTimeoutMs?: number;
  /** Name used in events and errors. @default 'bulkhead' */
  name?: string;
  /** Time source (for `queueTimeoutMs`). @default systemClock */
  clock?: Clock;
}

/** Events of a {@link Bulkhead}. */
export interface BulkheadEvents {
  /**
   * A call was refused: `'full'` when every slot and the queue were taken, `'queue-timeout'` when it
   * waited `queueTimeoutMs` without getting a slot.
   */
  rejected: { name: string; reason: 'full' | 'queue-timeout'; running: number; queued: number };
  /** A call found every slot taken and joined the queue; `queued` includes it. */
  queued: { name: string; running: number; queued: number };
}

/**
 * Caps concurrent calls to a dependency so that one slow dependency cannot take every socket, worker or
 * byte of memory. At most `maxConcurrent` calls run; up to `maxQueued` more wait first-in first-out (an O(1)
 * linked queue); the rest are refused at once with {@link BulkheadFullError}. A slot is held until the
 * function itself settles, even if an outer `Timeout` or the caller's signal has already given up on it:
 * the work is still running, so the slot stays taken. An aborted queued call leaves the queue at once.
 *
 * @example
 * ```ts
 * const bulkhead = new Bulkhead({ maxConcurrent: 20, maxQueued: 50, queueTimeoutMs: 2_000 });
 * bulkhead.on('rejected', ({ reason }) => metrics.increment('pricing.bulkhead.rejected', { reason }));
 * const price = await bulkhead.execute(({ signal }) => fetchPrice(sku, { signal }), { signal: req.signal });
 * ```
 */
export class Bulkhead implements Policy {
  /** Name used in events and errors. */
  readonly name: string;
  /** Most calls running at once. */
  readonly maxConcurrent: number;
  /** Most calls waiting for a slot. */
  readonly maxQueued: number;
  private readonly events: EventEmitter<BulkheadEvents>;
  private readonly expiry: WaitExpiry | undefined;
  private readonly waiters = new WaiterQueue((why: LeaveReason) => {
    if (why === 'expire') this.emitRejected('queue-timeout');
  });
  private active = 0;

  constructor(options: BulkheadOptions) {
    validate(options);
    this.name = options.name ?? 'bulkhead';
    this.maxConcurrent = options.maxConcurrent;
    this.maxQueued = options.maxQueued ?? 0;
    this.events = new EventEmitter('bulkhead', this.name);
    const queueTimeoutMs = options.queueTimeoutMs;
    this.expiry =
      queueTimeoutMs === undefined
        ? undefined
        : {
            clock: options.clock ?? systemClock,
            ms: queueTimeoutMs,
            error: () =>
              new BulkheadFullError(`Bulkhead "${this.name}" had no free slot within ${queueTimeoutMs} ms`),
          };
  }

  /** Calls running now. */
  get running(): number {
    return this.active;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.waiters.size;
  }

  /** Free slots now. */
  get available(): number {
    return this.maxConcurrent - this.active;
  }

  /**
   * Runs `fn` in a free slot, or once one frees if the queue has room; otherwise rejects with
   * {@link BulkheadFullError}. Rejects with `signal.reason` if the caller aborts while queued. The slot is
   * released when `fn` settles, not when the caller stops waiting.
   */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    const context = contextOf(options);
    if (isContextAborted(context)) return Promise.reject(context.signal.reason);
    if (this.active < this.maxConcurrent) {
      // Fast path: a free slot. No async frame, no per-call closure: shared handlers release the slot.
      this.active++;
      let pending: PromiseLike<T> | T;
      try {
        pending = fn(context);
      } catch (error) {
        this.release();
        return Promise.reject(error);
      }
      return Promise.resolve(pending).then(this.releaseAfterValue as (value: T) => T, this.releaseAfterError);
    }
    return this.executeQueued(fn, context);
  }

  private async executeQueued<T>(fn: PolicyFunction<T>, context: PolicyContext): Promise<T> {
    if (this.waiters.size >= this.maxQueued) {
      this.emitRejected('full');
      throw new BulkheadFullError(
        `Bulkhead "${this.name}" is full (${this.maxConcurrent} running, ${this.maxQueued} queued)`,
      );
    }
    const signal = context.signal; // a queued call must hear an abort, so a lazy signal is created here
    const granted = this.waiters.wait(signal, this.expiry);
    if (this.events.wants('queued')) {
      this.events.emit('queued', { name: this.name, running: this.active, queued: this.waiters.size });
    }
    await granted; // the releasing call handed its slot over: `active` already counts this one
    if (signal.aborted) {
      this.release();
      throw signal.reason;
    }
    try {
      return await fn(context);
    } finally {
      this.release();
    }
  }

  private readonly releaseAfterValue = (value: unknown): unknown => {
    this.release();
    return value;
  };

  private readonly releaseAfterError = (error: unknown): never => {
    this.release();
    throw error;
  };

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof BulkheadEvents>(event: K, listener: Listener<BulkheadEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Hands the slot to the oldest waiter, or frees it. */
  private release(): void {
    if (!this.waiters.wake()) this.active--;
  }

  private emitRejected(reason: 'full' | 'queue-timeout'): void {
    if (this.events.wants('rejected')) {
      this.events.emit('rejected', { name: this.name, reason, running: this.active, queued: this.waiters.size });
    }
  }
}

function validate(options: BulkheadOptions): void {
  const v = new OptionsValidator('Bulkhead');
  if (!v.required('options', options, 'an object') || !v.object('options', options)) return v.throwIfInvalid();
  v.required('maxConcurrent', options.maxConcurrent, 'an integer >= 1');
  v.integer('maxConcurrent', options.maxConcurrent, 1);
  v.integer('maxQueued', options.maxQueued, 0);
  v.duration('queueTimeoutMs', options.queueTimeoutMs);
  v.string('name', options.name);
  v.clock('clock', options.clock);
  v.throwIfInvalid();
}
