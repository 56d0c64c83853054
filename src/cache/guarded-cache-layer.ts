import { coarseNowOf, systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { isBrokenCircuitError, TimeoutError } from '../core/errors.js';
import type { EventEmitter } from '../core/events.js';
import { LatencyHistogram } from '../core/latency-histogram.js';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from '../policies/circuit-breaker.js';
import type { CacheLayer } from './cache-layer.js';
import type { CacheLayerMetrics, MultiLayerCacheEvents } from './cache-metrics.js';

/** The answer of a guarded operation that failed, timed out (soft) or was skipped by the open circuit. @internal */
export const UNAVAILABLE: unique symbol = Symbol('unavailable');
/** @internal */
export type Unavailable = typeof UNAVAILABLE;

/** How each remote layer is protected, as given to `MultiLayerCache`'s `remote` option (or per layer). */
export interface LayerGuardOptions {
  /**
   * How long a caller waits for the layer before carrying on without it (the next layer, the loader). The
   * command keeps running until `hardTimeoutMs`. @default 50
   */
  softTimeoutMs?: number;
  /** When a command still unanswered counts as a failure of the layer for its circuit breaker. @default 1000 */
  hardTimeoutMs?: number;
  /**
   * The layer's circuit breaker. It opens on a failure rate, never on a first error, and while open the
   * layer is bypassed without waiting. @default time window 10 s, failureRateThreshold 0.5,
   * minimumCalls 5, openMs 5000, halfOpen 1 probe
   */
  breaker?: Omit<CircuitBreakerOptions, 'name' | 'clock' | 'initialState'>;
  /**
   * Keys written or deleted while the layer could not be reached are remembered (up to this many) and
   * deleted from it when its circuit closes again, so it never serves a value changed during its outage.
   * @default 10000
   */
  maxResyncKeys?: number;
}

const DEFAULT_BREAKER: Omit<CircuitBreakerOptions, 'name' | 'clock'> = {
  window: { type: 'time', ms: 10_000, buckets: 10 },
  failureRateThreshold: 0.5,
  minimumCalls: 5,
  openMs: 5_000,
  halfOpen: { maxCalls: 1, successes: 1 },
};

/**
 * A remote {@link CacheLayer} behind its own circuit breaker, soft and hard timeouts and metrics. Every
 * operation resolves (never rejects): with the layer's answer or with {@link UNAVAILABLE}.
 * @internal
 */
export class GuardedCacheLayer {
  readonly name: string;
  readonly breaker: CircuitBreaker;
  hits = 0;
  misses = 0;
  staleHits = 0;
  errors = 0;
  softTimeouts = 0;
  skipped = 0;
  private readonly latency = new LatencyHistogram();
  private readonly softTimeoutMs: number;
  private readonly hardTimeoutMs: number;
  private readonly maxResyncKeys: number;
  private readonly clock: Clock;
  /**
   * Deletions to replay once the layer answers again: `k<key>`, `p<prefix>`, `t<tagKey>`. An op leaves the
   * set only when its delete succeeded; until then reads of its keys are misses.
   */
  private readonly resync = new Set<string>();
  /** Prefixes among {@link resync}, checked by reads. */
  private readonly resyncPrefixes = new Set<string>();
  private resyncOverflowed = false;
  private resyncing = false;
  private retryTimer: TimerHandle | undefined;
  private readonly openMs: number;
  /** Whether the breaker is known closed (kept from its events, so the hot path reads no clock). */
  private closed = true;
  private readonly coarseNow: () => number;
  /** Coarse time of the last timed command: one command per coarse tick is timed for the latency figures. */
  private lastSampleAt = -1;

  /**
   * @param cachePrefix prefix of every key of the cache: when more changes piled up during an outage than
   *   could be tracked, everything under it is deleted on recovery.
   * @param onReplayed told which keys were deleted on recovery, so other instances can drop them too.
   */
  constructor(
    readonly layer: CacheLayer,
    options: LayerGuardOptions,
    clock: Clock | undefined,
    private readonly events: EventEmitter<MultiLayerCacheEvents>,
    private readonly cachePrefix = '',
    private readonly onReplayed: (ops: { keys: string[]; prefixes: string[]; tagKeys: string[] }) => void = () => {},
  ) {
    this.name = layer.name;
    this.clock = clock ?? systemClock;
    this.softTimeoutMs = options.softTimeoutMs ?? 50;
    this.hardTimeoutMs = options.hardTimeoutMs ?? 1_000;
    this.maxResyncKeys = options.maxResyncKeys ?? 10_000;
    this.breaker = new CircuitBreaker({ ...DEFAULT_BREAKER, ...options.breaker, name: `cache-layer:${layer.name}`, clock: this.clock });
    this.openMs = options.breaker?.openMs ?? (DEFAULT_BREAKER.openMs as number);
    this.coarseNow = coarseNowOf(this.clock);
    this.breaker.on('stateChange', ({ from, to }) => {
      this.closed = to === 'closed';
      this.events.emit('layerStateChange', { layer: this.name, from, to });
      if (to === 'closed') void this.replay();
      // An idle instance never probes by itself: retry the pending deletions when the circuit may half-open.
      if (to === 'open' && this.pendingResync) this.scheduleRetry(this.openMs);
    });
  }

  /** Whether deletions are waiting to be replayed. */
  private get pendingResync(): boolean {
    return this.resync.size > 0 || this.resyncOverflowed;
  }

  /** The layer's stored string, `undefined` on a miss, or {@link UNAVAILABLE}. */
  get(key: string): Promise<string | undefined | Unavailable> {
    // The layer cannot tell the truth about a key changed while it was unreachable until that change has
    // been replayed: for such a key it is unavailable (the caller falls back to L1, stale data or the loader).
    if (this.pendingResync && this.isStale(key)) {
      this.skipped++;
      return Promise.resolve(UNAVAILABLE);
    }
    return this.run('get', () => this.layer.get(key), undefined);
  }

  private isStale(key: string): boolean {
    if (this.resyncOverflowed || this.resync.has(`k${key}`)) return true;
    for (const prefix of this.resyncPrefixes) if (key.startsWith(prefix)) return true;
    return false;
  }

  set(key: string, value: string, ttlMs: number, tagKeys: readonly string[]): Promise<void | Unavailable> {
    return this.run('set', () => this.layer.set(key, value, ttlMs, tagKeys), `k${key}`);
  }

  delete(keys: readonly string[]): Promise<void | Unavailable> {
    return this.run('delete', () => this.layer.delete(keys), keys.map((key) => `k${key}`));
  }

  deleteByPrefix(prefix: string): Promise<number | Unavailable> {
    return this.run('deleteByPrefix', () => this.layer.deleteByPrefix(prefix), `p${prefix}`);
  }

  deleteByTag(tagKey: string): Promise<number | Unavailable> {
    return this.run('deleteByTag', () => this.layer.deleteByTag(tagKey), `t${tagKey}`);
  }

  /** Whether calls currently go to the layer (its circuit is not open). */
  get available(): boolean {
    if (this.closed) return true;
    const state = this.breaker.state;
    return state !== 'open' && state !== 'isolated';
  }

  metrics(): CacheLayerMetrics {
    const lookups = this.hits + this.staleHits + this.misses;
    return {
      name: this.name,
      state: this.breaker.state as CircuitState,
      hits: this.hits,
      misses: this.misses,
      staleHits: this.staleHits,
      hitRate: lookups === 0 ? 0 : this.hits / lookups,
      errors: this.errors,
      softTimeouts: this.softTimeouts,
      skipped: this.skipped,
      pendingResync: this.resync.size,
      latency: {
        count: this.latency.count,
        mean: this.latency.mean(),
        p50: this.latency.percentile(0.5),
        p99: this.latency.percentile(0.99),
      },
    };
  }

  private run<T>(operation: string, command: () => Promise<T>, resyncOps: string | string[] | undefined): Promise<T | Unavailable> {
    if (!this.available) {
      this.skipped++;
      this.remember(resyncOps);
      return Promise.resolve(UNAVAILABLE);
    }
    const coarse = this.coarseNow();
    const timed = coarse !== this.lastSampleAt;
    if (timed) this.lastSampleAt = coarse;
    const start = timed ? this.clock.now() : 0;
    return new Promise<T | Unavailable>((resolve) => {
      let answered = false;
      let hard: TimerHandle | undefined;
      let hardReject: ((error: unknown) => void) | undefined;
      // One timer in the common case: the hard deadline is armed only if the soft one passes unanswered.
      const soft = this.clock.schedule(() => {
        if (answered) return;
        answered = true;
        this.softTimeouts++;
        resolve(UNAVAILABLE);
        hard = this.clock.schedule(() => hardReject?.(new TimeoutError(this.hardTimeoutMs)), this.hardTimeoutMs - this.softTimeoutMs, { keepAlive: false });
      }, this.softTimeoutMs);
      const settle = (): void => {
        soft.cancel();
        hard?.cancel();
      };
      this.breaker
        .execute(
          () =>
            new Promise<T>((res, rej) => {
              hardReject = rej;
              let pending: Promise<T>;
              try {
                pending = command();
              } catch (error) {
                rej(error);
                return;
              }
              // The command may settle after the hard timeout: it is still observed, so it never goes unhandled.
              pending.then(res, rej);
            }),
        )
        .then(
          (value) => {
            settle();
            if (timed) this.latency.record(this.clock.now() - start);
            // A deletion that failed while the circuit stayed closed is retried after the next success.
            if (this.closed && this.pendingResync && !this.resyncing) void this.replay();
            if (answered) return;
            answered = true;
            resolve(value);
          },
          (error: unknown) => {
            settle();
            if (isBrokenCircuitError(error)) this.skipped++;
            else {
              this.errors++;
              if (this.events.wants('layerError')) this.events.emit('layerError', { layer: this.name, operation, error });
            }
            this.remember(resyncOps);
            if (answered) return;
            answered = true;
            resolve(UNAVAILABLE);
          },
        );
    });
  }

  private remember(ops: string | string[] | undefined): void {
    if (ops === undefined) return;
    for (const op of typeof ops === 'string' ? [ops] : ops) {
      if (this.resync.size >= this.maxResyncKeys && !this.resync.has(op)) this.resyncOverflowed = true;
      else {
        this.resync.add(op);
        if (op.startsWith('p')) this.resyncPrefixes.add(op.slice(1));
      }
    }
    if (!this.resyncing && this.pendingResync) this.scheduleRetry(this.closed ? this.softTimeoutMs : this.openMs);
  }

  private scheduleRetry(delayMs: number): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = this.clock.schedule(
      () => {
        this.retryTimer = undefined;
        void this.replay();
      },
      delayMs,
      { keepAlive: false },
    );
  }

  /** Stops the retry timer (the cache is closing). */
  dispose(): void {
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
  }

  /**
   * Deletes from the recovered layer what changed while it was unreachable. Each op leaves the pending set
   * only once its deletion succeeded; failures stay pending for the next attempt.
   */
  private async replay(): Promise<void> {
    if (this.resyncing || !this.pendingResync) return;
    this.resyncing = true;
    const overflowed = this.resyncOverflowed;
    const ops = [...this.resync];
    const done: { keys: string[]; prefixes: string[]; tagKeys: string[] } = { keys: [], prefixes: [], tagKeys: [] };
    let failed = 0;
    const attempt = async <T>(command: () => Promise<T>): Promise<boolean> =>
      (await this.run('resync', command, undefined)) !== UNAVAILABLE;
    if (overflowed) {
      // Too many changes to know which: everything the cache wrote here goes.
      if (await attempt(() => this.layer.deleteByPrefix(this.cachePrefix))) {
        this.resyncOverflowed = false;
        this.resync.clear();
        this.resyncPrefixes.clear();
        done.prefixes.push(this.cachePrefix);
      } else failed++;
    } else {
      const keys = ops.filter((op) => op.startsWith('k')).map((op) => op.slice(1));
      for (let i = 0; i < keys.length; i += 500) {
        const batch = keys.slice(i, i + 500);
        if (await attempt(() => this.layer.delete(batch))) {
          for (const key of batch) this.resync.delete(`k${key}`);
          done.keys.push(...batch);
        } else failed += batch.length;
      }
      for (const op of ops) {
        const target = op.slice(1);
        if (op.startsWith('p')) {
          if (await attempt(() => this.layer.deleteByPrefix(target))) {
            this.resync.delete(op);
            this.resyncPrefixes.delete(target);
            done.prefixes.push(target);
          } else failed++;
        } else if (op.startsWith('t')) {
          if (await attempt(() => this.layer.deleteByTag(target))) {
            this.resync.delete(op);
            done.tagKeys.push(target);
          } else failed++;
        }
      }
    }
    this.resyncing = false;
    if (done.keys.length + done.prefixes.length + done.tagKeys.length > 0) this.onReplayed(done);
    this.events.emit('layerResynced', { layer: this.name, operations: overflowed ? 1 : ops.length, failed, complete: !overflowed });
    if (this.pendingResync) this.scheduleRetry(this.closed ? this.softTimeoutMs : this.openMs);
  }
}
