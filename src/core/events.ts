import { channel, type Channel } from 'node:diagnostics_channel';

/** A listener for one event of an {@link EventEmitter}. */
export type Listener<T> = (payload: T) => void;

/** Removes the listener it was returned for; calling it twice is harmless. */
export type Unsubscribe = () => void;

/** Handler for errors thrown by listeners; the default emits a process warning. */
let listenerErrorHandler: (error: unknown, event: string) => void = (error, event) => {
  process.emitWarning(`A listener for "${event}" threw: ${error instanceof Error ? error.message : String(error)}`, {
    code: 'ANTIFRAGILE_LISTENER_ERROR',
  });
};

/**
 * Replaces what happens when an event listener throws (by default a process warning). The throwing
 * listener never breaks the component that emitted the event.
 */
export function setListenerErrorHandler(handler: (error: unknown, event: string) => void): void {
  listenerErrorHandler = handler;
}

/**
 * A small typed event emitter. `on` returns an unsubscribe function; listeners run synchronously in
 * subscription order; a listener that throws is reported and never breaks the emitter's caller.
 * Every event is also published on the `node:diagnostics_channel` channel `antifragile:<source>:<event>`
 * when that channel has subscribers, with `{ source: name, ...payload }`-like messages `{ name, payload }`.
 *
 * @typeParam Events map of event name to payload type.
 */
export class EventEmitter<Events extends object> {
  /** Per event: its listeners (copied on write, so emitting never sees a half-updated list) and channel. */
  private slots: Map<keyof Events, Slot> | undefined;

  /**
   * @param source kind of component, used in diagnostics channel names (e.g. `circuit-breaker`).
   * @param name instance name carried in diagnostics messages.
   */
  constructor(
    private readonly source: string,
    private readonly name: string,
  ) {}

  /** Subscribes `listener` to `event`; returns a function that unsubscribes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): Unsubscribe {
    const slot = this.slot(event);
    slot.listeners = [...slot.listeners, listener as Listener<unknown>];
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const index = slot.listeners.indexOf(listener as Listener<unknown>);
      if (index >= 0) slot.listeners = [...slot.listeners.slice(0, index), ...slot.listeners.slice(index + 1)];
    };
  }

  /** Subscribes `listener` to the next `event` only. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): Unsubscribe {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Whether anyone listens to `event`, directly or through diagnostics_channel. Cheap; use it to skip building payloads. */
  wants<K extends keyof Events>(event: K): boolean {
    const slot = this.slot(event);
    return slot.listeners.length > 0 || slot.channel.hasSubscribers;
  }

  /** Delivers `payload` to the listeners of `event` and to its diagnostics channel. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const slot = this.slot(event);
    for (const listener of slot.listeners) {
      try {
        listener(payload);
      } catch (error) {
        listenerErrorHandler(error, String(event));
      }
    }
    if (slot.channel.hasSubscribers) slot.channel.publish({ name: this.name, event, payload });
  }

  /** Removes every listener. */
  removeAllListeners(): void {
    if (this.slots === undefined) return;
    for (const slot of this.slots.values()) slot.listeners = [];
  }

  /** Number of listeners on `event`. */
  listenerCount<K extends keyof Events>(event: K): number {
    return this.slots?.get(event)?.listeners.length ?? 0;
  }

  /** The diagnostics channel of `event`; hot paths keep it to test `hasSubscribers` cheaply. */
  channel<K extends keyof Events>(event: K): Channel {
    return this.slot(event).channel;
  }

  private slot(event: keyof Events): Slot {
    // Created on first use: an emitter nobody listens to costs one small object.
    this.slots ??= new Map();
    let slot = this.slots.get(event);
    if (slot === undefined) {
      slot = { listeners: [], channel: channel(`antifragile:${this.source}:${String(event)}`) };
      this.slots.set(event, slot);
    }
    return slot;
  }
}

interface Slot {
  listeners: Listener<unknown>[];
  channel: Channel;
}
