/** The limit a {@link KeyedRateLimitStore} applies to one key for one decision: a token bucket. */
export interface KeyedLimit {
  /** Most permits available at once (the burst size), an integer >= 1. */
  readonly capacity: number;
  /** Permits added per second, continuously, > 0. */
  readonly refillPerSecond: number;
}

/** What a {@link KeyedRateLimitStore} decided for one request. */
export interface KeyedRateLimitResult {
  /** Whether the permit was taken. */
  readonly allowed: boolean;
  /** Permits still free right after the decision (0 when unknown). */
  readonly remaining: number;
  /** 0 when allowed; else ms until the same request would be allowed (0 when unknown). */
  readonly retryAfterMs: number;
  /** Ms until the key's bucket is full again (0 when unknown). */
  readonly resetAfterMs: number;
}

/**
 * Where an {@link AdaptiveRateLimiter} keeps its per-key buckets: in process ({@link LocalRateLimitStore}) or
 * shared by a fleet (`AdaptiveRateLimitStore` of `antifragile/redis`). The limit may differ from one call to
 * the next for the same key (it scales with load and behaviour): a store keeps GCRA's theoretical arrival
 * time, so a bucket's fill ratio is preserved when capacity and refill scale together.
 */
export interface KeyedRateLimitStore {
  /** Takes one permit from `key`'s bucket under `limit` if one is free now. Must not reject for a backend outage. */
  consume(key: string, limit: KeyedLimit): KeyedRateLimitResult | Promise<KeyedRateLimitResult>;
}
