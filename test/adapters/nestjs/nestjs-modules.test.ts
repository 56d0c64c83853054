import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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
import { ChaosControl } from '../../../src/chaos/chaos-control.js';
import { isResilienceError } from '../../../src/core/errors.js';
import type { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { GracefulDegradation } from '../../../src/degradation/graceful-degradation.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { PrivateRedisServer } from '../../support/redis-server.js';

failOnUnhandledRejections();

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    return (error as InvalidOptionsError).issues.map((issue) => issue.path);
  }
  throw new Error('expected an InvalidOptionsError');
}

describe('forRoot options', () => {
  it('are validated where the module is declared, every bad field reported', () => {
    expect(issuesOf(() => CircuitBreakerModule.forRoot({ defaultTimeout: -1, defaultErrorThreshold: 120, maxBreakers: 0 }))).toEqual([
      'defaultTimeout',
      'defaultErrorThreshold',
      'maxBreakers',
    ]);
    expect(issuesOf(() => DegradationModule.forRoot({ readOnlyLevel: 'nope', applyToAllRoutes: 'yes' as unknown as boolean }))).toEqual([
      'applyToAllRoutes',
    ]);
    expect(issuesOf(() => DegradationModule.forRoot({ readOnlyLevel: 'nope', retryAfterMs: -5 }))).toEqual(['readOnlyLevel', 'retryAfterMs']);
    expect(issuesOf(() => HealthModule.forRoot({ chaosHistoryLimit: -1, monitor: { checkInterval: 0 } }))).toEqual(['chaosHistoryLimit']);
    expect(issuesOf(() => HealthModule.forRoot({ monitor: { checkInterval: 0 } }))).toEqual(['checkInterval']);
    expect(issuesOf(() => new ChaosMonkeyService({ enabled: 'true' as unknown as boolean, safetyChecks: 1 as unknown as boolean }))).toEqual([
      'enabled',
      'safetyChecks',
    ]);
  });

  it('ChaosModule refuses to enable chaos in production unless allowed', () => {
    let error: unknown;
    try {
      new ChaosMonkeyService({ enabled: true, environment: 'production' });
    } catch (e) {
      error = e;
    }
    expect(isResilienceError(error) && error.code).toBe('CHAOS_REFUSED');
    const allowed = new ChaosMonkeyService({ enabled: true, environment: 'production', allowInProduction: true });
    expect(allowed.control.enabled).toBe(true);
    allowed.dispose();
    const off = new ChaosMonkeyService({ control: new ChaosControl({ environment: 'test' }) });
    expect(off.isSafeToRunChaos()).toBe(false);
    off.dispose();
  });
});

describe('CircuitBreakerService', () => {
  it('applies the module defaults and maps fallbackFunction; per-breaker options win', async () => {
    const clock = new VirtualClock();
    const service = new CircuitBreakerService({ defaultTimeout: 1_000, defaultErrorThreshold: 25, defaultVolumeThreshold: 2, clock });
    const a = service.create('a', async (x: number) => x * 2);
    expect(a.options).toMatchObject({ timeout: 1_000, errorThresholdPercentage: 25, resetTimeout: 30_000 });
    expect(a.volumeThreshold).toBe(2);
    const b = service.create('b', () => new Promise<number>(() => {}), { timeout: 50, fallbackFunction: () => -1 });
    expect(b.options.timeout).toBe(50);
    const pending = b.fire();
    clock.advance(50);
    await expect(pending).resolves.toBe(-1);
    await expect(a.fire(4)).resolves.toBe(8);
    service.onModuleDestroy();
  });

  it('emits breaker events, reports metrics and health, and replaces a breaker created again under its name', async () => {
    const clock = new VirtualClock();
    const service = new CircuitBreakerService({ defaultVolumeThreshold: 1, clock });
    const events: string[] = [];
    service.on('breaker.open', ({ name }) => events.push(`open:${name}`));
    service.on('breaker.halfOpen', ({ name }) => events.push(`halfOpen:${name}`));
    service.on('breaker.close', ({ name }) => events.push(`close:${name}`));
    service.on('breaker.fallback', ({ name, error }) => events.push(`fallback:${name}:${error.message}`));
    service.on('stateChange', ({ name, from, to }) => events.push(`${name}:${from}->${to}`));
    let fail = true;
    const first = service.create('pricing', async () => {
      if (fail) throw new Error('down');
      return 'ok';
    }, { fallbackFunction: () => 'estimate' });
    await expect(first.fire()).resolves.toBe('estimate');
    expect(service.healthCheck()).toEqual({ status: 'degraded', open: ['pricing'], halfOpen: [] });
    expect(service.getAllMetrics().pricing).toMatchObject({ name: 'pricing', state: 'open', enabled: true, stats: { fires: 1, failures: 1 } });
    fail = false;
    clock.advance(30_000);
    await expect(first.fire()).resolves.toBe('ok');
    expect(events).toEqual([
      'open:pricing',
      'pricing:closed->open',
      'fallback:pricing:down',
      'halfOpen:pricing',
      'pricing:open->half-open',
      'close:pricing',
      'pricing:half-open->closed',
    ]);
    expect(service.healthCheck().status).toBe('healthy');

    const second = service.create('pricing', async () => 'v2');
    expect(first.isShutdown).toBe(true);
    expect(service.get('pricing')).toBe(second);
    expect(service.getNames()).toEqual(['pricing']);
    const seen = events.length;
    first.open(); // a shut-down breaker no longer reports through the service
    second.open();
    expect(events.slice(seen)).toEqual(['open:pricing', 'pricing:closed->open']);
    expect(service.remove('pricing')).toBe(true);
    expect(second.isShutdown).toBe(true);
    expect(service.getAllMetrics()).toEqual({});
  });

  it('keeps at most maxBreakers breakers', () => {
    const service = new CircuitBreakerService({ maxBreakers: 1 });
    service.create('one', () => 1);
    service.create('one', () => 2);
    expect(() => service.create('two', () => 2)).toThrow(RangeError);
    service.onModuleDestroy();
  });
});

describe('modules in a Nest application context', () => {
  let redis: PrivateRedisServer;
  let probe: Redis;
  let app: INestApplicationContext | undefined;

  beforeAll(async () => {
    redis = await PrivateRedisServer.start();
    probe = new Redis(redis.options);
  });
  afterAll(async () => {
    await app?.close();
    probe.disconnect();
    await redis.stop();
  });

  it('MultiLayerCacheModule with l2Enabled writes through to Redis; ChaosModule watches the breakers and the degradation', async () => {
    class AppModule {}
    const degradation = new GracefulDegradation();
    app = await NestFactory.createApplicationContext(
      {
        module: AppModule,
        imports: [
          CircuitBreakerModule.forRoot({ defaultTimeout: 3000, defaultErrorThreshold: 50 }),
          MultiLayerCacheModule.forRoot({ l1MaxSize: 10, l2Enabled: true, l3Enabled: false, redis: { ...redis.options, lazyConnect: false }, name: 'quotes' }),
          ChaosModule.forRoot({ enabled: true, scheduleEnabled: true, safetyChecks: true, environment: 'test' }),
          DegradationModule.forRoot({ degradation }),
          HealthModule.forRoot(),
        ],
      },
      { logger: false },
    );
    const cache = app.get(MultiLayerCacheService);
    await cache.set('quote:acme:1', { price: 7 }, { ttl: 3600 });
    expect(await probe.exists('quotes:quote:acme:1')).toBe(1);
    expect(await probe.ttl('quotes:quote:acme:1')).toBeGreaterThan(3500);
    expect(await cache.get('quote:acme:1')).toEqual({ price: 7 });
    expect(cache.getMetrics().layers.map((l) => l.name)).toEqual(['memory', 'l2']);
    expect(cache.healthCheck().status).toBe('healthy');

    // The module shares the given degradation; chaos refuses to run while it is degraded (safety checks on).
    expect(app.get(GracefulDegradation)).toBe(degradation);
    const chaos = app.get(ChaosMonkeyService);
    expect(chaos.isSafeToRunChaos()).toBe(true);
    await degradation.degrade('reduced', 'test');
    expect(chaos.isSafeToRunChaos()).toBe(false);
    await degradation.forceRecover('test');
    // The chaos safety gate also follows the application's health monitor.
    const monitor = app.get(HealthMonitor);
    monitor.registerCheck('database', () => false, { critical: true });
    await monitor.runAll();
    expect(chaos.checkSafety().reasons.join(' ')).toMatch(/unhealthy/);

    const schedule = chaos.scheduleGameDay([], { cron: '0 2 * * 0' });
    expect(typeof schedule.stop).toBe('function');

    const clients = async (): Promise<number> => ((await probe.client('LIST')) as string).trim().split('\n').length;
    expect(await clients()).toBeGreaterThan(1);
    await app.close();
    app = undefined;
    // Closing the application closed the cache's Redis connections (only the probe is left); the data stays.
    await vi.waitFor(async () => expect(await clients()).toBe(1), { timeout: 2_000, interval: 10 });
    expect(await probe.exists('quotes:quote:acme:1')).toBe(1);
  });
});
