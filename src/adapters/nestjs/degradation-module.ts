import { Inject, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { OptionsValidator } from '../../core/options.js';
import { GracefulDegradation, type GracefulDegradationConfig } from '../../degradation/graceful-degradation.js';
import { HealthMonitor } from '../../health/health-monitor.js';
import { DegradationGate, type DegradationGateOptions } from '../http/degradation-gate.js';
import { DegradationMiddleware } from './degradation-middleware.js';

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

/** What the module instance needs at run time. @internal */
interface ModuleState {
  owned: boolean;
  applyToAllRoutes: boolean;
}

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
    const v = new OptionsValidator('DegradationModule');
    if (v.object('options', options)) v.boolean('applyToAllRoutes', options.applyToAllRoutes);
    v.throwIfInvalid();
    const { degradation, applyToAllRoutes, ...gateOptions } = options;
    const owned = !(degradation instanceof GracefulDegradation);
    const make = (): GracefulDegradation => (degradation instanceof GracefulDegradation ? degradation : new GracefulDegradation(degradation ?? {}));
    // Validate the degradation config and the gate now, where the module is declared.
    new DegradationGate({ ...gateOptions, degradation: make() }).dispose();
    const state: ModuleState = { owned, applyToAllRoutes: applyToAllRoutes !== false };
    return {
      module: DegradationModule,
      global: true,
      providers: [
        { provide: MODULE_STATE, useValue: state },
        {
          provide: GracefulDegradation,
          useFactory: (health?: HealthMonitor) => {
            const instance = make();
            if (owned && health !== undefined) instance.setHealthMonitor(health);
            return instance;
          },
          inject: [{ token: HealthMonitor, optional: true }],
        },
        { provide: DegradationGate, useFactory: (d: GracefulDegradation) => new DegradationGate({ ...gateOptions, degradation: d }), inject: [GracefulDegradation] },
        DegradationMiddleware,
      ],
      exports: [GracefulDegradation, DegradationGate, DegradationMiddleware],
    };
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
