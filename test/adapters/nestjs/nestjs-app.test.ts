import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Inject, Injectable, Param, Post, Body, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CircuitBreaker } from '../../../src/adapters/opossum/circuit-breaker.js';
import {
  ChaosModule,
  ChaosMonkeyService,
  CircuitBreakerModule,
  CircuitBreakerService,
  DegradationModule,
  HealthModule,
  MultiLayerCacheModule,
  MultiLayerCacheService,
} from '../../../src/adapters/nestjs/index.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { GracefulDegradation } from '../../../src/degradation/graceful-degradation.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

interface QuoteRequest {
  tenantId: string;
  fileId: string;
}
interface Quote {
  tenantId: string;
  fileId: string;
  price: number;
  servedFrom: 'pricing' | 'fallback';
}

/** The flaky pricing engine the seed's QuotesService protects. */
const pricing = {
  failing: false,
  calls: 0,
  async calculate(data: QuoteRequest): Promise<Quote> {
    this.calls++;
    await Promise.resolve();
    if (this.failing) throw new Error('pricing engine down');
    return { tenantId: data.tenantId, fileId: data.fileId, price: 100 + data.fileId.length, servedFrom: 'pricing' };
  },
};

/** The seed's QuotesService (000_*), written without decorator syntax. */
class QuotesService {
  private readonly calculateBreaker: CircuitBreaker<[QuoteRequest], Quote>;

  constructor(
    circuitBreaker: CircuitBreakerService,
    private readonly cache: MultiLayerCacheService,
  ) {
    this.calculateBreaker = circuitBreaker.create('quote-calculation', this.performCalculation.bind(this), {
      timeout: 5000,
      errorThresholdPercentage: 30,
      fallbackFunction: async (data: QuoteRequest) => this.getFallbackQuote(data),
    });
  }

  async calculateQuote(data: QuoteRequest): Promise<Quote> {
    const cacheKey = `quote:${data.tenantId}:${data.fileId}`;
    const cached = await this.cache.get<Quote>(cacheKey);
    if (cached) return cached;
    const quote = await this.calculateBreaker.fire(data);
    // Unlike the seed, an estimate is not cached: the next call asks the pricing engine again.
    if (quote.servedFrom === 'pricing') await this.cache.set(cacheKey, quote, { ttl: 3600 });
    return quote;
  }

  private performCalculation(data: QuoteRequest): Promise<Quote> {
    return pricing.calculate(data);
  }

  private getFallbackQuote(data: QuoteRequest): Quote {
    return { tenantId: data.tenantId, fileId: data.fileId, price: 0, servedFrom: 'fallback' };
  }
}
Injectable()(QuotesService);
Inject(CircuitBreakerService)(QuotesService, undefined, 0);
Inject(MultiLayerCacheService)(QuotesService, undefined, 1);

class QuotesController {
  constructor(private readonly quotes: QuotesService) {}
  get(tenantId: string, fileId: string): Promise<Quote> {
    return this.quotes.calculateQuote({ tenantId, fileId });
  }
  create(body: QuoteRequest): Promise<Quote> {
    return this.quotes.calculateQuote(body);
  }
}
Controller('quotes')(QuotesController);
Inject(QuotesService)(QuotesController, undefined, 0);
Get(':tenantId/:fileId')(QuotesController.prototype, 'get', Object.getOwnPropertyDescriptor(QuotesController.prototype, 'get') as PropertyDescriptor);
Param('tenantId')(QuotesController.prototype, 'get', 0);
Param('fileId')(QuotesController.prototype, 'get', 1);
Post()(QuotesController.prototype, 'create', Object.getOwnPropertyDescriptor(QuotesController.prototype, 'create') as PropertyDescriptor);
Body()(QuotesController.prototype, 'create', 0);

const clock = new VirtualClock(1_700_000_000_000);

class QuotesModule {}
const quotesModule = { module: QuotesModule, controllers: [QuotesController], providers: [QuotesService] };

/** The seed's AppModule (000_*), with the seed's forRoot options (memory-only cache: no Redis here). */
class AppModule {}
const appModule = {
  module: AppModule,
  imports: [
    CircuitBreakerModule.forRoot({ defaultTimeout: 3000, defaultErrorThreshold: 50, clock }),
    MultiLayerCacheModule.forRoot({ l1MaxSize: 1000, l2Enabled: false, l3Enabled: false }),
    ChaosModule.forRoot({ enabled: true, scheduleEnabled: false, safetyChecks: true, environment: 'test', clock }),
    DegradationModule.forRoot({ allowInEmergency: ['/health/*', '/quotes/:tenantId/:fileId'] }),
    HealthModule.forRoot({ monitor: { checkInterval: 60_000, clock } }),
    quotesModule,
  ],
};

let app: INestApplication;
let base: string;

beforeAll(async () => {
  app = await NestFactory.create(appModule, { logger: ['warn', 'error'] });
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app?.close();
});

async function getJson(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(base + path, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}
const post = (path: string, body: unknown): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> =>
  getJson(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('a Nest application with the seed QuotesService', () => {
  it('serves a quote from the pricing engine, then from the cache', async () => {
    const first = await getJson('/quotes/acme/file-1');
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ tenantId: 'acme', fileId: 'file-1', price: 106, servedFrom: 'pricing' });
    expect(pricing.calls).toBe(1);

    const hitsBefore = app.get(MultiLayerCacheService).getMetrics().hits;
    const second = await getJson('/quotes/acme/file-1');
    expect(second.body).toEqual(first.body);
    expect(pricing.calls).toBe(1);
    expect(app.get(MultiLayerCacheService).getMetrics().hits).toBe(hitsBefore + 1);

    const created = await post('/quotes', { tenantId: 'acme', fileId: 'file-22' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ fileId: 'file-22', servedFrom: 'pricing' });
  });

  it('marks every answer with the degradation level and service status', async () => {
    const res = await fetch(`${base}/quotes/acme/file-1`);
    expect(res.headers.get('x-degradation-level')).toBe('0');
    expect(res.headers.get('x-service-status')).toBe('operational');
  });

  it('answers /health, /health/live and /health/ready in health+json with the antifragility block', async () => {
    const health = await getJson('/health');
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toBe('application/health+json');
    expect(health.headers.get('cache-control')).toBe('no-store');
    expect(health.body.status).toBe('pass');
    const block = health.body.antifragility as Record<string, Record<string, unknown>>;
    expect(block.circuitBreakers?.['quote-calculation']).toMatchObject({ name: 'quote-calculation', state: 'closed' });
    // Two cache hits so far: the second call of the first test and the header check.
    expect(block.cacheMetrics).toMatchObject({ hits: 2, misses: 2, memoryEntries: 2 });
    expect(block.chaosHistory).toEqual([]);

    for (const path of ['/health/live', '/health/ready']) {
      const probe = await getJson(path);
      expect(probe.status).toBe(200);
      expect(probe.headers.get('content-type')).toBe('application/health+json');
      expect(probe.body.status).toBe('pass');
      expect(probe.body).not.toHaveProperty('antifragility');
    }
  });

  it('fails /health/ready while a critical check fails', async () => {
    const monitor = app.get(HealthMonitor);
    let up = false;
    const unregister = monitor.registerCheck('database', () => up, { critical: true });
    await monitor.runAll();
    const down = await getJson('/health/ready');
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('fail');
    expect((await getJson('/health/live')).status).toBe(200);
    up = true;
    await monitor.runAll();
    expect((await getJson('/health/ready')).status).toBe(200);
    unregister();
  });

  it('runs a chaos experiment registered on ChaosMonkeyService; the fallback answers while it lasts', async () => {
    const chaos = app.get(ChaosMonkeyService);
    expect(chaos.isSafeToRunChaos()).toBe(true);
    chaos.registerExperiment({
      name: 'pricing-failure',
      description: 'The pricing engine throws',
      category: 'service',
      severity: 'low',
      inject: () => {
        pricing.failing = true;
      },
      rollback: () => {
        pricing.failing = false;
      },
    });
    const run = chaos.runExperiment('pricing-failure', { durationMs: 10_000 });
    await vi.waitFor(() => expect(pricing.failing).toBe(true), { timeout: 2_000, interval: 5 });
    expect(chaos.getActiveExperiments().map((r) => r.name)).toEqual(['pricing-failure']);

    const during = await getJson('/quotes/acme/during-chaos');
    expect(during.body).toEqual({ tenantId: 'acme', fileId: 'during-chaos', price: 0, servedFrom: 'fallback' });

    await clock.advanceAsync(10_000);
    const finished = await run;
    expect(finished.status).toBe('succeeded');
    expect(pricing.failing).toBe(false);
    expect((await getJson('/quotes/acme/during-chaos')).body).toMatchObject({ servedFrom: 'pricing' });

    const history = (await getJson('/health')).body.antifragility as { chaosHistory: { name: string; status: string }[] };
    expect(history.chaosHistory.map((r) => [r.name, r.status])).toEqual([['pricing-failure', 'succeeded']]);
    // Cron game days are off (scheduleEnabled: false).
    expect(() => chaos.scheduleGameDay(['pricing-failure'], { cron: '0 2 * * 0' })).toThrow(/scheduled game days are off/);
  });

  it('opens the breaker under failures, answers with the fallback, and closes after a successful probe', async () => {
    const breakers = app.get(CircuitBreakerService);
    const breaker = breakers.get('quote-calculation');
    const opened: string[] = [];
    const off = breakers.on('breaker.open', ({ name }) => opened.push(name));
    // Start a fresh window: the chaos run's failure would otherwise count.
    clock.advance(10_000);
    pricing.failing = true;
    const callsBefore = pricing.calls;
    for (let i = 0; i < 10; i++) {
      const res = await getJson(`/quotes/acme/broken-${i}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ fileId: `broken-${i}`, servedFrom: 'fallback' });
    }
    // volumeThreshold 10 (the module default): the tenth failure opens the circuit.
    expect(breaker?.opened).toBe(true);
    expect(opened).toEqual(['quote-calculation']);
    expect(pricing.calls).toBe(callsBefore + 10);

    // Open: the pricing engine is not called, the fallback answers.
    const refused = await getJson('/quotes/acme/broken-open');
    expect(refused.body).toMatchObject({ servedFrom: 'fallback' });
    expect(pricing.calls).toBe(callsBefore + 10);
    const health = (await getJson('/health')).body.antifragility as { circuitBreakers: Record<string, { state: string }> };
    expect(health.circuitBreakers['quote-calculation']?.state).toBe('open');

    pricing.failing = false;
    clock.advance(30_000); // resetTimeout: half-open
    expect(breaker?.halfOpen).toBe(true);
    const probe = await getJson('/quotes/acme/broken-open');
    expect(probe.body).toMatchObject({ servedFrom: 'pricing' });
    expect(breaker?.closed).toBe(true);
    off();
  });

  it('refuses writes in read-only levels and non-allow-listed routes in emergency', async () => {
    const degradation = app.get(GracefulDegradation);
    await degradation.degrade('minimal', 'test');
    const write = await post('/quotes', { tenantId: 'acme', fileId: 'file-3' });
    expect(write.status).toBe(503);
    expect(write.headers.get('retry-after')).toBe('300');
    expect(write.headers.get('x-degradation-level')).toBe('2');
    expect(write.headers.get('x-service-status')).toBe('read-only');
    expect(write.body).toMatchObject({ status: 503, code: 'READ_ONLY', detail: 'Service in read-only mode' });
    const read = await getJson('/quotes/acme/file-1');
    expect(read.status).toBe(200);

    await degradation.degrade('emergency', 'test');
    const health = await fetch(`${base}/health/live`);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-service-status')).toBe('emergency');
    expect((await getJson('/quotes/acme/file-1')).status).toBe(200);
    const other = await getJson('/quotes');
    expect(other.status).toBe(503);
    expect(other.body).toMatchObject({ code: 'EMERGENCY_MODE', availableEndpoints: ['/health/*', '/quotes/:tenantId/:fileId'] });

    await degradation.forceRecover('test');
    const back = await post('/quotes', { tenantId: 'acme', fileId: 'file-3' });
    expect(back.status).toBe(201);
    expect(back.headers.get('x-degradation-level')).toBe('0');
  });
});
