import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DegradationGate } from '../../../src/adapters/http/degradation-gate.js';
import {
  ChaosModule,
  ChaosMonkeyService,
  CircuitBreakerModule,
  CircuitBreakerService,
  DegradationModule,
  HealthModule,
  MultiLayerCacheModule,
  MultiLayerCacheService,
  type CircuitBreakerModuleOptions,
  type CircuitBreakerOptionsFactory,
  type HealthModuleOptions,
  type HealthOptionsFactory,
} from '../../../src/adapters/nestjs/index.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { GracefulDegradation } from '../../../src/degradation/graceful-degradation.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/** A ConfigService as @nestjs/config users have one: values by key, loaded asynchronously; also a health options factory. */
class ConfigService implements HealthOptionsFactory {
  readonly reads: string[] = [];
  private loaded = false;
  constructor(private readonly values: Record<string, unknown>) {}
  async load(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.loaded = true;
  }
  get<T>(key: string): T {
    this.reads.push(key);
    return this.values[key] as T;
  }
  get isLoaded(): boolean {
    return this.loaded;
  }
  createHealthOptions(): HealthModuleOptions {
    return { monitor: { checkInterval: this.get<number>('HEALTH_INTERVAL') } };
  }
}

const config = new ConfigService({
  BREAKER_TIMEOUT: 1_234,
  BREAKER_THRESHOLD: 20,
  CACHE_SIZE: 2,
  CHAOS_ENABLED: 'true',
  LEVELS: ['full', 'reduced', 'read-only', 'emergency'],
  EMERGENCY_ROUTES: ['/ping'],
  HEALTH_INTERVAL: 60_000,
});

/** The module exporting it, imported by the forRootAsync calls (it is not global). */
class ConfigModule {}
const configModule: DynamicModule = { module: ConfigModule, providers: [{ provide: ConfigService, useValue: config }], exports: [ConfigService] };

/** A `useClass` options factory with its own injected dependency. */
class BreakerConfig implements CircuitBreakerOptionsFactory {
  constructor(private readonly config: ConfigService) {}
  async createCircuitBreakerOptions(): Promise<CircuitBreakerModuleOptions> {
    await this.config.load();
    return { defaultTimeout: this.config.get<number>('BREAKER_TIMEOUT') * 2 };
  }
}
Injectable()(BreakerConfig);
Inject(ConfigService)(BreakerConfig, undefined, 0);

let open: INestApplicationContext[] = [];
afterEach(async () => {
  for (const app of open.reverse()) await app.close();
  open = [];
});

async function context(...imports: DynamicModule[]): Promise<INestApplicationContext> {
  class AppModule {}
  const app = await NestFactory.createApplicationContext({ module: AppModule, imports }, { logger: false, abortOnError: false });
  open.push(app);
  return app;
}

/** The error that makes the application fail to start. */
async function bootError(...imports: DynamicModule[]): Promise<InvalidOptionsError> {
  let error: unknown;
  try {
    await context(...imports);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidOptionsError);
  return error as InvalidOptionsError;
}

/** The error forRoot throws (where the module is declared or, for cache and chaos, when the application starts). */
async function forRootError(declare: () => DynamicModule): Promise<InvalidOptionsError> {
  let error: unknown;
  try {
    error = await bootError(declare());
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidOptionsError);
  return error as InvalidOptionsError;
}

const paths = (error: InvalidOptionsError): string[] => error.issues.map((issue) => issue.path);

describe('forRootAsync with useFactory', () => {
  it('builds every module from a factory injected with a provider of an imported module (sync and async factories)', async () => {
    const injected: unknown[] = [];
    const clock = new VirtualClock();
    const app = await context(
      CircuitBreakerModule.forRootAsync({
        imports: [configModule],
        inject: [ConfigService],
        useFactory: (c: ConfigService) => {
          injected.push(c);
          return { defaultTimeout: c.get<number>('BREAKER_TIMEOUT'), defaultErrorThreshold: c.get<number>('BREAKER_THRESHOLD'), clock };
        },
      }),
      MultiLayerCacheModule.forRootAsync({
        imports: [configModule],
        inject: [ConfigService],
        useFactory: async (c: ConfigService) => {
          await c.load();
          injected.push(c);
          return { l1MaxSize: c.get<number>('CACHE_SIZE'), l2Enabled: false, l3Enabled: false };
        },
      }),
      ChaosModule.forRootAsync({
        imports: [configModule],
        inject: [ConfigService],
        useFactory: (c: ConfigService) => ({ enabled: c.get<string>('CHAOS_ENABLED') === 'true', scheduleEnabled: true, environment: 'test' }),
      }),
      DegradationModule.forRootAsync({
        imports: [configModule],
        inject: [ConfigService],
        useFactory: async (c: ConfigService) => ({ degradation: { levels: c.get<string[]>('LEVELS') }, allowInEmergency: c.get<string[]>('EMERGENCY_ROUTES') }),
      }),
      HealthModule.forRootAsync({
        imports: [configModule],
        inject: [ConfigService],
        useFactory: (c: ConfigService) => ({ monitor: { checkInterval: c.get<number>('HEALTH_INTERVAL'), clock } }),
      }),
    );
    expect(injected).toEqual([config, config]);
    expect(config.isLoaded).toBe(true);

    const breaker = app.get(CircuitBreakerService).create('pricing', async () => 'ok');
    expect(breaker.options).toMatchObject({ timeout: 1_234, errorThresholdPercentage: 20 });

    const cache = app.get(MultiLayerCacheService);
    for (const key of ['a', 'b', 'c']) await cache.set(key, key);
    expect(cache.getMetrics().memoryEntries).toBe(2);

    const chaos = app.get(ChaosMonkeyService);
    expect(chaos.control.enabled).toBe(true);
    expect(chaos.scheduleEnabled).toBe(true);

    const degradation = app.get(GracefulDegradation);
    expect(degradation.getLevels()).toEqual(['full', 'reduced', 'read-only', 'emergency']);
    // The module owns it (built from a configuration): started with the application, fed by its monitor.
    expect(degradation.isRunning).toBe(true);
    await degradation.degrade('emergency', 'test');
    const gate = app.get(DegradationGate);
    expect(gate.check('GET', '/ping').refusal).toBeUndefined();
    expect(gate.check('GET', '/other').refusal).toBeDefined();
    await degradation.forceRecover('test');

    // The module's own monitor is started with the application.
    expect(app.get(HealthMonitor).isRunning).toBe(true);
  });

  it('takes undefined from the factory as the defaults, and passes undefined for an absent optional dependency', async () => {
    const received: unknown[] = [];
    const app = await context(
      CircuitBreakerModule.forRootAsync({
        inject: [{ token: 'NOT_PROVIDED', optional: true }],
        useFactory: (missing: unknown) => {
          received.push(missing);
          return undefined;
        },
      }),
    );
    expect(received).toEqual([undefined]);
    expect(app.get(CircuitBreakerService).create('x', () => 1).options).toMatchObject({ timeout: 3_000, errorThresholdPercentage: 50 });
  });

  it('keeps a monitor or a degradation the factory gives (not started or stopped by the modules)', async () => {
    const monitor = new HealthMonitor({ checkInterval: 60_000 });
    const degradation = new GracefulDegradation();
    const app = await context(
      HealthModule.forRootAsync({ useFactory: async () => ({ monitor }) }),
      DegradationModule.forRootAsync({ useFactory: async () => ({ degradation }) }),
    );
    expect(app.get(HealthMonitor)).toBe(monitor);
    expect(monitor.isRunning).toBe(false);
    expect(app.get(GracefulDegradation)).toBe(degradation);
    expect(degradation.isRunning).toBe(false);
    monitor.dispose();
  });
});

describe('forRootAsync with useClass and useExisting', () => {
  it('asks a class instantiated with its own dependencies, or an existing provider, for the options', async () => {
    const app = await context(
      CircuitBreakerModule.forRootAsync({ imports: [configModule], useClass: BreakerConfig }),
      HealthModule.forRootAsync({ imports: [configModule], useExisting: ConfigService }),
    );
    expect(app.get(CircuitBreakerService).create('x', () => 1).options.timeout).toBe(2_468);
    expect(config.reads).toContain('HEALTH_INTERVAL');
    expect(app.get(HealthMonitor).isRunning).toBe(true);
  });

  it('fails to start when the existing provider has no factory method', async () => {
    let error: unknown;
    try {
      await context(ChaosModule.forRootAsync({ imports: [configModule], useExisting: ConfigService }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('ChaosModule.forRootAsync: the options factory has no createChaosOptions() method');
  });
});

describe('forRootAsync validation', () => {
  it('fails the application start with the InvalidOptionsError forRoot gives, naming the fields', async () => {
    const cases: [DynamicModule, () => DynamicModule, string[]][] = [
      [
        CircuitBreakerModule.forRootAsync({ useFactory: async () => ({ defaultTimeout: -1, defaultErrorThreshold: 120, maxBreakers: 0 }) }),
        () => CircuitBreakerModule.forRoot({ defaultTimeout: -1, defaultErrorThreshold: 120, maxBreakers: 0 }),
        ['defaultTimeout', 'defaultErrorThreshold', 'maxBreakers'],
      ],
      [
        MultiLayerCacheModule.forRootAsync({ useFactory: () => ({ l1MaxSize: 0, l2Enabled: false, l3Enabled: false }) }),
        () => MultiLayerCacheModule.forRoot({ l1MaxSize: 0, l2Enabled: false, l3Enabled: false }),
        ['l1MaxSize'],
      ],
      [
        ChaosModule.forRootAsync({ useFactory: () => ({ enabled: 'true' as unknown as boolean, safetyChecks: 1 as unknown as boolean }) }),
        () => ChaosModule.forRoot({ enabled: 'true' as unknown as boolean, safetyChecks: 1 as unknown as boolean }),
        ['enabled', 'safetyChecks'],
      ],
      [
        DegradationModule.forRootAsync({ useFactory: async () => ({ readOnlyLevel: 'nope', retryAfterMs: -5 }) }),
        () => DegradationModule.forRoot({ readOnlyLevel: 'nope', retryAfterMs: -5 }),
        ['readOnlyLevel', 'retryAfterMs'],
      ],
      [
        DegradationModule.forRootAsync({ useFactory: () => ({ applyToAllRoutes: 'yes' as unknown as boolean }) }),
        () => DegradationModule.forRoot({ applyToAllRoutes: 'yes' as unknown as boolean }),
        ['applyToAllRoutes'],
      ],
      [
        HealthModule.forRootAsync({ useFactory: () => ({ chaosHistoryLimit: -1 }) }),
        () => HealthModule.forRoot({ chaosHistoryLimit: -1 }),
        ['chaosHistoryLimit'],
      ],
      [
        HealthModule.forRootAsync({ imports: [configModule], inject: [ConfigService], useFactory: async () => ({ monitor: { checkInterval: 0 } }) }),
        () => HealthModule.forRoot({ monitor: { checkInterval: 0 } }),
        ['checkInterval'],
      ],
    ];
    for (const [asyncModule, declare, fields] of cases) {
      const error = await bootError(asyncModule);
      expect(paths(error)).toEqual(fields);
      expect(error.message).toBe((await forRootError(declare)).message);
    }
  });

  it('reports options that are not an object as forRoot does', async () => {
    for (const module of [CircuitBreakerModule, MultiLayerCacheModule, ChaosModule, DegradationModule, HealthModule]) {
      const error = await bootError(module.forRootAsync({ useFactory: () => null as never }));
      expect(paths(error)).toEqual(['options']);
      expect(error.message).toMatch(/options: expected an object, received null/);
    }
  });

  it('fails the start of an HTTP application on Fastify', async () => {
    class AppModule {}
    let error: unknown;
    try {
      const app = await NestFactory.create(
        { module: AppModule, imports: [CircuitBreakerModule.forRootAsync({ useFactory: async () => ({ defaultVolumeThreshold: 1.5 }) })] },
        new FastifyAdapter(),
        { logger: false, abortOnError: false },
      );
      open.push(app);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(paths(error as InvalidOptionsError)).toEqual(['defaultVolumeThreshold']);
  });

  it('rejects an invalid forRootAsync argument where the module is declared', () => {
    const issues = (fn: () => unknown): string[] => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionsError);
        return paths(error as InvalidOptionsError);
      }
      throw new Error('expected an InvalidOptionsError');
    };
    expect(issues(() => CircuitBreakerModule.forRootAsync({}))).toEqual(['useFactory']);
    expect(issues(() => HealthModule.forRootAsync(undefined as never))).toEqual(['options']);
    expect(issues(() => ChaosModule.forRootAsync({ useFactory: () => ({}), useExisting: ConfigService }))).toEqual(['useExisting']);
    expect(issues(() => DegradationModule.forRootAsync({ useFactory: 'nope' as never }))).toEqual(['useFactory']);
    expect(issues(() => MultiLayerCacheModule.forRootAsync({ useClass: BreakerConfig as never, inject: [ConfigService] }))).toEqual(['inject']);
    expect(issues(() => MultiLayerCacheModule.forRootAsync({ useFactory: () => ({}), imports: 'x' as never }))).toEqual(['imports']);
  });
});

describe('forRootAsync in an HTTP application on Fastify', () => {
  it('applies the degradation middleware (or not) as the factory says, and serves the health endpoints', async () => {
    for (const applyToAllRoutes of [true, false]) {
      class AppModule {}
      const app = await NestFactory.create<NestFastifyApplication>(
        {
          module: AppModule,
          imports: [
            DegradationModule.forRootAsync({ imports: [configModule], inject: [ConfigService], useFactory: async () => ({ applyToAllRoutes }) }),
            HealthModule.forRootAsync({ imports: [configModule], useExisting: ConfigService }),
          ],
        },
        new FastifyAdapter(),
        { logger: false, abortOnError: false },
      );
      open.push(app);
      await app.listen(0, '127.0.0.1');
      const res = await fetch(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/health/live`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/health+json');
      expect(await res.json()).toMatchObject({ status: 'pass' });
      expect(res.headers.get('x-service-status')).toBe(applyToAllRoutes ? 'operational' : null);
    }
  });
});
