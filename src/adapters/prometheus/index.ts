/**
 * `antifragile/prometheus`: Prometheus metrics for every antifragile component, through prom-client
 * (an optional peer dependency), with a `/metrics` handler and Resilience4j-compatible names on request.
 * @module
 */
export { PrometheusMetrics, createPrometheusMetrics } from './prometheus-metrics.js';
export type { PrometheusMetricsOptions, ObserveOptions, ObservableComponent } from './prometheus-metrics.js';
export { metricNames } from './metric-names.js';
export type { PrometheusNaming, PrometheusMetricNames } from './metric-names.js';
export { metricsHandler } from './metrics-handler.js';
export type { MetricsHandlerOptions } from './metrics-handler.js';
export { HttpServerMetrics } from './http-server-metrics.js';
export type { HttpServerMetricsOptions } from './http-server-metrics.js';
