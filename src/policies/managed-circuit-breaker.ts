import { BrokenCircuitError } from '../core/errors.js';
import type { Unsubscribe } from '../core/events.js';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker.js';

/**
 * The error a {@link ManagedCircuitBreaker} rejects with when it refuses a call. Its `name` is
 * `'CircuitBreakerError'`, as the seed's code checks; it is a {@link BrokenCircuitError} (code `CIRCUIT_OPEN`).
 */
export class CircuitBreakerError extends BrokenCircuitError {
  override readonly name: string = 'CircuitBreakerError';
  /** Name of the breaker that refused the call. */
  readonly component: string;
  constructor(component: string, message: string, options?: { retryAfterMs?: number; isolated?: boolean }) {
    super(message, options);
    this.component = component;
  }
}

/** Event types delivered by {@link ManagedCircuitBreaker.onEvent}. */
export type CircuitBreakerEventType =
  | 'circuit-opened'
  | 'circuit-closed'
  | 'circuit-half-opened'
  | 'circuit-isolated'
  | 'circuit-disabled'
  | 'call-rejected';

/** A breaker event in the seed's shape. */
export interface CircuitBreakerEvent {
  type: CircuitBreakerEventType;
  /** Name of the breaker. */
  component: string;
  timestamp: Date;
  /** The transition or rejection details. */
  data: { from?: CircuitState; to?: CircuitState; reason?: string; retryAfterMs?: number | undefined };
}

/** The seed's `getState()` view of a breaker. */
export interface ManagedCircuitBreakerState {
  state: CircuitState;
  /** Failures in the current window. */
  failures: number;
  /** Successful calls in the current window. */
  successes: number;
  /** Calls refused since creation or reset. */
  rejections: number;
  /** For an open circuit, when it will probe again. */
  nextAttemptTime: Date | undefined;
  /** When the current state began. */
  since: Date;
}

const EVENT_OF_STATE: Record<CircuitState, CircuitBreakerEventType> = {
  open: 'circuit-opened',
  closed: 'circuit-closed',
  'half-open': 'circuit-half-opened',
  isolated: 'circuit-isolated',
  disabled: 'circuit-disabled',
};

/**
 * A {@link CircuitBreaker} as the seed's `CircuitBreakerManager` hands it out: the same breaker, plus
 * `onEvent` (seed event shape), `getState()`, and rejections named `CircuitBreakerError`.
 */
export class ManagedCircuitBreaker extends CircuitBreaker {
  constructor(options: CircuitBreakerOptions) {
    super(options);
  }

  /** Subscribes to state changes and rejections in the seed's event shape; returns an unsubscribe function. */
  onEvent(listener: (event: CircuitBreakerEvent) => void): Unsubscribe {
    const offState = this.on('stateChange', ({ name, from, to, reason, at }) =>
      listener({ type: EVENT_OF_STATE[to], component: name, timestamp: new Date(at), data: { from, to, reason } }),
    );
    const offRejected = this.on('rejected', ({ name, retryAfterMs }) =>
      listener({ type: 'call-rejected', component: name, timestamp: new Date(this.clock.now()), data: { retryAfterMs } }),
    );
    return () => {
      offState();
      offRejected();
    };
  }

  /** The seed's state view. */
  getState(): ManagedCircuitBreakerState {
    const m = this.metrics();
    const now = this.clock.now();
    return {
      state: m.state,
      failures: m.failures,
      successes: m.calls - m.failures,
      rejections: m.totals.rejections,
      nextAttemptTime: m.state === 'open' ? new Date(now + m.retryAfterMs) : undefined,
      since: new Date(now - m.timeInStateMs),
    };
  }

  protected override createRejection(
    message: string,
    options: { retryAfterMs?: number; isolated: boolean },
  ): BrokenCircuitError {
    return new CircuitBreakerError(this.name, message, options);
  }
}
