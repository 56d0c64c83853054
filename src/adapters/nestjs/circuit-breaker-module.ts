import type { DynamicModule } from '@nestjs/common';
import { CircuitBreakerService, type CircuitBreakerModuleOptions } from './circuit-breaker-service.js';

/**
 * The seed's `CircuitBreakerModule`: `CircuitBreakerModule.forRoot({ defaultTimeout, defaultErrorThreshold })`
 * provides a global {@link CircuitBreakerService} (one per application). Options are validated when the module
 * is declared.
 *
 * @example
 * // imports: [CircuitBreakerModule.forRoot({ defaultTimeout: 3000, defaultErrorThreshold: 50 })]
 */
export class CircuitBreakerModule {
  /** @throws InvalidOptionsError listing every invalid option. */
  static forRoot(options: CircuitBreakerModuleOptions = {}): DynamicModule {
    // Validate now, so a bad option fails where the module is declared; each application gets its own service.
    new CircuitBreakerService(options);
    return {
      module: CircuitBreakerModule,
      global: true,
      providers: [{ provide: CircuitBreakerService, useFactory: () => new CircuitBreakerService(options) }],
      exports: [CircuitBreakerService],
    };
  }
}
