import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { HealthMonitor } from '../../../src/health/health-monitor.js';
import { sqlSelectOneCheck, type SqlQueryClient } from '../../../src/health/checks/sql-select-one-check.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/** A pg-like `query(sql)` over a real in-memory SQLite database. */
function sqliteClient(db: Database.Database): SqlQueryClient {
  return { query: async (sql: string) => db.prepare(sql).get() };
}

describe('sqlSelectOneCheck (better-sqlite3 in memory)', () => {
  it('is healthy while the database answers SELECT 1 and unhealthy once it is closed', async () => {
    const db = new Database(':memory:');
    const seen: string[] = [];
    const client = sqliteClient(db);
    const monitor = new HealthMonitor();
    monitor.registerCheck('sqlite', sqlSelectOneCheck({ query: (sql) => (seen.push(sql), client.query(sql)) }), {
      component: 'database',
      critical: true,
    });
    expect(await monitor.runCheck('sqlite')).toMatchObject({ status: 'healthy', details: { componentType: 'datastore' } });
    expect(seen).toEqual(['SELECT 1']);
    db.close();
    const down = await monitor.runCheck('sqlite');
    expect(down).toMatchObject({ status: 'unhealthy', error: 'The database connection is not open' });
    expect(monitor.getSystemHealth()).toMatchObject({ overall: 'unhealthy', score: 0 });
  });

  it('runs a custom statement and fails on a SQL error', async () => {
    const db = new Database(':memory:');
    const monitor = new HealthMonitor();
    monitor.registerCheck('custom', sqlSelectOneCheck(sqliteClient(db), { sql: 'SELECT count(*) FROM sqlite_master' }));
    monitor.registerCheck('typo', sqlSelectOneCheck(sqliteClient(db), { sql: 'SELEC 1' }));
    const [custom, typo] = await monitor.runAll();
    expect(custom?.status).toBe('healthy');
    expect(typo).toMatchObject({ status: 'unhealthy', error: 'near "SELEC": syntax error' });
    db.close();
  });

  it('refuses a client without query() and an empty statement', () => {
    expect(() => sqlSelectOneCheck({} as SqlQueryClient)).toThrow(InvalidOptionsError);
    expect(() => sqlSelectOneCheck({ query: () => 1 }, { sql: ' ' })).toThrow(InvalidOptionsError);
  });
});
