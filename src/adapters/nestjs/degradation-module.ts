import { Inject, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule, type Provider } from '@nestjs/common';
import { OptionsValidator } from '../../core/options.js';
import { GracefulDegradation, type GracefulDegradationConfig } from '../../degradation/graceful-degradation.js';
import { HealthMonitor } from '../../health/health-monitor.js';
import { DegradationGate, type DegradationGateOptions } from '../http/degradation-gate.js';
import { DegradationMiddleware } from './degradation-middleware.js';
import { asyncOptionsProviders, type ModuleAsyncOptions } from './module-async-options.js';

/** Options of `DegradationModule.forRoot`: the degradation, and how the gate treats requests. */
export interface DegradationModuleOptions extends Omit<DegradationGateOptions, 'degradation'> {
  /**
   * The degradation to follow, or the configuration of a new one (started with the application, stopped with
   * it, and fed by the application's `HealthMonitor` when `HealthModule` is imported). @default a new one with default levels
   */
  degradation?: GracefulDegradation | GracefulDegradationConfig;
  /**
   * Whether the module applies {@link DegradationMiddleware} to every route; when false, apply it yourself
   * with `consumer.apply(DegradationMiddleware).forRoutes(...)`. @default true
   */
  applyToAllRoutes?: boolean;
}

/** What `useClass`/`useExisting` of `DegradationModule.forRootAsync` provide. */
export interface DegradationOptionsFactory {
  /** The module's options (or a promise of them). */
  createDegradationOptions(): DegradationModuleOptions | undefined | Promise<DegradationModuleOptions | undefined>;
}

/** Options of `DegradationModule.forRootAsync`. */
export type DegradationModuleAsyncOptions = ModuleAsyncOptions<DegradationModuleOptions, DegradationOptionsFactory>;

/** What the module instance needs at run time. @internal */
interface ModuleState {
  owned: boolean;
  applyToAllRoutes: boolean;
}

/** Validated options. @internal */
interface DegradationSettings extends ModuleState {
  /** The degradation given, or a new one from the configuration given. */
  make: () => GracefulDegradation;
  gateOptions: Omit<DegradationGateOptions, 'degradation'>;
}

const OPTIONS = Symbol('antifragile:DegradationModule.options');
const SETTINGS = Symbol('antifragile:DegradationModule.settings');
const MODULE_STATE = Symbol('antifragile:DegradationModule');

/**
 * Progressive degradation for a Nest application: provides the {@link GracefulDegradation} (global) and the
 * {@link DegradationGate}, and applies {@link DegradationMiddleware} (headers, read-only and emergency refusals)
 * to every route.
 *
 * @example
 * // imports: [DegradationModule.forRoot({ degradation: { levels: ['full', 'reduced', 'read-only', 'emergency'] }, allowInEmergency: ['/health/*', '/quotes/:id'] })]
 */
export class DegradationModule implements NestModule {
  /**
   * @param degradation the application's degradation.
   * @param gate the gate of the middleware.
   * @param state what `forRoot` decided.
   */
  constructor(
    private readonly degradation: GracefulDegradation,
    private readonly gate: DegradationGate,
    private readonly state: ModuleState,
  ) {}

  /** @throws InvalidOptionsError listing every invalid option (also the gate's, checked against the levels). */
  static forRoot(options: DegradationModuleOptions = {}): DynamicModule {
    // Validate now, where the module is declared.
    degradationSettings(options);
    return degradationModule([], [{ provide: OPTIONS, useValue: options }]);
  }

  /**
   * The module with options from a factory, a class or an existing provider, resolved when the application
   * starts; invalid options make it fail to start with the InvalidOptionsError `forRoot` would throw.
   * @throws InvalidOptionsError when `async` itself is invalid (not exactly one of useFactory, useClass, useExisting).
   *
   * @example
   * // imports: [DegradationModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService],
   * //   useFactory: (config: ConfigService) => ({ allowInEmergency: config.get('EMERGENCY_ROUTES') }) })]
   */
  static forRootAsync(async: DegradationModuleAsyncOptions): DynamicModule {
    const { imports, providers } = asyncOptionsProviders('DegradationModule.forRootAsync', OPTIONS, async, 'createDegradationOptions');
    return degradationModule(imports, providers);
  }

  /** Applies the middleware to every route (unless `applyToAllRoutes: false`). Nest calls it. */
  configure(consumer: MiddlewareConsumer): void {
    if (this.state.applyToAllRoutes) consumer.apply(DegradationMiddleware).forRoutes({ path: '*', method: RequestMethod.ALL });
  }

  /** Starts a degradation the module created. Nest calls it. */
  onModuleInit(): void {
    if (this.state.owned) this.degradation.start();
  }

  /** Stops the gate, and the degradation the module created. Nest calls it. */
  onModuleDestroy(): void {
    this.gate.dispose();
    if (this.state.owned) this.degradation.stop();
  }
}
Inject(GracefulDegradation)(DegradationModule, undefined, 0);
Inject(DegradationGate)(DegradationModule, undefined, 1);
Inject(MODULE_STATE)(DegradationModule, undefined, 2);

/**
 * Validates the module's options (the degradation configuration and the gate's options by building them).
 * @throws InvalidOptionsError listing every invalid option.
 */
function degradationSettings(options: DegradationModuleOptions): DegradationSettings {
  const v = new OptionsValidator('DegradationModule');
  if (v.object('options', options)) v.boolean('applyToAllRoutes', options.applyToAllRoutes);
  v.throwIfInvalid();
  const { degradation, applyToAllRoutes, ...gateOptions } = options;
  const make = (): GracefulDegradation => (degradation instanceof GracefulDegradation ? degradation : new GracefulDegradation(degradation ?? {}));
  new DegradationGate({ ...gateOptions, degradation: make() }).dispose();
  return { make, gateOptions, owned: !(degradation instanceof GracefulDegradation), applyToAllRoutes: applyToAllRoutes !== false };
}

/** The module, whatever gives its options (under `OPTIONS`). */
function degradationModule(imports: NonNullable<DynamicModule['imports']>, optionProviders: Provider[]): DynamicModule {
  return {
    module: DegradationModule,
    global: true,
    imports,
    providers: [
      ...optionProviders,
      { provide: SETTINGS, useFactory: degradationSettings, inject: [OPTIONS] },
      { provide: MODULE_STATE, useFactory: ({ owned, applyToAllRoutes }: DegradationSettings): ModuleState => ({ owned, applyToAllRoutes }), inject: [SETTINGS] },
      {
        provide: GracefulDegradation,
        useFactory: ({ make, owned }: DegradationSettings, health?: HealthMonitor) => {
          const instance = make();
          if (owned && health !== undefined) instance.setHealthMonitor(health);
          return instance;
        },
        inject: [SETTINGS, { token: HealthMonitor, optional: true }],
      },
      {
        provide: DegradationGate,
        useFactory: ({ gateOptions }: DegradationSettings, d: GracefulDegradation) => new DegradationGate({ ...gateOptions, degradation: d }),
        inject: [SETTINGS, GracefulDegradation],
      },
      DegradationMiddleware,
    ],
    exports: [GracefulDegradation, DegradationGate, DegradationMiddleware],
  };
}
