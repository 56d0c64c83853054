import type { DynamicModule, Provider } from '@nestjs/common';
import type { BreakerSource, ExperimentComponents } from '../../chaos/experiments/experiment-components.js';
import { GracefulDegradation } from '../../degradation/graceful-degradation.js';
import { HealthMonitor } from '../../health/health-monitor.js';
import { ChaosMonkeyService, type ChaosModuleOptions } from './chaos-monkey-service.js';
import { CircuitBreakerService } from './circuit-breaker-service.js';
import { asyncOptionsProviders, type ModuleAsyncOptions } from './module-async-options.js';

/** What `useClass`/`useExisting` of `ChaosModule.forRootAsync` provide. */
export interface ChaosOptionsFactory {
  /** The module's options (or a promise of them). */
  createChaosOptions(): ChaosModuleOptions | undefined | Promise<ChaosModuleOptions | undefined>;
}

/** Options of `ChaosModule.forRootAsync`. */
export type ChaosModuleAsyncOptions = ModuleAsyncOptions<ChaosModuleOptions, ChaosOptionsFactory>;

const OPTIONS = Symbol('antifragile:ChaosModule.options');

/**
 * The seed's `ChaosModule`: `ChaosModule.forRoot({ enabled, scheduleEnabled, safetyChecks })` provides a global
 * {@link ChaosMonkeyService}. When the application also has them, the service watches the
 * {@link CircuitBreakerService}'s breakers and the {@link GracefulDegradation} for its findings, and refuses to
 * run while the {@link HealthMonitor} reports the system unhealthy (unless `components` or `health` are given).
 *
 * With `scheduleEnabled`, the `schedules` game days start when the module initialises and stop when the
 * application closes (the seed's `ChaosSchedulerService` and Sunday game days, without a class of your own).
 *
 * @example
 * // imports: [ChaosModule.forRoot({ enabled: process.env.CHAOS_ENABLED === 'true', scheduleEnabled: false, safetyChecks: true })]
 * @example
 * // imports: [ChaosModule.forRoot({
 * //   enabled: process.env.ENABLE_CHAOS === 'true',
 * //   scheduleEnabled: process.env.NODE_ENV !== 'production',
 * //   schedules: [
 * //     { cron: '0 *\/4 * * *', experiments: ['network-latency', 'cpu-stress', 'random-service-failure'], pick: 'one-at-random',
 * //       when: () => traffic.isLow(), experimentOptions: { durationMs: 60_000, intensity: 'low' },
 * //       onFailure: (report, failures) => alertOps({ experiment: failures[0]?.name, severity: 'warning' }) },
 * //     { cron: '0 2 * * 0', experiments: ['network-latency', 'cpu-stress'] },
 * //   ],
 * // })]
 */
export class ChaosModule {
  /** Invalid options (or `enabled` in production without `allowInProduction`) make the application fail to start. */
  static forRoot(options: ChaosModuleOptions = {}): DynamicModule {
    return chaosModule([], [{ provide: OPTIONS, useValue: options }]);
  }

  /**
   * The module with options from a factory, a class or an existing provider, resolved when the application
   * starts; invalid options make it fail to start with the error `forRoot` gives.
   * @throws InvalidOptionsError when `async` itself is invalid (not exactly one of useFactory, useClass, useExisting).
   *
   * @example
   * // imports: [ChaosModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService],
   * //   useFactory: (config: ConfigService) => ({ enabled: config.get('CHAOS_ENABLED') === 'true' }) })]
   */
  static forRootAsync(async: ChaosModuleAsyncOptions): DynamicModule {
    const { imports, providers } = asyncOptionsProviders('ChaosModule.forRootAsync', OPTIONS, async, 'createChaosOptions');
    return chaosModule(imports, providers);
  }
}

/** The module, whatever gives its options (under `OPTIONS`). */
function chaosModule(imports: NonNullable<DynamicModule['imports']>, optionProviders: Provider[]): DynamicModule {
  return {
    module: ChaosModule,
    global: true,
    imports,
    providers: [
      ...optionProviders,
      {
        provide: ChaosMonkeyService,
        useFactory: (options: ChaosModuleOptions, breakers?: CircuitBreakerService, degradation?: GracefulDegradation, health?: HealthMonitor) => {
          // Not an object: the service reports it as forRoot's would.
          if (typeof options !== 'object' || options === null) return new ChaosMonkeyService(options);
          const components: ExperimentComponents = {};
          if (breakers !== undefined) components.circuitBreakers = breakerSource(breakers);
          if (degradation !== undefined) components.degradation = degradation;
          return new ChaosMonkeyService({
            ...(options.components === undefined ? { components } : {}),
            ...(options.health === undefined && health !== undefined ? { health } : {}),
            ...options,
          });
        },
        inject: [
          OPTIONS,
          { token: CircuitBreakerService, optional: true },
          { token: GracefulDegradation, optional: true },
          { token: HealthMonitor, optional: true },
        ],
      },
    ],
    exports: [ChaosMonkeyService],
  };
}

/** The service's breakers as experiments watch them (by name, with their core circuit's state). */
function breakerSource(breakers: CircuitBreakerService): BreakerSource {
  return {
    get: (name) => {
      const breaker = breakers.get(name);
      return breaker === undefined ? undefined : { state: breaker.core.state };
    },
    on: (event, listener) => breakers.on(event, listener),
  };
}
