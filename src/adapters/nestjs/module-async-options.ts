import type { DynamicModule, InjectionToken, OptionalFactoryDependency, Provider, Type } from '@nestjs/common';
import { OptionsValidator } from '../../core/options.js';

/**
 * How `forRootAsync` obtains a module's options, the usual Nest dynamic-module pattern (as `@nestjs/typeorm` or
 * `@nestjs/config` users write it). Give exactly one of `useFactory`, `useClass` or `useExisting`. The options
 * obtained are validated as `forRoot`'s are; invalid ones make the application fail to start with the same
 * InvalidOptionsError.
 *
 * @typeParam TOptions the module's options (those of its `forRoot`).
 * @typeParam TFactory the module's options factory interface, for `useClass` and `useExisting`.
 *
 * @example
 * // imports: [CircuitBreakerModule.forRootAsync({
 * //   imports: [ConfigModule],
 * //   inject: [ConfigService],
 * //   useFactory: (config: ConfigService) => ({ defaultTimeout: config.get('BREAKER_TIMEOUT') }),
 * // })]
 */
export interface ModuleAsyncOptions<TOptions, TFactory> {
  /** Modules whose exported providers `useFactory`, `useClass` or `useExisting` need. */
  imports?: DynamicModule['imports'];
  /** Providers passed to `useFactory`, in order (`{ token, optional: true }` passes `undefined` when absent). */
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** Returns the options (or a promise of them); `undefined` means the defaults, as `forRoot()` with no argument. */
  useFactory?: (...injected: never[]) => TOptions | undefined | Promise<TOptions | undefined>;
  /** A class the module instantiates (with its own injected dependencies) and asks for the options. */
  useClass?: Type<TFactory>;
  /** A provider already in the application (imported or global) that the module asks for the options. */
  useExisting?: InjectionToken;
}

/**
 * Validates `async` and returns the providers giving the module's raw options under `token`, and the modules
 * to import. The options are not validated here: the module's providers validate them as `forRoot` does.
 * @param component the name errors report, e.g. `CircuitBreakerModule.forRootAsync`.
 * @param method the name of the factory interface's method, e.g. `createCircuitBreakerOptions`.
 * @throws InvalidOptionsError listing every invalid field of `async`.
 * @internal
 */
export function asyncOptionsProviders<TOptions, TFactory>(
  component: string,
  token: symbol,
  async: ModuleAsyncOptions<TOptions, TFactory>,
  method: keyof TFactory & string,
): { imports: NonNullable<DynamicModule['imports']>; providers: Provider[] } {
  const v = new OptionsValidator(component);
  if (v.required('options', async, 'an object with useFactory, useClass or useExisting') && v.object('options', async)) {
    const ways = (['useFactory', 'useClass', 'useExisting'] as const).filter((way) => async[way] !== undefined);
    const [first, second] = ways;
    if (first === undefined) v.fail('useFactory', 'a function (or useClass, or useExisting)', undefined);
    else if (second !== undefined) v.fail(second, `nothing: ${first} is given (give exactly one of useFactory, useClass or useExisting)`, async[second]);
    v.func('useFactory', async.useFactory);
    v.func('useClass', async.useClass);
    if (async.imports !== undefined && !Array.isArray(async.imports)) v.fail('imports', 'an array of modules', async.imports);
    if (async.inject !== undefined && !Array.isArray(async.inject)) v.fail('inject', 'an array of injection tokens', async.inject);
    if (async.inject !== undefined && async.useFactory === undefined) v.fail('inject', 'only with useFactory', async.inject);
  }
  v.throwIfInvalid();
  const imports = async.imports ?? [];
  if (async.useFactory !== undefined) {
    const factory = async.useFactory as (...injected: unknown[]) => TOptions | undefined | Promise<TOptions | undefined>;
    return {
      imports,
      providers: [{ provide: token, useFactory: async (...injected: unknown[]) => orDefaults(await factory(...injected)), inject: async.inject ?? [] }],
    };
  }
  const source = (async.useClass ?? async.useExisting) as InjectionToken;
  const ask = async (instance: TFactory): Promise<TOptions> => {
    const create = instance?.[method];
    if (typeof create !== 'function') throw new TypeError(`${component}: the options factory has no ${method}() method`);
    return orDefaults(await (create as () => TOptions | undefined | Promise<TOptions | undefined>).call(instance));
  };
  return {
    imports,
    providers: [...(async.useClass === undefined ? [] : [async.useClass]), { provide: token, useFactory: ask, inject: [source] }],
  };
}

/** `undefined` options mean the defaults, as `forRoot()` with no argument. */
function orDefaults<TOptions>(options: TOptions | undefined): TOptions {
  return options === undefined ? ({} as TOptions) : options;
}
