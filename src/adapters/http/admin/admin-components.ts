import type { MultiLayerCache } from '../../../cache/multi-layer-cache.js';
import type { ChaosRegistry } from '../../../chaos/chaos-registry.js';
import type { ChaosMonkey } from '../../../chaos/experiments/chaos-monkey.js';
import type { ExperimentRunner } from '../../../chaos/experiments/experiment-runner.js';
import type { GracefulDegradation } from '../../../degradation/graceful-degradation.js';
import type { SelfHealer } from '../../../healing/self-healer.js';
import type { HealthMonitor } from '../../../health/health-monitor.js';
import type { CircuitBreakerManager } from '../../../policies/circuit-breaker-manager.js';

/**
 * What the admin API shows and acts on; every part is optional (a missing part shows as `null` in the
 * state and its actions answer 404).
 */
export interface AdminComponents {
  /** Breakers: state, failure rate, health score; actions reset / open / close / isolate. */
  breakers?: CircuitBreakerManager;
  /** Health score, overall status and per-component status. */
  health?: HealthMonitor;
  /** Degradation level and features; action: set (pin) or unpin a level. */
  degradation?: GracefulDegradation;
  /** Hit rates and layer states. */
  cache?: MultiLayerCache;
  /** Chaos switch and active faults; the chaos admin routes are mounted under `<base>/chaos`. */
  chaos?: ChaosRegistry;
  /** Chaos experiments: registered, running, recent; actions start / stop. */
  experiments?: ExperimentRunner | ChaosMonkey;
  /** Recent healing events. */
  healer?: SelfHealer;
}

/** The experiment runner of `components` (a ChaosMonkey's runner), if any. */
export function experimentRunnerOf(components: AdminComponents): ExperimentRunner | undefined {
  const experiments = components.experiments;
  if (experiments === undefined) return undefined;
  return 'runner' in experiments ? experiments.runner : experiments;
}
