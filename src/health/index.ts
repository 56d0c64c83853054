export type { HealthTrend } from './component-history.js';
export type {
  HealthCheckContext,
  HealthCheckDetails,
  HealthCheckFunction,
  HealthCheckOptions,
  HealthCheckOutcome,
  HealthCheckResult,
  HealthStatus,
  ObservedStatus,
} from './health-check.js';
export {
  HealthMonitor,
  type ComponentHealth,
  type ComponentStatusChange,
  type HealthMonitorConfig,
  type HealthMonitorEvent,
  type HealthMonitorEventType,
  type HealthMonitorEvents,
  type HealthStatusChange,
  type SystemHealth,
} from './health-monitor.js';
export {
  HEALTH_JSON_CONTENT_TYPE,
  healthReportHttpStatus,
  reportStatusOf,
  type HealthReport,
  type HealthReportCheck,
  type HealthReportInfo,
  type HealthReportStatus,
  type HealthReportView,
} from './health-report.js';
export type { HealthThreshold, HealthThresholdMetric, ThresholdSeverity } from './health-threshold.js';
export { eventLoopDelayCheck, type EventLoopDelayCheck, type EventLoopDelayCheckOptions } from './checks/event-loop-delay-check.js';
export { heapUsageCheck, type HeapUsageCheckOptions } from './checks/heap-usage-check.js';
export { httpCheck, type HttpCheckOptions } from './checks/http-check.js';
export { redisPingCheck, type RedisPingClient } from './checks/redis-ping-check.js';
export { sqlSelectOneCheck, type SqlQueryClient, type SqlSelectOneCheckOptions } from './checks/sql-select-one-check.js';
export { tcpCheck, type TcpCheckOptions } from './checks/tcp-check.js';
