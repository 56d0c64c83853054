import type { DynamicModule } from '@nestjs/common';
import type { BreakerSource, ExperimentComponents } from '../../chaos/experiments/experiment-components.js';
import { GracefulDegradation } from '../../degradation/graceful-degradation.js';
import { HealthMonitor } from '../../health/health-monitor.js';
import { ChaosMonkeyService, type ChaosModuleOptions } from './chaos-monkey-service.js';
import { CircuitBreakerService } from './circuit-breaker-service.js';

/**
 * The seed's `ChaosModule`: `ChaosModule.forRoot({ enabled, scheduleEnabled, safetyChecks })` provides a global
 * {@link ChaosMonkeyService}. When the application also has them, the service watches the
 * {@link CircuitBreakerService}'s breakers and the {@link GracefulDegradation} for its findings, and refuses to
 * run while the {@link HealthMonitor} reports the system unhealthy (unless `components` or `health` are given).
 *
 * @example
 * // imports: [ChaosModule.forRoot({ enabled: process.env.CHAOS_ENABLED === 'true', scheduleEnabled: false, safetyChecks: true })]
 */
export class ChaosModule {
  /** Invalid options (or `enabled` in production without `allowInProduction`) make the application fail to start. */
  static forRoot(options: ChaosModuleOptions = {}): DynamicModule {
    return {
      module: ChaosModule,
      global: true,
      providers: [
        {
          provide: ChaosMonkeyService,
          useFactory: (breakers?: CircuitBreakerService, degradation?: GracefulDegradation, health?: HealthMonitor) => {
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
            { token: CircuitBreakerService, optional: true },
            { token: GracefulDegradation, optional: true },
            { token: HealthMonitor, optional: true },
          ],
        },
      ],
      exports: [ChaosMonkeyService],
    };
  }
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
