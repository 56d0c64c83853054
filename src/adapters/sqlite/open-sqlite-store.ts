import type { Clock } from '../../core/clock.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

/** The seed's `persistence` section, as {@link createResilience} hands it over. */
export interface SqlitePersistenceConfig {
  databasePath: string;
  /** Rows older than this many days are cleaned up. */
  retentionDays?: number;
  /** Flush interval of batched writes, ms. */
  flushInterval?: number;
  /** Rows per batch. */
  batchSize?: number;
  clock?: Clock;
}

/**
 * Opens a {@link SqliteStore} from the seed's `persistence` option names; pass it to `createResilience` as
 * `openStore`.
 *
 * @example
 * ```ts
 * import { createResilience } from 'antifragile';
 * import { openSqliteStore } from 'antifragile/sqlite';
 * const resilience = createResilience({ persistence: { databasePath: '/var/lib/app/resilience.db', retentionDays: 90 } }, { openStore: openSqliteStore });
 * ```
 */
export function openSqliteStore(persistence: SqlitePersistenceConfig): SqliteStore {
  const options: SqliteStoreOptions = { path: persistence.databasePath };
  if (persistence.retentionDays !== undefined) options.retentionMs = persistence.retentionDays * 86_400_000;
  if (persistence.flushInterval !== undefined) options.flushIntervalMs = persistence.flushInterval;
  if (persistence.batchSize !== undefined) options.batchSize = persistence.batchSize;
  if (persistence.clock !== undefined) options.clock = persistence.clock;
  return new SqliteStore(options);
}
