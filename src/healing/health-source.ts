/** Health statuses a {@link HealthSource} reports. */
export type HealthStatusName = 'healthy' | 'degraded' | 'unhealthy';

/**
 * What the {@link SelfHealer} needs from a health monitor: status-change events per component, and
 * optionally a way to run a component's check now (to verify a recovery) and to read its last status.
 * The library's `HealthMonitor` fits it.
 */
export interface HealthSource {
  /**
   * Subscribes to status changes; returns an unsubscribe function. `check`, when given, names the check
   * that changed (verification runs that check; otherwise the one named like the component).
   */
  on(event: 'statusChange', fn: (e: { component: string; to: HealthStatusName; check?: string }) => void): () => void;
  /** Runs the check named `name` now and resolves with its result. */
  runCheck?(name: string): Promise<{ status: string }>;
  /** The last known status of `component`, or undefined when it has no check. */
  getComponentHealth?(component: string): { status: string } | undefined;
}

/**
 * Something that can replace this process's workers one by one without dropping requests (the
 * `Supervisor` does); resolves once the restart was carried out or accepted.
 */
export interface RestartRequester {
  requestRollingRestart(reason: string): Promise<void>;
}

/** A cache the healer may clear (an LRU, a memo table, a `MultiLayerCache` layer...). */
export interface ClearableCache {
  clear(): void | PromiseLike<void>;
}

/** What the healer needs to reset a breaker: a registry by name. `CircuitBreakerManager` fits it. */
export interface BreakerRegistry {
  get(name: string): { readonly state: string; reset(): void } | undefined;
}
