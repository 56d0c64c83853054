import type { DynamicModule, Provider } from '@nestjs/common';
import { asyncOptionsProviders, type ModuleAsyncOptions } from './module-async-options.js';
import { MultiLayerCacheService, type MultiLayerCacheModuleOptions } from './multi-layer-cache-service.js';

/** What `useClass`/`useExisting` of `MultiLayerCacheModule.forRootAsync` provide. */
export interface MultiLayerCacheOptionsFactory {
  /** The module's options (or a promise of them). */
  createMultiLayerCacheOptions(): MultiLayerCacheModuleOptions | undefined | Promise<MultiLayerCacheModuleOptions | undefined>;
}

/** Options of `MultiLayerCacheModule.forRootAsync`. */
export type MultiLayerCacheModuleAsyncOptions = ModuleAsyncOptions<MultiLayerCacheModuleOptions, MultiLayerCacheOptionsFactory>;

const OPTIONS = Symbol('antifragile:MultiLayerCacheModule.options');

/**
 * The seed's `MultiLayerCacheModule`: `MultiLayerCacheModule.forRoot({ l1MaxSize, l2Enabled, l3Enabled,
 * sentinelConfig })` provides a global {@link MultiLayerCacheService} (memory L1, Redis L2/L3 when enabled),
 * built when the application starts and closed with it.
 *
 * @example
 * // imports: [MultiLayerCacheModule.forRoot({ l1MaxSize: 1000, l2Enabled: true, redis: 'redis://cache:6379' })]
 */
export class MultiLayerCacheModule {
  /** Invalid options make the application fail to start with an InvalidOptionsError. */
  static forRoot(options: MultiLayerCacheModuleOptions = {}): DynamicModule {
    return multiLayerCacheModule([], [{ provide: OPTIONS, useValue: options }]);
  }

  /**
   * The module with options from a factory, a class or an existing provider, resolved when the application
   * starts; invalid options make it fail to start with the InvalidOptionsError `forRoot` gives.
   * @throws InvalidOptionsError when `async` itself is invalid (not exactly one of useFactory, useClass, useExisting).
   *
   * @example
   * // imports: [MultiLayerCacheModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService],
   * //   useFactory: (config: ConfigService) => ({ l2Enabled: true, redis: config.get('REDIS_URL') }) })]
   */
  static forRootAsync(async: MultiLayerCacheModuleAsyncOptions): DynamicModule {
    const { imports, providers } = asyncOptionsProviders('MultiLayerCacheModule.forRootAsync', OPTIONS, async, 'createMultiLayerCacheOptions');
    return multiLayerCacheModule(imports, providers);
  }
}

/** The module, whatever gives its options (under `OPTIONS`). */
function multiLayerCacheModule(imports: NonNullable<DynamicModule['imports']>, optionProviders: Provider[]): DynamicModule {
  return {
    module: MultiLayerCacheModule,
    global: true,
    imports,
    providers: [
      ...optionProviders,
      { provide: MultiLayerCacheService, useFactory: (options: MultiLayerCacheModuleOptions) => MultiLayerCacheService.create(options), inject: [OPTIONS] },
    ],
    exports: [MultiLayerCacheService],
  };
}
