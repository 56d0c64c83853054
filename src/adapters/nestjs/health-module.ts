import { Inject, type DynamicModule, type Provider } from '@nestjs/common';
import { OptionsValidator } from '../../core/options.js';
import { HealthMonitor, type HealthMonitorConfig } from '../../health/health-monitor.js';
import { HealthEndpoints } from '../http/health-endpoints.js';
import type { Readiness } from '../http/readiness.js';
import { ChaosMonkeyService } from './chaos-monkey-service.js';
import { CircuitBreakerService } from './circuit-breaker-service.js';
import { HealthController } from './health-controller.js';
import { asyncOptionsProviders, type ModuleAsyncOptions } from './module-async-options.js';
import { MultiLayerCacheService } from './multi-layer-cache-service.js';

const OPTIONS = Symbol('antifragile:HealthModule.options');
const SETTINGS = Symbol('antifragile:HealthModule.settings');
const OWNED_MONITOR = Symbol('antifragile:HealthModule.owned');

/** Options of `HealthModule.forRoot`. */
export interface HealthModuleOptions {
  /**
   * The monitor whose checks the endpoints report, or the configuration of a new one (started with the
   * application and disposed with it). @default a new monitor with no checks
   */
  monitor?: HealthMonitor | HealthMonitorConfig;
  /** Readiness switch: while it drains, `/health/ready` fails. */
  readiness?: Readiness;
  /** Newest chaos runs in the antifragility block (integer >= 0). @default 20 */
  chaosHistoryLimit?: number;
}

/** What `useClass`/`useExisting` of `HealthModule.forRootAsync` provide. */
export interface HealthOptionsFactory {
  /** The module's options (or a promise of them). */
  createHealthOptions(): HealthModuleOptions | undefined | Promise<HealthModuleOptions | undefined>;
}

/** Options of `HealthModule.forRootAsync`. */
export type HealthModuleAsyncOptions = ModuleAsyncOptions<HealthModuleOptions, HealthOptionsFactory>;

/** Validated options: the monitor given, or the configuration of the module's own. @internal */
interface HealthSettings {
  given: HealthMonitor | undefined;
  config: HealthMonitorConfig | undefined;
  options: HealthModuleOptions;
}

/**
 * Health endpoints for a Nest application: provides the {@link HealthMonitor} (global) and registers
 * {@link HealthController} (`/health`, `/health/live`, `/health/ready`, `/health/startup`). The antifragility
 * block of `/health` reads the application's {@link CircuitBreakerService}, {@link MultiLayerCacheService} and
 * {@link ChaosMonkeyService} when their modules are imported.
 *
 * @example
 * // imports: [HealthModule.forRoot({ monitor: { checkInterval: 10_000 } })]
 * // then: app.get(HealthMonitor).registerCheck('database', () => db.ping(), { critical: true })
 */
export class HealthModule {
  /**
   * @param monitor the application's monitor.
   * @param owned whether the module created it (and so starts and disposes it).
   */
  constructor(
    private readonly monitor: HealthMonitor,
    private readonly owned: boolean,
  ) {}

  /** @throws InvalidOptionsError listing every invalid option. */
  static forRoot(options: HealthModuleOptions = {}): DynamicModule {
    // Validate now, where the module is declared.
    healthSettings(options);
    return healthModule([], [{ provide: OPTIONS, useValue: options }]);
  }

  /**
   * The module with options from a factory, a class or an existing provider, resolved when the application
   * starts; invalid options make it fail to start with the InvalidOptionsError `forRoot` would throw.
   * @throws InvalidOptionsError when `async` itself is invalid (not exactly one of useFactory, useClass, useExisting).
   *
   * @example
   * // imports: [HealthModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService],
   * //   useFactory: (config: ConfigService) => ({ monitor: { checkInterval: config.get('HEALTH_INTERVAL') } }) })]
   */
  static forRootAsync(async: HealthModuleAsyncOptions): DynamicModule {
    const { imports, providers } = asyncOptionsProviders('HealthModule.forRootAsync', OPTIONS, async, 'createHealthOptions');
    return healthModule(imports, providers);
  }

  /** Starts the checks of a monitor the module created. Nest calls it. */
  onApplicationBootstrap(): void {
    if (this.owned) this.monitor.start();
  }

  /** Disposes of a monitor the module created. Nest calls it. */
  onModuleDestroy(): void {
    if (this.owned) this.monitor.dispose();
  }
}
Inject(HealthMonitor)(HealthModule, undefined, 0);
Inject(OWNED_MONITOR)(HealthModule, undefined, 1);

/**
 * Validates the module's options (a monitor configuration by building a monitor and disposing of it).
 * @throws InvalidOptionsError listing every invalid option.
 */
function healthSettings(options: HealthModuleOptions): HealthSettings {
  const v = new OptionsValidator('HealthModule');
  if (v.object('options', options)) {
    if (options.monitor !== undefined && !(options.monitor instanceof HealthMonitor)) v.object('monitor', options.monitor);
    v.integer('chaosHistoryLimit', options.chaosHistoryLimit, 0);
  }
  v.throwIfInvalid();
  const given = options.monitor instanceof HealthMonitor ? options.monitor : undefined;
  const config = given === undefined ? (options.monitor as HealthMonitorConfig | undefined) : undefined;
  if (given === undefined) new HealthMonitor(config ?? {}).dispose();
  return { given, config, options };
}

/** The module, whatever gives its options (under `OPTIONS`). */
function healthModule(imports: NonNullable<DynamicModule['imports']>, optionProviders: Provider[]): DynamicModule {
  return {
    module: HealthModule,
    global: true,
    imports,
    controllers: [HealthController],
    providers: [
      ...optionProviders,
      { provide: SETTINGS, useFactory: healthSettings, inject: [OPTIONS] },
      { provide: HealthMonitor, useFactory: ({ given, config }: HealthSettings) => given ?? new HealthMonitor(config ?? {}), inject: [SETTINGS] },
      { provide: OWNED_MONITOR, useFactory: ({ given }: HealthSettings) => given === undefined, inject: [SETTINGS] },
      {
        provide: HealthEndpoints,
        useFactory: ({ options }: HealthSettings, monitor: HealthMonitor, breakers?: CircuitBreakerService, cache?: MultiLayerCacheService, chaos?: ChaosMonkeyService) =>
          new HealthEndpoints({
            monitor,
            ...(breakers === undefined ? {} : { breakers }),
            ...(cache === undefined ? {} : { cache }),
            ...(chaos === undefined ? {} : { chaos }),
            ...(options.readiness === undefined ? {} : { readiness: options.readiness }),
            ...(options.chaosHistoryLimit === undefined ? {} : { chaosHistoryLimit: options.chaosHistoryLimit }),
          }),
        inject: [
          SETTINGS,
          HealthMonitor,
          { token: CircuitBreakerService, optional: true },
          { token: MultiLayerCacheService, optional: true },
          { token: ChaosMonkeyService, optional: true },
        ],
      },
    ],
    exports: [HealthMonitor, HealthEndpoints],
  };
}
