import type { DynamicModule } from '@nestjs/common';
import { MultiLayerCacheService, type MultiLayerCacheModuleOptions } from './multi-layer-cache-service.js';

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
    return {
      module: MultiLayerCacheModule,
      global: true,
      providers: [{ provide: MultiLayerCacheService, useFactory: () => MultiLayerCacheService.create(options) }],
      exports: [MultiLayerCacheService],
    };
  }
}
