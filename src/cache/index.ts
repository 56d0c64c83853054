export type { CacheDuration } from './cache-duration.js';
export type { CacheEntry } from './cache-entry.js';
export type { CacheLayer } from './cache-layer.js';
export type { CacheLayerMetrics, CacheMetrics, MultiLayerCacheEvents, StaleReason } from './cache-metrics.js';
export type { LayerGuardOptions } from './guarded-cache-layer.js';
export type { InMemoryCacheLayerOptions } from './in-memory-cache-layer.js';
export type { MemoryLayerOptions } from './memory-cache-layer.js';
export type {
  CacheLoader,
  CacheLoaderContext,
  CacheSetOptions,
  CacheWarmingOptions,
  GetOrSetOptions,
  MultiLayerCacheOptions,
  WarmEntry,
} from './multi-layer-cache.js';
export type { Serializer } from './serializer.js';
export { InMemoryCacheLayer } from './in-memory-cache-layer.js';
export { MultiLayerCache } from './multi-layer-cache.js';
export { policyCacheLayer } from './policy-cache-layer.js';
export { CacheSerializationError, jsonSerializer, richSerializer } from './serializer.js';
