import type {
  ActionRecord,
  BreakerChange,
  DegradationChange,
  ExperimentHalt,
  HealingObservation,
  ProbeSummary,
  SteadyStateCheck,
  TrafficSummary,
} from './experiment-run.js';

/** Kinds of fault that make calls fail (rather than only slow them down). */
const FAILING_KINDS: ReadonlySet<string> = new Set([
  'error',
  'dependency-outage',
  'timeout',
  'resource-exhaustion',
  'service-disruption',
  'dns-failure',
  'tls-failure',
]);

/** Kinds of fault that slow calls down. */
const SLOWING_KINDS: ReadonlySet<string> = new Set(['latency', 'network-latency', 'timeout']);

/** Most lines of each list. */
const MAX_LINES = 50;

/** What a run saw, as {@link deriveFindings} needs it. @internal */
export interface FindingsInput {
  actions: readonly ActionRecord[];
  /** When the first injection succeeded, clock ms. */
  injectedAt: number | undefined;
  /** Calls reached by the run's registry faults, by dependency (a key exists for every such fault). */
  injections: Readonly<Record<string, number>>;
  traffic: readonly TrafficSummary[];
  breakerChanges: readonly BreakerChange[];
  /** Whether breakers were watched, and each one's state now. */
  watchesBreakers: boolean;
  breakerState: (name: string) => string | undefined;
  degradationChanges: readonly DegradationChange[];
  initialLevel: string | undefined;
  finalLevel: string | undefined;
  healing: readonly HealingObservation[];
  probes: readonly ProbeSummary[];
  halt: ExperimentHalt | undefined;
  steadyStateBefore: SteadyStateCheck | undefined;
  steadyStateAfter: SteadyStateCheck | undefined;
  recovery: { recovered: boolean; timeMs?: number } | undefined;
  /** Rollbacks that failed: the action's name and why. */
  rollbackFailures: readonly { action: string; target: string | undefined; error: string }[];
  /** Lines the actions added themselves (`context.observe`). */
  extraObservations: readonly string[];
}

/** Observations, weaknesses and recommendations. @internal */
export interface Findings {
  observations: string[];
  weaknesses: string[];
  recommendations: string[];
}

/**
 * Turns what a run observed into findings: for each target of a failing fault, whether a breaker existed and
 * opened and whether errors reached callers (no fallback); for slowing faults, whether a timeout cut the wait;
 * degradation and self-healing activity; probes out of tolerance and halts; recovery of the steady state;
 * failed rollbacks. Every line is derived from an observation, none is canned.
 * @internal
 */
export function deriveFindings(input: FindingsInput): Findings {
  const observations = new Set<string>();
  const weaknesses = new Set<string>();
  const recommendations = new Set<string>();
  const since = (at: number): string => (input.injectedAt === undefined ? '' : ` ${Math.max(0, at - input.injectedAt)} ms after the injection`);

  if (input.steadyStateBefore !== undefined && !input.steadyStateBefore.met) {
    observations.add(`steady state not met before injecting (${failing(input.steadyStateBefore)}): nothing was injected`);
  }
  for (const action of input.actions) {
    if (action.error !== undefined) observations.add(`injection "${action.name}" failed: ${action.error}`);
  }

  const targets = new Map<string, ActionRecord[]>();
  for (const action of input.actions) {
    if (action.target === undefined || action.injectedAt === undefined) continue;
    const list = targets.get(action.target) ?? [];
    list.push(action);
    targets.set(action.target, list);
  }

  for (const [target, actions] of targets) {
    const kinds = new Set(actions.map((a) => a.kind));
    const injected = input.injections[target];
    const traffic = input.traffic.find((t) => t.target === target);
    if (injected !== undefined) {
      if (injected === 0) {
        observations.add(`no call to "${target}" met the injected fault`);
        recommendations.add(
          `put registry.injector("${target}") in the pipeline of "${target}" and send traffic during the experiment: the fault tested nothing`,
        );
      } else {
        observations.add(`injected faults reached ${injected} call${injected === 1 ? '' : 's'} to "${target}"`);
      }
    }
    const failingFault = [...kinds].some((k) => FAILING_KINDS.has(k));
    const failuresSeen = (injected ?? 0) > 0 || (traffic?.failed ?? 0) > 0;
    if (input.watchesBreakers) {
      const state = input.breakerState(target);
      const opened = input.breakerChanges.find((c) => c.name === target && c.to === 'open');
      if (opened !== undefined) {
        observations.add(`breaker "${target}" opened${since(opened.at)} (${opened.reason})`);
        if (state === 'open') observations.add(`breaker "${target}" was still open at the end`);
      } else if (failingFault && failuresSeen && state === undefined) {
        weaknesses.add(`no circuit breaker on "${target}"`);
        recommendations.add(`add a circuit breaker for "${target}" (CircuitBreakerManager.getOrCreate("${target}")) around its calls`);
      } else if (failingFault && failuresSeen) {
        const count = (injected ?? 0) > 0 ? `${injected} injected failures` : `${traffic?.failed ?? 0} failed calls`;
        weaknesses.add(`breaker "${target}" never opened (${count})`);
        recommendations.add(
          `lower the thresholds of breaker "${target}" (failureThreshold, minimumCalls, failureRateThreshold) or check that it wraps the calls of "${target}"`,
        );
      }
    }
    if (traffic !== undefined && traffic.calls > 0) {
      observations.add(
        `callers of "${target}": ${traffic.calls} calls, ${traffic.failed} failed, mean ${Math.round(traffic.meanLatencyMs)} ms, max ${Math.round(traffic.maxLatencyMs)} ms`,
      );
      const slowingFault = [...kinds].some((k) => SLOWING_KINDS.has(k));
      if (traffic.failed > 0) {
        weaknesses.add(`no fallback on "${target}": ${traffic.failed} of ${traffic.calls} calls failed for the caller (${errorMix(traffic)})`);
        recommendations.add(`add a Fallback (a cached or default answer) to the pipeline of "${target}"`);
      } else if ((failingFault || slowingFault) && injected !== 0) {
        // Faults reached the dependency (or acted outside the registry) and no caller saw an error.
        observations.add(`callers of "${target}" were shielded: all ${traffic.calls} calls succeeded under the fault`);
      }
      const slowing = actions.filter((a) => SLOWING_KINDS.has(a.kind));
      const injectedLatency = Math.max(0, ...slowing.map((a) => latencyOf(a)));
      if (slowing.length > 0 && injectedLatency > 0) {
        if (traffic.timeouts > 0) observations.add(`timeouts cut ${traffic.timeouts} calls to "${target}"`);
        else if (traffic.maxLatencyMs >= injectedLatency * 0.9) {
          weaknesses.add(`no timeout on "${target}": callers waited up to ${Math.round(traffic.maxLatencyMs)} ms`);
          recommendations.add(`add a Timeout shorter than ${injectedLatency} ms to the pipeline of "${target}"`);
        }
      }
    }
  }
  for (const traffic of input.traffic) {
    if (targets.has(traffic.target) || traffic.calls === 0) continue;
    observations.add(
      `callers of "${traffic.target}": ${traffic.calls} calls, ${traffic.failed} failed, mean ${Math.round(traffic.meanLatencyMs)} ms, max ${Math.round(traffic.maxLatencyMs)} ms`,
    );
    if (traffic.failed > 0) weaknesses.add(`calls to "${traffic.target}" failed under the fault: ${traffic.failed} of ${traffic.calls} (${errorMix(traffic)})`);
  }

  for (const change of input.degradationChanges) {
    observations.add(`degradation went from "${change.from}" to "${change.to}"${since(change.at)} (${change.reason})`);
  }
  if (input.finalLevel !== undefined && input.initialLevel !== undefined && input.finalLevel !== input.initialLevel) {
    observations.add(`degradation was still at "${input.finalLevel}" at the end (it was "${input.initialLevel}")`);
  }

  for (const event of input.healing) {
    const strategy = event.strategy === undefined ? '' : ` with ${event.strategy}`;
    if (event.type === 'recovery-succeeded') {
      observations.add(`self-healer recovered "${event.component}"${strategy}${event.durationMs === undefined ? '' : ` in ${Math.round(event.durationMs)} ms`}`);
    } else if (event.type === 'recovery-failed') {
      weaknesses.add(`self-healer failed to recover "${event.component}"${strategy}`);
      recommendations.add(`review the recovery strategy of "${event.component}"`);
    } else if (event.type === 'escalated') {
      observations.add(`self-healer escalated "${event.component}"`);
    } else if (event.type === 'failure-detected') {
      observations.add(`self-healer detected a failure of "${event.component}"`);
    }
  }

  for (const probe of input.probes) {
    if (probe.halted) {
      const at = probe.firstBreachAt === undefined ? '' : since(probe.firstBreachAt);
      weaknesses.add(`halt condition "${probe.name}" broke${at}${probe.lastError === undefined ? '' : `: ${probe.lastError}`}`);
      recommendations.add(`the system did not tolerate this fault ("${probe.name}" broke): address the weaknesses found before running it again at this intensity`);
    } else if (probe.breaches > 0) {
      weaknesses.add(`probe "${probe.name}" was out of tolerance in ${probe.breaches} of ${probe.readings} readings`);
    } else if (probe.readings > 0) {
      observations.add(`probe "${probe.name}" stayed within tolerance (${probe.readings} readings)`);
    }
  }
  if (input.halt !== undefined && input.halt.cause !== 'halt-condition') observations.add(`stopped early (${input.halt.cause}): ${input.halt.reason}`);

  for (const failure of input.rollbackFailures) {
    weaknesses.add(`rollback of "${failure.action}" failed: ${failure.error}; the fault may still be in place`);
    recommendations.add(`fix the rollback of "${failure.action}" and check ${failure.target === undefined ? 'its target' : `"${failure.target}"`} by hand`);
  }

  if (input.steadyStateAfter !== undefined) {
    if (input.steadyStateAfter.met) {
      const ms = Math.round(input.recovery?.timeMs ?? 0);
      if (ms > 0) {
        observations.add(`steady state restored ${ms} ms after the rollbacks`);
      }
    } else {
      weaknesses.add(`steady state not restored after the rollbacks (${failing(input.steadyStateAfter)})`);
      recommendations.add('make the system recover by itself once the fault is gone (reconnects, half-open probing, health re-checks)');
    }
  }

  for (const line of input.extraObservations) observations.add(line);
  if (weaknesses.size === 0 && input.steadyStateBefore?.met !== false && input.actions.some((a) => a.injectedAt !== undefined)) {
    observations.add('no weakness observed');
  }
  return { observations: cap(observations), weaknesses: cap(weaknesses), recommendations: cap(recommendations) };
}

function latencyOf(action: ActionRecord): number {
  const p = action.parameters;
  if (p === undefined) return 0;
  for (const key of ['latencyMs', 'hangMs']) {
    const value = p[key];
    if (typeof value === 'number' && value > 0) return value;
  }
  return 0;
}

function failing(check: SteadyStateCheck): string {
  return check.readings
    .filter((r) => !r.ok)
    .map((r) => (r.error === undefined ? `${r.name} = ${String(r.value)}` : `${r.name}: ${r.error}`))
    .join('; ');
}

function errorMix(traffic: TrafficSummary): string {
  const parts = Object.entries(traffic.errors).map(([code, count]) => `${count} ${code}`);
  return parts.length === 0 ? 'errors' : parts.join(', ');
}

function cap(lines: Set<string>): string[] {
  return [...lines].slice(0, MAX_LINES);
}
