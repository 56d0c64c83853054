import type { EventEmitter } from '../core/events.js';
import type { CircuitBreakerState } from '../policies/circuit-breaker.js';
import { StoreError, reportStoreError } from './store-error.js';
import type { StoreEvents } from './store.js';

/** What a field must hold: a trailing `?` makes it optional (`undefined` or `null` stand for absent). */
type FieldKind = 'string' | 'number' | 'boolean' | 'string?' | 'number?' | 'strings?';

/** The fields each append method needs, by operation name. Numbers must be finite (NaN and ±Infinity are refused). */
const RECORD_FIELDS = {
  recordBreakerTransition: { name: 'string', from: 'string', to: 'string', reason: 'string?', at: 'number?' },
  recordHealthCheck: { component: 'string', status: 'string', responseTimeMs: 'number', message: 'string?', at: 'number?' },
  saveComponentSummary: {
    component: 'string',
    status: 'string',
    availability: 'number',
    avgResponseTimeMs: 'number',
    trend: 'string?',
    consecutiveFailures: 'number?',
    lastCheckAt: 'number',
  },
  recordRecoveryEvent: {
    component: 'string',
    category: 'string',
    severity: 'string',
    strategy: 'string',
    outcome: 'string',
    durationMs: 'number',
    error: 'string?',
    attempts: 'number?',
    at: 'number?',
  },
  saveDegradationState: { level: 'string', reason: 'string?', trigger: 'string?', since: 'number' },
  saveFeatureFlags: { name: 'string', enabled: 'boolean', priority: 'number?', degradationLevels: 'strings?' },
  recordHealthSnapshot: { score: 'number', overall: 'string', at: 'number?' },
  recordChaosExperiment: { id: 'string', name: 'string', status: 'string', startedAt: 'number', endedAt: 'number?' },
  recordChaosEvent: { experimentId: 'string', type: 'string', at: 'number?' },
  recordAudit: { who: 'string', action: 'string', target: 'string', at: 'number?' },
} as const satisfies Record<string, Record<string, FieldKind>>;

/** An append or save method whose record {@link recordProblems} checks. @internal */
export type RecordOperation = keyof typeof RECORD_FIELDS;

function render(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function checkField(path: string, kind: FieldKind, value: unknown, problems: string[]): void {
  const optional = kind.endsWith('?');
  if (optional && (value === undefined || value === null)) return;
  const base = optional ? kind.slice(0, -1) : kind;
  let ok: boolean;
  let expected: string;
  if (base === 'number') {
    ok = typeof value === 'number' && Number.isFinite(value);
    expected = 'a finite number';
  } else if (base === 'strings') {
    ok = Array.isArray(value) && value.every((item) => typeof item === 'string');
    expected = 'an array of strings';
  } else {
    ok = typeof value === base;
    expected = `a ${base}`;
  }
  if (!ok) problems.push(`${path}: expected ${expected}${optional ? ' or nothing' : ''}, received ${render(value)}`);
}

/**
 * Every problem of `record` as the `operation`'s input (`path: expected ..., received ...`); empty when it is
 * storable. Catches what SQLite would refuse or store as garbage (a NaN binds as NULL in a NOT NULL column).
 * @internal
 */
export function recordProblems(operation: RecordOperation, record: unknown, prefix = ''): string[] {
  const problems: string[] = [];
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    problems.push(`${prefix || 'record'}: expected an object, received ${render(record)}`);
    return problems;
  }
  const fields: Record<string, FieldKind> = RECORD_FIELDS[operation];
  for (const [field, kind] of Object.entries(fields)) {
    checkField(prefix + field, kind, (record as Record<string, unknown>)[field], problems);
  }
  return problems;
}

/**
 * Every problem of a breaker state saved under `name` (the fields a store indexes; the rest is kept as JSON).
 * @internal
 */
export function breakerStateProblems(name: unknown, state: CircuitBreakerState): string[] {
  const problems: string[] = [];
  checkField('name', 'string', name, problems);
  if (typeof state !== 'object' || state === null) {
    problems.push(`state: expected an object, received ${render(state)}`);
    return problems;
  }
  checkField('state.state', 'string', state.state, problems);
  checkField('state.since', 'number', state.since, problems);
  checkField('state.openUntil', 'number', state.openUntil, problems);
  const totals: unknown = state.totals;
  if (typeof totals !== 'object' || totals === null) {
    problems.push(`state.totals: expected an object, received ${render(totals)}`);
  } else {
    checkField('state.totals.failures', 'number', (totals as Record<string, unknown>).failures, problems);
    checkField('state.totals.successes', 'number', (totals as Record<string, unknown>).successes, problems);
  }
  return problems;
}

/**
 * Refuses a record with `problems`: reports a `STORE_INVALID_RECORD` {@link StoreError} naming each bad
 * field through the `error` event (one dropped row) and returns `true`; returns `false` when there are none.
 * Never throws.
 * @internal
 */
export function refuseInvalidRecord(events: EventEmitter<StoreEvents>, store: string, operation: string, problems: readonly string[]): boolean {
  if (problems.length === 0) return false;
  reportStoreError(events, {
    operation,
    error: new StoreError('STORE_INVALID_RECORD', `${store}: ${operation} refused an invalid record: ${problems.join('; ')}`),
    droppedRows: 1,
  });
  return true;
}
