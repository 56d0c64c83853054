/**
 * `antifragile/otel`: OpenTelemetry spans for policies and pipelines, over `@opentelemetry/api` only.
 * @module
 */
export { OtelNames } from './otel-names.js';
export { traced, TracedPolicy } from './traced.js';
export type { TracedOptions } from './traced.js';
