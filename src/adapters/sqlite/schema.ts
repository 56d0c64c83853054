/**
 * The SQLite schema, one entry per version: migration `i` takes `PRAGMA user_version` from `i` to `i + 1`.
 * Times are integer milliseconds on the store's clock (epoch-aligned with the system clock); the views
 * compare them with the wall clock. Never edit a released migration: append a new one.
 * @internal
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
  );

  CREATE TABLE circuit_breakers (
    name TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    since INTEGER NOT NULL,
    open_until INTEGER NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    successes INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE circuit_breaker_state_history (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    reason TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX idx_breaker_history_name_at ON circuit_breaker_state_history (name, at);
  CREATE INDEX idx_breaker_history_at ON circuit_breaker_state_history (at);

  CREATE TABLE health_checks (
    id INTEGER PRIMARY KEY,
    component TEXT NOT NULL,
    status TEXT NOT NULL,
    response_time_ms REAL NOT NULL,
    message TEXT,
    data TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX idx_health_checks_component_at ON health_checks (component, at);
  CREATE INDEX idx_health_checks_at ON health_checks (at);

  CREATE TABLE component_health_summary (
    component TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    availability REAL NOT NULL,
    avg_response_time_ms REAL NOT NULL,
    trend TEXT,
    consecutive_failures INTEGER,
    last_check_at INTEGER NOT NULL,
    data TEXT,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE recovery_events (
    id INTEGER PRIMARY KEY,
    component TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    strategy TEXT NOT NULL,
    outcome TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    error TEXT,
    attempts INTEGER,
    data TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX idx_recovery_events_component_at ON recovery_events (component, at);
  CREATE INDEX idx_recovery_events_at ON recovery_events (at);

  CREATE TABLE degradation_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    level TEXT NOT NULL,
    reason TEXT,
    trigger_source TEXT,
    since INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE degradation_history (
    id INTEGER PRIMARY KEY,
    level TEXT NOT NULL,
    reason TEXT,
    trigger_source TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX idx_degradation_history_at ON degradation_history (at);

  CREATE TABLE feature_flags (
    name TEXT PRIMARY KEY,
    enabled INTEGER NOT NULL,
    priority REAL,
    degradation_levels TEXT,
    data TEXT,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE chaos_experiments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    data TEXT,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX idx_chaos_experiments_started_at ON chaos_experiments (started_at);

  CREATE TABLE chaos_experiment_events (
    id INTEGER PRIMARY KEY,
    experiment_id TEXT NOT NULL,
    type TEXT NOT NULL,
    data TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX idx_chaos_events_experiment_at ON chaos_experiment_events (experiment_id, at);
  CREATE INDEX idx_chaos_events_at ON chaos_experiment_events (at);

  CREATE TABLE system_health_snapshots (
    id INTEGER PRIMARY KEY,
    score REAL NOT NULL,
    overall TEXT NOT NULL,
    data TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX idx_snapshots_at ON system_health_snapshots (at);

  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    data TEXT,
    at INTEGER NOT NULL
  );
  CREATE INDEX idx_audit_log_at ON audit_log (at);

  -- Open, half-open and isolated circuits.
  CREATE VIEW active_circuit_breakers AS
    SELECT name, state, since, open_until, updated_at FROM circuit_breakers
    WHERE state IN ('open', 'half-open', 'isolated');

  -- Checks that were not healthy in the last hour.
  CREATE VIEW recent_health_failures AS
    SELECT id, component, status, response_time_ms, message, at FROM health_checks
    WHERE status <> 'healthy' AND at >= CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 3600000
    ORDER BY at DESC;

  -- Recovery success rate per component and strategy over the last 24 hours.
  CREATE VIEW recovery_success_rate AS
    SELECT component, strategy,
      COUNT(*) AS attempts,
      SUM(CASE WHEN outcome = 'success' THEN 1 ELSE 0 END) AS successes,
      ROUND(100.0 * SUM(CASE WHEN outcome = 'success' THEN 1 ELSE 0 END) / COUNT(*), 2) AS success_rate,
      AVG(duration_ms) AS avg_duration_ms
    FROM recovery_events
    WHERE at >= CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 86400000
    GROUP BY component, strategy;

  -- The latest snapshot with the number of active circuits and the degradation level in force.
  CREATE VIEW current_system_status AS
    SELECT
      (SELECT score FROM system_health_snapshots ORDER BY id DESC LIMIT 1) AS health_score,
      (SELECT overall FROM system_health_snapshots ORDER BY id DESC LIMIT 1) AS overall,
      (SELECT at FROM system_health_snapshots ORDER BY id DESC LIMIT 1) AS snapshot_at,
      (SELECT COUNT(*) FROM circuit_breakers WHERE state IN ('open', 'half-open', 'isolated')) AS active_circuit_breakers,
      (SELECT COUNT(*) FROM component_health_summary WHERE status <> 'healthy') AS unhealthy_components,
      (SELECT level FROM degradation_state WHERE id = 1) AS degradation_level;

  -- Availability per component over the last 24 hours.
  CREATE VIEW component_availability_24h AS
    SELECT component,
      COUNT(*) AS checks,
      SUM(CASE WHEN status = 'healthy' THEN 1 ELSE 0 END) AS healthy_checks,
      ROUND(100.0 * SUM(CASE WHEN status = 'healthy' THEN 1 ELSE 0 END) / COUNT(*), 2) AS availability,
      AVG(response_time_ms) AS avg_response_time_ms,
      MAX(at) AS last_check_at
    FROM health_checks
    WHERE at >= CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 86400000
    GROUP BY component;

  -- The degradation level in force, with the features it turns off.
  CREATE VIEW active_degradation AS
    SELECT d.level, d.reason, d.trigger_source, d.since, d.updated_at,
      (SELECT json_group_array(f.name) FROM feature_flags f WHERE f.enabled = 0) AS disabled_features
    FROM degradation_state d WHERE d.id = 1;
  `,
];

/** Tables holding history (rows with an `at` column) that retention cleans. @internal */
export const HISTORY_TABLES: readonly string[] = [
  'circuit_breaker_state_history',
  'health_checks',
  'recovery_events',
  'degradation_history',
  'chaos_experiment_events',
  'system_health_snapshots',
  'audit_log',
];

/** Views the schema defines. @internal */
export const VIEWS: readonly string[] = [
  'active_circuit_breakers',
  'recent_health_failures',
  'recovery_success_rate',
  'current_system_status',
  'component_availability_24h',
  'active_degradation',
];
