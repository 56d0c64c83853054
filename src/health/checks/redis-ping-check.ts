import { OptionsValidator } from '../../core/options.js';
import type { HealthCheckFunction, HealthCheckResult } from '../health-check.js';

/** The part of a Redis client (ioredis, node-redis v4+) that {@link redisPingCheck} uses. */
export interface RedisPingClient {
  ping(): Promise<string>;
}

/**
 * Checks Redis with `PING`: healthy when the reply is `PONG`, unhealthy on another reply or an error.
 * Takes any client with `ping(): Promise<string>` (ioredis, node-redis) without importing one. Redis
 * clients have no per-command abort: give the check a `timeoutMs` at registration and the client its own
 * command timeout. Report measurement `responseTime` in `ms`, component type `datastore`.
 *
 * @example
 * ```ts
 * monitor.registerCheck('redis', redisPingCheck(new Redis()), { component: 'cache', timeoutMs: 500 });
 * ```
 * @throws InvalidOptionsError when `client` has no `ping()`.
 */
export function redisPingCheck(client: RedisPingClient): HealthCheckFunction {
  const v = new OptionsValidator('redisPingCheck');
  if (typeof (client as Partial<RedisPingClient> | undefined)?.ping !== 'function') v.fail('client', 'an object with ping()', client);
  v.throwIfInvalid();
  return async (): Promise<Partial<HealthCheckResult>> => {
    const reply = await client.ping();
    if (typeof reply !== 'string' || reply.toUpperCase() !== 'PONG') {
      return { status: 'unhealthy', error: `PING answered ${JSON.stringify(reply)}`, details: { componentType: 'datastore' } };
    }
    return { status: 'healthy', details: { componentType: 'datastore' } };
  };
}
