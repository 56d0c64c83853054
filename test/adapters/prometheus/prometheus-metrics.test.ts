import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createPrometheusMetrics,
  metricNames,
  metricsHandler,
  PrometheusMetrics,
  type PrometheusNaming,
} from '../../../src/adapters/prometheus/index.js';
import { WindowedMax } from '../../../src/adapters/prometheus/windowed-max.js';
import { InMemoryCacheLayer } from '../../../src/cache/in-memory-cache-layer.js';
import { MultiLayerCache } from '../../../src/cache/multi-layer-cache.js';
import { ChaosControl } from '../../../src/chaos/chaos-control.js';
import { ChaosRegistry } from '../../../src/chaos/chaos-registry.js';
import { ExperimentRunner, type ExperimentRun } from '../../../src/chaos/experiments/index.js';
import { isBrokenCircuitError, isInjectedFaultError, isRateLimitedError, isBulkheadFullError } from '../../../src/core/errors.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { GracefulDegradation } from '../../../src/degradation/graceful-degradation.js';
import { SelfHealer, type HealerEvent } from '../../../src/healing/self-healer.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { backoff } from '../../../src/policies/backoff/index.js';
import { AdaptiveConcurrency } from '../../../src/policies/adaptive-concurrency.js';
import { Bulkhead } from '../../../src/policies/bulkhead.js';
import { CircuitBreaker } from '../../../src/policies/circuit-breaker.js';
import { CircuitBreakerManager } from '../../../src/policies/circuit-breaker-manager.js';
import { Fallback } from '../../../src/policies/fallback.js';
import { Hedge } from '../../../src/policies/hedge.js';
import { pipeline } from '../../../src/policies/pipeline.js';
import { RateLimiter } from '../../../src/policies/rate-limiter.js';
import { Retry } from '../../../src/policies/retry.js';
import { Timeout } from '../../../src/policies/timeout.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { errorOf, track } from '../../support/promises.js';
import { find, parseExposition, value, type Exposition } from './parse-exposition.js';

failOnUnhandledRejections();

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(handler: Parameters<typeof createServer>[1] | express.Express): Promise<string> {
  const server = createServer(handler as Parameters<typeof createServer>[1]);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function scrape(url: string): Promise<{ exposition: Exposition; contentType: string | null; text: string }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { exposition: parseExposition(text), contentType: res.headers.get('content-type'), text };
}

/** Lets every timer and promise of the virtual clock run until `promise` settles. */
async function settle<T>(clock: VirtualClock, promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  const t = track(promise);
  for (let i = 0; i < 200 && t.state === 'pending'; i++) await clock.runAllAsync();
  if (t.state === 'pending') throw new Error('did not settle');
  return t.state === 'resolved' ? { ok: true, value: t.value as T } : { ok: false, error: t.error };
}

/**
 * A whole system driven through real components: retry -> breaker -> bulkhead -> rate limiter in a pipeline,
 * a multi-layer cache, a health monitor, graceful degradation, a self-healer, a chaos registry and runner.
 */
async function driveSystem(naming: PrometheusNaming) {
  const clock = new VirtualClock(1_000);
  const metrics = createPrometheusMetrics({ naming, clock });
  const breaker = new CircuitBreaker({ name: 'pricing', clock, window: { type: 'consecutive', failures: 2 }, openMs: 60_000 });
  const retry = new Retry({
    name: 'pricing-retry',
    clock,
    maxAttempts: 2,
    backoff: backoff.constant({ delayMs: 10 }),
    shouldRetry: (error) => !isBrokenCircuitError(error),
  });
  const bulkhead = new Bulkhead({ name: 'pricing-bulkhead', maxConcurrent: 2 });
  const limiter = new RateLimiter({ name: 'pricing-limiter', algorithm: 'token-bucket', capacity: 8, refillPerSecond: 0.001, clock });
  const cache = new MultiLayerCache({ name: 'quotes', clock, layers: [new InMemoryCacheLayer({ name: 'redis', clock })] });
  const health = new HealthMonitor({ clock });
  const degradation = new GracefulDegradation({ clock });
  const healer = new SelfHealer({ clock });
  const control = new ChaosControl({ environment: 'test', enabled: true });
  const chaos = new ChaosRegistry({ control, clock });
  const runner = new ExperimentRunner({ registry: chaos, clock, control, safeMode: false });
  for (const c of [breaker, retry, bulkhead, limiter, cache, health, healer, runner, chaos]) metrics.observe(c);
  metrics.observe(degradation, { name: 'api' });

  const call = pipeline(retry, breaker, bulkhead, limiter);
  // 3 successes at the first attempt, the first taking 250 ms.
  let first = true;
  for (let i = 0; i < 3; i++) {
    const r = await settle(clock, call.execute(() => {
      if (first) clock.advance(250);
      first = false;
      return 'ok';
    }));
    expect(r.ok).toBe(true);
  }
  // Fails once, succeeds on the retry.
  let attempts = 0;
  expect((await settle(clock, call.execute(() => (++attempts === 1 ? Promise.reject(new Error('flaky')) : 'ok')))).ok).toBe(true);
  // Fails twice: the second failure opens the breaker.
  expect((await settle(clock, call.execute(() => Promise.reject(new Error('down'))))).ok).toBe(false);
  expect(breaker.state).toBe('open');
  // Refused by the open breaker, not retried.
  const refused = await settle(clock, call.execute(() => 'never'));
  expect(!refused.ok && isBrokenCircuitError(refused.error)).toBe(true);

  // Rate limiter: 7 permits spent above, one left; the next call takes it, the one after is refused.
  await limiter.execute(() => 'ok');
  expect(isRateLimitedError(await errorOf(limiter.execute(() => 'no')))).toBe(true);

  // Cache: a load (miss), a hit in memory, a miss.
  await cache.getOrSet('quote:1', () => ({ total: 42 }));
  expect(await cache.get('quote:1')).toEqual({ total: 42 });
  expect(await cache.get('quote:404')).toBeUndefined();

  // Health: a critical unhealthy database check and a healthy queue check.
  health.registerCheck('db', () => false, { component: 'database', critical: true });
  health.registerCheck('queue', () => true, { component: 'queue' });
  await settle(clock, health.runAll());

  // Degradation two steps down.
  await settle(clock, degradation.degrade('minimal', 'load test'));

  // Self-healing: a detected failure and its recovery.
  const healerEvents: HealerEvent[] = [];
  healer.onEvent((e) => healerEvents.push(e));
  await settle(clock, healer.detectFailure('payments', 'network', new Error('connection reset')));

  // Chaos: a registry fault injected into one call, and a finished experiment.
  chaos.inject('inventory', { kind: 'error', rate: 1 });
  expect(isInjectedFaultError(await errorOf(chaos.injector('inventory').execute(() => 'ok')))).toBe(true);
  const run = await settle(
    clock,
    runner.run({ name: 'latency-spike', durationMs: 1_000, method: [{ name: 'noop', kind: 'latency', inject: () => () => undefined }] }),
  );
  expect(run.ok && (run.value as ExperimentRun).status).toBe('succeeded');

  // Bulkhead: two calls hold both slots, a third is refused.
  const release: Array<() => void> = [];
  const held = [0, 1].map(() => bulkhead.execute(() => new Promise<void>((resolve) => release.push(resolve))));
  expect(isBulkheadFullError(await errorOf(bulkhead.execute(() => undefined)))).toBe(true);

  // Search: fallback -> adaptive concurrency -> timeout -> hedge. The first call is slow in both attempts,
  // times out (one hedge on the way), counts as a drop (limit 4 -> 3) and falls back; the second is fast.
  const fallback = new Fallback({ name: 'search-fallback', fallback: () => 'stale' });
  const adaptive = new AdaptiveConcurrency({ algorithm: 'aimd', name: 'search-limit', initialLimit: 4, clock });
  const timeout = new Timeout({ ms: 100, strategy: 'aggressive', clock });
  const hedge = new Hedge({ delayMs: 20 }, { clock });
  for (const c of [fallback, adaptive, hedge]) metrics.observe(c, { name: 'search' });
  metrics.observe(timeout, { name: 'search' });
  const search = pipeline(fallback, adaptive, timeout, hedge);
  expect(await settle(clock, search.execute(() => new Promise((resolve) => clock.schedule(() => resolve('slow'), 500))))).toEqual({
    ok: true,
    value: 'stale',
  });
  expect(await settle(clock, search.execute(() => 'fresh'))).toEqual({ ok: true, value: 'fresh' });

  return { clock, metrics, breaker, retry, bulkhead, limiter, cache, health, degradation, healer, healerEvents, chaos, runner, release, held };
}

describe('PrometheusMetrics over a real system, scraped over HTTP', () => {
  it("publishes every family under the antifragile names, with types, bounded labels and the components' values", async () => {
    const sys = await driveSystem('antifragile');
    const url = await listen(sys.metrics.handler({ path: '/metrics' }));
    const { exposition: e, contentType } = await scrape(`${url}/metrics`);
    sys.release.forEach((r) => r());
    await Promise.all(sys.held);
    const n = metricNames('antifragile');
    expect(contentType).toBe(Registry.PROMETHEUS_CONTENT_TYPE);

    // Breaker: one-hot state over every state, the code, calls by outcome, refusals, transitions, durations.
    expect(find(e, n.breakerState, { name: 'pricing' }).map((s) => [s.labels['state'], s.value])).toEqual([
      ['closed', 0],
      ['open', 1],
      ['half-open', 0],
      ['isolated', 0],
      ['disabled', 0],
    ]);
    expect(e.types.get(n.breakerState)).toBe('gauge');
    expect(value(e, n.breakerStateCode, { name: 'pricing' })).toBe(1);
    expect(e.types.get(n.breakerCalls)).toBe('counter');
    expect(value(e, n.breakerCalls, { name: 'pricing', outcome: 'success' })).toBe(4);
    expect(value(e, n.breakerCalls, { name: 'pricing', outcome: 'failure' })).toBe(3);
    expect(value(e, n.breakerCalls, { name: 'pricing', outcome: 'ignored' })).toBe(0);
    expect(value(e, n.breakerNotPermitted, { name: 'pricing' })).toBe(1);
    expect(value(e, n.breakerTransitions, { name: 'pricing', from: 'closed', to: 'open' })).toBe(1);
    expect(e.types.get(n.breakerCallDuration)).toBe('histogram');
    expect(value(e, `${n.breakerCallDuration}_count`, { name: 'pricing', outcome: 'success' })).toBe(4);
    expect(value(e, `${n.breakerCallDuration}_sum`, { name: 'pricing', outcome: 'success' })).toBeCloseTo(0.25, 9);
    expect(value(e, `${n.breakerCallDuration}_bucket`, { name: 'pricing', outcome: 'success', le: '0.1' })).toBe(3);
    expect(value(e, `${n.breakerCallDuration}_bucket`, { name: 'pricing', outcome: 'success', le: '0.25' })).toBe(4);
    expect(value(e, n.breakerHealthScore, { name: 'pricing' })).toBe(0);
    expect(find(e, 'resilience4j_circuitbreaker_state')).toEqual([]);

    // Retry kinds, retries and budget.
    const kinds = Object.fromEntries(find(e, n.retryCalls, { name: 'pricing-retry' }).map((s) => [s.labels['kind'], s.value]));
    expect(kinds).toEqual({ successful_without_retry: 3, successful_with_retry: 1, failed_with_retry: 1, failed_without_retry: 1 });
    expect(value(e, n.retryAttempts, { name: 'pricing-retry' })).toBe(2);

    // Bulkhead while both slots were held, rate limiter after its last permit.
    expect(value(e, n.bulkheadRunning, { name: 'pricing-bulkhead' })).toBe(2);
    expect(value(e, n.bulkheadAvailable, { name: 'pricing-bulkhead' })).toBe(0);
    expect(value(e, n.bulkheadMaxConcurrent, { name: 'pricing-bulkhead' })).toBe(2);
    expect(value(e, n.bulkheadQueued, { name: 'pricing-bulkhead' })).toBe(0);
    expect(value(e, n.bulkheadRejected, { name: 'pricing-bulkhead', reason: 'full' })).toBe(1);
    expect(value(e, n.rateLimiterAvailable, { name: 'pricing-limiter' })).toBe(0);
    expect(value(e, n.rateLimiterWaiting, { name: 'pricing-limiter' })).toBe(0);
    expect(value(e, n.rateLimiterRejected, { name: 'pricing-limiter' })).toBe(1);

    // Cache: exactly what getMetrics() reports, per layer.
    const cm = sys.cache.getMetrics();
    expect(cm.hits).toBe(1);
    expect(value(e, n.cacheRequests, { name: 'quotes', result: 'hit' })).toBe(cm.hits);
    expect(value(e, n.cacheRequests, { name: 'quotes', result: 'miss' })).toBe(cm.misses);
    expect(e.types.get(n.cacheRequests)).toBe('counter');
    expect(cm.layers.map((l) => l.name)).toEqual(['memory', 'redis']);
    for (const layer of cm.layers) {
      expect(value(e, n.cacheLayerRequests, { name: 'quotes', layer: layer.name, result: 'hit' })).toBe(layer.hits);
      expect(value(e, n.cacheLayerRequests, { name: 'quotes', layer: layer.name, result: 'miss' })).toBe(layer.misses);
      expect(value(e, n.cacheLayerHitRatio, { name: 'quotes', layer: layer.name })).toBeCloseTo(layer.hitRate, 9);
    }
    expect(value(e, n.cacheLayerHitRatio, { name: 'quotes', layer: 'memory' })).toBeGreaterThan(0);
    expect(value(e, n.cacheLoads, { name: 'quotes' })).toBe(1);
    expect(value(e, n.cacheEntries, { name: 'quotes' })).toBe(1);

    // Health, degradation.
    const sh = sys.health.getSystemHealth();
    expect(value(e, n.healthScore, { name: 'health' })).toBe(sh.score);
    expect(value(e, n.healthStatus, { name: 'health', status: 'unhealthy' })).toBe(1);
    expect(value(e, n.healthStatus, { name: 'health', status: 'healthy' })).toBe(0);
    expect(value(e, n.healthComponentStatus, { name: 'health', component: 'database', status: 'unhealthy' })).toBe(1);
    expect(value(e, n.healthComponentStatus, { name: 'health', component: 'queue', status: 'healthy' })).toBe(1);
    expect(value(e, n.healthChecks, { name: 'health', component: 'database', status: 'unhealthy' })).toBe(1);
    expect(value(e, n.degradationLevel, { name: 'api' })).toBe(2);
    expect(value(e, n.degradationLevelActive, { name: 'api', level: 'minimal' })).toBe(1);
    expect(value(e, n.degradationLevelActive, { name: 'api', level: 'full' })).toBe(0);
    expect(value(e, n.degradationTransitions, { name: 'api', from: 'full', to: 'reduced', trigger: 'manual' })).toBe(1);
    expect(value(e, n.degradationTransitions, { name: 'api', from: 'reduced', to: 'minimal', trigger: 'manual' })).toBe(1);

    // Self-healing: one series per event type seen, counting exactly the events emitted.
    expect(sys.healerEvents.length).toBeGreaterThan(1);
    const byType = new Map<string, number>();
    for (const ev of sys.healerEvents) byType.set(ev.type, (byType.get(ev.type) ?? 0) + 1);
    expect(Object.fromEntries(find(e, n.healingEvents, { name: 'self-healer' }).map((s) => [s.labels['type'], s.value]))).toEqual(
      Object.fromEntries(byType),
    );
    expect(value(e, n.healingEvents, { name: 'self-healer', type: 'failure-detected' })).toBe(1);

    // Chaos.
    expect(value(e, n.chaosExperimentOutcome, { experiment: 'latency-spike', outcome: 'succeeded' })).toBe(1);
    expect(value(e, n.chaosActionsInjected, { experiment: 'latency-spike', kind: 'latency' })).toBe(1);
    expect(value(e, n.chaosExperimentsRunning)).toBe(0);
    expect(value(e, n.chaosFaultInjections, { dependency: 'inventory', kind: 'error' })).toBe(1);
    expect(value(e, n.chaosActiveFaults, { dependency: 'inventory' })).toBe(1);

    // Timeout, fallback, hedge, adaptive concurrency.
    expect(value(e, n.timeoutCalls, { name: 'search', kind: 'timed_out' })).toBe(1);
    expect(value(e, n.fallbackHandledCalls, { name: 'search', reason: 'error' })).toBe(1);
    expect(value(e, n.fallbackHandledCalls, { name: 'search', reason: 'result' })).toBe(0);
    expect(value(e, n.hedgeAttempts, { name: 'search', reason: 'delay' })).toBe(1);
    expect(value(e, n.hedgeAttempts, { name: 'search', reason: 'failure' })).toBe(0);
    expect(value(e, n.hedgeDelay, { name: 'search' })).toBe(0.02);
    expect(value(e, n.adaptiveConcurrencyLimit, { name: 'search' })).toBe(3);
    expect(value(e, n.adaptiveConcurrencyInFlight, { name: 'search' })).toBe(0);
    expect(value(e, n.adaptiveConcurrencyRejected, { name: 'search' })).toBe(0);
    expect(value(e, n.adaptiveConcurrencyLimitChanges, { name: 'search', direction: 'decrease' })).toBe(1);
    expect(value(e, n.adaptiveConcurrencyLimitChanges, { name: 'search', direction: 'increase' })).toBe(0);

    // Prometheus naming rules: counters end in _total, durations in _seconds, every family has help text.
    for (const [family, type] of e.types) {
      expect(family).toMatch(/^antifragile_[a-z0-9_]+$/);
      if (type === 'counter') expect(family).toMatch(/_total$/);
      else expect(family).not.toMatch(/_total$/);
      if (type === 'histogram') expect(family).toMatch(/_seconds$/);
      expect(e.help.get(family)?.length).toBeGreaterThan(0);
    }
    // No label carries a key, an error message or anything unbounded.
    const labelNames = new Set(e.samples.flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].sort()).toEqual(
      ['component', 'dependency', 'direction', 'experiment', 'from', 'kind', 'layer', 'le', 'level', 'name', 'outcome', 'reason', 'result', 'state', 'status', 'to', 'trigger', 'type'].sort(),
    );
    expect(e.samples.some((s) => Object.values(s.labels).some((v) => v.includes('quote:') || v.includes('down')))).toBe(false);
  });

  it('publishes the resilience4j names, labels and units with naming: resilience4j', async () => {
    const sys = await driveSystem('resilience4j');
    const url = await listen(sys.metrics.handler());
    const { exposition: e } = await scrape(`${url}/anything`);
    sys.release.forEach((r) => r());
    await Promise.all(sys.held);

    expect(find(e, 'resilience4j_circuitbreaker_state', { name: 'pricing' }).map((s) => [s.labels['state'], s.value])).toEqual([
      ['closed', 0],
      ['open', 1],
      ['half_open', 0],
      ['forced_open', 0],
      ['disabled', 0],
      ['metrics_only', 0],
    ]);
    expect(value(e, 'resilience4j_circuitbreaker_calls_seconds_count', { name: 'pricing', kind: 'successful' })).toBe(4);
    expect(value(e, 'resilience4j_circuitbreaker_calls_seconds_count', { name: 'pricing', kind: 'failed' })).toBe(3);
    expect(value(e, 'resilience4j_circuitbreaker_calls_seconds_count', { name: 'pricing', kind: 'ignored' })).toBe(0);
    expect(value(e, 'resilience4j_circuitbreaker_calls_seconds_sum', { name: 'pricing', kind: 'successful' })).toBeCloseTo(0.25, 9);
    expect(value(e, 'resilience4j_circuitbreaker_calls_seconds_max', { name: 'pricing', kind: 'successful' })).toBe(0.25);
    expect(value(e, 'resilience4j_circuitbreaker_not_permitted_calls_total', { name: 'pricing', kind: 'not_permitted' })).toBe(1);
    expect(e.types.get('resilience4j_circuitbreaker_not_permitted_calls_total')).toBe('counter');
    const m = sys.breaker.metrics();
    expect(value(e, 'resilience4j_circuitbreaker_failure_rate', { name: 'pricing' })).toBe(m.calls === 0 ? -1 : m.failureRate * 100);
    expect(value(e, 'resilience4j_circuitbreaker_buffered_calls', { name: 'pricing', kind: 'failed' })).toBe(m.failures);
    const kinds = Object.fromEntries(find(e, 'resilience4j_retry_calls_total', { name: 'pricing-retry' }).map((s) => [s.labels['kind'], s.value]));
    expect(kinds).toEqual({ successful_without_retry: 3, successful_with_retry: 1, failed_with_retry: 1, failed_without_retry: 1 });
    expect(e.types.get('resilience4j_retry_calls_total')).toBe('counter');
    expect(value(e, 'resilience4j_bulkhead_available_concurrent_calls', { name: 'pricing-bulkhead' })).toBe(0);
    expect(value(e, 'resilience4j_bulkhead_max_allowed_concurrent_calls', { name: 'pricing-bulkhead' })).toBe(2);
    expect(value(e, 'resilience4j_ratelimiter_available_permissions', { name: 'pricing-limiter' })).toBe(0);
    expect(value(e, 'resilience4j_ratelimiter_waiting_threads', { name: 'pricing-limiter' })).toBe(0);
    // Families resilience4j has no equivalent for keep their antifragile names; the replaced ones are gone.
    expect(value(e, 'antifragile_circuit_breaker_transitions_total', { name: 'pricing', from: 'closed', to: 'open' })).toBe(1);
    expect(value(e, 'antifragile_cache_layer_hit_ratio', { name: 'quotes', layer: 'memory' })).toBeGreaterThan(0);
    expect(find(e, 'antifragile_circuit_breaker_state')).toEqual([]);
    expect(find(e, 'antifragile_circuit_breaker_calls_total')).toEqual([]);
    expect(find(e, 'antifragile_retry_calls_total')).toEqual([]);
    // Timeouts take resilience4j's TimeLimiter family; fallback, hedge and adaptive concurrency have no equivalent.
    expect(find(e, 'resilience4j_timelimiter_calls_total')).toEqual([
      { name: 'resilience4j_timelimiter_calls_total', labels: { name: 'search', kind: 'timeout' }, value: 1 },
    ]);
    expect(e.types.get('resilience4j_timelimiter_calls_total')).toBe('counter');
    expect(find(e, 'antifragile_timeout_calls_total')).toEqual([]);
    expect(value(e, 'antifragile_fallback_handled_calls_total', { name: 'search', reason: 'error' })).toBe(1);
    expect(value(e, 'antifragile_hedge_attempts_total', { name: 'search', reason: 'delay' })).toBe(1);
    expect(value(e, 'antifragile_adaptive_concurrency_limit', { name: 'search' })).toBe(3);
  });

  it('ships a Grafana dashboard whose every expression names metrics present in a scrape', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../../dashboards/grafana-antifragile.json', import.meta.url), 'utf8')) as {
      title: string;
      panels: Array<{ title: string; targets: Array<{ expr: string; legendFormat?: string }> }>;
    };
    const sys = await driveSystem('antifragile');
    const { exposition } = await scrape(await listen(sys.metrics.handler()));
    sys.release.forEach((r) => r());
    await Promise.all(sys.held);
    const sampleNames = new Set(exposition.samples.map((s) => s.name));
    const labelsOf = new Map<string, Set<string>>();
    for (const s of exposition.samples) for (const l of Object.keys(s.labels)) (labelsOf.get(s.name) ?? labelsOf.set(s.name, new Set()).get(s.name))?.add(l);

    // The seed's four panels are there.
    const titles = dashboard.panels.map((p) => p.title);
    for (const title of ['Circuit Breaker Status', 'Cache Hit Rate', 'Chaos Experiment Results', 'Self-Healing Events']) expect(titles).toContain(title);
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(20);
    const used = new Set<string>();
    for (const expr of exprs) {
      const names = expr.match(/\b(?:antifragile|resilience4j)_[a-zA-Z0-9_]+\b/g) ?? [];
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) {
        expect(sampleNames, `${name} in ${expr}`).toContain(name);
        used.add(name);
      }
      // Label matchers and groupings name labels the metric has.
      const metricLabels = new Set(names.flatMap((name) => [...(labelsOf.get(name) ?? [])]));
      for (const [, labels] of expr.matchAll(/by \(([^)]*)\)/g)) {
        for (const label of (labels as string).split(',').map((l) => l.trim())) expect(metricLabels, `${label} in ${expr}`).toContain(label);
      }
      for (const [, label] of expr.matchAll(/\{([a-z_]+)=/g)) expect(metricLabels, `${label} in ${expr}`).toContain(label);
    }
    expect(used.size).toBeGreaterThan(25);
  });
});

describe('PrometheusMetrics: lifecycle and options', () => {
  it('unsubscribing stops counting and removes the series; observing twice is harmless; a second component under a used name throws', async () => {
    const metrics = new PrometheusMetrics();
    const breaker = new CircuitBreaker({ name: 'a' });
    const off = metrics.observe(breaker);
    expect(metrics.observe(breaker)).toBe(off);
    expect(() => metrics.observe(new CircuitBreaker({ name: 'a' }))).toThrow(RangeError);
    await breaker.execute(() => 'ok');
    let e = parseExposition(await metrics.metrics());
    expect(value(e, 'antifragile_circuit_breaker_calls_total', { name: 'a', outcome: 'success' })).toBe(1);
    off();
    off();
    await breaker.execute(() => 'ok');
    e = parseExposition(await metrics.metrics());
    expect(e.samples.filter((s) => s.labels['name'] === 'a')).toEqual([]);
    // Under another name, the second breaker is fine.
    metrics.observe(new CircuitBreaker({ name: 'a' }), { name: 'a-copy' });
    e = parseExposition(await metrics.metrics());
    expect(value(e, 'antifragile_circuit_breaker_state_code', { name: 'a-copy' })).toBe(0);
    metrics.dispose();
    e = parseExposition(await metrics.metrics());
    expect(e.samples.filter((s) => s.labels['name'] !== undefined)).toEqual([]);
  });

  it('follows the breakers of a CircuitBreakerManager as they are created and removed', async () => {
    const manager = new CircuitBreakerManager();
    manager.getOrCreate('payments');
    const metrics = createPrometheusMetrics({ prefix: 'shop_' });
    const off = metrics.observe(manager);
    const inventory = manager.getOrCreate('inventory');
    await inventory.execute(() => 'ok');
    let e = parseExposition(await metrics.metrics());
    expect(find(e, 'shop_circuit_breaker_state_code').map((s) => s.labels['name']).sort()).toEqual(['inventory', 'payments']);
    expect(value(e, 'shop_circuit_breaker_calls_total', { name: 'inventory', outcome: 'success' })).toBe(1);
    manager.remove('inventory');
    e = parseExposition(await metrics.metrics());
    expect(find(e, 'shop_circuit_breaker_state_code').map((s) => s.labels['name'])).toEqual(['payments']);
    off();
    manager.getOrCreate('later');
    e = parseExposition(await metrics.metrics());
    expect(find(e, 'shop_circuit_breaker_state_code')).toEqual([]);
  });

  it('bounds free-form labels: experiment names past maxLabelValues are reported as other', async () => {
    const clock = new VirtualClock();
    const control = new ChaosControl({ environment: 'test', enabled: true });
    const runner = new ExperimentRunner({ registry: new ChaosRegistry({ control, clock }), control, clock, safeMode: false });
    const metrics = createPrometheusMetrics({ maxLabelValues: 2 });
    metrics.observe(runner);
    for (const name of ['e1', 'e2', 'e3', 'e4']) {
      const r = await settle(clock, runner.run({ name, durationMs: 10, method: [{ name: 'x', kind: 'error', inject: () => undefined }] }));
      expect(r.ok).toBe(true);
    }
    const e = parseExposition(await metrics.metrics());
    expect(
      find(e, 'antifragile_chaos_experiment_outcome_total').map((s) => [s.labels['experiment'], s.value]).sort(),
    ).toEqual([
      ['e1', 1],
      ['e2', 1],
      ['other', 2],
    ]);
  });

  it('validates every option eagerly and reports each bad field', () => {
    let error: unknown;
    try {
      createPrometheusMetrics({ prefix: '9bad-', naming: 'micrometer' as PrometheusNaming, buckets: [1, 0.5], maxLabelValues: 0, maxWindowMs: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    const message = String((error as Error).message);
    for (const field of ['prefix', 'naming', 'buckets', 'maxLabelValues', 'maxWindowMs']) expect(message).toContain(field);
    expect(() => metricsHandler(new Registry(), { path: 'metrics' })).toThrow(InvalidOptionsError);
    expect(() => new PrometheusMetrics().observe({} as never)).toThrow(TypeError);
  });

  it('registers into a given registry, so two instances with different prefixes share one endpoint', async () => {
    const registry = new Registry();
    const a = createPrometheusMetrics({ registry, prefix: 'a_' });
    const b = createPrometheusMetrics({ registry, prefix: 'b_' });
    a.observe(new Bulkhead({ name: 'x', maxConcurrent: 3 }));
    b.observe(new Bulkhead({ name: 'y', maxConcurrent: 4 }));
    const e = parseExposition(await registry.metrics());
    expect(value(e, 'a_bulkhead_max_concurrent_calls', { name: 'x' })).toBe(3);
    expect(value(e, 'b_bulkhead_max_concurrent_calls', { name: 'y' })).toBe(4);
    expect(() => createPrometheusMetrics({ registry, prefix: 'a_' })).toThrow(/already been registered/);
  });
});

describe('metricsHandler', () => {
  it('answers GET and HEAD on its path, 404 elsewhere, 405 for other methods', async () => {
    const metrics = createPrometheusMetrics();
    metrics.observe(new Bulkhead({ name: 'b', maxConcurrent: 1 }));
    const url = await listen(metrics.handler({ path: '/metrics' }));
    const ok = await fetch(`${url}/metrics?x=1`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe(metrics.contentType);
    expect(await ok.text()).toContain('antifragile_bulkhead_max_concurrent_calls{name="b"} 1');
    const head = await fetch(`${url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect((await fetch(`${url}/other`)).status).toBe(404);
    const post = await fetch(`${url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('works as an Express route handler', async () => {
    const metrics = createPrometheusMetrics({ naming: 'resilience4j' });
    metrics.observe(new RateLimiter({ name: 'api', algorithm: 'sliding-window', limit: 5, windowMs: 1_000 }));
    const app = express();
    app.get('/metrics', metrics.handler());
    const { exposition } = await scrape(`${await listen(app)}/metrics`);
    expect(value(exposition, 'resilience4j_ratelimiter_available_permissions', { name: 'api' })).toBe(5);
  });

  it('works from Fastify through reply.hijack() and the raw request and response', async () => {
    const metrics = createPrometheusMetrics();
    metrics.observe(new Bulkhead({ name: 'fastify', maxConcurrent: 7 }));
    const handler = metrics.handler();
    const app = Fastify();
    app.get('/metrics', (request, reply) => {
      reply.hijack();
      handler(request.raw, reply.raw);
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { exposition } = await scrape(`${address}/metrics`);
      expect(value(exposition, 'antifragile_bulkhead_max_concurrent_calls', { name: 'fastify' })).toBe(7);
    } finally {
      await app.close();
    }
  });

  it('reads gauges only when scraped: nothing runs between scrapes', async () => {
    const clock = new VirtualClock();
    const cache = new MultiLayerCache({ name: 'c', clock });
    const health = new HealthMonitor({ clock });
    let cacheReads = 0;
    let healthReads = 0;
    const getMetrics = cache.getMetrics.bind(cache);
    cache.getMetrics = () => (cacheReads++, getMetrics());
    const getSystemHealth = health.getSystemHealth.bind(health);
    health.getSystemHealth = () => (healthReads++, getSystemHealth());
    const timersBefore = clock.pendingTimers;
    const metrics = createPrometheusMetrics({ clock });
    metrics.observe(cache);
    metrics.observe(health);
    expect(clock.pendingTimers).toBe(timersBefore);
    await cache.set('k', 1);
    await cache.get('k');
    await clock.advanceAsync(3_600_000);
    expect([cacheReads, healthReads]).toEqual([0, 0]);
    await metrics.metrics();
    expect(cacheReads).toBeGreaterThan(0);
    expect(healthReads).toBeGreaterThan(0);
  });

  it('answers 500 when collecting fails, and reports it', async () => {
    const registry = new Registry();
    registry.registerMetric(
      new (await import('prom-client')).Gauge({
        name: 'broken',
        help: 'throws on collect',
        registers: [],
        collect() {
          throw new Error('collector broke');
        },
      }),
    );
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const res = await fetch(await listen(metricsHandler(registry)));
      expect(res.status).toBe(500);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.some((w) => w.includes('collector broke'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('WindowedMax', () => {
  it('keeps a value visible for between one and two windows', () => {
    const clock = new VirtualClock(0);
    const max = new WindowedMax(clock, 1_000);
    max.record(5);
    max.record(3);
    expect(max.value).toBe(5);
    clock.advance(999);
    expect(max.value).toBe(5);
    clock.advance(1); // rotation: the older slot takes the newer one, which also saw 5
    expect(max.value).toBe(5);
    max.record(2);
    clock.advance(1_000); // rotation: only 2 was recorded since the last one
    expect(max.value).toBe(2);
    clock.advance(2_000);
    expect(max.value).toBe(0);
  });
});
