export type {
  ChaosAdminHandler,
  ChaosAdminHandlerOptions,
  ResourceFaultHandle,
  ResourceFaultStarter,
  TargetStatus,
} from './chaos-admin-handler.js';
export { createChaosAdminHandler } from './chaos-admin-handler.js';
export type { DegradationDecision, DegradationGateOptions, DegradationSource } from './degradation-gate.js';
export { DegradationGate } from './degradation-gate.js';
export type { ExpressResilience } from './express-resilience.js';
export { expressResilience } from './express-resilience.js';
export type { FastifyResilienceOptions } from './fastify-resilience.js';
export { fastifyResilience, fastifyRoute } from './fastify-resilience.js';
export type { ClosableServer, GracefulShutdownHandle, GracefulShutdownOptions } from './graceful-shutdown.js';
export { gracefulShutdown } from './graceful-shutdown.js';
export type { AntifragileHealthReport, AntifragilitySources, HealthEndpointsOptions } from './health-endpoints.js';
export { HealthEndpoints } from './health-endpoints.js';
export type { HttpErrorOptions, ProblemIssue } from './http-error.js';
export { HttpError, isHttpError } from './http-error.js';
export type { HttpReply } from './http-reply.js';
export { jsonReply, sendReply } from './http-reply.js';
export type { HttpRequestObserver } from './http-request-observer.js';
export type { HttpResilienceOptions, RequestStart } from './http-resilience.js';
export { HttpResilience, requestIdOf } from './http-resilience.js';
export type { NodeHttpContext, NodeHttpHandler } from './node-http-handler.js';
export { nodeHttpHandler, nodeHttpRoute } from './node-http-handler.js';
export type { ErrorBodyMode, ErrorMappingOptions, ProblemContext, ProblemDetails, SeedErrorResponse } from './problem-details.js';
export { PROBLEM_JSON_CONTENT_TYPE, problemFromError, retryAfterSeconds } from './problem-details.js';
export { Readiness } from './readiness.js';
export { readJsonBody } from './read-json-body.js';
export { DEFAULT_REQUEST_ID_HEADER, MAX_REQUEST_ID_LENGTH, resolveRequestId } from './request-id.js';
export type { FallbackResponse, InterceptOutcome, RouteInterceptorOptions } from './route-interceptor.js';
export { RouteInterceptor } from './route-interceptor.js';
export type { RateLimitKeyFunction, RateLimitMiddleware, RateLimitMiddlewareOptions, RateLimitVerdict } from './rate-limit-middleware.js';
export { createRateLimitMiddleware, keyByHeader, keyByIp } from './rate-limit-middleware.js';
export type {
  AdminActivity,
  AdminActivitySource,
  AdminApi,
  AdminApiOptions,
  AdminBreakerView,
  AdminComponents,
  AdminExperimentView,
  AdminProxy,
  AdminProxyOptions,
  AdminServer,
  AdminServerOptions,
  AdminSnapshot,
  AdminTicket,
  AdminToken,
} from './admin/index.js';
export { DASHBOARD_CSP, createAdminApi, renderDashboardPage, startAdminProxy, startAdminServer } from './admin/index.js';
