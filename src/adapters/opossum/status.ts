import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';

/** The counters of a {@link Status} bucket, in opossum's order. */
export const STATUS_COUNTERS = [
  'failures',
  'fallbacks',
  'successes',
  'rejects',
  'fires',
  'timeouts',
  'cacheHits',
  'cacheMisses',
  'coalesceCacheHits',
  'coalesceCacheMisses',
  'semaphoreRejections',
] as const;

/** Name of one counter of a {@link Status}. */
export type StatusCounter = (typeof STATUS_COUNTERS)[number];

/** Counts of one bucket or of the whole window. */
export type StatusCounts = { [K in StatusCounter]: number };

/** One time slice of the rolling window, as `status.window` returns it (newest first). */
export interface Bucket extends StatusCounts {
  /** Always `{}` in a bucket; filled only in {@link Stats}. */
  percentiles: Record<string, number>;
  /** Latencies (ms) recorded in this bucket by successes, failures and timeouts, in arrival order. */
  latencyTimes: number[];
  /** `true` if the circuit opened during this bucket, `false` if it closed; absent if neither. */
  isCircuitBreakerOpen?: boolean;
}

/** Totals of the rolling window, as `breaker.stats` returns them. */
export interface Stats extends StatusCounts {
  /**
   * Latency percentiles in ms, keyed `'0'`, `'0.25'`, `'0.5'`, `'0.75'`, `'0.9'`, `'0.95'`, `'0.99'`,
   * `'0.995'`, `'1'`; every value is `-1` when `rollingPercentilesEnabled` is false.
   */
  percentiles: Record<string, number>;
  /** Sorted latencies (ms) of the window (a bounded sample, see {@link StatusOptions.maxLatencySamplesPerBucket}). */
  latencyTimes: number[];
  /** Mean latency in ms over every recorded latency of the window; `-1` when percentiles are disabled. */
  latencyMean: number;
}

/** An emitter that drives bucket rotation with `'rotate'` events (opossum's `rotateBucketController`). */
export interface RotateBucketController {
  on(event: 'rotate', listener: () => void): unknown;
  removeListener(event: 'rotate', listener: () => void): unknown;
}

/** Options of {@link Status}, also accepted by `CircuitBreaker.newStatus()`. */
export interface StatusOptions {
  /** Length of the rolling window in ms. @default 10_000 */
  rollingCountTimeout?: number | undefined;
  /** Number of buckets the window is divided into. @default 10 */
  rollingCountBuckets?: number | undefined;
  /** Whether latencies are kept and percentiles computed. @default true */
  rollingPercentilesEnabled?: boolean | undefined;
  /** Whether `'snapshot'` events are emitted once per bucket interval. @default true */
  enableSnapshots?: boolean | undefined;
  /** Rotates the buckets on its `'rotate'` events instead of by time. */
  rotateBucketController?: RotateBucketController | undefined;
  /** Counts (and `latencyTimes`) to prime the current bucket with, e.g. a previous `breaker.stats`. */
  stats?: Partial<Stats> | undefined;
  /** Time source (not an opossum option). @default systemClock */
  clock?: Clock | undefined;
  /**
   * Most latencies kept per bucket (not an opossum option). Beyond it a uniform random sample (reservoir) is
   * kept, so `latencyTimes` and percentiles stay bounded in memory; `latencyMean` stays exact. @default 1024
   */
  maxLatencySamplesPerBucket?: number | undefined;
}

/** Events of a {@link Status}. `newListener`/`removeListener` are Node's own. */
export interface StatusEvents {
  /** Once per bucket interval while someone listens: the window's totals. */
  snapshot: [stats: Stats];
  newListener: [eventName: string | symbol, listener: (...args: never[]) => unknown];
  removeListener: [eventName: string | symbol, listener: (...args: never[]) => unknown];
}

const COUNTER_COUNT = STATUS_COUNTERS.length;
const COUNTER_INDEX = Object.fromEntries(STATUS_COUNTERS.map((name, i) => [name, i])) as Record<StatusCounter, number>;
const LATENCY_COUNTERS = new Set<string>(['successes', 'failures', 'timeouts']);
const PERCENTILES = [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 1] as const;
const OPENED = 1;
const CLOSED = 2;

interface LatencySamples {
  values: number[];
  seen: number;
  sum: number;
}

/**
 * The rolling statistics of an opossum-style circuit breaker: `rollingCountBuckets` buckets covering
 * `rollingCountTimeout` ms, each counting fires, successes, failures, timeouts, rejects, fallbacks, cache and
 * coalesce hits and misses, and semaphore rejections, plus latencies.
 *
 * Differences from opossum, on purpose:
 * - Buckets rotate lazily from the clock whenever the status is read or written, on the same boundaries as
 *   opossum's interval (every `floor(rollingCountTimeout / rollingCountBuckets)` ms from creation); there is no
 *   interval timer. With a `rotateBucketController`, only its `'rotate'` events rotate.
 * - `'snapshot'` is emitted on the same boundaries, but a timer runs only while at least one `'snapshot'`
 *   listener is attached (an unref'd timer on the clock); nothing is emitted that nobody hears.
 * - Latency samples are bounded per bucket (see {@link StatusOptions.maxLatencySamplesPerBucket}).
 *
 * @example
 * ```ts
 * breaker.status.on('snapshot', (stats) => report(stats.failures / stats.fires));
 * ```
 */
export class Status extends EventEmitter<StatusEvents> {
  /** Whether latencies are kept and percentiles computed. */
  readonly rollingPercentilesEnabled: boolean;
  /** Whether `'snapshot'` events are emitted. */
  readonly enableSnapshots: boolean;
  /** The controller rotating the buckets, if any. */
  readonly rotateBucketController: RotateBucketController | undefined;
  /** Number of buckets. */
  readonly buckets: number;
  /** Duration of one bucket in ms. */
  readonly bucketMs: number;

  private readonly clock: Clock;
  private readonly maxSamples: number;
  private readonly counts: Float64Array;
  private readonly flags: Uint8Array;
  private readonly latencies: (LatencySamples | undefined)[];
  private readonly start: number;
  private head = 0;
  private epoch = 0;
  private listening = false;
  private snapshotTimer: TimerHandle | undefined;
  private isShut = false;

  /** Rotates the buckets by one (bound: pass it around as a listener). */
  readonly rotateBucket = (): void => {
    if (!this.isShut) this.advance(1);
  };

  private readonly onNewListener = (eventName: string | symbol): void => {
    if (eventName === 'snapshot') this.armSnapshot();
  };

  private readonly onRemoveListener = (eventName: string | symbol): void => {
    if (eventName === 'snapshot' && this.listenerCount('snapshot') === 0) this.disarmSnapshot();
  };

  constructor(options: StatusOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.buckets = Math.max(1, Math.floor(options.rollingCountBuckets || 10));
    const windowMs = options.rollingCountTimeout || 10_000;
    this.bucketMs = Math.max(1, Math.floor(windowMs / this.buckets));
    this.rollingPercentilesEnabled = options.rollingPercentilesEnabled !== false;
    this.enableSnapshots = options.enableSnapshots !== false;
    this.rotateBucketController = options.rotateBucketController;
    this.maxSamples = Math.max(1, Math.floor(options.maxLatencySamplesPerBucket ?? 1024));
    this.counts = new Float64Array(this.buckets * COUNTER_COUNT);
    this.flags = new Uint8Array(this.buckets);
    this.latencies = new Array<LatencySamples | undefined>(this.buckets).fill(undefined);
    this.start = this.clock.now();
    this.installHooks();
    this.startListeneningForRotateEvent();
    if (options.stats !== undefined) this.prime(options.stats);
  }

  /** Totals of the current window: counts, sorted latencies, mean and percentiles. A fresh object per read. */
  get stats(): Stats {
    this.rotate();
    const totals = emptyCounts() as Stats;
    for (let b = 0; b < this.buckets; b++) {
      const base = b * COUNTER_COUNT;
      for (let c = 0; c < COUNTER_COUNT; c++) {
        totals[STATUS_COUNTERS[c] as StatusCounter] += this.counts[base + c] as number;
      }
    }
    const percentiles: Record<string, number> = {};
    totals.percentiles = percentiles;
    if (!this.rollingPercentilesEnabled) {
      totals.latencyTimes = [];
      totals.latencyMean = -1;
      for (const p of PERCENTILES) percentiles[p] = -1;
      return totals;
    }
    const times: number[] = [];
    let seen = 0;
    let sum = 0;
    for (const samples of this.latencies) {
      if (samples === undefined || samples.seen === 0) continue;
      for (const v of samples.values) times.push(v);
      seen += samples.seen;
      sum += samples.sum;
    }
    times.sort((a, b) => a - b);
    totals.latencyTimes = times;
    totals.latencyMean = seen === 0 ? 0 : sum / seen;
    for (const p of PERCENTILES) percentiles[p] = percentileOf(p, times);
    return totals;
  }

  /** The buckets of the window, newest first (copies). */
  get window(): Bucket[] {
    this.rotate();
    const out: Bucket[] = [];
    for (let i = 0; i < this.buckets; i++) {
      const b = (this.head - i + this.buckets) % this.buckets;
      const bucket = emptyCounts() as Bucket;
      const base = b * COUNTER_COUNT;
      for (let c = 0; c < COUNTER_COUNT; c++) bucket[STATUS_COUNTERS[c] as StatusCounter] = this.counts[base + c] as number;
      bucket.percentiles = {};
      bucket.latencyTimes = this.latencies[b]?.values.slice() ?? [];
      const flag = this.flags[b];
      if (flag === OPENED) bucket.isCircuitBreakerOpen = true;
      else if (flag === CLOSED) bucket.isCircuitBreakerOpen = false;
      out.push(bucket);
    }
    return out;
  }

  /**
   * Adds one to `property` in the current bucket; for successes, failures and timeouts also records
   * `latencyMs` (0 when absent).
   */
  increment(property: StatusCounter, latencyMs?: number): void {
    const index = COUNTER_INDEX[property];
    if (index === undefined) return;
    this.rotate();
    const slot = this.head * COUNTER_COUNT + index;
    this.counts[slot] = (this.counts[slot] as number) + 1;
    if (LATENCY_COUNTERS.has(property) && this.rollingPercentilesEnabled) this.record(latencyMs || 0);
  }

  /** Sum of one counter over the window, without building the whole {@link stats} object. */
  count(property: StatusCounter): number {
    this.rotate();
    const index = COUNTER_INDEX[property];
    let total = 0;
    for (let b = 0; b < this.buckets; b++) total += this.counts[b * COUNTER_COUNT + index] as number;
    return total;
  }

  /** Marks the current bucket as one in which the circuit opened. */
  open(): void {
    this.rotate();
    this.flags[this.head] = OPENED;
  }

  /** Marks the current bucket as one in which the circuit closed. */
  close(): void {
    this.rotate();
    this.flags[this.head] = CLOSED;
  }

  /** Stops snapshots, detaches from the rotate controller and removes every listener. */
  shutdown(): void {
    this.isShut = true;
    this.disarmSnapshot();
    this.removeRotateBucketControllerListener();
    super.removeAllListeners();
  }

  /** Stops listening to the rotate controller's `'rotate'` events (used while the breaker is disabled). */
  removeRotateBucketControllerListener(): void {
    if (this.rotateBucketController !== undefined && this.listening) {
      this.rotateBucketController.removeListener('rotate', this.rotateBucket);
      this.listening = false;
    }
  }

  /** Listens to the rotate controller's `'rotate'` events again (opossum's spelling, kept for compatibility). */
  startListeneningForRotateEvent(): void {
    if (this.rotateBucketController !== undefined && !this.listening && !this.isShut) {
      this.rotateBucketController.on('rotate', this.rotateBucket);
      this.listening = true;
    }
  }

  /** Removes listeners like `EventEmitter.removeAllListeners`, keeping the hooks that drive snapshots. */
  override removeAllListeners(eventName?: keyof StatusEvents): this {
    if (eventName === undefined) super.removeAllListeners();
    else super.removeAllListeners(eventName);
    if (!this.isShut) this.installHooks();
    if (this.listenerCount('snapshot') === 0) this.disarmSnapshot();
    return this;
  }

  private installHooks(): void {
    if (!this.listeners('newListener').includes(this.onNewListener)) super.on('newListener', this.onNewListener);
    if (!this.listeners('removeListener').includes(this.onRemoveListener)) super.on('removeListener', this.onRemoveListener);
  }

  private prime(stats: Partial<Stats>): void {
    const base = this.head * COUNTER_COUNT;
    for (let c = 0; c < COUNTER_COUNT; c++) {
      const value = (stats as Partial<Record<string, unknown>>)[STATUS_COUNTERS[c] as StatusCounter];
      if (typeof value === 'number' && Number.isFinite(value)) this.counts[base + c] = (this.counts[base + c] as number) + value;
    }
    if (Array.isArray(stats.latencyTimes) && this.rollingPercentilesEnabled) {
      for (const v of stats.latencyTimes) if (typeof v === 'number' && Number.isFinite(v)) this.record(v);
    }
  }

  private record(ms: number): void {
    let samples = this.latencies[this.head];
    if (samples === undefined) {
      samples = { values: [], seen: 0, sum: 0 };
      this.latencies[this.head] = samples;
    }
    samples.seen++;
    samples.sum += ms;
    if (samples.values.length < this.maxSamples) samples.values.push(ms);
    else {
      const j = Math.floor(Math.random() * samples.seen);
      if (j < this.maxSamples) samples.values[j] = ms;
    }
  }

  private rotate(): void {
    if (this.rotateBucketController !== undefined) return;
    const epoch = Math.floor((this.clock.now() - this.start) / this.bucketMs);
    const steps = epoch - this.epoch;
    if (steps <= 0) return;
    this.epoch = epoch;
    this.advance(Math.min(steps, this.buckets));
  }

  private advance(steps: number): void {
    for (let i = 0; i < steps; i++) {
      this.head = this.head + 1 === this.buckets ? 0 : this.head + 1;
      const base = this.head * COUNTER_COUNT;
      this.counts.fill(0, base, base + COUNTER_COUNT);
      this.flags[this.head] = 0;
      const samples = this.latencies[this.head];
      if (samples !== undefined) {
        samples.values.length = 0;
        samples.seen = 0;
        samples.sum = 0;
      }
    }
  }

  private armSnapshot(): void {
    if (this.snapshotTimer !== undefined || !this.enableSnapshots || this.isShut) return;
    const now = this.clock.now();
    const next = this.start + (Math.floor((now - this.start) / this.bucketMs) + 1) * this.bucketMs;
    this.snapshotTimer = this.clock.schedule(this.onSnapshotTimer, next - now, { keepAlive: false });
  }

  private disarmSnapshot(): void {
    this.snapshotTimer?.cancel();
    this.snapshotTimer = undefined;
  }

  private readonly onSnapshotTimer = (): void => {
    this.snapshotTimer = undefined;
    if (this.isShut || this.listenerCount('snapshot') === 0) return;
    this.armSnapshot();
    this.emit('snapshot', this.stats);
  };
}

function emptyCounts(): StatusCounts {
  return {
    failures: 0,
    fallbacks: 0,
    successes: 0,
    rejects: 0,
    fires: 0,
    timeouts: 0,
    cacheHits: 0,
    cacheMisses: 0,
    coalesceCacheHits: 0,
    coalesceCacheMisses: 0,
    semaphoreRejections: 0,
  };
}

/** opossum's percentile rule over a sorted array: the first element for 0, else element ceil(p * n) - 1. */
function percentileOf(p: number, sorted: readonly number[]): number {
  if (p === 0) return sorted[0] || 0;
  return sorted[Math.ceil(p * sorted.length) - 1] || 0;
}
