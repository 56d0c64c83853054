import type { OptionsValidator } from '../core/options.js';
import type { HealthStatus } from './health-check.js';

/** The metric a {@link HealthThreshold} watches. */
export type HealthThresholdMetric = 'availability' | 'responseTime' | 'errorRate';

/**
 * Thresholds of one component, the seed's shape: `{ metric: 'availability', warning: 95, critical: 80, fatal: 50 }`.
 * - `availability`: percentage (0..100) of healthy results in the component's history; the component is
 *   degraded below `warning`, unhealthy below `critical` (and `fatal`). Requires `warning >= critical >= fatal`.
 * - `errorRate`: percentage (0..100) of unhealthy results; degraded above `warning`, unhealthy above
 *   `critical` (and `fatal`). Requires `warning <= critical <= fatal`.
 * - `responseTime`: mean response time in milliseconds over the history; same direction as `errorRate`.
 */
export interface HealthThreshold {
  metric: HealthThresholdMetric;
  warning: number;
  critical: number;
  fatal: number;
}

/** Which threshold a component's metric crossed. */
export type ThresholdSeverity = 'ok' | 'warning' | 'critical' | 'fatal';

const METRICS: readonly HealthThresholdMetric[] = ['availability', 'responseTime', 'errorRate'];

/** Unit of each metric, as reported in health+json. @internal */
export const METRIC_UNIT: Record<HealthThresholdMetric, string> = {
  availability: 'percent',
  errorRate: 'percent',
  responseTime: 'ms',
};

/** The severity `value` reaches under `threshold`. @internal */
export function thresholdSeverity(threshold: HealthThreshold, value: number): ThresholdSeverity {
  if (threshold.metric === 'availability') {
    if (value < threshold.fatal) return 'fatal';
    if (value < threshold.critical) return 'critical';
    if (value < threshold.warning) return 'warning';
    return 'ok';
  }
  if (value > threshold.fatal) return 'fatal';
  if (value > threshold.critical) return 'critical';
  if (value > threshold.warning) return 'warning';
  return 'ok';
}

/** The status a severity maps to: warning is degraded, critical and fatal are unhealthy. @internal */
export function severityStatus(severity: ThresholdSeverity): HealthStatus {
  if (severity === 'ok') return 'healthy';
  return severity === 'warning' ? 'degraded' : 'unhealthy';
}

/** Validates one threshold under `path`. @internal */
export function validateThreshold(v: OptionsValidator, path: string, t: unknown): void {
  if (!v.object(path, t)) {
    if (t === undefined) v.fail(path, 'an object', t);
    return;
  }
  const o = t as Partial<Record<keyof HealthThreshold, unknown>>;
  if (v.required(`${path}.metric`, o.metric, 'one of "availability", "responseTime", "errorRate"')) {
    v.oneOf(`${path}.metric`, o.metric, METRICS);
  }
  const percent = o.metric === 'availability' || o.metric === 'errorRate';
  const range = percent ? { min: 0, max: 100 } : { min: 0 };
  const expected = percent ? 'a number in 0..100' : 'a number >= 0';
  let valid = true;
  for (const key of ['warning', 'critical', 'fatal'] as const) {
    const value = o[key];
    if (!v.required(`${path}.${key}`, value, expected)) {
      valid = false;
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min || value > (range.max ?? Infinity)) valid = false;
    v.number(`${path}.${key}`, value, range);
  }
  if (!valid || !METRICS.includes(o.metric as HealthThresholdMetric)) return;
  const [w, c, f] = [o.warning, o.critical, o.fatal] as [number, number, number];
  if (o.metric === 'availability' ? !(w >= c && c >= f) : !(w <= c && c <= f)) {
    const order = o.metric === 'availability' ? 'warning >= critical >= fatal' : 'warning <= critical <= fatal';
    v.fail(`${path}.critical`, `${order} for ${String(o.metric)}`, c);
  }
}
