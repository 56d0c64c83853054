import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MultiLayerCache } from '../../cache/multi-layer-cache.js';
import { ChaosRegistry } from '../../chaos/chaos-registry.js';
import { ExperimentRunner } from '../../chaos/experiments/experiment-runner.js';
import { systemClock, type Clock } from '../../core/clock.js';
import type { Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import { GracefulDegradation } from '../../degradation/graceful-degradation.js';
import { SelfHealer } from '../../healing/self-healer.js';
import { HealthMonitor } from '../../health/health-monitor.js';
import { AdaptiveConcurrency } from '../../policies/adaptive-concurrency.js';
import { Bulkhead } from '../../policies/bulkhead.js';
import { CircuitBreaker, type CircuitState } from '../../policies/circuit-breaker.js';
import { CircuitBreakerManager } from '../../policies/circuit-breaker-manager.js';
import { Fallback } from '../../policies/fallback.js';
import { Hedge } from '../../policies/hedge.js';
import { RateLimiter } from '../../policies/rate-limiter.js';
import { Retry } from '../../policies/retry.js';
import { Timeout } from '../../policies/timeout.js';
import { BoundedLabel } from './bounded-label.js';
import { metricNames, type PrometheusMetricNames, type PrometheusNaming } from './metric-names.js';
import { metricsHandler, type MetricsHandlerOptions } from './metrics-handler.js';
import { WindowedMax } from './windowed-max.js';

/** Options of {@link PrometheusMetrics}. Every field is optional. */
export interface PrometheusMetricsOptions {
  /** Where the metric families are registered (pass prom-client's global `register` to share it). @default a new Registry */
  registry?: Registry;
  /**
   * Prefix of the antifragile metric names: empty, or letters, digits, `_` and `:` not starting with a digit.
   * Resilience4j names never take it.
   * @default 'antifragile_'
   */
  prefix?: string;
  /** Names of the families Resilience4j also publishes, see {@link PrometheusNaming}. @default 'antifragile' */
  naming?: PrometheusNaming;
  /**
   * Upper bounds of the duration histograms, in seconds, ascending.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
   */
  buckets?: number[];
  /**
   * Most distinct values of a free-form label (experiment names, health components, chaos dependencies); later
   * values are reported as `other`, so a scrape stays bounded whatever names callers make up (integer >= 1).
   * @default 100
   */
  maxLabelValues?: number;
  /** Window of the Resilience4j `_max` gauges: a value stays visible for between this and twice this, in ms (> 0). @default 60_000 */
  maxWindowMs?: number;
  /** Time source of the `_max` windows. @default systemClock */
  clock?: Clock;
}

/** Options of the `observe*` methods. */
export interface ObserveOptions {
  /**
   * Value of the `name` label. Defaults to the component's own name (a {@link Timeout}'s or {@link Hedge}'s
   * `name` option included, `'timeout'` and `'hedge'` unless given), or `'health'` for a {@link HealthMonitor}
   * and `'degradation'` for a {@link GracefulDegradation}, which have none (observe a second one with another `name`).
   */
  name?: string;
}

/** Anything {@link PrometheusMetrics.observe} accepts. */
export type ObservableComponent =
  | CircuitBreaker
  | CircuitBreakerManager
  | Retry
  | Bulkhead
  | RateLimiter
  | Timeout
  | Fallback<unknown>
  | Hedge
  | AdaptiveConcurrency
  | MultiLayerCache
  | HealthMonitor
  | GracefulDegradation
  | SelfHealer
  | ExperimentRunner
  | ChaosRegistry;

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;
const NAMINGS: readonly PrometheusNaming[] = ['antifragile', 'resilience4j'];
const STATES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated', 'disabled'];
const STATE_CODES: Record<CircuitState, number> = { closed: 0, open: 1, 'half-open': 2, isolated: 3, disabled: 4 };
/** Resilience4j's state label values; `metrics_only` has no equivalent here and is always 0. */
const R4J_STATE: Record<CircuitState, string> = {
  closed: 'closed',
  open: 'open',
  'half-open': 'half_open',
  isolated: 'forced_open',
  disabled: 'disabled',
};
const R4J_STATES = ['closed', 'open', 'half_open', 'forced_open', 'disabled', 'metrics_only'];
const OUTCOMES = ['success', 'failure', 'ignored'] as const;
const R4J_KINDS = ['successful', 'failed', 'ignored'] as const;
const RETRY_KINDS = ['successful_without_retry', 'successful_with_retry', 'failed_without_retry', 'failed_with_retry'] as const;
const HEALTH_STATUSES = ['healthy', 'degraded', 'unhealthy'] as const;
const FALLBACK_REASONS = ['error', 'result'] as const;
const HEDGE_REASONS = ['delay', 'failure'] as const;
const LIMIT_DIRECTIONS = ['increase', 'decrease'] as const;
const COMPONENT_STATUSES = ['healthy', 'degraded', 'unhealthy', 'unknown'] as const;

interface Observed<T> {
  readonly component: T;
  readonly name: string;
  readonly off: Unsubscribe;
}

interface ObservedBreaker extends Observed<CircuitBreaker> {
  readonly max: readonly WindowedMax[];
}

type Labels = Record<string, string>;

/**
 * Publishes the state of antifragile components as Prometheus metrics through prom-client: breaker state,
 * calls by outcome and refused calls, retries by kind, bulkhead and rate limiter use, timed-out calls,
 * fallbacks, hedged attempts and delay, adaptive concurrency limit and shed calls, cache hits per layer,
 * health score and statuses, degradation level, self-healing events and chaos experiment outcomes.
 *
 * Counters are fed by the components' events; gauges are read from the components when the registry is
 * scraped (prom-client `collect()`), so nothing runs between scrapes. Labels are bounded: components are
 * labelled by their registered names, never by keys or error messages, and free-form names are capped by
 * `maxLabelValues`. With `naming: 'resilience4j'` the families Resilience4j publishes keep its exact names
 * and labels, so existing Grafana dashboards work.
 *
 * Observing a breaker subscribes to its call events, so it times every call (a clock read per call); the
 * closed-circuit fast path is otherwise untouched. Each `observe*` returns an unsubscribe function that
 * also removes the component's series.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * const metrics = createPrometheusMetrics({ naming: 'resilience4j' });
 * metrics.observe(breaker);
 * metrics.observe(cache);
 * createServer(metrics.handler()).listen(9464); // GET /metrics
 * ```
 */
export class PrometheusMetrics {
  /** The registry the families are registered in. */
  readonly registry: Registry;
  /** The naming in use. */
  readonly naming: PrometheusNaming;
  /** The family names in use. */
  readonly names: PrometheusMetricNames;

  private readonly r4j: boolean;
  private readonly clock: Clock;
  private readonly maxWindowMs: number;
  private readonly breakers = new Map<string, ObservedBreaker>();
  private readonly managers = new Map<CircuitBreakerManager, Unsubscribe>();
  private readonly retries = new Map<string, Observed<Retry>>();
  private readonly bulkheads = new Map<string, Observed<Bulkhead>>();
  private readonly limiters = new Map<string, Observed<RateLimiter>>();
  private readonly timeouts = new Map<string, Observed<Timeout>>();
  private readonly fallbacks = new Map<string, Observed<Fallback<unknown>>>();
  private readonly hedges = new Map<string, Observed<Hedge>>();
  private readonly adaptiveLimits = new Map<string, Observed<AdaptiveConcurrency>>();
  private readonly caches = new Map<string, Observed<MultiLayerCache>>();
  private readonly monitors = new Map<string, Observed<HealthMonitor>>();
  private readonly degradations = new Map<string, Observed<GracefulDegradation>>();
  private readonly healers = new Map<string, Observed<SelfHealer>>();
  private readonly runners = new Map<ExperimentRunner, Unsubscribe>();
  private readonly chaosRegistries = new Map<ChaosRegistry, Unsubscribe>();
  private readonly experimentLabel: BoundedLabel;
  private readonly componentLabel: BoundedLabel;
  private readonly dependencyLabel: BoundedLabel;

  private readonly breakerCalls: Counter | undefined;
  private readonly breakerDuration: Histogram;
  private readonly breakerNotPermitted: Counter;
  private readonly breakerSlowCalls: Counter;
  private readonly breakerTransitions: Counter;
  private readonly retryCalls: Counter;
  private readonly retryAttempts: Counter;
  private readonly retryBudgetExhausted: Counter;
  private readonly bulkheadRejected: Counter;
  private readonly rateLimiterRejected: Counter;
  private readonly timeoutCalls: Counter;
  private readonly fallbackHandled: Counter;
  private readonly hedgeAttempts: Counter;
  private readonly adaptiveRejected: Counter;
  private readonly adaptiveLimitChanges: Counter;
  private readonly healthChecks: Counter;
  private readonly degradationTransitions: Counter;
  private readonly healingEvents: Counter;
  private readonly healingDuration: Histogram;
  private readonly chaosOutcome: Counter;
  private readonly chaosActions: Counter;
  private readonly chaosInjections: Counter;

  /** @throws InvalidOptionsError listing every invalid option. */
  constructor(options: PrometheusMetricsOptions = {}) {
    validate(options);
    this.registry = options.registry ?? new Registry();
    this.naming = options.naming ?? 'antifragile';
    this.r4j = this.naming === 'resilience4j';
    this.names = metricNames(this.naming, options.prefix ?? 'antifragile_');
    this.clock = options.clock ?? systemClock;
    this.maxWindowMs = options.maxWindowMs ?? 60_000;
    const maxLabelValues = options.maxLabelValues ?? 100;
    this.experimentLabel = new BoundedLabel(maxLabelValues);
    this.componentLabel = new BoundedLabel(maxLabelValues);
    this.dependencyLabel = new BoundedLabel(maxLabelValues);
    const buckets = options.buckets ?? DEFAULT_BUCKETS;
    const n = this.names;
    const registers = [this.registry];
    const counter = (name: string, help: string, labelNames: string[]): Counter =>
      new Counter({ name, help, labelNames, registers });
    const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void): Gauge =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          collect(this);
        },
      });
    // A counter whose values are read from component snapshots at scrape time.
    const snapshotCounter = (name: string, help: string, labelNames: string[], collect: (c: Counter) => void): Counter =>
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          collect(this);
        },
      });
    const kindLabel = this.r4j ? 'kind' : 'outcome';

    // Circuit breakers.
    gauge(n.breakerState, 'Circuit breaker state: 1 for the current state, 0 for the others', ['name', 'state'], (g) => {
      for (const { component, name } of this.breakers.values()) {
        const state = component.state;
        if (this.r4j) for (const s of R4J_STATES) g.set({ name, state: s }, s === R4J_STATE[state] ? 1 : 0);
        else for (const s of STATES) g.set({ name, state: s }, s === state ? 1 : 0);
      }
    });
    gauge(n.breakerStateCode, 'Circuit breaker state: 0 closed, 1 open, 2 half-open, 3 isolated, 4 disabled', ['name'], (g) => {
      for (const { component, name } of this.breakers.values()) g.set({ name }, STATE_CODES[component.state]);
    });
    this.breakerCalls = this.r4j
      ? undefined
      : counter(n.breakerCalls, 'Calls a circuit breaker let through, by outcome', ['name', 'outcome']);
    this.breakerDuration = new Histogram({
      name: n.breakerCallDuration,
      help: 'Duration of the calls a circuit breaker let through, in seconds',
      labelNames: ['name', kindLabel],
      buckets,
      registers,
    });
    if (this.r4j) {
      gauge(n.breakerCallDurationMax, 'Longest recent call a circuit breaker let through, in seconds', ['name', 'kind'], (g) => {
        for (const { name, max } of this.breakers.values()) {
          R4J_KINDS.forEach((kind, i) => g.set({ name, kind }, (max[i] as WindowedMax).value / 1000));
        }
      });
    }
    this.breakerNotPermitted = counter(
      n.breakerNotPermitted,
      'Calls a circuit breaker refused',
      this.r4j ? ['name', 'kind'] : ['name'],
    );
    this.breakerSlowCalls = counter(n.breakerSlowCalls, 'Calls slower than the breaker\'s slowCallMs', ['name']);
    this.breakerTransitions = counter(n.breakerTransitions, 'Circuit breaker state transitions', ['name', 'from', 'to']);
    gauge(n.breakerFailureRate, this.r4j ? 'Failure rate of the window, in percent (-1: no calls)' : 'Failure rate of the window, 0..1', ['name'], (g) => {
      for (const { component, name } of this.breakers.values()) {
        const m = component.metrics();
        g.set({ name }, this.r4j ? (m.calls === 0 ? -1 : m.failureRate * 100) : m.failureRate);
      }
    });
    gauge(n.breakerSlowCallRate, this.r4j ? 'Slow-call rate of the window, in percent (-1: no calls)' : 'Slow-call rate of the window, 0..1', ['name'], (g) => {
      for (const { component, name } of this.breakers.values()) {
        const m = component.metrics();
        g.set({ name }, this.r4j ? (m.calls === 0 ? -1 : m.slowCallRate * 100) : m.slowCallRate);
      }
    });
    gauge(n.breakerBufferedCalls, 'Calls in the circuit breaker window, by kind', ['name', 'kind'], (g) => {
      for (const { component, name } of this.breakers.values()) {
        const m = component.metrics();
        g.set({ name, kind: 'successful' }, m.calls - m.failures);
        g.set({ name, kind: 'failed' }, m.failures);
      }
    });
    gauge(n.breakerHealthScore, 'Circuit breaker health score, 0..100', ['name'], (g) => {
      for (const { component, name } of this.breakers.values()) g.set({ name }, component.healthScore());
    });

    // Retries.
    this.retryCalls = counter(n.retryCalls, 'Calls through a retry policy, by outcome and whether they were retried', ['name', 'kind']);
    this.retryAttempts = counter(n.retryAttempts, 'Retries scheduled (attempts after the first)', ['name']);
    this.retryBudgetExhausted = counter(n.retryBudgetExhausted, 'Retries the retry budget refused', ['name']);

    // Bulkheads.
    gauge(n.bulkheadAvailable, 'Free bulkhead slots', ['name'], (g) => {
      for (const { component, name } of this.bulkheads.values()) g.set({ name }, component.available);
    });
    gauge(n.bulkheadMaxConcurrent, 'Bulkhead slots in all', ['name'], (g) => {
      for (const { component, name } of this.bulkheads.values()) g.set({ name }, component.maxConcurrent);
    });
    gauge(n.bulkheadRunning, 'Calls running in a bulkhead', ['name'], (g) => {
      for (const { component, name } of this.bulkheads.values()) g.set({ name }, component.running);
    });
    gauge(n.bulkheadQueued, 'Calls waiting for a bulkhead slot', ['name'], (g) => {
      for (const { component, name } of this.bulkheads.values()) g.set({ name }, component.queued);
    });
    this.bulkheadRejected = counter(n.bulkheadRejected, 'Calls a bulkhead refused, by reason', ['name', 'reason']);

    // Rate limiters.
    gauge(n.rateLimiterAvailable, 'Permits a caller could take now', ['name'], (g) => {
      for (const { component, name } of this.limiters.values()) g.set({ name }, component.remaining);
    });
    gauge(n.rateLimiterWaiting, 'Callers waiting for a permit', ['name'], (g) => {
      for (const { component, name } of this.limiters.values()) g.set({ name }, component.queued);
    });
    this.rateLimiterRejected = counter(n.rateLimiterRejected, 'Calls a rate limiter refused', ['name']);

    // Timeouts: a Timeout reports only the calls that reach their deadline.
    this.timeoutCalls = counter(
      n.timeoutCalls,
      this.r4j ? 'Calls through a timeout, by kind (timeout only)' : 'Calls through a timeout, by kind (timed_out only)',
      ['name', 'kind'],
    );

    // Fallbacks.
    this.fallbackHandled = counter(n.fallbackHandledCalls, 'Calls a fallback replaced, by reason (a handled error or result)', ['name', 'reason']);

    // Hedges.
    this.hedgeAttempts = counter(n.hedgeAttempts, 'Hedged attempts started (attempts after the first), by reason', ['name', 'reason']);
    gauge(n.hedgeDelay, 'Delay a call started now would wait before its first hedge, in seconds', ['name'], (g) => {
      for (const { component, name } of this.hedges.values()) g.set({ name }, component.delayMs / 1000);
    });

    // Adaptive concurrency.
    gauge(n.adaptiveConcurrencyLimit, 'Adaptive concurrency limit in force', ['name'], (g) => {
      for (const { component, name } of this.adaptiveLimits.values()) g.set({ name }, component.limit);
    });
    gauge(n.adaptiveConcurrencyInFlight, 'Calls running through an adaptive concurrency limit', ['name'], (g) => {
      for (const { component, name } of this.adaptiveLimits.values()) g.set({ name }, component.inflight);
    });
    this.adaptiveRejected = counter(n.adaptiveConcurrencyRejected, 'Calls an adaptive concurrency limit shed', ['name']);
    this.adaptiveLimitChanges = counter(n.adaptiveConcurrencyLimitChanges, 'Moves of an adaptive concurrency limit, by direction', ['name', 'direction']);

    // Caches: counters and ratios read from getMetrics() at scrape time.
    snapshotCounter(n.cacheRequests, 'Cache lookups by result (hit, stale, miss)', ['name', 'result'], (c) => {
      for (const { component, name } of this.caches.values()) {
        const m = component.getMetrics();
        c.inc({ name, result: 'hit' }, m.hits);
        c.inc({ name, result: 'stale' }, m.staleHits);
        c.inc({ name, result: 'miss' }, m.misses);
      }
    });
    snapshotCounter(n.cacheLayerRequests, 'Cache lookups answered by each layer, by result', ['name', 'layer', 'result'], (c) => {
      for (const { component, name } of this.caches.values()) {
        for (const layer of component.getMetrics().layers) {
          c.inc({ name, layer: layer.name, result: 'hit' }, layer.hits);
          c.inc({ name, layer: layer.name, result: 'stale' }, layer.staleHits);
          c.inc({ name, layer: layer.name, result: 'miss' }, layer.misses);
        }
      }
    });
    gauge(n.cacheHitRatio, 'Cache hits / lookups since creation, 0..1', ['name'], (g) => {
      for (const { component, name } of this.caches.values()) g.set({ name }, component.getMetrics().hitRate);
    });
    gauge(n.cacheLayerHitRatio, 'Hits / lookups of each cache layer since creation, 0..1', ['name', 'layer'], (g) => {
      for (const { component, name } of this.caches.values()) {
        for (const layer of component.getMetrics().layers) g.set({ name, layer: layer.name }, layer.hitRate);
      }
    });
    snapshotCounter(n.cacheLoads, 'Cache loader calls', ['name'], (c) => {
      for (const { component, name } of this.caches.values()) c.inc({ name }, component.getMetrics().loads);
    });
    snapshotCounter(n.cacheLoadErrors, 'Cache loader calls that failed or timed out', ['name'], (c) => {
      for (const { component, name } of this.caches.values()) c.inc({ name }, component.getMetrics().loadErrors);
    });
    snapshotCounter(n.cacheCoalesced, 'Cache calls that joined a load in flight', ['name'], (c) => {
      for (const { component, name } of this.caches.values()) c.inc({ name }, component.getMetrics().coalesced);
    });
    snapshotCounter(n.cacheLayerErrors, 'Remote cache layer commands that failed or timed out', ['name', 'layer'], (c) => {
      for (const { component, name } of this.caches.values()) {
        for (const layer of component.getMetrics().layers) {
          if (layer.state !== 'memory') c.inc({ name, layer: layer.name }, layer.errors);
        }
      }
    });
    gauge(n.cacheEntries, 'Entries in the memory cache layer', ['name'], (g) => {
      for (const { component, name } of this.caches.values()) g.set({ name }, component.getMetrics().memoryEntries);
    });

    // Health.
    gauge(n.healthScore, 'Health score, 0..100', ['name'], (g) => {
      for (const { component, name } of this.monitors.values()) g.set({ name }, component.getSystemHealth().score);
    });
    gauge(n.healthStatus, 'Overall health status: 1 for the current one', ['name', 'status'], (g) => {
      for (const { component, name } of this.monitors.values()) {
        const overall = component.getSystemHealth().overall;
        for (const status of HEALTH_STATUSES) g.set({ name, status }, status === overall ? 1 : 0);
      }
    });
    gauge(n.healthComponentStatus, 'Component health status: 1 for the current one', ['name', 'component', 'status'], (g) => {
      for (const { component, name } of this.monitors.values()) {
        for (const c of component.getSystemHealth().components) {
          const label = this.componentLabel.of(c.component);
          for (const status of COMPONENT_STATUSES) g.set({ name, component: label, status }, status === c.status ? 1 : 0);
        }
      }
    });
    this.healthChecks = counter(n.healthChecks, 'Health check runs by result', ['name', 'component', 'status']);

    // Degradation.
    gauge(n.degradationLevel, 'Index of the degradation level in force, 0 for the most capable', ['name'], (g) => {
      for (const { component, name } of this.degradations.values()) g.set({ name }, component.getCurrentState().levelIndex);
    });
    gauge(n.degradationLevelActive, 'Degradation level: 1 for the level in force', ['name', 'level'], (g) => {
      for (const { component, name } of this.degradations.values()) {
        const current = component.getCurrentState().level;
        for (const level of component.getLevels()) g.set({ name, level }, level === current ? 1 : 0);
      }
    });
    this.degradationTransitions = counter(n.degradationTransitions, 'Degradation level changes (one step each)', ['name', 'from', 'to', 'trigger']);
    gauge(n.degradationFeaturesDisabled, 'Features off now', ['name'], (g) => {
      for (const { component, name } of this.degradations.values()) {
        g.set({ name }, component.getFeatures().filter((f) => !f.available).length);
      }
    });

    // Self-healing.
    this.healingEvents = counter(n.healingEvents, 'Self-healer events by type', ['name', 'type']);
    this.healingDuration = new Histogram({
      name: n.healingRecoveryDuration,
      help: 'Duration of recoveries that ended, in seconds',
      labelNames: ['name', 'status'],
      buckets,
      registers,
    });
    gauge(n.healingActiveRecoveries, 'Recoveries running now', ['name'], (g) => {
      for (const { component, name } of this.healers.values()) g.set({ name }, component.getStatistics().activeRecoveries);
    });
    gauge(n.healingOpenFailures, 'Components with a failure not resolved yet', ['name'], (g) => {
      for (const { component, name } of this.healers.values()) g.set({ name }, component.getStatistics().openFailures);
    });

    // Chaos.
    this.chaosOutcome = counter(n.chaosExperimentOutcome, 'Chaos experiment runs by outcome', ['experiment', 'outcome']);
    gauge(n.chaosExperimentsRunning, 'Chaos experiment runs in progress', [], (g) => {
      let running = 0;
      for (const runner of this.runners.keys()) running += runner.running().length;
      g.set(running);
    });
    this.chaosActions = counter(n.chaosActionsInjected, 'Chaos experiment actions injected', ['experiment', 'kind']);
    this.chaosInjections = counter(n.chaosFaultInjections, 'Calls a chaos registry fault was injected into', ['dependency', 'kind']);
    gauge(n.chaosActiveFaults, 'Faults active in chaos registries', ['dependency'], (g) => {
      for (const registry of this.chaosRegistries.keys()) {
        for (const fault of registry.active()) g.inc({ dependency: this.dependencyLabel.of(fault.dependency) }, 1);
      }
    });
  }

  /**
   * Observes any supported component (see {@link ObservableComponent}); returns a function that stops
   * observing it and removes its series.
   * @throws TypeError for anything else.
   */
  observe(component: ObservableComponent, options: ObserveOptions = {}): Unsubscribe {
    if (component instanceof CircuitBreakerManager) return this.observeBreakerManager(component);
    if (component instanceof CircuitBreaker) return this.observeBreaker(component, options);
    if (component instanceof Retry) return this.observeRetry(component, options);
    if (component instanceof Bulkhead) return this.observeBulkhead(component, options);
    if (component instanceof RateLimiter) return this.observeRateLimiter(component, options);
    if (component instanceof Timeout) return this.observeTimeout(component, options);
    if (component instanceof Fallback) return this.observeFallback(component as Fallback<unknown>, options);
    if (component instanceof Hedge) return this.observeHedge(component, options);
    if (component instanceof AdaptiveConcurrency) return this.observeAdaptiveConcurrency(component, options);
    if (component instanceof MultiLayerCache) return this.observeCache(component, options);
    if (component instanceof HealthMonitor) return this.observeHealth(component, options);
    if (component instanceof GracefulDegradation) return this.observeDegradation(component, options);
    if (component instanceof SelfHealer) return this.observeHealer(component, options);
    if (component instanceof ExperimentRunner) return this.observeExperiments(component);
    if (component instanceof ChaosRegistry) return this.observeChaosRegistry(component);
    throw new TypeError(`PrometheusMetrics.observe: unsupported component ${describe(component)}`);
  }

  /** Observes a circuit breaker: state, calls by outcome and duration, refusals, transitions, window rates. */
  observeBreaker(breaker: CircuitBreaker, options: ObserveOptions = {}): Unsubscribe {
    const name = options.name ?? breaker.name;
    return this.track(this.breakers, name, breaker, () => {
      const kinds = this.r4j ? R4J_KINDS : OUTCOMES;
      const label = this.r4j ? 'kind' : 'outcome';
      const durations = kinds.map((kind) => this.breakerDuration.labels({ name, [label]: kind }));
      const counts = this.breakerCalls === undefined ? undefined : OUTCOMES.map((outcome) => this.breakerCalls?.labels({ name, outcome }));
      const max = R4J_KINDS.map(() => new WindowedMax(this.clock, this.maxWindowMs));
      const notPermitted = this.breakerNotPermitted.labels(this.r4j ? { name, kind: 'not_permitted' } : { name });
      const slow = this.breakerSlowCalls.labels({ name });
      // Every series starts at zero, so rate() and increase() see the first events.
      for (const kind of kinds) this.breakerDuration.zero({ name, [label]: kind });
      for (const c of counts ?? []) c?.inc(0);
      notPermitted.inc(0);
      slow.inc(0);
      const record = (i: 0 | 1 | 2, durationMs: number, isSlow: boolean): void => {
        durations[i]?.observe(durationMs / 1000);
        counts?.[i]?.inc();
        if (this.r4j) max[i]?.record(durationMs);
        if (isSlow) slow.inc();
      };
      const offs = [
        breaker.on('success', (e) => record(0, e.durationMs, e.slow)),
        breaker.on('failure', (e) => record(1, e.durationMs, e.slow)),
        breaker.on('ignored', (e) => record(2, e.durationMs, false)),
        breaker.on('rejected', () => notPermitted.inc()),
        breaker.on('stateChange', (e) => this.breakerTransitions.inc({ name, from: e.from, to: e.to })),
      ];
      const entry: ObservedBreaker = {
        component: breaker,
        name,
        max,
        off: () => {
          for (const off of offs) off();
          for (const kind of kinds) this.breakerDuration.remove({ name, [label]: kind });
          for (const outcome of OUTCOMES) this.breakerCalls?.remove({ name, outcome });
          this.breakerNotPermitted.remove(this.r4j ? { name, kind: 'not_permitted' } : { name });
          this.breakerSlowCalls.remove({ name });
          for (const from of STATES) for (const to of STATES) this.breakerTransitions.remove({ name, from, to });
        },
      };
      return entry;
    });
  }

  /**
   * Observes every breaker of a {@link CircuitBreakerManager}, present and future; a removed breaker's series
   * go with it.
   */
  observeBreakerManager(manager: CircuitBreakerManager): Unsubscribe {
    const existing = this.managers.get(manager);
    if (existing !== undefined) return existing;
    const offs = new Map<string, Unsubscribe>();
    const add = (name: string): void => {
      const breaker = manager.get(name);
      if (breaker !== undefined && !offs.has(name)) offs.set(name, this.observeBreaker(breaker));
    };
    for (const name of manager.names()) add(name);
    const offCreated = manager.on('created', ({ name }) => add(name));
    const offRemoved = manager.on('removed', ({ name }) => {
      offs.get(name)?.();
      offs.delete(name);
    });
    const off = once(() => {
      offCreated();
      offRemoved();
      for (const unsubscribe of offs.values()) unsubscribe();
      offs.clear();
      this.managers.delete(manager);
    });
    this.managers.set(manager, off);
    return off;
  }

  /** Observes a retry policy: calls by kind (with or without retry, successful or failed), retries, budget refusals. */
  observeRetry(retry: Retry, options: ObserveOptions = {}): Unsubscribe {
    const name = options.name ?? retry.name;
    return this.track(this.retries, name, retry, () => {
      const [okFirst, okRetried, failedFirst, failedRetried] = RETRY_KINDS.map((kind) => this.retryCalls.labels({ name, kind }));
      const attempts = this.retryAttempts.labels({ name });
      const budget = this.retryBudgetExhausted.labels({ name });
      for (const c of [okFirst, okRetried, failedFirst, failedRetried, attempts, budget]) c?.inc(0);
      const failed = (n: number): void => (n > 1 ? failedRetried : failedFirst)?.inc();
      const offs = [
        retry.on('success', (e) => (e.attempts > 1 ? okRetried : okFirst)?.inc()),
        retry.on('giveUp', (e) => failed(e.attempts)),
        retry.on('budgetExhausted', (e) => {
          budget.inc();
          failed(e.attempts);
        }),
        retry.on('retry', () => attempts.inc()),
      ];
      return {
        component: retry,
        name,
        off: () => {
          for (const off of offs) off();
          for (const kind of RETRY_KINDS) this.retryCalls.remove({ name, kind });
          this.retryAttempts.remove({ name });
          this.retryBudgetExhausted.remove({ name });
        },
      };
    });
  }

  /** Observes a bulkhead: free, running and queued slots (read at scrape time), refusals by reason. */
  observeBulkhead(bulkhead: Bulkhead, options: ObserveOptions = {}): Unsubscribe {
    const name = options.name ?? bulkhead.name;
    return this.track(this.bulkheads, name, bulkhead, () => {
      this.bulkheadRejected.inc({ name, reason: 'full' }, 0);
      this.bulkheadRejected.inc({ name, reason: 'queue_timeout' }, 0);
      const off = bulkhead.on('rejected', (e) => this.bulkheadRejected.inc({ name, reason: e.reason === 'full' ? 'full' : 'queue_timeout' }));
      return {
        component: bulkhead,
        name,
        off: () => {
          off();
          this.bulkheadRejected.remove({ name, reason: 'full' });
          this.bulkheadRejected.remove({ name, reason: 'queue_timeout' });
        },
      };
    });
  }

  /** Observes a rate limiter: available permits and waiting callers (read at scrape time), refusals. */
  observeRateLimiter(limiter: RateLimiter, options: ObserveOptions = {}): Unsubscribe {
    const name = options.name ?? limiter.name;
    return this.track(this.limiters, name, limiter, () => {
      const rejected = this.rateLimiterRejected.labels({ name });
      rejected.inc(0);
      const off = limiter.on('rejected', () => rejected.inc());
      return {
        component: limiter,
        name,
        off: () => {
          off();
          this.rateLimiterRejected.remove({ name });
        },
      };
    });
  }

  /**
   * Observes a timeout: calls that reached their deadline (`kind="timed_out"`; resilience4j naming:
   * `resilience4j_timelimiter_calls_total{kind="timeout"}`). A cooperative timeout counts a call when its
   * deadline passes, even if a late value is then returned. The `name` label defaults to the timeout's `name`.
   */
  observeTimeout(timeout: Timeout, options: ObserveOptions = {}): Unsubscribe {
    const name = options.name ?? timeout.name;
    return this.track(this.timeouts, name, timeout, () => {
      const labels = { name, kind: this.r4j ? 'timeout' : 'timed_out' };
      const timedOut = this.timeoutCalls.labels(labels);
      timedOut.inc(0);
      const off = timeout.on('timeout', () => timedOut.inc());
      return {
        component: timeout,
        name,
        off: () => {
          off();
          this.timeoutCalls.remove(labels);
        },
      };
    });
  }

  /** Observes a fallback: calls it replaced, by reason (`error` or `result`). */
  observeFallback(fallback: Fallback<unknown>, options: ObserveOptions = {}): Unsubscribe {
    const name = options.name ?? fallback.name;
    return this.track(this.fallbacks, name, fallback, () => {
      const [error, result] = FALLBACK_REASONS.map((reason) => this.fallbackHandled.labels({ name, reason }));
      error?.inc(0);
      result?.inc(0);
      const off = fallback.on('fallback', (e) => (e.kind === 'error' ? error : result)?.inc());
      return {
        component: fallback,
        name,
        off: () => {
          off();
          for (const reason of FALLBACK_REASONS) this.fallbackHandled.remove({ name, reason });
        },
      };
    });
  }

  /**
   * Observes a hedge: hedged attempts started, by reason (`delay` or `failure`), and the current hedging
   * delay (read at scrape time). The `name` label defaults to the hedge's `name`.
   */
  observeHedge(hedge: Hedge, options: ObserveOptions = {}): Unsubscribe {
    const name = options.name ?? hedge.name;
    return this.track(this.hedges, name, hedge, () => {
      const [delay, failure] = HEDGE_REASONS.map((reason) => this.hedgeAttempts.labels({ name, reason }));
      delay?.inc(0);
      failure?.inc(0);
      const off = hedge.on('hedge', (e) => (e.reason === 'delay' ? delay : failure)?.inc());
      return {
        component: hedge,
        name,
        off: () => {
          off();
          for (const reason of HEDGE_REASONS) this.hedgeAttempts.remove({ name, reason });
        },
      };
    });
  }

  /** Observes an adaptive concurrency limit: the limit and calls in flight (read at scrape time), shed calls, limit moves. */
  observeAdaptiveConcurrency(limiter: AdaptiveConcurrency, options: ObserveOptions = {}): Unsubscribe {
    const name = options.name ?? limiter.name;
    return this.track(this.adaptiveLimits, name, limiter, () => {
      const rejected = this.adaptiveRejected.labels({ name });
      const [increase, decrease] = LIMIT_DIRECTIONS.map((direction) => this.adaptiveLimitChanges.labels({ name, direction }));
      for (const c of [rejected, increase, decrease]) c?.inc(0);
      const offs = [
        limiter.on('rejected', () => rejected.inc()),
        limiter.on('limitChange', (e) => (e.to > e.from ? increase : decrease)?.inc()),
      ];
      return {
        component: limiter,
        name,
        off: () => {
          for (const off of offs) off();
          this.adaptiveRejected.remove({ name });
          for (const direction of LIMIT_DIRECTIONS) this.adaptiveLimitChanges.remove({ name, direction });
        },
      };
    });
  }

  /** Observes a multi-layer cache: lookups and hit ratios per layer, loads, layer errors (all read at scrape time). */
  observeCache(cache: MultiLayerCache, options: ObserveOptions = {}): Unsubscribe {
    const name = options.name ?? cache.name;
    return this.track(this.caches, name, cache, () => ({ component: cache, name, off: () => undefined }));
  }

  /** Observes a health monitor: score and statuses (read at scrape time), check runs by result. */
  observeHealth(monitor: HealthMonitor, options: ObserveOptions = {}): Unsubscribe {
    const name = options.name ?? 'health';
    return this.track(this.monitors, name, monitor, () => {
      const seen = new Set<string>();
      const off = monitor.on('checkCompleted', (result) => {
        const labels = { name, component: this.componentLabel.of(result.component), status: result.status };
        seen.add(labels.component);
        this.healthChecks.inc(labels);
      });
      return {
        component: monitor,
        name,
        off: () => {
          off();
          for (const component of seen) for (const status of HEALTH_STATUSES) this.healthChecks.remove({ name, component, status });
        },
      };
    });
  }

  /** Observes graceful degradation: level (read at scrape time), level changes, features off. */
  observeDegradation(degradation: GracefulDegradation, options: ObserveOptions = {}): Unsubscribe {
    const name = options.name ?? 'degradation';
    return this.track(this.degradations, name, degradation, () => {
      const seen: Labels[] = [];
      const off = degradation.on('levelChange', (e) => {
        const labels = { name, from: e.from, to: e.to, trigger: e.trigger };
        if (!seen.some((l) => l['from'] === labels.from && l['to'] === labels.to && l['trigger'] === labels.trigger)) seen.push(labels);
        this.degradationTransitions.inc(labels);
      });
      return {
        component: degradation,
        name,
        off: () => {
          off();
          for (const labels of seen) this.degradationTransitions.remove(labels);
        },
      };
    });
  }

  /** Observes a self-healer: events by type, recovery durations, active recoveries and open failures. */
  observeHealer(healer: SelfHealer, options: ObserveOptions = {}): Unsubscribe {
    const name = options.name ?? healer.name;
    return this.track(this.healers, name, healer, () => {
      const types = new Set<string>();
      const off = healer.onEvent((e) => {
        types.add(e.type);
        this.healingEvents.inc({ name, type: e.type });
        if (e.durationMs !== undefined && (e.type === 'recovery-succeeded' || e.type === 'recovery-failed')) {
          this.healingDuration.observe({ name, status: e.type === 'recovery-succeeded' ? 'succeeded' : 'failed' }, e.durationMs / 1000);
        }
      });
      return {
        component: healer,
        name,
        off: () => {
          off();
          for (const type of types) this.healingEvents.remove({ name, type });
          this.healingDuration.remove({ name, status: 'succeeded' });
          this.healingDuration.remove({ name, status: 'failed' });
        },
      };
    });
  }

  /**
   * Observes a chaos experiment runner: outcomes of finished runs (`succeeded`, `deviated`, `aborted`,
   * `failed`) and refused ones (`refused`), actions injected, runs in progress. Counters are kept after
   * unsubscribing (experiment names are not tied to one runner).
   */
  observeExperiments(runner: ExperimentRunner): Unsubscribe {
    const existing = this.runners.get(runner);
    if (existing !== undefined) return existing;
    const offs = [
      runner.on('finished', ({ run }) => this.chaosOutcome.inc({ experiment: this.experimentLabel.of(run.name), outcome: run.status })),
      runner.on('refused', ({ name }) => this.chaosOutcome.inc({ experiment: this.experimentLabel.of(name), outcome: 'refused' })),
      runner.on('injected', ({ name, kind }) => this.chaosActions.inc({ experiment: this.experimentLabel.of(name), kind })),
    ];
    const off = once(() => {
      for (const unsubscribe of offs) unsubscribe();
      this.runners.delete(runner);
    });
    this.runners.set(runner, off);
    return off;
  }

  /** Observes a chaos registry: calls faults were injected into, by dependency and kind; active faults. */
  observeChaosRegistry(registry: ChaosRegistry): Unsubscribe {
    const existing = this.chaosRegistries.get(registry);
    if (existing !== undefined) return existing;
    const offInjected = registry.on('injected', ({ dependency, kind }) =>
      this.chaosInjections.inc({ dependency: this.dependencyLabel.of(dependency), kind }),
    );
    const off = once(() => {
      offInjected();
      this.chaosRegistries.delete(registry);
    });
    this.chaosRegistries.set(registry, off);
    return off;
  }

  /** The exposition text of the registry, as a scrape would get it. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link metrics}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** A `(req, res)` handler answering scrapes of this registry; see {@link metricsHandler}. */
  handler(options?: MetricsHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
    return metricsHandler(this.registry, options);
  }

  /** Stops observing every component. The families stay registered. */
  dispose(): void {
    for (const off of [...this.managers.values(), ...this.runners.values(), ...this.chaosRegistries.values()]) off();
    const maps = [
      this.breakers,
      this.retries,
      this.bulkheads,
      this.limiters,
      this.timeouts,
      this.fallbacks,
      this.hedges,
      this.adaptiveLimits,
      this.caches,
      this.monitors,
      this.degradations,
      this.healers,
    ];
    for (const map of maps) {
      for (const entry of [...(map as Map<string, Observed<unknown>>).values()]) entry.off();
      map.clear();
    }
  }

  /**
   * Registers `component` under `name` in `map` (made by `create`), or returns the existing unsubscribe when
   * that component is already observed under that name.
   * @throws RangeError when another component of the same kind is observed under `name`.
   */
  private track<T, E extends Observed<T>>(map: Map<string, E>, name: string, component: T, create: () => E): Unsubscribe {
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(`PrometheusMetrics: the name label must be a non-empty string, received ${describe(name)}`);
    }
    const existing = map.get(name);
    if (existing !== undefined) {
      if (existing.component === component) return existing.off;
      throw new RangeError(
        `PrometheusMetrics: another component is already observed as "${name}"; pass { name } to observe it under another name`,
      );
    }
    const created = create();
    const off = once(() => {
      if (map.get(name) !== entry) return;
      map.delete(name);
      created.off();
    });
    const entry = { ...created, off } as E;
    map.set(name, entry);
    return off;
  }
}

/**
 * Creates a {@link PrometheusMetrics}.
 *
 * @example
 * ```ts
 * import { register } from 'prom-client';
 * const metrics = createPrometheusMetrics({ registry: register, naming: 'resilience4j' });
 * metrics.observe(circuitBreakers); // a CircuitBreakerManager: every breaker, present and future
 * app.get('/metrics', metrics.handler());
 * ```
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  return new PrometheusMetrics(options);
}

function once(fn: () => void): Unsubscribe {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function validate(options: PrometheusMetricsOptions): void {
  const v = new OptionsValidator('PrometheusMetrics');
  if (v.object('options', options)) {
    if (options.registry !== undefined && !(options.registry instanceof Registry)) v.fail('registry', 'a prom-client Registry', options.registry);
    if (options.prefix !== undefined && (typeof options.prefix !== 'string' || !PREFIX.test(options.prefix))) {
      v.fail('prefix', 'a metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]* or empty)', options.prefix);
    }
    v.oneOf('naming', options.naming, NAMINGS);
    const buckets = options.buckets as unknown;
    if (
      buckets !== undefined &&
      (!Array.isArray(buckets) ||
        buckets.length === 0 ||
        buckets.some((b, i) => typeof b !== 'number' || !Number.isFinite(b) || b <= 0 || (i > 0 && b <= (buckets[i - 1] as number))))
    ) {
      v.fail('buckets', 'a non-empty ascending array of positive finite numbers', buckets);
    }
    v.integer('maxLabelValues', options.maxLabelValues, 1);
    v.duration('maxWindowMs', options.maxWindowMs, true);
    v.clock('clock', options.clock);
  }
  v.throwIfInvalid();
}
