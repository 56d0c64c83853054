import { AsyncLocalStorage } from 'node:async_hooks';

/** Who a call is made for, as seen by fault targeting. */
export interface ChaosScope {
  /** Tenant of the request. */
  tenant?: string;
  /** Id of the request. */
  requestId?: string;
  /** Free-form labels (route, user tier...). */
  labels?: Readonly<Record<string, string>>;
}

const storage = new AsyncLocalStorage<ChaosScope>();

/**
 * Runs `fn` with `scope` visible to every fault injector reached from it (through any pipeline, any await),
 * so faults can target one tenant or one request. HTTP middleware sets it per request.
 *
 * @example
 * app.use((req, res, next) => withChaosScope({ tenant: req.get('x-tenant') ?? undefined }, next));
 */
export function withChaosScope<T>(scope: ChaosScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the current call, if any. */
export function currentChaosScope(): ChaosScope | undefined {
  return storage.getStore();
}
