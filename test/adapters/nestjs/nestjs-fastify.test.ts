import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Body, Controller, Get, Inject, Injectable, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CircuitBreakerModule,
  CircuitBreakerService,
  DegradationModule,
  HealthModule,
} from '../../../src/adapters/nestjs/index.js';
import type { CircuitBreaker } from '../../../src/adapters/opossum/circuit-breaker.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { GracefulDegradation } from '../../../src/degradation/graceful-degradation.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/** A flaky downstream the service protects. */
const inventory = {
  failing: false,
  calls: 0,
  async stock(sku: string): Promise<{ sku: string; stock: number; source: 'inventory' | 'fallback' }> {
    this.calls++;
    await Promise.resolve();
    if (this.failing) throw new Error('inventory down');
    return { sku, stock: sku.length, source: 'inventory' };
  },
};

class StockService {
  readonly breaker: CircuitBreaker<[string], { sku: string; stock: number; source: 'inventory' | 'fallback' }>;
  constructor(breakers: CircuitBreakerService) {
    this.breaker = breakers.create('inventory', (sku: string) => inventory.stock(sku), {
      fallbackFunction: (sku: string) => ({ sku, stock: 0, source: 'fallback' as const }),
    });
  }
}
Injectable()(StockService);
Inject(CircuitBreakerService)(StockService, undefined, 0);

const reservations: string[] = [];

class StockController {
  constructor(private readonly stock: StockService) {}
  get(sku: string): Promise<unknown> {
    return this.stock.breaker.fire(sku);
  }
  reserve(body: { sku: string }): { reserved: string } {
    reservations.push(body.sku);
    return { reserved: body.sku };
  }
}
Controller('stock')(StockController);
Inject(StockService)(StockController, undefined, 0);
Get(':sku')(StockController.prototype, 'get', Object.getOwnPropertyDescriptor(StockController.prototype, 'get') as PropertyDescriptor);
Param('sku')(StockController.prototype, 'get', 0);
Post()(StockController.prototype, 'reserve', Object.getOwnPropertyDescriptor(StockController.prototype, 'reserve') as PropertyDescriptor);
Body()(StockController.prototype, 'reserve', 0);

const clock = new VirtualClock(1_700_000_000_000);

class AppModule {}
const appModule = {
  module: AppModule,
  imports: [
    CircuitBreakerModule.forRoot({ defaultVolumeThreshold: 4, defaultErrorThreshold: 50, defaultResetTimeout: 5_000, clock }),
    DegradationModule.forRoot({ allowInEmergency: ['/health/*'] }),
    HealthModule.forRoot({ monitor: { checkInterval: 60_000, clock } }),
  ],
  controllers: [StockController],
  providers: [StockService],
};

let app: NestFastifyApplication;
let base: string;
let closed = false;

beforeAll(async () => {
  app = await NestFactory.create<NestFastifyApplication>(appModule, new FastifyAdapter(), { logger: ['warn', 'error'], abortOnError: false });
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
});

afterAll(async () => {
  if (!closed) await app?.close();
});

interface JsonAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}
async function getJson(path: string, init?: RequestInit): Promise<JsonAnswer> {
  const res = await fetch(base + path, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}
const post = (path: string, body: unknown): Promise<JsonAnswer> =>
  getJson(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('the Nest modules on Fastify', () => {
  it('really runs on Fastify', () => {
    expect(app.getHttpAdapter().getType()).toBe('fastify');
  });

  it('serves through the circuit breaker, opens it on failures, answers with the fallback, and closes after a probe', async () => {
    const breakers = app.get(CircuitBreakerService);
    const opened: string[] = [];
    const off = breakers.on('breaker.open', ({ name }) => opened.push(name));

    const ok = await getJson('/stock/abc');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ sku: 'abc', stock: 3, source: 'inventory' });

    inventory.failing = true;
    const callsBefore = inventory.calls;
    // One success and three failures: 4 calls (the volume threshold), 75% failures >= 50%: open.
    for (let i = 0; i < 3; i++) {
      const res = await getJson(`/stock/broken-${i}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ sku: `broken-${i}`, stock: 0, source: 'fallback' });
    }
    expect(breakers.get('inventory')?.opened).toBe(true);
    expect(opened).toEqual(['inventory']);
    expect(inventory.calls).toBe(callsBefore + 3);

    // Open: the downstream is not called, the fallback answers.
    const refused = await getJson('/stock/while-open');
    expect(refused.body).toEqual({ sku: 'while-open', stock: 0, source: 'fallback' });
    expect(inventory.calls).toBe(callsBefore + 3);
    const health = (await getJson('/health')).body.antifragility as { circuitBreakers: Record<string, { state: string }> };
    expect(health.circuitBreakers.inventory?.state).toBe('open');

    inventory.failing = false;
    clock.advance(5_000);
    expect(breakers.get('inventory')?.halfOpen).toBe(true);
    expect((await getJson('/stock/probe')).body).toEqual({ sku: 'probe', stock: 5, source: 'inventory' });
    expect(breakers.get('inventory')?.closed).toBe(true);
    off();
  });

  it('marks every answer with X-Degradation-Level and X-Service-Status', async () => {
    const res = await fetch(`${base}/stock/abc`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-degradation-level')).toBe('0');
    expect(res.headers.get('x-service-status')).toBe('operational');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    await res.arrayBuffer();
    // Fastify's own 404 is marked too.
    const missing = await fetch(`${base}/nowhere`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-service-status')).toBe('operational');
    await missing.arrayBuffer();
  });

  it('answers /health/live and /health/ready in application/health+json, and fails readiness on a critical check', async () => {
    for (const path of ['/health/live', '/health/ready']) {
      const probe = await getJson(path);
      expect(probe.status).toBe(200);
      expect(probe.headers.get('content-type')).toBe('application/health+json');
      expect(probe.headers.get('cache-control')).toBe('no-store');
      expect(probe.headers.get('x-degradation-level')).toBe('0');
      expect(probe.body.status).toBe('pass');
      expect(probe.body).not.toHaveProperty('antifragility');
    }
    const monitor = app.get(HealthMonitor);
    let up = false;
    const unregister = monitor.registerCheck('database', () => up, { critical: true });
    await monitor.runAll();
    const down = await getJson('/health/ready');
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toBe('application/health+json');
    expect(down.body.status).toBe('fail');
    expect((await getJson('/health/live')).status).toBe(200);
    up = true;
    await monitor.runAll();
    expect((await getJson('/health/ready')).status).toBe(200);
    unregister();
  });

  it('refuses writes when read-only and non-allow-listed routes in emergency, answering from the middleware', async () => {
    const degradation = app.get(GracefulDegradation);
    await degradation.degrade('minimal', 'test');
    const write = await post('/stock', { sku: 'abc' });
    expect(write.status).toBe(503);
    expect(write.headers.get('content-type')).toBe('application/problem+json');
    expect(write.headers.get('retry-after')).toBe('300');
    expect(write.headers.get('x-degradation-level')).toBe('2');
    expect(write.headers.get('x-service-status')).toBe('read-only');
    expect(write.body).toMatchObject({ status: 503, code: 'READ_ONLY' });
    // The middleware answered: the route never ran.
    expect(reservations).toEqual([]);
    const read = await getJson('/stock/abc');
    expect(read.status).toBe(200);
    expect(read.headers.get('x-service-status')).toBe('read-only');

    await degradation.degrade('emergency', 'test');
    const other = await getJson('/stock/abc');
    expect(other.status).toBe(503);
    expect(other.body).toMatchObject({ code: 'EMERGENCY_MODE', availableEndpoints: ['/health/*'] });
    const live = await getJson('/health/live');
    expect(live.status).toBe(200);
    expect(live.headers.get('x-service-status')).toBe('emergency');

    await degradation.forceRecover('test');
    const back = await post('/stock', { sku: 'abc' });
    expect(back.status).toBe(201);
    expect(back.body).toEqual({ reserved: 'abc' });
    expect(reservations).toEqual(['abc']);
    expect(back.headers.get('x-degradation-level')).toBe('0');
  });

  it('closes with refused requests behind it (the middleware left no request hanging)', async () => {
    // A request the middleware answered (never reaching a route) must not keep the server from closing.
    await app.get(GracefulDegradation).degrade('emergency', 'test');
    expect((await getJson('/stock/abc')).status).toBe(503);
    await app.get(GracefulDegradation).forceRecover('test');
    closed = true;
    await app.close();
    expect(app.getHttpServer().listening).toBe(false);
  });
});
