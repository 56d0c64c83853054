import type { CircuitState } from '../policies/circuit-breaker.js';

/** Counters and latency of one layer, from `MultiLayerCache.getMetrics()`. */
export interface CacheLayerMetrics {
  name: string;
  /** `'memory'` for the L1, else the state of the layer's circuit breaker. */
  state: CircuitState | 'memory';
  /** Fresh values found in this layer. */
  hits: number;
  /** Lookups this layer answered with nothing. */
  misses: number;
  /** Values found past their TTL but within grace. */
  staleHits: number;
  /** hits / (hits + staleHits + misses), 0 before any lookup. */
  hitRate: number;
  /** Commands that failed or passed their hard timeout (remote layers). */
  errors: number;
  /** Commands a caller stopped waiting for at the soft timeout (remote layers). */
  softTimeouts: number;
  /** Commands not sent because the layer's circuit was open (remote layers). */
  skipped: number;
  /** Deletions waiting to be replayed on the layer when it recovers (remote layers). */
  pendingResync: number;
  /** Latency of answered commands in ms (remote layers; zeros for the memory layer). */
  latency: { count: number; mean: number; p50: number; p99: number };
}

/** A snapshot from `MultiLayerCache.getMetrics()`. */
export interface CacheMetrics {
  name: string;
  /** Calls answered with a fresh value from any layer. */
  hits: number;
  /** Calls that found no usable value. */
  misses: number;
  /** Calls answered with a value past its TTL (stale-if-error, stale-while-revalidate, a suspect L1 entry during an outage). */
  staleHits: number;
  /** hits / (hits + misses + staleHits): the seed's `cache_hit_rate`. */
  hitRate: number;
  /** Loader calls started by `getOrSet`. */
  loads: number;
  /** Loader calls that failed or hit their hard timeout. */
  loadErrors: number;
  /** `getOrSet` calls that joined a load already in flight for the same key (stampede protection). */
  coalesced: number;
  /** Times the bus epoch moved (bus lost or regained): the memory layer was then treated as suspect. */
  epoch: number;
  /** Entries in the memory layer. */
  memoryEntries: number;
  layers: CacheLayerMetrics[];
}

/** Why a value past its TTL was served. */
export type StaleReason = 'loader-error' | 'loader-timeout' | 'revalidate' | 'refreshing' | 'layers-unavailable';

/** Events of `MultiLayerCache`. */
export interface MultiLayerCacheEvents {
  /** A remote layer command failed or passed its hard timeout. The call itself carried on without the layer. */
  layerError: { layer: string; operation: string; error: unknown };
  /** A remote layer's circuit breaker changed state. */
  layerStateChange: { layer: string; from: CircuitState; to: CircuitState };
  /** A recovered layer had the keys changed during its outage deleted. `complete` is false when too many changed to track. */
  layerResynced: { layer: string; operations: number; failed: number; complete: boolean };
  /** A value past its TTL was served. */
  staleServed: { key: string; reason: StaleReason };
  /** A loader failed or timed out (whether or not a stale value covered for it). */
  loaderError: { key: string; error: unknown };
  /** The invalidation bus connected or disconnected; the memory layer's epoch moved. */
  busStatus: { connected: boolean; epoch: number };
  /** A cache warming run finished. */
  warmed: { loaded: string[]; failed: { key: string; error: unknown }[] };
}
