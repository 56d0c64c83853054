import { Inject, type DynamicModule } from '@nestjs/common';
import { OptionsValidator } from '../../core/options.js';
import { HealthMonitor, type HealthMonitorConfig } from '../../health/health-monitor.js';
import { HealthEndpoints } from '../http/health-endpoints.js';
import type { Readiness } from '../http/readiness.js';
import { ChaosMonkeyService } from './chaos-monkey-service.js';
import { CircuitBreakerService } from './circuit-breaker-service.js';
import { HealthController } from './health-controller.js';
import { MultiLayerCacheService } from './multi-layer-cache-service.js';

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
    const v = new OptionsValidator('HealthModule');
    if (v.object('options', options)) {
      if (options.monitor !== undefined && !(options.monitor instanceof HealthMonitor)) v.object('monitor', options.monitor);
      v.integer('chaosHistoryLimit', options.chaosHistoryLimit, 0);
    }
    v.throwIfInvalid();
    const given = options.monitor instanceof HealthMonitor ? options.monitor : undefined;
    const config = given === undefined ? (options.monitor as HealthMonitorConfig | undefined) : undefined;
    // Validate a monitor configuration now, where the module is declared.
    if (given === undefined) new HealthMonitor(config ?? {}).dispose();
    return {
      module: HealthModule,
      global: true,
      controllers: [HealthController],
      providers: [
        { provide: HealthMonitor, useFactory: () => given ?? new HealthMonitor(config ?? {}) },
        { provide: OWNED_MONITOR, useValue: given === undefined },
        {
          provide: HealthEndpoints,
          useFactory: (monitor: HealthMonitor, breakers?: CircuitBreakerService, cache?: MultiLayerCacheService, chaos?: ChaosMonkeyService) =>
            new HealthEndpoints({
              monitor,
              ...(breakers === undefined ? {} : { breakers }),
              ...(cache === undefined ? {} : { cache }),
              ...(chaos === undefined ? {} : { chaos }),
              ...(options.readiness === undefined ? {} : { readiness: options.readiness }),
              ...(options.chaosHistoryLimit === undefined ? {} : { chaosHistoryLimit: options.chaosHistoryLimit }),
            }),
          inject: [
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

