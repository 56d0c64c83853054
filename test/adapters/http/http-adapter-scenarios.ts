import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { DegradationGate } from '../../../src/adapters/http/degradation-gate.js';
import { HealthEndpoints } from '../../../src/adapters/http/health-endpoints.js';
import { HttpError } from '../../../src/adapters/http/http-error.js';
import { HttpResilience, type HttpResilienceOptions } from '../../../src/adapters/http/http-resilience.js';
import { createRateLimitMiddleware, keyByHeader } from '../../../src/adapters/http/rate-limit-middleware.js';
import type { ErrorBodyMode } from '../../../src/adapters/http/problem-details.js';
import { Readiness } from '../../../src/adapters/http/readiness.js';
import { RouteInterceptor } from '../../../src/adapters/http/route-interceptor.js';
import { MultiLayerCache } from '../../../src/cache/multi-layer-cache.js';
import { BrokenCircuitError, BulkheadFullError, RateLimitedError, TimeoutError } from '../../../src/core/errors.js';
import { GracefulDegradation } from '../../../src/degradation/graceful-degradation.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { AdaptiveRateLimiter } from '../../../src/protection/adaptive-rate-limiter.js';
import { CircuitBreakerManager } from '../../../src/policies/circuit-breaker-manager.js';

/** Everything a server under test wires; each framework's test builds the same routes from it. */
export interface AppParts {
  resilience: HttpResilience;
  /** `GET /quotes/:id` (route key `GET:/quotes/:id`): returns `{ id }`, throws while `state.quoteFails`. */
  quotes: RouteInterceptor;
  /** `GET /guarded/:id` (route key `GET:/guarded/:id`): counts `state.guardedCalls` and always throws. */
  guarded: RouteInterceptor;
  state: { quoteFails: boolean; guardedCalls: number; orders: unknown[] };
  /** `GET /errors/:kind` throws this. */
  errorFor(kind: string): Error;
  /** Largest body `POST /orders` accepts, in bytes. */
  maxBodyBytes: number;
}

/** A started server. */
export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

/** Starts a server of one framework with `GET /quotes/:id`, `GET /guarded/:id`, `GET /errors/:kind`, `POST /orders` (201 `{ count }`). */
export type StartApp = (parts: AppParts) => Promise<RunningApp>;

const SEED_LEVELS = ['full-service', 'non-critical-off', 'cache-only', 'read-only', 'emergency-mode'];

function buildParts(mode: ErrorBodyMode, extra: Pick<HttpResilienceOptions, 'rateLimit' | 'metrics' | 'clock'> = {}): AppParts & { degradation: GracefulDegradation; monitor: HealthMonitor; readiness: Readiness; dbHealthy: { value: boolean } } {
  const degradation = new GracefulDegradation({ levels: SEED_LEVELS, autoDegrade: false });
  const monitor = new HealthMonitor({ service: { serviceId: 'quotes-api' } });
  const dbHealthy = { value: true };
  monitor.registerCheck('db', () => dbHealthy.value, { critical: true });
  const readiness = new Readiness();
  const manager = new CircuitBreakerManager();
  const cache = new MultiLayerCache({ name: 'quotes' });
  const health = new HealthEndpoints({
    monitor,
    readiness,
    breakers: manager,
    cache,
    chaos: { getHistory: () => [{ id: 'run-1', name: 'latency', outcome: 'passed' }] },
  });
  const gate = new DegradationGate({ degradation, allowInEmergency: ['/health/*', '/quotes/:id'] });
  const maxBodyBytes = 1024;
  const resilience = new HttpResilience({ errors: { mode, service: 'quotes-api' }, degradation: gate, health, maxBodyBytes, ...extra });
  const breaker = { window: { type: 'consecutive' as const, failures: 2 }, openMs: 30_000 };
  const quotes = new RouteInterceptor({ manager, breaker });
  const guarded = new RouteInterceptor({
    manager: new CircuitBreakerManager(),
    breaker,
    fallback: () => ({ status: 503, body: { statusCode: 503, message: 'Service temporarily unavailable', retryAfter: 30 }, headers: { 'retry-after': '30' } }),
  });
  const errorFor = (kind: string): Error => {
    switch (kind) {
      case 'open':
        return new BrokenCircuitError('Circuit "pricing" is open', { retryAfterMs: 1_500 });
      case 'timeout':
        return new TimeoutError(2_000);
      case 'limited':
        return new RateLimitedError('Rate limit exceeded', { retryAfterMs: 250 });
      case 'bulkhead':
        return new BulkheadFullError();
      case 'teapot':
        return new HttpError(418, "I'm a teapot", 'short and stout', { code: 'TEAPOT', extensions: { spout: true } });
      default:
        return new Error('secret connection string');
    }
  };
  return { resilience, quotes, guarded, state: { quoteFails: false, guardedCalls: 0, orders: [] }, errorFor, maxBodyBytes, degradation, monitor, readiness, dbHealthy };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The same behaviour, asserted against a real server of one framework. */
/**
 * @param knowsRoutes whether the server tells the metrics the route template (Express, Fastify), or not (node:http).
 */
export function describeHttpAdapter(name: string, start: StartApp, knowsRoutes = true): void {
  describe(`${name}: problem+json mode`, () => {
    const parts = buildParts('problem');
    let app: RunningApp;
    beforeAll(async () => {
      app = await start(parts);
    });
    afterAll(async () => {
      await app.close();
    });
    const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${app.url}${path}`, { headers });
    const post = (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${app.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

    it('echoes a valid incoming request id and generates one otherwise', async () => {
      const echoed = await get('/quotes/1', { 'x-request-id': 'req-42.a' });
      expect(echoed.status).toBe(200);
      expect(echoed.headers.get('x-request-id')).toBe('req-42.a');
      const generated = await get('/quotes/1');
      expect(generated.headers.get('x-request-id')).toMatch(UUID);
      const replaced = await get('/quotes/1', { 'x-request-id': 'has space' });
      expect(replaced.headers.get('x-request-id')).toMatch(UUID);
      expect(await echoed.json()).toEqual({ id: '1' });
    });

    it('maps an open circuit to 503 with Retry-After rounded up and the request id in body and header', async () => {
      const res = await get('/errors/open', { 'x-request-id': 'abc' });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('retry-after')).toBe('2');
      expect(res.headers.get('x-request-id')).toBe('abc');
      expect(await res.json()).toEqual({
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        detail: 'Circuit "pricing" is open',
        instance: '/errors/open',
        code: 'CIRCUIT_OPEN',
        requestId: 'abc',
        retryAfter: 2,
      });
    });

    it('maps timeout to 504, rate limited to 429, bulkhead full to 503, HttpError to its status, anything else to a hidden 500', async () => {
      const timeout = await get('/errors/timeout');
      expect(timeout.status).toBe(504);
      expect(timeout.headers.get('retry-after')).toBeNull();
      expect(await timeout.json()).toMatchObject({ status: 504, code: 'TIMEOUT', title: 'Gateway Timeout' });
      const limited = await get('/errors/limited');
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(await limited.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfter: 1 });
      const bulkhead = await get('/errors/bulkhead');
      expect(bulkhead.status).toBe(503);
      expect(await bulkhead.json()).toMatchObject({ code: 'BULKHEAD_FULL' });
      const teapot = await get('/errors/teapot');
      expect(teapot.status).toBe(418);
      expect(await teapot.json()).toMatchObject({ title: "I'm a teapot", detail: 'short and stout', code: 'TEAPOT', spout: true });
      const boom = await get('/errors/boom');
      expect(boom.status).toBe(500);
      const text = await boom.text();
      expect(text).not.toContain('secret');
      expect(JSON.parse(text)).toMatchObject({ status: 500, title: 'Internal Server Error' });
    });

    it('answers malformed JSON with 400 and an oversized body with 413, changing nothing', async () => {
      const malformed = await post('/orders', '{"item":');
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get('content-type')).toBe('application/problem+json');
      expect(malformed.headers.get('x-request-id')).toMatch(UUID);
      expect(await malformed.json()).toMatchObject({ status: 400, title: 'Bad Request' });
      const oversized = await post('/orders', JSON.stringify({ item: 'x'.repeat(parts.maxBodyBytes * 2) }));
      expect(oversized.status).toBe(413);
      expect(oversized.headers.get('content-type')).toBe('application/problem+json');
      expect(await oversized.json()).toMatchObject({ status: 413 });
      expect(parts.state.orders).toEqual([]);
      const ok = await post('/orders', JSON.stringify({ item: 'widget' }));
      expect(ok.status).toBe(201);
      expect(await ok.json()).toEqual({ count: 1 });
      expect(parts.state.orders).toEqual([{ item: 'widget' }]);
    });

    it('health endpoints answer health+json with 503 until ready, and carry the antifragility block', async () => {
      const notRun = await get('/health/ready');
      expect(notRun.status).toBe(503);
      expect(notRun.headers.get('content-type')).toBe('application/health+json');
      expect(await notRun.json()).toMatchObject({ status: 'fail' });
      expect((await get('/health/startup')).status).toBe(503);
      expect((await get('/health/live')).status).toBe(200);

      await parts.monitor.runAll();
      const ready = await get('/health/ready');
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'pass', notes: ['view: ready'] });
      expect((await get('/health/startup')).status).toBe(200);
      const full = await get('/health');
      expect(full.status).toBe(200);
      expect(full.headers.get('content-type')).toBe('application/health+json');
      const body = (await full.json()) as { status: string; serviceId: string; antifragility: Record<string, unknown> };
      expect(body.status).toBe('pass');
      expect(body.serviceId).toBe('quotes-api');
      expect(Object.keys(body.antifragility.circuitBreakers as object)).toEqual(['GET:/quotes/:id']);
      expect(body.antifragility.cacheMetrics).toMatchObject({ hits: 0 });
      expect(body.antifragility.chaosHistory).toEqual([{ id: 'run-1', name: 'latency', outcome: 'passed' }]);

      parts.dbHealthy.value = false;
      await parts.monitor.runAll();
      const sick = await get('/health');
      expect(sick.status).toBe(503);
      expect(await sick.json()).toMatchObject({ status: 'fail' });
      expect((await get('/health/ready')).status).toBe(503);
      parts.dbHealthy.value = true;
      await parts.monitor.runAll();
      expect((await get('/health/ready')).status).toBe(200);
    });

    it('refuses writes in read-only level and non-allow-listed paths in emergency level, with degradation headers', async () => {
      const normal = await get('/quotes/1');
      expect(normal.headers.get('x-degradation-level')).toBe('0');
      expect(normal.headers.get('x-service-status')).toBe('operational');

      await parts.degradation.degrade('read-only');
      const write = await post('/orders', JSON.stringify({ item: 'refused' }));
      expect(write.status).toBe(503);
      expect(write.headers.get('x-degradation-level')).toBe('3');
      expect(write.headers.get('x-service-status')).toBe('read-only');
      expect(write.headers.get('retry-after')).toBe('300');
      expect(await write.json()).toMatchObject({ code: 'READ_ONLY', degradationLevel: 3, degradationLevelName: 'read-only' });
      expect(parts.state.orders).toHaveLength(1);
      const read = await get('/errors/timeout');
      expect(read.status).toBe(504);
      expect(read.headers.get('x-degradation-level')).toBe('3');

      await parts.degradation.degrade('emergency-mode');
      const blocked = await get('/errors/timeout');
      expect(blocked.status).toBe(503);
      expect(blocked.headers.get('x-service-status')).toBe('emergency');
      expect(await blocked.json()).toMatchObject({ code: 'EMERGENCY_MODE', availableEndpoints: ['/health/*', '/quotes/:id'] });
      expect((await get('/quotes/5')).status).toBe(200);
      const health = await get('/health/ready');
      expect(health.status).toBe(200);
      expect(health.headers.get('x-degradation-level')).toBe('4');
      expect((await post('/orders', '{}')).status).toBe(503);

      await parts.degradation.forceRecover();
      const back = await get('/errors/timeout');
      expect(back.status).toBe(504);
      expect(back.headers.get('x-degradation-level')).toBe('0');
    });

    it('opens the route breaker after failures and answers 503 with the breaker Retry-After', async () => {
      parts.state.quoteFails = true;
      expect((await get('/quotes/1')).status).toBe(500);
      expect((await get('/quotes/1')).status).toBe(500);
      parts.state.quoteFails = false;
      const open = await get('/quotes/1');
      expect(open.status).toBe(503);
      expect(open.headers.get('retry-after')).toBe('30');
      expect(await open.json()).toMatchObject({ code: 'CIRCUIT_OPEN', retryAfter: 30 });
    });

    it('answers with the interceptor fallback, and stops calling the handler once the breaker opened', async () => {
      for (let i = 0; i < 4; i++) {
        const res = await get('/guarded/1');
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('30');
        expect(res.headers.get('x-request-id')).toMatch(UUID);
        expect(await res.json()).toEqual({ statusCode: 503, message: 'Service temporarily unavailable', retryAfter: 30 });
      }
      expect(parts.state.guardedCalls).toBe(2);
    });

    it('fails readiness once draining', async () => {
      parts.readiness.drain('SIGTERM');
      const res = await get('/health/ready');
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'fail', output: expect.stringContaining('draining: SIGTERM') });
      expect((await get('/health/live')).status).toBe(200);
    });
  });

  describe(`${name}: seed ErrorResponse mode`, () => {
    const parts = buildParts('seed');
    let app: RunningApp;
    beforeAll(async () => {
      app = await start(parts);
    });
    afterAll(async () => {
      await app.close();
    });

    it('answers errors in the Go seed ErrorResponse shape', async () => {
      const res = await fetch(`${app.url}/errors/open`, { headers: { 'x-request-id': 'seed-1' } });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('retry-after')).toBe('2');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toEqual({
        success: false,
        error: 'SERVICE_UNAVAILABLE',
        message: 'Circuit "pricing" is open',
        code: 503,
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        request_id: 'seed-1',
        service: 'quotes-api',
        retryable: true,
      });
      const timeout = (await (await fetch(`${app.url}/errors/timeout`)).json()) as Record<string, unknown>;
      expect(timeout).toMatchObject({ error: 'TIMEOUT', code: 504, retryable: true });
      const boom = (await (await fetch(`${app.url}/errors/boom`)).json()) as Record<string, unknown>;
      expect(boom).toMatchObject({ error: 'INTERNAL_ERROR', code: 500, retryable: false });
      const bad = await fetch(`${app.url}/orders`, { method: 'POST', body: 'nope{', headers: { 'content-type': 'application/json' } });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ success: false, error: 'BAD_REQUEST', code: 400, retryable: false });
      expect(parts.state.orders).toEqual([]);
    });
  });

  describe(`${name}: rate limit and metrics inside the resilience middleware`, () => {
    const clock = new VirtualClock(1_000);
    const limiter = new AdaptiveRateLimiter({ capacity: 2, refillPerSecond: 0.5, clock, behavior: { tolerance: 1, halfLifeMs: 60_000 } });
    const apiKey = keyByHeader('x-api-key');
    const rateLimit = createRateLimitMiddleware({
      limiter,
      // The key is read after the request's start time is taken, so advancing the clock here makes a known duration.
      key: (req) => {
        if (req.headers['x-slow'] !== undefined) clock.advance(250);
        return apiKey(req);
      },
    });
    const observed: [string, string | undefined, number, number][] = [];
    const metrics = { observeRequest: (method: string, route: string | undefined, status: number, seconds: number) => void observed.push([method, route, status, seconds]) };
    const parts = buildParts('seed', { rateLimit, metrics, clock });
    let app: RunningApp;
    beforeAll(async () => {
      app = await start(parts);
    });
    afterAll(async () => {
      await app.close();
    });
    const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${app.url}${path}`, { headers });
    /** Waits for the metrics record of the last answer (sent on `finish`, which may follow the client's read). */
    const recorded = async (count: number): Promise<void> => {
      for (let i = 0; i < 100 && observed.length < count; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(observed).toHaveLength(count);
    };

    it('answers past the limit with 429 in the configured shape, with every stack header, and never limits health probes', async () => {
      const first = await get('/quotes/1', { 'x-api-key': 'alice', 'x-request-id': 'r-1' });
      expect(first.status).toBe(200);
      expect([first.headers.get('x-request-id'), first.headers.get('x-degradation-level'), first.headers.get('x-service-status')]).toEqual(['r-1', '0', 'operational']);
      expect([first.headers.get('ratelimit-limit'), first.headers.get('ratelimit-remaining'), first.headers.get('ratelimit-reset')]).toEqual(['2', '1', '2']);
      expect((await get('/quotes/2', { 'x-api-key': 'alice' })).status).toBe(200);
      const refused = await get('/quotes/3', { 'x-api-key': 'alice', 'x-request-id': 'r-3' });
      expect(refused.status).toBe(429);
      expect([refused.headers.get('retry-after'), refused.headers.get('ratelimit-remaining'), refused.headers.get('x-request-id'), refused.headers.get('x-service-status')]).toEqual([
        '2',
        '0',
        'r-3',
        'operational',
      ]);
      expect(await refused.json()).toMatchObject({ success: false, error: 'RATE_LIMITED', code: 429, request_id: 'r-3', service: 'quotes-api', retryable: true });
      for (let i = 0; i < 3; i++) expect((await get('/health/live', { 'x-api-key': 'alice' })).status).toBe(200);
      expect((await get('/quotes/4', { 'x-api-key': 'bob' })).status).toBe(200);
    });

    it('shrinks the limit of a key whose requests end in client errors', async () => {
      expect(limiter.limitFor('carol').capacity).toBe(2);
      expect((await get('/errors/teapot', { 'x-api-key': 'carol' })).status).toBe(418);
      await new Promise((resolve) => setImmediate(resolve));
      expect(limiter.limitFor('carol').capacity).toBe(1);
    });

    it('tells the metrics of every answer: method, route template, status and duration', async () => {
      observed.length = 0;
      await get('/quotes/7', { 'x-api-key': 'dave', 'x-slow': '1' });
      await recorded(1);
      await get('/errors/teapot');
      await recorded(2);
      await get('/health/live');
      await recorded(3);
      expect(observed).toEqual([
        ['GET', knowsRoutes ? '/quotes/:id' : undefined, 200, 0.25],
        ['GET', knowsRoutes ? '/errors/:kind' : undefined, 418, 0],
        ['GET', undefined, 200, 0],
      ]);
    });
  });
}
