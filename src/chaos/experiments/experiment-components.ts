import type { Unsubscribe } from '../../core/events.js';

/** The breakers an experiment watches (a `CircuitBreakerManager` fits): findings look up the breaker named like a target. */
export interface BreakerSource {
  get(name: string): { readonly state: string } | undefined;
  on(event: 'stateChange', listener: (change: { name: string; from: string; to: string; reason: string; at: number }) => void): Unsubscribe;
}

/** The degradation an experiment watches (a `GracefulDegradation` fits). */
export interface DegradationSource {
  getCurrentState(): { level: string; levelIndex: number };
  on(event: 'levelChange', listener: (change: { from: string; to: string; reason: string; at: number }) => void): Unsubscribe;
}

/** The self-healer an experiment watches (a `SelfHealer` fits). */
export interface HealerSource {
  onEvent(listener: (event: { type: string; component: string; strategy?: string; durationMs?: number }) => void): Unsubscribe;
}

/** What experiments watch to derive their findings; each is optional (the seed's `setComponents`). */
export interface ExperimentComponents {
  circuitBreakers?: BreakerSource | undefined;
  degradation?: DegradationSource | undefined;
  selfHealer?: HealerSource | undefined;
}
