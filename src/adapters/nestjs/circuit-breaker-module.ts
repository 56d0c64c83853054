import type { DynamicModule, Provider } from '@nestjs/common';
import { CircuitBreakerService, type CircuitBreakerModuleOptions } from './circuit-breaker-service.js';
import { asyncOptionsProviders, type ModuleAsyncOptions } from './module-async-options.js';

/** What `useClass`/`useExisting` of `CircuitBreakerModule.forRootAsync` provide. */
export interface CircuitBreakerOptionsFactory {
  /** The module's options (or a promise of them). */
  createCircuitBreakerOptions(): CircuitBreakerModuleOptions | undefined | Promise<CircuitBreakerModuleOptions | undefined>;
}

/** Options of `CircuitBreakerModule.forRootAsync`. */
export type CircuitBreakerModuleAsyncOptions = ModuleAsyncOptions<CircuitBreakerModuleOptions, CircuitBreakerOptionsFactory>;

const OPTIONS = Symbol('antifragile:CircuitBreakerModule.options');

/**
 * The seed's `CircuitBreakerModule`: `CircuitBreakerModule.forRoot({ defaultTimeout, defaultErrorThreshold })`
 * provides a global {@link CircuitBreakerService} (one per application). Options are validated when the module
 * is declared (`forRoot`) or when the application starts (`forRootAsync`).
 *
 * @example
 * // imports: [CircuitBreakerModule.forRoot({ defaultTimeout: 3000, defaultErrorThreshold: 50 })]
 */
export class CircuitBreakerModule {
  /** @throws InvalidOptionsError listing every invalid option. */
  static forRoot(options: CircuitBreakerModuleOptions = {}): DynamicModule {
    // Validate now, so a bad option fails where the module is declared; each application gets its own service.
    new CircuitBreakerService(options);
    return circuitBreakerModule([], [{ provide: OPTIONS, useValue: options }]);
  }

  /**
   * The module with options from a factory, a class or an existing provider, resolved when the application
   * starts; invalid options make it fail to start with the InvalidOptionsError `forRoot` would throw.
   * @throws InvalidOptionsError when `async` itself is invalid (not exactly one of useFactory, useClass, useExisting).
   *
   * @example
   * // imports: [CircuitBreakerModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService],
   * //   useFactory: (config: ConfigService) => ({ defaultTimeout: config.get('BREAKER_TIMEOUT') }) })]
   */
  static forRootAsync(async: CircuitBreakerModuleAsyncOptions): DynamicModule {
    const { imports, providers } = asyncOptionsProviders('CircuitBreakerModule.forRootAsync', OPTIONS, async, 'createCircuitBreakerOptions');
    return circuitBreakerModule(imports, providers);
  }
}

/** The module, whatever gives its options (under `OPTIONS`). */
function circuitBreakerModule(imports: NonNullable<DynamicModule['imports']>, optionProviders: Provider[]): DynamicModule {
  return {
    module: CircuitBreakerModule,
    global: true,
    imports,
    providers: [
      ...optionProviders,
      { provide: CircuitBreakerService, useFactory: (options: CircuitBreakerModuleOptions) => new CircuitBreakerService(options), inject: [OPTIONS] },
    ],
    exports: [CircuitBreakerService],
  };
}
