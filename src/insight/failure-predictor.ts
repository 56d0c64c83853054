import { systemClock, type Clock } from '../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { reportCallbackError } from '../core/report-callback-error.js';
import { fitLine, predictionStdError, valueAt } from './linear-fit.js';
import { studentTCdf } from './student-t.js';

/** The limit of one resource and what to do before it is reached. */
export interface ResourceLimit {
  /** The value that must not be reached, in the resource's units. */
  limit: number;
  /** How far ahead to look, in ms: a breach predicted within it may trigger `action`. */
  horizonMs: number;
  /** Preventive action requested from the sink (e.g. `'clear-caches'`); without it predictions are only reported. */
  action?: string;
  /** Component named in the request. @default the resource name */
  component?: string;
  /**
   * `'above'` when the resource fails by rising to the limit (heap, delay, pool usage, error rate),
   * `'below'` when it fails by falling to it (free memory, available connections).
   * @default 'above'
   */
  direction?: 'above' | 'below';
}

/** A request for a preventive action, sent to a {@link PreventiveActionSink}. */
export interface PreventiveActionRequest {
  component: string;
  action: string;
  /** Human-readable why, e.g. `heap predicted to reach 1000 in 35000 ms (probability 0.93, confidence 0.88)`. */
  reason: string;
  prediction: Prediction;
}

/**
 * Where preventive actions go. Structural: the `SelfHealer` implements it, and so can anything else.
 */
export interface PreventiveActionSink {
  requestPreventiveAction(request: PreventiveActionRequest): Promise<unknown>;
}

/** What the trend of a resource says about its limit. */
export interface Prediction {
  resource: string;
  /** When the prediction was made, in ms since the epoch (the later of the clock and the newest sample). */
  at: number;
  /** Samples fitted. */
  samples: number;
  /** Fitted change per ms, in the resource's units. */
  slopePerMs: number;
  /** Fitted value at `at`. */
  current: number;
  limit: number;
  direction: 'above' | 'below';
  /**
   * Time until the fitted line reaches the limit, in ms: `0` when it already has, absent when the trend
   * does not head towards the limit (flat or moving away).
   */
  timeToLimitMs?: number;
  /** The looked-ahead window, in ms. */
  horizonMs: number;
  /** Whether `timeToLimitMs <= horizonMs`. */
  withinHorizon: boolean;
  /** Probability (0..1) that a value measured at `at + horizonMs` is past the limit, from the prediction interval. */
  probability: number;
  /** Trust in the fitted trend (0..1) from R² and the sample count. */
  confidence: number;
  /** Coefficient of determination of the fit. */
  rSquared: number;
}

/** Options of {@link FailurePredictor}. */
export interface FailurePredictorOptions {
  /** Name used in diagnostics channel messages and warnings. @default 'failure-predictor' */
  name?: string;
  /** Limits by resource name; resources without one are tracked but never predicted. @default {} */
  limits?: Record<string, ResourceLimit>;
  /** Most recent samples fitted per resource (a ring buffer). @default 60 */
  windowSize?: number;
  /** Samples older than this (relative to the prediction time) are left out of the fit, in ms. @default Infinity */
  windowMs?: number;
  /** Fewest samples a prediction is made from (>= 3: the prediction interval needs n − 2 > 0). @default 5 */
  minSamples?: number;
  /** Samples at which the sample-count factor of the confidence reaches 1. @default 30 */
  fullConfidenceSamples?: number;
  /** A prediction whose probability exceeds this (strictly) and that is within its horizon triggers the action. @default 0.7 */
  triggerProbability?: number;
  /** Least time between two actions requested for one resource, in ms. @default 300_000 */
  cooldownMs?: number;
  /** Most resources tracked; samples of further resources are ignored (and a `refused` event emitted). @default 1_000 */
  maxResources?: number;
  /** Receives preventive action requests (see also {@link FailurePredictor.setActionSink}). */
  actionSink?: PreventiveActionSink;
  /** Time source. @default systemClock */
  clock?: Clock;
}

/** Events of a {@link FailurePredictor}. */
export interface FailurePredictorEvents {
  /** A prediction was made for a resource with a limit (after each sample once `minSamples` are held). */
  prediction: Prediction;
  /**
   * A preventive action was due and requested: `delivered` tells whether a sink was set to receive it.
   * The resource's cooldown starts either way.
   */
  preventiveAction: PreventiveActionRequest & { resource: string; delivered: boolean };
  /** The sink threw or its promise rejected. */
  preventiveActionFailed: PreventiveActionRequest & { resource: string; error: unknown };
  /** A sample of a new resource was ignored because `maxResources` are tracked. */
  refused: { resource: string };
}

interface Series {
  times: Float64Array;
  values: Float64Array;
  /** Next slot to write. */
  head: number;
  count: number;
  newest: number;
  lastActionAt: number;
}

/**
 * Fits the recent trend of named resources (heap, event-loop delay, pool usage, error rate: any series)
 * by least-squares linear regression over a bounded window, predicts when each will reach its limit,
 * and requests a preventive action through a {@link PreventiveActionSink} before it does.
 *
 * For a resource with `n >= minSamples` samples `(t, y)` in its window, the fitted line `ŷ(t)` gives:
 * - **time to limit**: `(limit − ŷ(now)) / slope` when the slope heads towards the limit, `0` when
 *   `ŷ(now)` is already past it, absent otherwise;
 * - **probability** of being past the limit at the end of the horizon, from the regression's prediction
 *   interval: with `t_h = now + horizonMs`, `se = s·√(1 + 1/n + (t_h − t̄)²/Sxx)` (`s` the residual
 *   standard error) and Student's t with `n − 2` degrees of freedom,
 *   `P = 1 − T((limit − ŷ(t_h)) / se)` for `'above'` (`T((limit − ŷ(t_h)) / se)` for `'below'`); on a
 *   perfect fit (`s = 0`) it is 1 or 0;
 * - **confidence** in the trend: `R² · min(1, (n − 2) / (fullConfidenceSamples − 2))`, so noise (lower
 *   R²) and few samples both lower it.
 *
 * When the probability exceeds `triggerProbability` and the time to limit is within `horizonMs`, the
 * resource's `action` is requested from the sink, at most once per `cooldownMs` per resource. A sink that
 * throws or rejects is reported (`preventiveActionFailed` and a process warning) and never breaks
 * `observe`. Memory: `windowSize` samples for each of at most `maxResources` resources; no timers.
 *
 * @example
 * ```ts
 * const predictor = new FailurePredictor({
 *   limits: { heapUsed: { limit: 1.5e9, horizonMs: 30 * 60_000, action: 'clear-caches', component: 'api' } },
 *   triggerProbability: 0.7,
 *   actionSink: selfHealer,
 * });
 * predictor.observe('heapUsed', process.memoryUsage().heapUsed);
 * ```
 */
export class FailurePredictor {
  private readonly events: EventEmitter<FailurePredictorEvents>;
  private readonly series = new Map<string, Series>();
  private readonly limits = new Map<string, Required<Omit<ResourceLimit, 'action'>> & { action: string | undefined }>();
  private readonly name: string;
  private readonly windowSize: number;
  private readonly windowMs: number;
  private readonly minSamples: number;
  private readonly fullConfidenceSamples: number;
  private readonly triggerProbability: number;
  private readonly cooldownMs: number;
  private readonly maxResources: number;
  private readonly clock: Clock;
  private sink: PreventiveActionSink | undefined;

  /** @throws InvalidOptionsError listing every invalid option, those of each limit included. */
  constructor(options: FailurePredictorOptions = {}) {
    const v = new OptionsValidator('FailurePredictor');
    if (v.object('options', options)) {
      v.string('name', options.name);
      if (v.object('limits', options.limits)) {
        for (const [resource, spec] of Object.entries(options.limits as Record<string, unknown>)) {
          validateLimit(v, `limits.${resource}`, spec);
        }
      }
      v.integer('windowSize', options.windowSize, 3);
      v.number('windowMs', options.windowMs, { minExclusive: 0, allowInfinity: true });
      v.integer('minSamples', options.minSamples, 3);
      v.integer('fullConfidenceSamples', options.fullConfidenceSamples, 3);
      v.number('triggerProbability', options.triggerProbability, { min: 0, max: 1 });
      v.duration('cooldownMs', options.cooldownMs);
      v.integer('maxResources', options.maxResources, 1);
      validateSink(v, 'actionSink', options.actionSink);
      v.clock('clock', options.clock);
      const windowSize = options.windowSize ?? 60;
      const minSamples = options.minSamples ?? 5;
      if (Number.isInteger(windowSize) && Number.isInteger(minSamples) && minSamples > windowSize) {
        v.fail('minSamples', `an integer <= windowSize (${windowSize})`, minSamples);
      }
    }
    v.throwIfInvalid();
    this.name = options.name ?? 'failure-predictor';
    this.windowSize = options.windowSize ?? 60;
    this.windowMs = options.windowMs ?? Infinity;
    this.minSamples = options.minSamples ?? 5;
    this.fullConfidenceSamples = options.fullConfidenceSamples ?? 30;
    this.triggerProbability = options.triggerProbability ?? 0.7;
    this.cooldownMs = options.cooldownMs ?? 300_000;
    this.maxResources = options.maxResources ?? 1_000;
    this.clock = options.clock ?? systemClock;
    this.sink = options.actionSink;
    this.events = new EventEmitter('failure-predictor', this.name);
    for (const [resource, spec] of Object.entries(options.limits ?? {})) this.storeLimit(resource, spec);
  }

  /** Number of resources tracked. */
  get size(): number {
    return this.series.size;
  }

  /**
   * Sets (or replaces) the limit of `resource`.
   * @throws InvalidOptionsError when `spec` is invalid.
   */
  setLimit(resource: string, spec: ResourceLimit): void {
    const v = new OptionsValidator('FailurePredictor limit');
    validateLimit(v, resource, spec);
    v.throwIfInvalid();
    this.storeLimit(resource, spec);
  }

  /**
   * Sets where preventive actions are requested (the `SelfHealer`, or any {@link PreventiveActionSink});
   * `undefined` removes it.
   */
  setActionSink(sink: PreventiveActionSink | undefined): void {
    const v = new OptionsValidator('FailurePredictor');
    validateSink(v, 'sink', sink);
    v.throwIfInvalid();
    this.sink = sink;
  }

  /**
   * Records a sample of `resource` and, when it has a limit and enough samples, predicts, emits
   * `prediction` and requests the preventive action if due. Non-finite values are ignored.
   *
   * @param at when the value was measured, in ms since the epoch. @default clock.now()
   * @returns the prediction made, if any.
   */
  observe(resource: string, value: number, at?: number): Prediction | undefined {
    if (!Number.isFinite(value)) return undefined;
    const time = at ?? this.clock.now();
    if (!Number.isFinite(time)) return undefined;
    let series = this.series.get(resource);
    if (series === undefined) {
      if (this.series.size >= this.maxResources) {
        this.events.emit('refused', { resource });
        return undefined;
      }
      series = {
        times: new Float64Array(this.windowSize),
        values: new Float64Array(this.windowSize),
        head: 0,
        count: 0,
        newest: -Infinity,
        lastActionAt: -Infinity,
      };
      this.series.set(resource, series);
    }
    series.times[series.head] = time;
    series.values[series.head] = value;
    series.head = (series.head + 1) % this.windowSize;
    if (series.count < this.windowSize) series.count++;
    if (time > series.newest) series.newest = time;

    const prediction = this.predictSeries(resource, series);
    if (prediction === undefined) return undefined;
    this.events.emit('prediction', prediction);
    this.maybeAct(resource, series, prediction);
    return prediction;
  }

  /**
   * Predicts `resource` now from the samples held, without recording anything or triggering an action.
   * @returns `undefined` when the resource has no limit, fewer than `minSamples` samples in the window,
   * or samples all taken at one instant.
   */
  predict(resource: string): Prediction | undefined {
    const series = this.series.get(resource);
    return series === undefined ? undefined : this.predictSeries(resource, series);
  }

  /** Forgets the samples and cooldown of `resource` (of every resource when omitted); limits are kept. */
  reset(resource?: string): void {
    if (resource === undefined) this.series.clear();
    else this.series.delete(resource);
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof FailurePredictorEvents>(event: K, listener: Listener<FailurePredictorEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  private storeLimit(resource: string, spec: ResourceLimit): void {
    this.limits.set(resource, {
      limit: spec.limit,
      horizonMs: spec.horizonMs,
      action: spec.action,
      component: spec.component ?? resource,
      direction: spec.direction ?? 'above',
    });
  }

  private predictSeries(resource: string, series: Series): Prediction | undefined {
    const spec = this.limits.get(resource);
    if (spec === undefined || series.count < this.minSamples) return undefined;
    const now = Math.max(this.clock.now(), series.newest);
    const fit = fitLine(series.times, series.values, series.count, now - this.windowMs);
    if (fit === undefined || fit.n < this.minSamples) return undefined;

    const above = spec.direction === 'above';
    const current = valueAt(fit, now);
    const gap = above ? spec.limit - current : current - spec.limit;
    const towards = above ? fit.slope : -fit.slope;
    let timeToLimitMs: number | undefined;
    if (gap <= 0) timeToLimitMs = 0;
    else if (towards > 0) timeToLimitMs = gap / towards;

    const end = now + spec.horizonMs;
    const endValue = valueAt(fit, end);
    const se = predictionStdError(fit, end);
    let probability: number;
    if (se === 0) probability = (above ? endValue >= spec.limit : endValue <= spec.limit) ? 1 : 0;
    else {
      const t = (spec.limit - endValue) / se;
      probability = above ? 1 - studentTCdf(t, fit.n - 2) : studentTCdf(t, fit.n - 2);
    }
    const confidence = fit.rSquared * Math.min(1, (fit.n - 2) / (this.fullConfidenceSamples - 2));

    const prediction: Prediction = {
      resource,
      at: now,
      samples: fit.n,
      slopePerMs: fit.slope,
      current,
      limit: spec.limit,
      direction: spec.direction,
      horizonMs: spec.horizonMs,
      withinHorizon: timeToLimitMs !== undefined && timeToLimitMs <= spec.horizonMs,
      probability,
      confidence,
      rSquared: fit.rSquared,
    };
    if (timeToLimitMs !== undefined) prediction.timeToLimitMs = timeToLimitMs;
    return prediction;
  }

  private maybeAct(resource: string, series: Series, prediction: Prediction): void {
    const spec = this.limits.get(resource);
    if (spec?.action === undefined) return;
    if (!(prediction.probability > this.triggerProbability) || !prediction.withinHorizon) return;
    if (prediction.at - series.lastActionAt < this.cooldownMs) return;
    series.lastActionAt = prediction.at;

    const when = prediction.timeToLimitMs === 0 ? 'is past' : `predicted to reach`;
    const eta = prediction.timeToLimitMs === 0 ? '' : ` in ${Math.round(prediction.timeToLimitMs ?? 0)} ms`;
    const request: PreventiveActionRequest = {
      component: spec.component,
      action: spec.action,
      reason:
        `${resource} ${when} ${spec.limit}${eta} ` +
        `(probability ${prediction.probability.toFixed(2)}, confidence ${prediction.confidence.toFixed(2)})`,
      prediction,
    };
    const sink = this.sink;
    this.events.emit('preventiveAction', { ...request, resource, delivered: sink !== undefined });
    if (sink === undefined) return;
    const fail = (error: unknown): void => {
      reportCallbackError(error, `FailurePredictor "${this.name}" action sink (${spec.action} for ${resource})`);
      this.events.emit('preventiveActionFailed', { ...request, resource, error });
    };
    try {
      Promise.resolve(sink.requestPreventiveAction(request)).then(undefined, fail);
    } catch (error) {
      fail(error);
    }
  }
}

function validateLimit(v: OptionsValidator, path: string, spec: unknown): void {
  if (!v.object(path, spec)) {
    if (spec === undefined) v.fail(path, 'an object', spec);
    return;
  }
  const s = spec as Partial<ResourceLimit>;
  if (v.required(`${path}.limit`, s.limit, 'a finite number')) v.number(`${path}.limit`, s.limit, {});
  if (v.required(`${path}.horizonMs`, s.horizonMs, 'a number > 0')) v.duration(`${path}.horizonMs`, s.horizonMs, true);
  v.string(`${path}.action`, s.action);
  v.string(`${path}.component`, s.component);
  v.oneOf(`${path}.direction`, s.direction, ['above', 'below']);
}

function validateSink(v: OptionsValidator, path: string, sink: unknown): void {
  if (sink === undefined) return;
  const s = sink as { requestPreventiveAction?: unknown } | null;
  if (typeof s !== 'object' || s === null || typeof s.requestPreventiveAction !== 'function') {
    v.fail(path, 'an object with requestPreventiveAction()', sink);
  }
}
