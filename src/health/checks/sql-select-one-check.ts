import { OptionsValidator } from '../../core/options.js';
import type { HealthCheckFunction, HealthCheckResult } from '../health-check.js';

/** The part of a SQL client (pg `Pool`/`Client`, mysql2 promise pool, a wrapper) that {@link sqlSelectOneCheck} uses. */
export interface SqlQueryClient {
  query(sql: string): unknown;
}

/** Options of {@link sqlSelectOneCheck}. */
export interface SqlSelectOneCheckOptions {
  /** Statement to run. @default 'SELECT 1' */
  sql?: string;
}

/**
 * Checks a database with `SELECT 1` through `client.query(sql)`: healthy when the query resolves,
 * unhealthy when it throws or rejects. Takes any object with `query(sql)` (pg's `Pool` and `Client`
 * qualify) without importing a driver. Report measurement `responseTime` in `ms`, component type `datastore`.
 *
 * @example
 * ```ts
 * monitor.registerCheck('postgres', sqlSelectOneCheck(pool), { component: 'database', critical: true, timeoutMs: 1_000 });
 * ```
 * @throws InvalidOptionsError when `client` has no `query()` or `sql` is empty.
 */
export function sqlSelectOneCheck(client: SqlQueryClient, options: SqlSelectOneCheckOptions = {}): HealthCheckFunction {
  const v = new OptionsValidator('sqlSelectOneCheck');
  if (typeof (client as Partial<SqlQueryClient> | undefined)?.query !== 'function') v.fail('client', 'an object with query(sql)', client);
  if (v.object('options', options) && options.sql !== undefined && (typeof options.sql !== 'string' || options.sql.trim() === '')) {
    v.fail('options.sql', 'a non-empty string', options.sql);
  }
  v.throwIfInvalid();
  const sql = options.sql ?? 'SELECT 1';
  return async (): Promise<Partial<HealthCheckResult>> => {
    await client.query(sql);
    return { status: 'healthy', details: { componentType: 'datastore' } };
  };
}
