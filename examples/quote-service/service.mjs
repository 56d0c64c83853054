// The quote service: the NestJS seed's `calculateQuote` story as a small node:http API protected with
// antifragile. Run by launcher.mjs in its own process; protection can be switched off (baseline mode) so a
// game day can show the difference.
//
//   GET  /quotes/:tenant/:file   a price, from the multi-layer cache or the pricing engine
//                                 (Fallback -> Timeout -> Retry -> CircuitBreaker -> Bulkhead -> Timeout)
//   GET  /materials              the materials catalog (cached with a long grace: stale beats down)
//   POST /orders                 an order written to the database (Timeout -> Retry -> CircuitBreaker)
//   GET  /health/live, /health/ready
//   /admin/chaos/...             the chaos admin endpoint (bearer token): faults, status, metrics
//
// Faults are injected by the game day through ChaosRegistry injectors named 'pricing', 'catalog',
// 'database' and 'redis' (the Redis cache layer runs through its injector).
import { createServer } from 'node:http';
import { Agent, request } from 'undici';
import {
  Bulkhead, ChaosControl, ChaosRegistry, CircuitBreaker, Fallback, GracefulDegradation, MultiLayerCache, Retry, Timeout,
  backoff, isBrokenCircuitError, pipeline, policyCacheLayer, startResourceFault,
} from 'antifragile';
import { createChaosAdminHandler } from 'antifragile/http';

/**
 * Starts the quote service. Resolves `{ url, close }`.
 * @param {{ baseline: boolean, token: string, dependencies: { pricing: string, catalog: string, database: string },
 *           redisUrl?: string, port?: number }} options
 */
export async function startQuoteService(options) {
  const { baseline, token, dependencies } = options;
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
  const control = new ChaosControl({ environment: 'example' });
  const chaos = new ChaosRegistry({ control });
  const counters = { orders: 0, ordersOk: 0, quotes: 0, quotesEstimated: 0, requests: 0, failed: 0 };

  /** GET/POST a dependency; rejects on a non-2xx answer. */
  async function call(base, path, { method = 'GET', body, signal } = {}) {
    const response = await request(`${base}${path}`, {
      method, dispatcher: agent, signal, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const payload = await response.body.json();
    if (response.statusCode >= 300) throw new Error(`${base}${path} answered ${response.statusCode}`);
    return payload;
  }

  const notOpenCircuit = (error) => !isBrokenCircuitError(error);
  const breakers = {
    pricing: new CircuitBreaker({ name: 'pricing', window: { type: 'time', ms: 5_000, buckets: 10 }, minimumCalls: 20, failureRateThreshold: 0.6, openMs: 2_000, halfOpen: { maxCalls: 2, successes: 2 } }),
    database: new CircuitBreaker({ name: 'database', window: { type: 'time', ms: 5_000, buckets: 10 }, minimumCalls: 20, failureRateThreshold: 0.5, openMs: 2_000 }),
  };

  // Protected calls (or, in baseline mode, the bare calls through the same chaos injectors).
  const priceOf = baseline
    ? (tenant, file) => chaos.injector('pricing').execute(({ signal }) => call(dependencies.pricing, `/price?file=${encodeURIComponent(file)}`, { signal }))
    : (() => {
        const protectedPricing = pipeline(
          new Fallback({ fallback: () => ({ price: 49.9, currency: 'EUR', estimated: true }) }),
          new Timeout({ ms: 1_500 }),
          new Retry({ maxAttempts: 4, backoff: backoff.exponential({ initialMs: 5, maxMs: 40, jitter: 'full' }), shouldRetry: notOpenCircuit }),
          breakers.pricing,
          new Bulkhead({ maxConcurrent: 200, maxQueued: 2_000 }),
          new Timeout({ ms: 400 }),
          chaos.injector('pricing'),
        );
        return (tenant, file) => protectedPricing.execute(({ signal }) => call(dependencies.pricing, `/price?file=${encodeURIComponent(file)}`, { signal }));
      })();

  const writeOrder = baseline
    ? (order) => chaos.injector('database').execute(({ signal }) => call(dependencies.database, '/orders', { method: 'POST', body: order, signal }))
    : (() => {
        const protectedDatabase = pipeline(
          new Timeout({ ms: 2_500 }),
          new Retry({ maxAttempts: 3, backoff: backoff.exponential({ initialMs: 10, maxMs: 80, jitter: 'full' }), shouldRetry: notOpenCircuit }),
          breakers.database,
          new Bulkhead({ maxConcurrent: 100, maxQueued: 1_000 }),
          new Timeout({ ms: 800 }),
          chaos.injector('database'),
        );
        return (order) => protectedDatabase.execute(({ signal }) => call(dependencies.database, '/orders', { method: 'POST', body: order, signal }));
      })();

  const catalogOf = () => chaos.injector('catalog').execute(({ signal }) => call(dependencies.catalog, '/materials', { signal }));

  // The cache: memory L1, plus Redis L2 when one was given (its commands run through the 'redis' injector).
  let redis;
  let cache;
  if (!baseline) {
    const layers = [];
    if (options.redisUrl !== undefined) {
      // ioredis is an optional peer: loaded only when there is a Redis to talk to.
      const [{ Redis }, { RedisCacheLayer }] = await Promise.all([import('ioredis'), import('antifragile/redis')]);
      redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(times * 50, 500) });
      redis.on('error', () => {});
      layers.push(policyCacheLayer(new RedisCacheLayer({ client: redis }), chaos.injector('redis')));
    }
    cache = new MultiLayerCache({ name: 'quotes', memory: { maxEntries: 5_000 }, layers, grace: '1h', remote: { softTimeoutMs: 50, hardTimeoutMs: 500 } });
  }

  // Degradation: extras go first when pricing struggles or the shared cache is down (memory-only caching).
  const degradation = new GracefulDegradation({
    rules: [
      { condition: { type: 'threshold', metric: 'pricing_failure_rate', operator: '>', value: 0.2 }, targetLevel: 'reduced' },
      { condition: { type: 'threshold', metric: 'redis_available', operator: '<', value: 1 }, targetLevel: 'reduced' },
    ],
    recoveryCheckInterval: 1_000,
    minDwellMs: 3_000, // short for a demo that runs in minutes; production would keep the 30 s default
  });
  let lastPricingTotals = { calls: 0, failures: 0 };
  let lastRedisErrors = 0;
  const sampler = setInterval(() => {
    const totals = breakers.pricing.metrics().totals;
    const calls = totals.calls - lastPricingTotals.calls;
    const failures = totals.failures - lastPricingTotals.failures;
    lastPricingTotals = { calls: totals.calls, failures: totals.failures };
    degradation.reportMetric('pricing_failure_rate', calls === 0 ? 0 : failures / calls);
    if (redis !== undefined) {
      // Redis counts as unavailable while its layer's circuit is open or its commands failed this second.
      const layer = cache.getMetrics().layers.find((l) => l.name === 'redis');
      const errors = (layer?.errors ?? 0) + (layer?.skipped ?? 0);
      degradation.reportMetric('redis_available', layer?.state === 'closed' && errors === lastRedisErrors ? 1 : 0);
      lastRedisErrors = errors;
    }
  }, 1_000);
  sampler.unref();
  if (!baseline) degradation.start();

  const admin = createChaosAdminHandler({
    registry: chaos,
    token,
    // CPU and memory pressure (worker threads), event-loop blocks: POST /admin/chaos/resources.
    resources: (spec) => startResourceFault(spec, { memoryBudgetMb: 256 }),
    status: () => ({
      mode: baseline ? 'baseline' : 'protected',
      breakers: Object.fromEntries(Object.entries(breakers).map(([name, breaker]) => [name, breaker.state])),
      degradation: { level: degradation.getCurrentState().level },
      metrics: {
        order_completion: counters.orders === 0 ? 1 : counters.ordersOk / counters.orders,
        quote_estimated_rate: counters.quotes === 0 ? 0 : counters.quotesEstimated / counters.quotes,
        cache_hit_rate: cache === undefined ? 0 : cache.getMetrics().hitRate,
        orders: counters.orders,
        // Share of requests answered with an error (the seed's user_impact), and orders lost (data_loss).
        user_impact: counters.requests === 0 ? 0 : counters.failed / counters.requests,
        data_loss: counters.orders - counters.ordersOk,
      },
      // Quotes are the core: available while pricing answers or, protected, while the fallback covers it.
      core_functionality: baseline && breakers.pricing.state === 'open' ? 'unavailable' : 'available',
    }),
  });

  const send = (res, status, body) => {
    const text = JSON.stringify(body);
    const headers = { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', 'content-length': Buffer.byteLength(text) };
    res.writeHead(status, headers).end(text);
  };
  const problem = (res, error) => (counters.failed++, send(res, 503, { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: error instanceof Error ? error.message : String(error) }));

  const server = createServer(async (req, res) => {
    try {
      if (await admin(req, res)) return;
      const url = new URL(req.url, 'http://quote-service');
      counters.requests++;
      if (url.pathname === '/' && req.method === 'GET') return send(res, 200, { service: 'quote-service', mode: baseline ? 'baseline' : 'protected' });
      const quote = /^\/quotes\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (quote !== null && req.method === 'GET') {
        const [, tenant, file] = quote;
        counters.quotes++;
        try {
          const price = cache === undefined
            ? await priceOf(tenant, file)
            : await cache.getOrSet(`quote:${tenant}:${file}`, () => priceOf(tenant, file), { ttl: 30 });
          if (price.estimated) counters.quotesEstimated++;
          send(res, 200, { tenant, file, ...price });
        } catch (error) {
          problem(res, error);
        }
        return;
      }
      if (url.pathname === '/materials' && req.method === 'GET') {
        try {
          send(res, 200, cache === undefined ? await catalogOf() : await cache.getOrSet('materials', catalogOf, { ttl: 60 }));
        } catch (error) {
          problem(res, error);
        }
        return;
      }
      if (url.pathname === '/orders' && req.method === 'POST') {
        req.resume();
        counters.orders++;
        try {
          const saved = await writeOrder({ at: Date.now() });
          counters.ordersOk++;
          send(res, 201, saved);
        } catch (error) {
          problem(res, error);
        }
        return;
      }
      if (url.pathname === '/health/live') return send(res, 200, { status: 'pass' });
      if (url.pathname === '/health/ready') return send(res, 200, { status: 'pass', degradation: degradation.getCurrentState().level });
      send(res, 404, { type: 'about:blank', title: 'Not Found', status: 404 });
    } catch (error) {
      if (!res.headersSent) problem(res, error);
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  return {
    url,
    async close() {
      clearInterval(sampler);
      degradation.stop();
      chaos.clear();
      // Requests still waiting on a slow dependency would hold close() open: end every connection first.
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
      await cache?.close();
      redis?.disconnect();
      await agent.close();
    },
  };
}
