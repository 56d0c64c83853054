import type { Clock, TimerHandle } from './clock.js';
import { onAbort } from './abort.js';

/** How a waiter left a {@link WaiterQueue} without being woken. @internal */
export type LeaveReason = 'abort' | 'expire';

/** Optional deadline of one wait: after `ms` on `clock`, the waiter leaves and rejects with `error()`. @internal */
export interface WaitExpiry {
  clock: Clock;
  ms: number;
  error: () => unknown;
}

/**
 * One waiting caller: a node of the doubly linked list, and its own abort listener (`handleEvent`), so a wait
 * allocates one object and one promise.
 */
class Waiter {
  prev: Waiter | undefined = undefined;
  next: Waiter | undefined = undefined;
  timer: TimerHandle | undefined = undefined;
  unsubscribe: (() => void) | undefined = undefined;
  resolve!: () => void;
  reject!: (reason: unknown) => void;

  constructor(
    readonly queue: WaiterQueue,
    readonly signal: AbortSignal,
  ) {}

  readonly onAbort = (): void => {
    this.queue.leave(this, this.signal.reason, 'abort');
  };
}

/**
 * A FIFO of callers waiting for a permit (a bulkhead slot, a rate-limit permit). Push, wake-the-head and
 * removal of any waiter are O(1). A waiter whose signal aborts, or whose expiry passes, leaves at once:
 * its promise rejects, its abort listener and timer are removed, and `onLeave` runs.
 * @internal
 */
export class WaiterQueue {
  private head: Waiter | undefined = undefined;
  private tail: Waiter | undefined = undefined;
  private count = 0;

  constructor(private readonly onLeave?: (reason: LeaveReason) => void) {}

  /** Number of waiters. */
  get size(): number {
    return this.count;
  }

  /** Resolves when {@link wake} reaches this caller; rejects with `signal.reason` on abort, `expiry.error()` on expiry. */
  wait(signal: AbortSignal, expiry?: WaitExpiry): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const waiter = new Waiter(this, signal);
    const promise = new Promise<void>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    if (this.tail === undefined) this.head = waiter;
    else {
      this.tail.next = waiter;
      waiter.prev = this.tail;
    }
    this.tail = waiter;
    this.count++;
    waiter.unsubscribe = onAbort(signal, waiter.onAbort);
    if (expiry !== undefined) {
      waiter.timer = expiry.clock.schedule(() => this.leave(waiter, expiry.error(), 'expire'), expiry.ms);
    }
    return promise;
  }

  /** Resolves the oldest waiter; returns false when there is none. */
  wake(): boolean {
    const waiter = this.head;
    if (waiter === undefined) return false;
    this.unlink(waiter);
    waiter.resolve();
    return true;
  }

  /** @internal removes `waiter` (if still queued), rejects it with `reason` and reports why it left. */
  leave(waiter: Waiter, reason: unknown, why: LeaveReason): void {
    if (waiter.prev === undefined && this.head !== waiter) return; // already woken or gone
    this.unlink(waiter);
    waiter.reject(reason);
    this.onLeave?.(why);
  }

  private unlink(waiter: Waiter): void {
    const { prev, next } = waiter;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    waiter.prev = waiter.next = undefined;
    this.count--;
    waiter.unsubscribe?.();
    waiter.unsubscribe = undefined;
    if (waiter.timer !== undefined) {
      waiter.timer.cancel();
      waiter.timer = undefined;
    }
  }
}
