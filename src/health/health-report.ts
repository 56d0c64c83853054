import type { HealthCheckResult, HealthStatus } from './health-check.js';
import type { HealthThresholdMetric, ThresholdSeverity } from './health-threshold.js';

/** Media type of a {@link HealthReport} (draft-inadarei-api-health-check). */
export const HEALTH_JSON_CONTENT_TYPE = 'application/health+json';

/** Status in the health+json vocabulary. */
export type HealthReportStatus = 'pass' | 'warn' | 'fail';

/**
 * Which view of health a report gives, as Kubernetes defines its probes:
 * - `'health'`: every check and every component threshold; the status follows `getSystemHealth().overall`.
 * - `'live'`: whether the process is alive and should not be restarted: only checks registered with
 *   `liveness: true` (none means pass).
 * - `'ready'`: whether it can take traffic: every critical check has run and is not unhealthy.
 * - `'startup'`: whether it has finished starting: every check has passed (healthy or degraded) at least once.
 */
export type HealthReportView = 'health' | 'live' | 'ready' | 'startup';

/** One entry of {@link HealthReport.checks}. */
export interface HealthReportCheck {
  /** The check's registered name (or, for a threshold entry, the component). */
  componentId: string;
  componentType?: string;
  status: HealthReportStatus;
  observedValue?: number | string | boolean;
  observedUnit?: string;
  /** ISO 8601 time of the observation. */
  time?: string;
  /** Why the entry is not `pass`; absent on `pass`. */
  output?: string;
}

/** A health report in the `application/health+json` shape. */
export interface HealthReport {
  status: HealthReportStatus;
  version?: string;
  releaseId?: string;
  serviceId?: string;
  description?: string;
  /** Which view this is. */
  notes: string[];
  /** Why the report is not `pass`; absent on `pass`. */
  output?: string;
  /** Entries keyed `component:measurement`. */
  checks: Record<string, HealthReportCheck[]>;
}

/** Service fields copied into every report. */
export interface HealthReportInfo {
  serviceId?: string;
  version?: string;
  releaseId?: string;
  description?: string;
}

/** What the report builder needs to know about one check. @internal */
export interface ReportCheckInput {
  name: string;
  component: string;
  critical: boolean;
  liveness: boolean;
  measurement: string | undefined;
  last: HealthCheckResult | undefined;
  hasPassed: boolean;
}

/** A component threshold and where its metric stands. @internal */
export interface ReportThresholdInput {
  component: string;
  metric: HealthThresholdMetric;
  unit: string;
  value: number;
  severity: ThresholdSeverity;
  time: Date;
}

const REPORT_STATUS: Record<HealthStatus, HealthReportStatus> = { healthy: 'pass', degraded: 'warn', unhealthy: 'fail' };
const RANK: Record<HealthReportStatus, number> = { pass: 0, warn: 1, fail: 2 };

/** The health+json status of a health status. */
export function reportStatusOf(status: HealthStatus): HealthReportStatus {
  return REPORT_STATUS[status];
}

/** The HTTP status code to answer a report with: 200 for `pass` and `warn`, 503 for `fail`. */
export function healthReportHttpStatus(report: Pick<HealthReport, 'status'>): number {
  return report.status === 'fail' ? 503 : 200;
}

function entryOf(check: ReportCheckInput): [string, HealthReportCheck] {
  const last = check.last;
  const details = last?.details;
  const measurement = check.measurement ?? details?.measurement ?? 'responseTime';
  const key = `${check.component}:${measurement}`;
  if (last === undefined) return [key, { componentId: check.name, status: 'warn', output: 'not yet run' }];
  const entry: HealthReportCheck = { componentId: check.name, status: REPORT_STATUS[last.status] };
  if (typeof details?.componentType === 'string') entry.componentType = details.componentType;
  entry.observedValue = details?.observedValue ?? last.responseTime;
  entry.observedUnit = details?.observedValue !== undefined ? (details.observedUnit ?? '') : 'ms';
  if (entry.observedUnit === '') delete entry.observedUnit;
  entry.time = last.lastChecked.toISOString();
  if (last.status !== 'healthy') entry.output = last.error ?? last.status;
  return [key, entry];
}

function add(checks: Record<string, HealthReportCheck[]>, key: string, entry: HealthReportCheck): void {
  (checks[key] ??= []).push(entry);
}

/**
 * Builds a report of `view` from check snapshots. `overall` is the system status used by the `'health'` view.
 * @internal
 */
export function buildHealthReport(
  view: HealthReportView,
  checks: readonly ReportCheckInput[],
  thresholds: readonly ReportThresholdInput[],
  overall: HealthStatus,
  info: HealthReportInfo,
): HealthReport {
  const out: Record<string, HealthReportCheck[]> = {};
  let status: HealthReportStatus = 'pass';
  const problems: string[] = [];
  const worsen = (s: HealthReportStatus, why: string | undefined): void => {
    if (RANK[s] > RANK[status]) status = s;
    if (s !== 'pass' && why !== undefined) problems.push(why);
  };

  if (view === 'health') {
    status = REPORT_STATUS[overall];
    for (const check of checks) {
      const [key, entry] = entryOf(check);
      add(out, key, entry);
      if (entry.status !== 'pass') problems.push(`${check.name}: ${entry.output ?? entry.status}`);
      if (check.last === undefined && status === 'pass') status = 'warn';
    }
    for (const t of thresholds) {
      const s: HealthReportStatus = t.severity === 'ok' ? 'pass' : t.severity === 'warning' ? 'warn' : 'fail';
      const entry: HealthReportCheck = {
        componentId: t.component,
        status: s,
        observedValue: t.value,
        observedUnit: t.unit,
        time: t.time.toISOString(),
      };
      if (s !== 'pass') entry.output = `${t.metric} crossed the ${t.severity} threshold`;
      add(out, `${t.component}:${t.metric}`, entry);
    }
  } else if (view === 'live' || view === 'ready') {
    for (const check of checks) {
      if (view === 'live' ? !check.liveness : !check.critical) continue;
      const [key, entry] = entryOf(check);
      if (check.last === undefined) {
        // Not run yet: the process is alive, but it is not ready to take traffic.
        if (view === 'ready') entry.status = 'fail';
        else entry.status = 'pass';
        if (entry.status === 'pass') delete entry.output;
      }
      add(out, key, entry);
      worsen(entry.status, `${check.name}: ${entry.output ?? entry.status}`);
    }
  } else {
    for (const check of checks) {
      const [key, entry] = entryOf(check);
      if (check.hasPassed) {
        entry.status = 'pass';
        delete entry.output;
      } else {
        entry.status = 'fail';
        entry.output = check.last === undefined ? 'not yet run' : `not yet passed${check.last.error !== undefined ? `: ${check.last.error}` : ''}`;
      }
      add(out, key, entry);
      worsen(entry.status, `${check.name}: ${entry.output ?? entry.status}`);
    }
  }

  const report: HealthReport = { status, notes: [`view: ${view}`], checks: out };
  if (info.version !== undefined) report.version = info.version;
  if (info.releaseId !== undefined) report.releaseId = info.releaseId;
  if (info.serviceId !== undefined) report.serviceId = info.serviceId;
  if (info.description !== undefined) report.description = info.description;
  if (status !== 'pass' && problems.length > 0) report.output = problems.slice(0, 20).join('; ');
  return report;
}
