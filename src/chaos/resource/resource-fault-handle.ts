/**
 * A running resource fault (CPU pressure, memory pressure, event-loop blocking). It ends by itself once its
 * duration has passed; {@link stop} ends it earlier. Either way every thread and timer it holds is released.
 */
export interface ResourceFaultHandle {
  /** What the fault is, e.g. `cpu-pressure`. */
  readonly kind: 'cpu-pressure' | 'memory-pressure' | 'event-loop-block';
  /** Whether it has ended (stopped, expired or failed). */
  readonly stopped: boolean;
  /** Resolves once the fault has ended and released everything it held. Never rejects. */
  readonly done: Promise<void>;
  /** Ends the fault and resolves once everything is released. Safe to call any number of times. */
  stop(): Promise<void>;
}
