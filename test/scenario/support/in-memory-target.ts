import type { TargetStatus } from '../../../src/adapters/http/chaos-admin-handler.js';
import { ChaosControl } from '../../../src/chaos/chaos-control.js';
import { ChaosRegistry } from '../../../src/chaos/chaos-registry.js';
import { parseFaultSpec } from '../../../src/chaos/fault-spec.js';
import type { Clock } from '../../../src/core/clock.js';
import type { ChaosAdminApi } from '../../../src/scenario/chaos-admin-client.js';
import type { LoadTransport } from '../../../src/scenario/load/load-transport.js';

/** Options of {@link inMemoryTarget}. */
export interface InMemoryTargetOptions {
  /** Answer 200 from a fallback when a dependency fails; else 503. @default false */
  protection?: boolean;
  /** Service time of a request besides injected latency, ms. @default 10 */
  serviceMs?: number;
  /** Extra status fields (metrics, regions...). */
  status?: () => Partial<TargetStatus>;
  /** Admin calls that throw (e.g. `inject database`), to test a failed injection. */
  refuse?: (call: string) => boolean;
  /** Whether chaos starts enabled. @default false */
  enabled?: boolean;
}

/**
 * A service under test that lives in the test's process on a VirtualClock: a ChaosRegistry with
 * injectors for payment, database and redis, an in-memory ChaosAdminApi over it (every call logged in
 * `calls`), and a LoadTransport whose requests go through the injectors. Status: breakers.payment 'open'
 * while payment has an active fault, degradation 'reduced' while any dependency has one.
 */
export function inMemoryTarget(clock: Clock, options: InMemoryTargetOptions = {}) {
  let draw = 0;
  const control = new ChaosControl({ environment: 'test', enabled: options.enabled ?? false });
  const registry = new ChaosRegistry({ control, clock, random: () => (draw++ % 10) / 10 });
  for (const dependency of ['payment', 'database', 'redis']) registry.injector(dependency);
  const calls: string[] = [];
  const resources = new Map<string, Record<string, unknown>>();
  const depOf = new Map<string, string>();
  let nextResource = 0;
  const check = (call: string): void => {
    calls.push(call);
    if (options.refuse?.(call) === true) throw new Error(`refused: ${call}`);
  };
  const admin: ChaosAdminApi = {
    state: async () => ({
      enabled: control.enabled,
      permitted: true,
      environment: 'test',
      dependencies: registry.dependencies(),
      faults: registry.active(),
      resources: [...resources].map(([id, spec]) => ({ id, kind: String(spec.kind) })),
    }),
    enable: async () => {
      check('enable');
      control.enable('test');
    },
    disable: async () => {
      check('disable');
      control.disable('test');
    },
    injectFault: async (dependency, fault) => {
      check(`inject ${dependency} ${fault.kind}`);
      const active = registry.inject(dependency, parseFaultSpec(fault));
      depOf.set(active.id, dependency);
      return registry.active().find((f) => f.id === active.id)!;
    },
    removeFault: async (id) => {
      check(`remove ${depOf.get(id) ?? id}`);
      return registry.remove(id);
    },
    startResource: async (spec) => {
      check(`start ${spec.kind}`);
      const id = `r${++nextResource}`;
      resources.set(id, spec);
      return { id, kind: spec.kind };
    },
    stopResource: async (id) => {
      check(`stop ${String(resources.get(id)?.kind ?? id)}`);
      return resources.delete(id);
    },
    status: async () => {
      const active = registry.active();
      return {
        breakers: { payment: active.some((f) => f.dependency === 'payment') ? 'open' : 'closed' },
        degradation: { level: active.length > 0 ? 'reduced' : 'normal' },
        ...options.status?.(),
      };
    },
  };
  const transport: LoadTransport = {
    send: async () => {
      let failed = false;
      for (const dependency of ['payment', 'database', 'redis']) {
        try {
          await registry.injector(dependency).execute(async () => dependency);
        } catch {
          failed = true;
        }
      }
      await new Promise<void>((resolve) => clock.schedule(resolve, options.serviceMs ?? 10));
      return failed && options.protection !== true ? 503 : 200;
    },
    close: async () => undefined,
  };
  return { registry, control, admin, transport, calls, resources };
}
