export type { AdaptiveRateLimitStoreEvents, AdaptiveRateLimitStoreOptions } from './adaptive-rate-limit-store.js';
export type { RedisCache, RedisCacheConfig } from './create-redis-cache.js';
export type {
  DistributedRateLimiterEvents,
  DistributedRateLimiterOptions,
  DistributedRateLimitExecuteOptions,
  RateLimitDecision,
  RateLimitDecisionSource,
  RedisUnavailableMode,
} from './distributed-rate-limiter.js';
export type { FleetCoordinatorEvents, FleetCoordinatorOptions } from './fleet-coordinator.js';
export type { FleetDegradationSyncEvents, FleetDegradationSyncOptions, FleetOverride } from './fleet-degradation-sync.js';
export type { ExperimentEvent, ExperimentState, ExperimentStatus, FleetExperimentsEvents, FleetExperimentsOptions } from './fleet-experiments.js';
export type { FleetGameDayLockEvents, FleetGameDayLockOptions, GameDayHolder, GameDayLease } from './fleet-game-day-lock.js';
export type { RedisBusOptions } from './redis-bus.js';
export type { RedisCacheLayerOptions } from './redis-cache-layer.js';
export type { RedisClient } from './redis-client.js';
export type { RedisLockOptions } from './redis-lock.js';
export type {
  SharedBreakerMode,
  SharedCircuitBreakerEvents,
  SharedCircuitBreakerMetrics,
  SharedCircuitBreakerOptions,
  SharedCircuitBreakerSnapshot,
} from './shared-circuit-breaker.js';
export { AdaptiveRateLimitStore } from './adaptive-rate-limit-store.js';
export { createRedisCache } from './create-redis-cache.js';
export { DistributedRateLimiter } from './distributed-rate-limiter.js';
export { FleetCoordinator } from './fleet-coordinator.js';
export { FleetDegradationSync } from './fleet-degradation-sync.js';
export { ACTIVE_EXPERIMENT_STATUSES, FleetExperiments } from './fleet-experiments.js';
export { FleetGameDayLock, GameDayLockedError, isGameDayLockedError } from './fleet-game-day-lock.js';
export { RedisBus } from './redis-bus.js';
export { RedisCacheLayer } from './redis-cache-layer.js';
export { RedisLock } from './redis-lock.js';
export { SharedCircuitBreaker } from './shared-circuit-breaker.js';
