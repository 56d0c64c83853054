/** Status of one health check result, in the seed's vocabulary. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** Status of a check or component that may not have produced a result yet. */
export type ObservedStatus = HealthStatus | 'unknown';

/**
 * Optional extra data of a {@link HealthCheckResult}. The named fields feed the `application/health+json`
 * report (see `HealthMonitor.report`); anything else is kept as is.
 */
export interface HealthCheckDetails {
  /** Measurement name used in the report key `component:measurement`. @default 'responseTime' */
  measurement?: string;
  /** Value observed by the check (for example a delay, a ratio, a count). @default the response time */
  observedValue?: number | string | boolean;
  /** Unit of {@link observedValue}, e.g. `'ms'`, `'percent'`. @default 'ms' */
  observedUnit?: string;
  /** Kind of component, e.g. `'datastore'`, `'system'` (report field `componentType`). */
  componentType?: string;
  /** Whether the result comes from the check's timeout rather than from the check itself. */
  timedOut?: boolean;
  [key: string]: unknown;
}

/**
 * One health check result, the seed's `HealthCheckResult` shape. The monitor stores and reports these; a
 * check function may return one (or a part of one, or a boolean, or nothing).
 */
export interface HealthCheckResult {
  /** Name the check gave itself (the registered name when it gave none). */
  name: string;
  /** Component the result belongs to (always the check's registered component once recorded). */
  component: string;
  status: HealthStatus;
  /** When the check finished (the monitor's clock). */
  lastChecked: Date;
  /** How long the check took, in milliseconds. */
  responseTime: number;
  /** Error message of a failed check. */
  error?: string;
  details?: HealthCheckDetails;
  /** Registered name of the check that produced the result (filled in by the monitor). */
  check?: string;
}

/**
 * What a check function may resolve to: a {@link HealthCheckResult} (complete or partial: its `status`
 * decides), a boolean (`false` is unhealthy), or anything else, including nothing (healthy).
 */
export type HealthCheckOutcome = unknown;

/** What a check function receives. */
export interface HealthCheckContext {
  /** Aborts when the check times out or the monitor stops; pass it on to I/O. */
  signal: AbortSignal;
  /** Registered name of the check. */
  name: string;
  /** Component of the check. */
  component: string;
}

/**
 * A health check. Resolving (with nothing, `true`, or any value other than `false` and a result object)
 * means healthy; resolving `false` or throwing means unhealthy; a result object gives its own status.
 * Built-in checks carry a `dispose()` that the monitor calls when the check is unregistered.
 */
export interface HealthCheckFunction {
  (context: HealthCheckContext): HealthCheckOutcome | Promise<HealthCheckOutcome>;
  /** Releases what the check holds (called by `HealthMonitor.unregisterCheck` and `dispose`). */
  dispose?: () => void;
  /** Measurement name for the health+json report key, known before the first run (built-in checks set it). */
  measurement?: string;
}

/** Options of `HealthMonitor.registerCheck`. */
export interface HealthCheckOptions {
  /** Time between two runs in milliseconds, > 0. @default the monitor's `checkInterval` */
  intervalMs?: number;
  /** Time budget of one run in milliseconds, > 0; a run past it is unhealthy. @default min(monitor `timeoutMs`, `intervalMs`) */
  timeoutMs?: number;
  /** Whether the check is critical: weighs `criticalWeight` in the score and gates readiness. @default false */
  critical?: boolean;
  /** Whether the check belongs to the liveness view (`report('live')`). @default false */
  liveness?: boolean;
  /** Component the check belongs to. @default the check's name */
  component?: string;
  /**
   * Measurement name for the health+json report key `component:measurement`.
   * @default the function's `measurement`, else the latest result's `details.measurement`, else 'responseTime'
   */
  measurement?: string;
}

const STATUS_RANK: Record<ObservedStatus, number> = { unknown: -1, healthy: 0, degraded: 1, unhealthy: 2 };
const STATUS_SCORE: Record<HealthStatus, number> = { healthy: 100, degraded: 50, unhealthy: 0 };

/** The worse of two statuses (`unknown` is better than any known status). @internal */
export function worseStatus<S extends ObservedStatus>(a: S, b: S): S {
  return STATUS_RANK[a] >= STATUS_RANK[b] ? a : b;
}

/** Score of a status: healthy 100, degraded 50, unhealthy 0. @internal */
export function statusScore(status: HealthStatus): number {
  return STATUS_SCORE[status];
}

/** Whether `value` is one of the three health statuses. @internal */
export function isHealthStatus(value: unknown): value is HealthStatus {
  return value === 'healthy' || value === 'degraded' || value === 'unhealthy';
}
