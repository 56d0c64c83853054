import type { AdminActivity, AdminActivityLog } from './admin-activity-log.js';
import { experimentRunnerOf, type AdminComponents } from './admin-components.js';

/** A breaker as the admin API shows it. */
export interface AdminBreakerView {
  name: string;
  /** `closed`, `open`, `half-open`, `isolated` or `disabled`. */
  state: string;
  /** Failure rate in the window, 0..1. */
  failureRate: number;
  /** Calls in the window. */
  calls: number;
  /** 0..100. */
  healthScore: number;
  /** For an open circuit, ms until it probes. */
  retryAfterMs: number;
}

/** A chaos experiment run as the admin API shows it. */
export interface AdminExperimentView {
  id: string;
  name: string;
  /** `running`, `succeeded`, `deviated`, `aborted` or `failed`. */
  status: string;
  startedAt: number;
  endedAt?: number;
  faultType: string;
  target?: string;
}

/** Everything the admin API shows, as `GET <base>/state` answers and the event stream sends. */
export interface AdminSnapshot {
  /** Clock milliseconds when it was taken. */
  at: number;
  environment: string;
  /** Whether actions are accepted (false in production unless `allowInProduction`). */
  actionsAllowed: boolean;
  breakers: AdminBreakerView[] | null;
  health: { overall: string; score: number; components: { component: string; status: string; availability: number; responseTimeMs: number }[] } | null;
  degradation: {
    level: string;
    levels: string[];
    override: string | null;
    reason: string;
    since: number;
    features: { name: string; enabled: boolean; available: boolean; priority: number }[];
  } | null;
  cache: { hitRate: number; hits: number; misses: number; staleHits: number; layers: { name: string; state: string; hitRate: number }[] } | null;
  chaos: { enabled: boolean; permitted: boolean; faults: { id: string; dependency: string; kind: string; injections: number }[] } | null;
  experiments: { names: string[]; running: AdminExperimentView[]; recent: AdminExperimentView[] } | null;
  healing: { attempts: number; successRate: number; openFailures: number } | null;
  /** Recent activity, newest first. */
  activity: AdminActivity[];
}

/** Limits of {@link buildAdminSnapshot}. */
export interface AdminSnapshotLimits {
  /** Most breakers listed. */
  maxBreakers: number;
  /** Most finished experiment runs listed. */
  maxExperiments: number;
  /** Most activity lines listed. */
  maxActivity: number;
}

/** Reads every component into one JSON-serialisable {@link AdminSnapshot}. */
export function buildAdminSnapshot(
  components: AdminComponents,
  log: AdminActivityLog,
  context: { now: number; environment: string; actionsAllowed: boolean },
  limits: AdminSnapshotLimits,
): AdminSnapshot {
  const { breakers, health, degradation, cache, chaos, healer } = components;
  const runner = experimentRunnerOf(components);
  return {
    at: context.now,
    environment: context.environment,
    actionsAllowed: context.actionsAllowed,
    breakers:
      breakers === undefined
        ? null
        : Object.values(breakers.getAllMetrics())
            .slice(0, limits.maxBreakers)
            .map((m) => ({ name: m.name, state: m.state, failureRate: m.failureRate, calls: m.calls, healthScore: m.healthScore, retryAfterMs: m.retryAfterMs })),
    health: (() => {
      if (health === undefined) return null;
      const system = health.getSystemHealth();
      return {
        overall: system.overall,
        score: system.score,
        components: system.components.map((c) => ({ component: c.component, status: c.status, availability: c.availability, responseTimeMs: c.responseTime })),
      };
    })(),
    degradation: (() => {
      if (degradation === undefined) return null;
      const state = degradation.getCurrentState();
      return {
        level: state.level,
        levels: degradation.getLevels(),
        override: state.override,
        reason: state.reason,
        since: state.since,
        features: degradation.getFeatures().map((f) => ({ name: f.name, enabled: f.enabled, available: f.available, priority: f.priority })),
      };
    })(),
    cache: (() => {
      if (cache === undefined) return null;
      const m = cache.getMetrics();
      return { hitRate: m.hitRate, hits: m.hits, misses: m.misses, staleHits: m.staleHits, layers: m.layers.map((l) => ({ name: l.name, state: l.state, hitRate: l.hitRate })) };
    })(),
    chaos:
      chaos === undefined
        ? null
        : {
            enabled: chaos.control.enabled,
            permitted: chaos.control.permitted,
            faults: chaos.active().map((f) => ({ id: f.id, dependency: f.dependency, kind: f.kind, injections: f.injections })),
          },
    experiments:
      runner === undefined
        ? null
        : {
            names: runner.names(),
            running: runner.running().map(experimentView),
            recent: runner.getHistory().slice(-limits.maxExperiments).reverse().map(experimentView),
          },
    healing: (() => {
      if (healer === undefined) return null;
      const s = healer.getStatistics();
      return { attempts: s.totalRecoveries, successRate: s.successRate, openFailures: s.openFailures };
    })(),
    activity: log.recent(limits.maxActivity),
  };
}

function experimentView(run: { id: string; name: string; status: string; startedAt: number; endedAt?: number; faultType: string; target?: string }): AdminExperimentView {
  const view: AdminExperimentView = { id: run.id, name: run.name, status: run.status, startedAt: run.startedAt, faultType: run.faultType };
  if (run.endedAt !== undefined) view.endedAt = run.endedAt;
  if (run.target !== undefined) view.target = run.target;
  return view;
}
