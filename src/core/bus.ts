import type { Unsubscribe } from './events.js';
import { reportCallbackError } from './report-callback-error.js';

/** Whether a {@link Bus} currently delivers messages. */
export type BusStatus = 'connected' | 'disconnected';

/** Handler of messages on one bus channel; `from` is the sending endpoint's {@link Bus.id}. */
export type BusHandler = (message: unknown, from: string) => void;

/**
 * Publish/subscribe between the instances of a fleet (cache invalidation, shared breaker state, the
 * degradation level). Messages are JSON values; delivery is at most once and only while connected, so a
 * consumer that must not miss anything treats a `disconnected` → `connected` change as "I may have missed
 * messages". An endpoint never receives its own messages.
 *
 * {@link MemoryBus} connects endpoints inside one process; `RedisBus` (antifragile/redis) connects processes.
 */
export interface Bus {
  /** Unique id of this endpoint, carried by every message it publishes. */
  readonly id: string;
  /** Whether messages are currently delivered both ways. */
  readonly connected: boolean;
  /** Publishes `message` (a JSON value) on `channel` to every other endpoint. Rejects when not connected. */
  publish(channel: string, message: unknown): Promise<void>;
  /** Calls `handler` for each message other endpoints publish on `channel`. */
  subscribe(channel: string, handler: BusHandler): Unsubscribe;
  /** Calls `listener` on each change of {@link connected}. */
  onStatusChange(listener: (status: BusStatus) => void): Unsubscribe;
  /** Stops delivery and releases connections this endpoint owns. */
  close(): Promise<void>;
}

let nextEndpoint = 0;

/** Endpoints of one {@link MemoryBusHub} hear each other. */
export class MemoryBusHub {
  /** @internal */
  readonly endpoints = new Set<MemoryBus>();
}

/**
 * An in-process {@link Bus}: endpoints created on the same {@link MemoryBusHub} exchange messages, delivered
 * in a microtask (never synchronously inside `publish`). `setConnected(false)` simulates a network partition.
 */
export class MemoryBus implements Bus {
  readonly id: string;
  private linked = true;
  private closed = false;
  private readonly handlers = new Map<string, Set<BusHandler>>();
  private readonly statusListeners = new Set<(status: BusStatus) => void>();

  constructor(private readonly hub: MemoryBusHub = new MemoryBusHub()) {
    this.id = `memory-bus-${++nextEndpoint}`;
    hub.endpoints.add(this);
  }

  get connected(): boolean {
    return this.linked && !this.closed;
  }

  publish(channel: string, message: unknown): Promise<void> {
    if (!this.connected) return Promise.reject(new Error(`bus ${this.id} is not connected`));
    const copy: unknown = JSON.parse(JSON.stringify(message ?? null));
    for (const endpoint of this.hub.endpoints) {
      if (endpoint !== this) endpoint.deliver(channel, copy, this.id);
    }
    return Promise.resolve();
  }

  subscribe(channel: string, handler: BusHandler): Unsubscribe {
    let set = this.handlers.get(channel);
    if (set === undefined) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  onStatusChange(listener: (status: BusStatus) => void): Unsubscribe {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  /** Simulates losing (`false`) or regaining (`true`) the connection; status listeners are told. */
  setConnected(connected: boolean): void {
    if (this.closed || this.linked === connected) return;
    this.linked = connected;
    for (const listener of [...this.statusListeners]) {
      try {
        listener(connected ? 'connected' : 'disconnected');
      } catch (error) {
        reportCallbackError(error, 'bus status listener');
      }
    }
  }

  close(): Promise<void> {
    this.closed = true;
    this.hub.endpoints.delete(this);
    this.handlers.clear();
    this.statusListeners.clear();
    return Promise.resolve();
  }

  private deliver(channel: string, message: unknown, from: string): void {
    if (!this.connected) return;
    queueMicrotask(() => {
      if (!this.connected) return;
      const set = this.handlers.get(channel);
      if (set === undefined) return;
      for (const handler of [...set]) {
        try {
          handler(message, from);
        } catch (error) {
          reportCallbackError(error, `bus handler for "${channel}"`);
        }
      }
    });
  }
}
