/**
 * `antifragile/nestjs`: the seed's Nest modules and services, written without decorators (they work whatever
 * the application's `experimentalDecorators`/`emitDecoratorMetadata` settings): `CircuitBreakerModule`,
 * `MultiLayerCacheModule`, `ChaosModule`, `DegradationModule` and `HealthModule`, each with `forRoot(options)` and
 * `forRootAsync({ imports, inject, useFactory })` (or `useClass`/`useExisting`).
 * @module
 */
export { ChaosModule } from './chaos-module.js';
export type { ChaosModuleAsyncOptions, ChaosOptionsFactory } from './chaos-module.js';
export { ChaosMonkeyService } from './chaos-monkey-service.js';
export type { ChaosModuleOptions, ChaosModuleSchedule } from './chaos-monkey-service.js';
export { CircuitBreakerModule } from './circuit-breaker-module.js';
export type { CircuitBreakerModuleAsyncOptions, CircuitBreakerOptionsFactory } from './circuit-breaker-module.js';
export { CircuitBreakerService } from './circuit-breaker-service.js';
export type {
  BreakerEvent,
  BreakerMetrics,
  BreakersHealth,
  CircuitBreakerModuleOptions,
  CircuitBreakerServiceEvents,
  CreateCircuitBreakerOptions,
} from './circuit-breaker-service.js';
export { DegradationMiddleware } from './degradation-middleware.js';
export { DegradationModule } from './degradation-module.js';
export type { DegradationModuleAsyncOptions, DegradationModuleOptions, DegradationOptionsFactory } from './degradation-module.js';
export { HealthController } from './health-controller.js';
export { HealthModule } from './health-module.js';
export type { HealthModuleAsyncOptions, HealthModuleOptions, HealthOptionsFactory } from './health-module.js';
export type { ModuleAsyncOptions } from './module-async-options.js';
export { MultiLayerCacheModule } from './multi-layer-cache-module.js';
export type { MultiLayerCacheModuleAsyncOptions, MultiLayerCacheOptionsFactory } from './multi-layer-cache-module.js';
export { MultiLayerCacheService } from './multi-layer-cache-service.js';
export type { MultiLayerCacheModuleOptions } from './multi-layer-cache-service.js';
