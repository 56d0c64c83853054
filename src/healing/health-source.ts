/** Health statuses a {@link HealthSource} reports. */
export type HealthStatusName = 'healthy' | 'degraded' | 'unhealthy';

/** A check's status change, as a {@link HealthSource} reports it (`statusChange`). */
export interface HealthSourceStatusChange {
  component: string;
  to: HealthStatusName;
  /** The check that changed (its registered name), when the source names it. */
  check?: string;
}

/**
 * A component's status change (`componentStatusChange`), emitted by sources that compute a status per
 * component from all its checks (the library's `HealthMonitor` does).
 */
export interface HealthSourceComponentStatusChange {
  component: string;
  /** The component's new status (`unknown` before any result). */
  to: string;
}

/**
 * What the {@link SelfHealer} needs from a health monitor: status-change events per check, and optionally
 * a way to run a check now (to verify a recovery), to read a component's last status and checks, and to
 * list the registered checks. The library's `HealthMonitor` fits it.
 *
 * When the source also accepts `on('componentStatusChange', fn)` with {@link HealthSourceComponentStatusChange}
 * payloads (as `HealthMonitor` does), the healer follows the component's status: a failure opens when the
 * component turns unhealthy and closes when it turns healthy, whatever its other checks do.
 */
export interface HealthSource {
  /**
   * Subscribes to check status changes; returns an unsubscribe function. `check`, when given, names the
   * check that changed: verification runs the checks that went unhealthy (else the component's known checks,
   * else the one named like the component).
   */
  on(event: 'statusChange', fn: (e: HealthSourceStatusChange) => void): () => void;
  /** Runs the check named `name` now and resolves with its result. */
  runCheck?(name: string): Promise<{ status: string }>;
  /**
   * The last known status of `component` (the worst of its checks), or undefined when it has no check;
   * `checks`, when given, are the latest results of its checks (`check`: registered name, else `name`).
   */
  getComponentHealth?(component: string): { status: string; checks?: readonly { name: string; check?: string }[] } | undefined;
  /** Names of the registered checks: verification never asks for a check that is not among them. */
  getCheckNames?(): string[];
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
