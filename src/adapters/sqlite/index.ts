/**
 * `antifragile/sqlite`: the SQLite {@link SqliteStore} (needs the optional peer dependency `better-sqlite3`).
 * @module
 */
export { SqliteStore } from './sqlite-store.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export { MIGRATIONS as SQLITE_MIGRATIONS } from './schema.js';
export { openSqliteStore } from './open-sqlite-store.js';
export type { SqlitePersistenceConfig } from './open-sqlite-store.js';
