/*
 * How a scenario of the seed format (the NestJS plan's `scenarios:` list) becomes phases, faults and criteria.
 *
 * Phases: `duration` (divided by --time-scale) is split into
 *   warm-up 10 % (steady state, base rate, no fault) · chaos 70 % (every chaos entry active) · recovery 20 %
 *   (faults removed, base rate: time for breakers to close, degradation to lift, self-healing to act).
 *
 * Load: 10 requests/s (--rate changes it), each with a 5 s budget, `GET` of the target URL (or the mix the
 * bundled example declares).
 *
 * chaos:
 *   traffic_spike     { multiplier }            chaos-phase rate = base rate × multiplier (several multiply)
 *   service_failure   { service, rate }         error fault on dependency `service` at `rate` (admin endpoint)
 *                     { service, complete: true }   ... at rate 1
 *   database_slowdown { factor[, service] }     latency fault on `service` (default 'database') of
 *                                               factor × baseline latency; baseline = the target's
 *                                               `metrics.<service>_latency_ms`, else the load's median latency
 *                                               so far, else 50 ms
 *   region_failure    { region }                error fault (rate 1) on every dependency of `region` in the
 *                                               target status's `regions` map ({ region: [dependencies] });
 *                                               on every dependency the target lists when it has no `regions`
 *   cpu_stress        { percent }               POST <admin>/resources { kind: 'cpu', percent }
 *   memory_pressure   { percent }               POST <admin>/resources { kind: 'memory', percent }
 *
 * success_criteria (`name: "expression"`, see parseToleranceExpression):
 *   availability, error_rate, p50/p95/p99/max/mean_latency, throughput, requests, failures: from the load
 *   over the whole run; any other name: the target's `TargetStatus.metrics[name]` (else its top-level
 *   `status[name]`) at the last status sample; rates are 0..1, durations ms. degradation_activated, when not
 *   reported, is derived: the degradation level changed from the first level seen during the run;
 *   self_healing, when not reported: at the end every breaker is closed and the degradation level is back
 *   to the first one seen. A criterion whose value the target does not provide fails.
 */
import type { SeedChaosEntry, SeedScenario } from './seed-scenario-reader.js';
import type { Scenario, ScenarioFault } from './scenario.js';

/** Shares of a seed scenario's `duration` given to its three phases. */
export const SEED_PHASE_SHARES: Readonly<{ warmUp: number; chaos: number; recovery: number }> = { warmUp: 0.1, chaos: 0.7, recovery: 0.2 };
/** Names of the three phases of a seed scenario (for `--phase`). */
export const SEED_PHASE_NAMES = ['warm-up', 'chaos', 'recovery'] as const;
/** Base arrival rate of a seed scenario, requests per second. */
export const SEED_DEFAULT_RATE = 10;
/** Time budget of each request of a seed scenario's load, ms. */
export const SEED_REQUEST_TIMEOUT_MS = 5_000;
/** Baseline latency assumed by `database_slowdown` when neither the target nor the load tells one, ms. */
export const SEED_DEFAULT_BASELINE_LATENCY_MS = 50;

/**
 * Maps a checked seed scenario to a runnable {@link Scenario}: three phases (warm-up 10 %, chaos 70 %,
 * recovery 20 % of `duration`), the chaos entries as faults of the chaos phase (`traffic_spike` as its rate
 * multiplier), the success criteria as metric criteria, and one steady-state probe (the target answers 2xx/3xx).
 * See the comment at the top of this file for every mapping.
 */
export function mapSeedScenario(seed: SeedScenario, file?: string): Scenario {
  const warmUpMs = Math.round(seed.durationMs * SEED_PHASE_SHARES.warmUp);
  const chaosMs = Math.round(seed.durationMs * SEED_PHASE_SHARES.chaos);
  const recoveryMs = Math.max(0, seed.durationMs - warmUpMs - chaosMs);
  let multiplier = 1;
  const faults: ScenarioFault[] = [];
  const used = new Map<string, number>();
  const named = (base: string): string => {
    const count = (used.get(base) ?? 0) + 1;
    used.set(base, count);
    return count === 1 ? base : `${base}#${count}`;
  };
  for (const entry of seed.chaos) {
    if (entry.kind === 'traffic_spike') multiplier *= entry.multiplier;
    else faults.push(faultOf(entry, named));
  }
  return {
    name: seed.name,
    ...(seed.description === undefined ? {} : { description: seed.description }),
    format: 'seed',
    ...(file === undefined ? {} : { file }),
    target: {},
    load: { rate: SEED_DEFAULT_RATE, timeoutMs: SEED_REQUEST_TIMEOUT_MS, mix: [] },
    steadyState: [
      {
        name: 'target answers',
        measure: { kind: 'http', method: 'GET', path: '', timeoutMs: SEED_REQUEST_TIMEOUT_MS },
        tolerance: { kind: 'range', min: 200, max: 399, text: '2xx or 3xx' },
      },
    ],
    phases: [
      { name: 'warm-up', durationMs: warmUpMs, faults: [] },
      { name: 'chaos', durationMs: chaosMs, multiplier, faults },
      { name: 'recovery', durationMs: recoveryMs, faults: [] },
    ],
    halts: [],
    criteria: seed.successCriteria.map(({ name, expected, tolerance }) => ({ name, expected, tolerance, measure: { kind: 'metric', name, when: 'last' } })),
  };
}

function faultOf(entry: Exclude<SeedChaosEntry, { kind: 'traffic_spike' }>, named: (base: string) => string): ScenarioFault {
  switch (entry.kind) {
    case 'service_failure':
      return {
        type: 'dependency',
        name: named(`service_failure(${entry.service})`),
        dependency: entry.service,
        fault: { kind: 'error', rate: entry.rate, message: `antifragile: service_failure of ${entry.service}` },
      };
    case 'database_slowdown':
      return { type: 'slowdown', name: named(`database_slowdown(${entry.service})`), dependency: entry.service, factor: entry.factor };
    case 'region_failure':
      return { type: 'region', name: named(`region_failure(${entry.region})`), region: entry.region };
    case 'cpu_stress':
      return { type: 'resource', name: named(`cpu_stress(${entry.percent}%)`), resource: { kind: 'cpu', percent: entry.percent } };
    case 'memory_pressure':
      return { type: 'resource', name: named(`memory_pressure(${entry.percent}%)`), resource: { kind: 'memory', percent: entry.percent } };
  }
}
