/**
 * `antifragile/opossum`: a drop-in replacement for the `opossum` package (version 10), running on
 * antifragile's circuit breaker. Change `import CircuitBreaker from 'opossum'` to
 * `import CircuitBreaker from 'antifragile/opossum'`; `require('antifragile/opossum')` returns the class
 * itself, as `require('opossum')` does.
 * @module
 */
import { CircuitBreaker } from './circuit-breaker.js';

export { CircuitBreaker };
export type { Action, CircuitBreakerEventMap, CircuitBreakerJSON, Fireable } from './circuit-breaker.js';
export { OpossumError, isOurError } from './errors.js';
export type { OpossumErrorCode } from './errors.js';
export { MemoryCache } from './memory-cache.js';
export type { CacheTransport } from './memory-cache.js';
export type { CircuitBreakerOptions, CircuitBreakerState, CoalesceResetEvent, ResolvedOptions } from './options.js';
export { Status, STATUS_COUNTERS } from './status.js';
export type { Bucket, RotateBucketController, Stats, StatusCounter, StatusCounts, StatusEvents, StatusOptions } from './status.js';
export default CircuitBreaker;
/** CommonJS interop: `require('antifragile/opossum')` returns the class, like `require('opossum')`. */
export { CircuitBreaker as 'module.exports' };
