import type { HealthSource } from '../../degradation/health-source.js';
import type { BreakerSource } from './experiment-components.js';
import type { ExperimentProbe } from './experiment-definition.js';
import type { SupervisorLike } from './experiment-targets.js';

/** Options every ready-made probe accepts. */
export interface ProbeOptions {
  /** @default per probe, e.g. `system-health` */
  name?: string;
  /** Whether going out of tolerance during the run stops the experiment (a halt condition). @default false */
  halt?: boolean;
  /** Consecutive out-of-tolerance readings before a halt (integer >= 1). @default 1 */
  haltAfter?: number;
}

/**
 * Ready-made probes for steady states and halt conditions.
 *
 * @example
 * const experiment = ChaosExperiments.errorBurst('pricing', 0.5, 60_000, {
 *   steadyState: [ExperimentProbes.systemHealth(monitor, { minScore: 80 })],
 *   probes: [ExperimentProbes.call('checkout-slo', (signal) => checkout(signal), { halt: true, haltAfter: 3 })],
 * });
 */
export class ExperimentProbes {
  private constructor() {}

  /** The health score (0..100) of a health source (a `HealthMonitor`), within tolerance at `minScore` or above. */
  static systemHealth(health: HealthSource, options: ProbeOptions & { minScore?: number } = {}): ExperimentProbe {
    const { minScore = 50, ...rest } = options;
    return probe(rest, 'system-health', { probe: () => health.getSystemHealth().score, tolerance: { min: minScore } });
  }

  /** Calls `fn` (a request through the service, an SLO check): within tolerance when it resolves. */
  static call(name: string, fn: (signal: AbortSignal) => unknown, options: Omit<ProbeOptions, 'name'> = {}): ExperimentProbe {
    return probe({ ...options, name }, name, {
      probe: async (context) => {
        await fn(context.signal);
        return true;
      },
    });
  }

  /** Whether breaker `name` is in one of the `allowed` states; a missing breaker reads as out of tolerance. */
  static breakerState(breakers: Pick<BreakerSource, 'get'>, name: string, allowed: readonly string[] = ['closed'], options: ProbeOptions = {}): ExperimentProbe {
    return probe(options, `breaker-${name}`, {
      probe: () => {
        const state = breakers.get(name)?.state;
        if (state === undefined) throw new Error(`no breaker named "${name}"`);
        return allowed.includes(state);
      },
    });
  }

  /** Number of ready workers of a supervisor, within tolerance at `count` or above. */
  static workersReady(supervisor: Pick<SupervisorLike, 'getWorkers'>, count: number, options: ProbeOptions = {}): ExperimentProbe {
    return probe(options, 'workers-ready', {
      probe: () => supervisor.getWorkers().filter((w) => w.ready && w.draining !== true).length,
      tolerance: { min: count },
    });
  }
}

function probe(options: ProbeOptions, defaultName: string, body: Pick<ExperimentProbe, 'probe' | 'tolerance'>): ExperimentProbe {
  const result: ExperimentProbe = { name: options.name ?? defaultName, ...body };
  if (options.halt !== undefined) result.halt = options.halt;
  if (options.haltAfter !== undefined) result.haltAfter = options.haltAfter;
  return result;
}
