import { describe, expectTypeOf, it } from 'vitest';
import type {
  BreakerSource,
  DegradationSource,
  ExperimentAnnouncer,
  GameDayLock,
  HealerSource,
  ProxyLike,
  SupervisorLike,
} from '../../../src/chaos/experiments/index.js';
import type { FaultProxy } from '../../../src/chaos/proxy/index.js';
import type { FleetCoordinator } from '../../../src/adapters/redis/fleet-coordinator.js';
import type { GracefulDegradation } from '../../../src/degradation/graceful-degradation.js';
import type { HealthMonitor } from '../../../src/health/health-monitor.js';
import type { SelfHealer } from '../../../src/healing/self-healer.js';
import type { Supervisor } from '../../../src/healing/supervisor.js';
import type { CircuitBreakerManager } from '../../../src/policies/circuit-breaker-manager.js';
import type { ExperimentRunnerOptions } from '../../../src/chaos/experiments/index.js';

// Checked by `tsc --noEmit`: the library's own components fit the small interfaces experiments ask for.
describe('experiment targets and components', () => {
  it('are satisfied by the library components', () => {
    expectTypeOf<FaultProxy>().toMatchTypeOf<ProxyLike>();
    expectTypeOf<Supervisor>().toMatchTypeOf<SupervisorLike>();
    expectTypeOf<CircuitBreakerManager>().toMatchTypeOf<BreakerSource>();
    expectTypeOf<GracefulDegradation>().toMatchTypeOf<DegradationSource>();
    expectTypeOf<SelfHealer>().toMatchTypeOf<HealerSource>();
    expectTypeOf<HealthMonitor>().toMatchTypeOf<NonNullable<ExperimentRunnerOptions['health']>>();
    expectTypeOf<FleetCoordinator>().toMatchTypeOf<ExperimentAnnouncer>();
    expectTypeOf<FleetCoordinator>().toMatchTypeOf<GameDayLock>();
  });
});
