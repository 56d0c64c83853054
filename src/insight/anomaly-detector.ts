import { systemClock, type Clock } from '../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';

/** How far from its baseline a value is, by increasing gravity. */
export type AnomalySeverity = 'warning' | 'critical' | 'fatal';

/** Direction of a sustained shift reported by the change detector. */
export type ChangeDirection = 'up' | 'down';

/** |z| thresholds of each {@link AnomalySeverity}, in standard deviations; must increase. */
export interface AnomalyThresholds {
  /** @default 3 */
  warning?: number;
  /** @default 4 */
  critical?: number;
  /** @default 6 */
  fatal?: number;
}

/**
 * Parameters of the two-sided CUSUM change detector, both in standard deviations of the baseline.
 */
export interface ChangeDetectionOptions {
  /** Slack `k`: the part of each standardized residual ignored as noise (half the smallest shift worth detecting). @default 0.5 */
  slack?: number;
  /**
   * Decision threshold `h`: a cumulative sum above it reports a change. With `k = 0.5`, `h = 8` gives
   * about 9,500 samples between false alarms on Gaussian noise (two-sided) and finds a 1σ shift after
   * about 16 samples, a 2σ shift after about 6 (Siegmund's approximation).
   * @default 8
   */
  threshold?: number;
  /**
   * Each standardized residual is clipped to ±`clip` before it is added, so one extreme point (an
   * anomaly) cannot raise a change alone: with the defaults a change needs at least four consecutive
   * extreme points, or a longer run of moderate ones.
   * @default 3
   */
  clip?: number;
}

/** Options of {@link AnomalyDetector}. Set at most one of `alpha`, `halfLife` and `span`. */
export interface AnomalyDetectorOptions {
  /** Name used in diagnostics channel messages. @default 'anomaly-detector' */
  name?: string;
  /** EWMA smoothing factor in (0, 1]: the weight of each new sample. @default 2 / (span + 1) */
  alpha?: number;
  /** Half-life of the EWMA in samples (> 0): `alpha = 1 − 2^(−1/halfLife)`. */
  halfLife?: number;
  /** Span of the EWMA in samples (>= 1): `alpha = 2 / (span + 1)`. @default 60 */
  span?: number;
  /** Samples a baseline (each hour bucket when seasonal) learns before values are judged against it. @default 30 */
  warmUp?: number;
  /** |z| thresholds of each severity. @default { warning: 3, critical: 4, fatal: 6 } */
  thresholds?: AnomalyThresholds;
  /**
   * `'hourOfDay'` keeps a separate baseline per hour of the day (24 buckets), so a daily pattern is
   * learned instead of flagged; the hour comes from `at` (or the clock), shifted by `utcOffsetMinutes`.
   * @default 'none'
   */
  seasonality?: 'none' | 'hourOfDay';
  /** Offset of the local day from UTC, in minutes, used to find the hour bucket. @default 0 */
  utcOffsetMinutes?: number;
  /** CUSUM parameters, or `false` to turn change detection off. @default {} (the defaults) */
  changeDetection?: ChangeDetectionOptions | false;
  /**
   * Floor of the standard deviation used for z-scores, in the metric's units. With the default 0, any
   * departure from a perfectly constant baseline has an infinite z-score (`fatal`).
   * @default 0
   */
  minStdDev?: number;
  /** Whether an anomalous value still updates the baseline (by default it does not, so a spike does not widen it). @default false */
  learnFromAnomalies?: boolean;
  /** Most metrics tracked at once. @default 1_000 */
  maxMetrics?: number;
  /**
   * What happens to a new metric once `maxMetrics` are tracked: `'evict-lru'` forgets the least recently
   * observed metric, `'refuse'` ignores the new one (its `observe` returns `{ refused: true }`).
   * @default 'evict-lru'
   */
  whenFull?: 'evict-lru' | 'refuse';
  /** Time source for the hour buckets and event times. @default systemClock */
  clock?: Clock;
}

/** A value judged anomalous against its baseline. */
export interface Anomaly {
  /** `(actual − expected) / stdDev`; ±Infinity when the baseline has no spread. */
  zScore: number;
  severity: AnomalySeverity;
  /** The baseline mean the value was judged against. */
  expected: number;
  /** The observed value. */
  actual: number;
  /** The baseline standard deviation used (after `minStdDev`). */
  stdDev: number;
}

/** A sustained shift of a metric's level found by the change detector. */
export interface Change {
  direction: ChangeDirection;
  /** Size of the shift in the metric's units (>= 0): the mean residual over the run that raised it. */
  magnitude: number;
  /** The baseline mean before the shift. */
  from: number;
  /** The baseline mean after re-anchoring on the new level. */
  to: number;
  /** Samples in the run that raised the change. */
  samples: number;
}

/** What {@link AnomalyDetector.observe} found. */
export interface ObserveResult {
  anomaly?: Anomaly;
  change?: Change;
  /** Present when the metric was not tracked because `maxMetrics` was reached with `whenFull: 'refuse'`. */
  refused?: true;
}

/** A metric's baseline, as returned by {@link AnomalyDetector.baseline}. */
export interface MetricBaseline {
  metric: string;
  /** Hour bucket (0..23) when seasonal, else undefined. */
  hour?: number;
  /** EWMA mean. */
  mean: number;
  /** EWMA variance. */
  variance: number;
  /** √variance (before `minStdDev`). */
  stdDev: number;
  /** Samples learned by this baseline. */
  count: number;
  /** Whether `count` reached `warmUp`, so values are judged. */
  warm: boolean;
}

/** Events of an {@link AnomalyDetector}. */
export interface AnomalyDetectorEvents {
  anomaly: Anomaly & { metric: string; at: number };
  change: Change & { metric: string; at: number };
  /** A metric was forgotten to make room (`whenFull: 'evict-lru'`). */
  evicted: { metric: string };
  /** A new metric was ignored (`whenFull: 'refuse'`). */
  refused: { metric: string };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Per metric: one baseline per bucket (1, or 24 when seasonal) and the CUSUM state. Fixed size. */
interface MetricState {
  count: Float64Array;
  mean: Float64Array;
  variance: Float64Array;
  /** Upper and lower cumulative sums. */
  sPos: number;
  sNeg: number;
  /** Runs since each sum was last zero: length, sum of residuals (metric units), sum of values, bucket (-1 when mixed). */
  runPos: Run;
  runNeg: Run;
}

interface Run {
  n: number;
  residuals: number;
  values: number;
  bucket: number;
}

const emptyResult: ObserveResult = Object.freeze({});
const refusedResult: ObserveResult = Object.freeze({ refused: true });

/**
 * Learns a baseline per metric and flags values that stray from it (z-score anomalies with a severity)
 * and sustained shifts of level (a CUSUM change detector), in constant memory per metric.
 *
 * **Baseline.** An exponentially weighted moving mean and variance. For each sample `x` with weight
 * `α_n = max(α, 1/n)` (n = samples learned, this one included):
 * `mean ← mean + α_n·(x − mean)` and `var ← (1 − α_n)·(var + α_n·(x − mean_old)²)`. While `1/n > α`
 * this is exactly the running mean and population variance (Welford), so early samples are not
 * over-weighted; afterwards it is the EWMA with `α` from `alpha`, `halfLife` (`1 − 2^(−1/halfLife)`) or
 * `span` (`2/(span+1)`). With `seasonality: 'hourOfDay'` each hour of the day has its own baseline.
 *
 * **Anomalies.** Once a baseline has learned `warmUp` samples, each value is judged before it is
 * learned: `z = (x − mean) / max(√var, minStdDev)`, and |z| at or above a threshold gives that severity
 * (`warning` 3, `critical` 4, `fatal` 6 by default). Anomalous values are not learned unless
 * `learnFromAnomalies` is set.
 *
 * **Changes.** A two-sided tabular CUSUM on the standardized residuals `z` (clipped to ±`clip`):
 * `S⁺ ← max(0, S⁺ + z − k)`, `S⁻ ← max(0, S⁻ − z − k)`; when one exceeds `h` a change is reported with
 * the mean residual of the run since that sum was last zero as its magnitude, both sums restart, and the
 * baseline is re-anchored on the new level (every bucket's mean moves by the magnitude; a run that stayed
 * in one bucket sets that bucket's mean to the run's mean value), so a shift is reported once, not for
 * ever. Defaults `k = 0.5`, `h = 8`, `clip = 3`: a 1σ shift is found after about 16 samples, a 2σ
 * shift after about 6, and Gaussian noise raises a false change about once in 9,500 samples.
 *
 * Non-finite values are ignored (they would poison the baseline).
 *
 * @example
 * ```ts
 * const detector = new AnomalyDetector({ span: 60, warmUp: 30, seasonality: 'hourOfDay' });
 * detector.on('anomaly', (a) => log.warn(`${a.metric} is ${a.zScore.toFixed(1)}σ off (${a.severity})`));
 * detector.on('change', (c) => log.info(`${c.metric} moved ${c.direction} by ${c.magnitude}`));
 * detector.observe('latency.p99', 182);
 * ```
 */
export class AnomalyDetector {
  private readonly events: EventEmitter<AnomalyDetectorEvents>;
  private readonly metrics = new Map<string, MetricState>();
  private readonly alpha: number;
  private readonly warmUp: number;
  private readonly warning: number;
  private readonly critical: number;
  private readonly fatal: number;
  private readonly buckets: number;
  private readonly offsetMs: number;
  private readonly detectChanges: boolean;
  private readonly slack: number;
  private readonly threshold: number;
  private readonly clip: number;
  private readonly minStdDev: number;
  private readonly learnFromAnomalies: boolean;
  private readonly maxMetrics: number;
  private readonly evict: boolean;
  private readonly clock: Clock;

  /** @throws InvalidOptionsError listing every invalid option. */
  constructor(options: AnomalyDetectorOptions = {}) {
    const v = new OptionsValidator('AnomalyDetector');
    let thresholds: AnomalyThresholds = {};
    let change: ChangeDetectionOptions | false = {};
    if (v.object('options', options)) {
      v.string('name', options.name);
      v.number('alpha', options.alpha, { minExclusive: 0, max: 1 });
      v.number('halfLife', options.halfLife, { minExclusive: 0 });
      v.number('span', options.span, { min: 1 });
      const given = (['alpha', 'halfLife', 'span'] as const).filter((k) => options[k] !== undefined);
      for (const extra of given.slice(1)) v.fail(extra, `unset (only one of alpha, halfLife and span; ${given[0]} is set)`, options[extra]);
      v.integer('warmUp', options.warmUp, 2);
      if (v.object('thresholds', options.thresholds)) {
        thresholds = options.thresholds as AnomalyThresholds;
        for (const key of ['warning', 'critical', 'fatal'] as const) v.number(`thresholds.${key}`, thresholds[key], { minExclusive: 0 });
      }
      v.oneOf('seasonality', options.seasonality, ['none', 'hourOfDay']);
      v.number('utcOffsetMinutes', options.utcOffsetMinutes, { min: -1_440, max: 1_440 });
      if (options.changeDetection !== false && v.object('changeDetection', options.changeDetection)) {
        change = options.changeDetection as ChangeDetectionOptions;
        v.number('changeDetection.slack', change.slack, { min: 0 });
        v.number('changeDetection.threshold', change.threshold, { minExclusive: 0 });
        v.number('changeDetection.clip', change.clip, { minExclusive: 0 });
      } else if (options.changeDetection === false) {
        change = false;
      }
      v.number('minStdDev', options.minStdDev, { min: 0 });
      v.boolean('learnFromAnomalies', options.learnFromAnomalies);
      v.integer('maxMetrics', options.maxMetrics, 1);
      v.oneOf('whenFull', options.whenFull, ['evict-lru', 'refuse']);
      v.clock('clock', options.clock);
    }
    const warning = thresholds.warning ?? 3;
    const critical = thresholds.critical ?? 4;
    const fatal = thresholds.fatal ?? 6;
    if (typeof warning === 'number' && typeof critical === 'number' && typeof fatal === 'number' && !(warning < critical && critical < fatal)) {
      v.fail('thresholds', 'warning < critical < fatal', `${warning}, ${critical}, ${fatal}`);
    }
    v.throwIfInvalid();

    this.alpha =
      options.alpha ?? (options.halfLife !== undefined ? 1 - Math.pow(2, -1 / options.halfLife) : 2 / ((options.span ?? 60) + 1));
    this.warmUp = options.warmUp ?? 30;
    this.warning = warning;
    this.critical = critical;
    this.fatal = fatal;
    this.buckets = options.seasonality === 'hourOfDay' ? 24 : 1;
    this.offsetMs = (options.utcOffsetMinutes ?? 0) * 60_000;
    this.detectChanges = change !== false;
    this.slack = change === false ? 0.5 : (change.slack ?? 0.5);
    this.threshold = change === false ? 8 : (change.threshold ?? 8);
    this.clip = change === false ? 3 : (change.clip ?? 3);
    this.minStdDev = options.minStdDev ?? 0;
    this.learnFromAnomalies = options.learnFromAnomalies ?? false;
    this.maxMetrics = options.maxMetrics ?? 1_000;
    this.evict = (options.whenFull ?? 'evict-lru') === 'evict-lru';
    this.clock = options.clock ?? systemClock;
    this.events = new EventEmitter('anomaly-detector', options.name ?? 'anomaly-detector');
  }

  /** The EWMA smoothing factor in use (from `alpha`, `halfLife` or `span`). */
  get smoothing(): number {
    return this.alpha;
  }

  /** Number of metrics tracked. */
  get size(): number {
    return this.metrics.size;
  }

  /** Names of the tracked metrics, least recently observed first. */
  metricNames(): string[] {
    return [...this.metrics.keys()];
  }

  /**
   * Judges `value` against the baseline of `metric` (once warm), feeds the change detector, then learns
   * it. Emits `anomaly` and `change` events for what it returns.
   *
   * @param at when the value was measured, in ms since the epoch (it picks the hour bucket). @default clock.now()
   */
  observe(metric: string, value: number, at?: number): ObserveResult {
    if (!Number.isFinite(value)) return emptyResult;
    const state = this.stateFor(metric);
    if (state === undefined) return refusedResult;
    const time = at ?? this.clock.now();
    if (!Number.isFinite(time)) return emptyResult;
    const b = this.bucketOf(time);
    const count = state.count[b] as number;
    const mean = state.mean[b] as number;
    if (count < this.warmUp) {
      this.learn(state, b, value);
      return emptyResult;
    }
    const stdDev = Math.max(Math.sqrt(state.variance[b] as number), this.minStdDev);
    const residual = value - mean;
    const z = stdDev > 0 ? residual / stdDev : residual === 0 ? 0 : residual > 0 ? Infinity : -Infinity;
    const absZ = Math.abs(z);
    let result: ObserveResult | undefined;
    if (absZ >= this.warning) {
      const severity: AnomalySeverity = absZ >= this.fatal ? 'fatal' : absZ >= this.critical ? 'critical' : 'warning';
      const anomaly: Anomaly = { zScore: z, severity, expected: mean, actual: value, stdDev };
      result = { anomaly };
      if (this.events.wants('anomaly')) this.events.emit('anomaly', { metric, at: time, ...anomaly });
    }
    if (result === undefined || this.learnFromAnomalies) this.learn(state, b, value);
    if (this.detectChanges) {
      const change = this.cusum(state, b, z, residual, value);
      if (change !== undefined) {
        result = { ...result, change };
        if (this.events.wants('change')) this.events.emit('change', { metric, at: time, ...change });
      }
    }
    return result ?? emptyResult;
  }

  /**
   * The baseline of `metric` that applies at `at` (its hour bucket when seasonal), or `undefined` when
   * the metric is not tracked.
   */
  baseline(metric: string, at?: number): MetricBaseline | undefined {
    const state = this.metrics.get(metric);
    if (state === undefined) return undefined;
    const b = this.bucketOf(at ?? this.clock.now());
    const variance = state.variance[b] as number;
    const count = state.count[b] as number;
    const base: MetricBaseline = {
      metric,
      mean: state.mean[b] as number,
      variance,
      stdDev: Math.sqrt(variance),
      count,
      warm: count >= this.warmUp,
    };
    if (this.buckets > 1) base.hour = b;
    return base;
  }

  /** Forgets `metric` (every metric when omitted): its baselines and change detector start over. */
  reset(metric?: string): void {
    if (metric === undefined) this.metrics.clear();
    else this.metrics.delete(metric);
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof AnomalyDetectorEvents>(event: K, listener: Listener<AnomalyDetectorEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  private stateFor(metric: string): MetricState | undefined {
    const existing = this.metrics.get(metric);
    if (existing !== undefined) {
      if (this.evict) {
        // Re-inserting keeps the Map in least-recently-observed order.
        this.metrics.delete(metric);
        this.metrics.set(metric, existing);
      }
      return existing;
    }
    if (this.metrics.size >= this.maxMetrics) {
      if (!this.evict) {
        this.events.emit('refused', { metric });
        return undefined;
      }
      const oldest = this.metrics.keys().next().value as string;
      this.metrics.delete(oldest);
      this.events.emit('evicted', { metric: oldest });
    }
    const state: MetricState = {
      count: new Float64Array(this.buckets),
      mean: new Float64Array(this.buckets),
      variance: new Float64Array(this.buckets),
      sPos: 0,
      sNeg: 0,
      runPos: { n: 0, residuals: 0, values: 0, bucket: -1 },
      runNeg: { n: 0, residuals: 0, values: 0, bucket: -1 },
    };
    this.metrics.set(metric, state);
    return state;
  }

  private bucketOf(at: number): number {
    if (this.buckets === 1) return 0;
    const msOfDay = (((at + this.offsetMs) % DAY_MS) + DAY_MS) % DAY_MS;
    return Math.floor(msOfDay / HOUR_MS);
  }

  private learn(state: MetricState, b: number, x: number): void {
    const n = (state.count[b] as number) + 1;
    state.count[b] = n;
    const a = Math.max(this.alpha, 1 / n);
    const mean = state.mean[b] as number;
    const d = x - mean;
    state.mean[b] = mean + a * d;
    state.variance[b] = (1 - a) * ((state.variance[b] as number) + a * d * d);
  }

  private cusum(state: MetricState, b: number, z: number, residual: number, value: number): Change | undefined {
    const zc = z > this.clip ? this.clip : z < -this.clip ? -this.clip : z;
    state.sPos = Math.max(0, state.sPos + zc - this.slack);
    state.sNeg = Math.max(0, state.sNeg - zc - this.slack);
    track(state.runPos, state.sPos, b, residual, value);
    track(state.runNeg, state.sNeg, b, residual, value);
    let direction: ChangeDirection;
    let run: Run;
    if (state.sPos > this.threshold) {
      direction = 'up';
      run = state.runPos;
    } else if (state.sNeg > this.threshold) {
      direction = 'down';
      run = state.runNeg;
    } else {
      return undefined;
    }
    const shift = run.residuals / run.n;
    const from = state.mean[b] as number;
    for (let i = 0; i < this.buckets; i++) state.mean[i] = (state.mean[i] as number) + shift;
    if (run.bucket >= 0) state.mean[run.bucket] = run.values / run.n;
    const change: Change = { direction, magnitude: Math.abs(shift), from, to: state.mean[b] as number, samples: run.n };
    state.sPos = 0;
    state.sNeg = 0;
    clearRun(state.runPos);
    clearRun(state.runNeg);
    return change;
  }
}

function track(run: Run, sum: number, b: number, residual: number, value: number): void {
  if (sum === 0) {
    clearRun(run);
    return;
  }
  run.bucket = run.n === 0 ? b : run.bucket === b ? b : -1;
  run.n++;
  run.residuals += residual;
  run.values += value;
}

function clearRun(run: Run): void {
  run.n = 0;
  run.residuals = 0;
  run.values = 0;
  run.bucket = -1;
}
