import type { Clock } from '../core/clock.js';
import { OptionsValidator } from '../core/options.js';
import { ChaosBehavior } from './chaos-behavior.js';
import type { ChaosControl } from './chaos-control.js';
import { ChaosFault } from './chaos-fault.js';
import { ChaosLatency } from './chaos-latency.js';
import { ChaosOutcome } from './chaos-outcome.js';
import type { ChaosCall } from './chaos-strategy.js';

/** What every fault description may carry. */
interface FaultSpecBase {
  /** Share of calls affected, 0..1. @default 1 */
  rate?: number;
  /** Only calls made for these tenants (see `withChaosScope`). */
  tenants?: string[];
  /** Remove the fault by itself after this long (ms). @default until removed */
  durationMs?: number;
}

/**
 * A fault to inject into the calls of a named dependency, as JSON (from a scenario, the admin API, the CLI)
 * or from code. `behavior` takes a function and so exists only in code.
 */
export type FaultSpec =
  | (FaultSpecBase & { kind: 'error'; message?: string })
  | (FaultSpecBase & { kind: 'latency'; latencyMs: number; jitterMs?: number })
  | (FaultSpecBase & { kind: 'outcome'; value: unknown })
  | (FaultSpecBase & { kind: 'behavior'; behavior: (call: ChaosCall) => void | Promise<void> });

/** Kinds of {@link FaultSpec}. */
export type FaultKind = FaultSpec['kind'];

/** The kinds a JSON fault may have (`behavior` needs code). */
export const JSON_FAULT_KINDS: readonly FaultKind[] = ['error', 'latency', 'outcome'];

/**
 * Checks a fault description received as data; throws `InvalidOptionsError` listing every problem with its
 * path under `path` (e.g. `phases[1].faults[0]`). Returns it typed.
 */
export function parseFaultSpec(input: unknown, path = 'fault'): FaultSpec {
  const v = new OptionsValidator('fault');
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    v.fail(path, 'an object with a kind', input);
    v.throwIfInvalid();
  }
  const spec = input as Record<string, unknown>;
  v.oneOf(`${path}.kind`, spec.kind, JSON_FAULT_KINDS);
  if (spec.kind === undefined) v.fail(`${path}.kind`, `one of ${JSON_FAULT_KINDS.map((k) => JSON.stringify(k)).join(', ')}`, undefined);
  v.rate(`${path}.rate`, spec.rate);
  v.duration(`${path}.durationMs`, spec.durationMs, true);
  if (spec.tenants !== undefined && (!Array.isArray(spec.tenants) || spec.tenants.some((t) => typeof t !== 'string'))) {
    v.fail(`${path}.tenants`, 'an array of tenant ids', spec.tenants);
  }
  if (spec.kind === 'error') v.string(`${path}.message`, spec.message);
  if (spec.kind === 'latency') {
    if (v.required(`${path}.latencyMs`, spec.latencyMs, 'a duration in ms')) v.duration(`${path}.latencyMs`, spec.latencyMs);
    v.duration(`${path}.jitterMs`, spec.jitterMs);
  }
  if (spec.kind === 'outcome' && !('value' in spec)) v.fail(`${path}.value`, 'the result to return', undefined);
  const known = new Set(['kind', 'rate', 'tenants', 'durationMs', 'message', 'latencyMs', 'jitterMs', 'value']);
  for (const key of Object.keys(spec)) if (!known.has(key)) v.fail(`${path}.${key}`, 'no such field', spec[key]);
  v.throwIfInvalid();
  return spec as unknown as FaultSpec;
}

/** Shared options for the strategies built from specs. @internal */
export interface StrategyDefaults {
  name: string;
  control: ChaosControl;
  clock: Clock;
  random: () => number;
}

/** A policy injecting `spec`. @internal */
export function strategyOf(spec: FaultSpec, defaults: StrategyDefaults): ChaosFault | ChaosLatency | ChaosOutcome<unknown> | ChaosBehavior {
  const common = {
    ...defaults,
    ...(spec.rate === undefined ? {} : { injectionRate: spec.rate }),
    ...(spec.tenants === undefined ? {} : { tenants: spec.tenants }),
  };
  switch (spec.kind) {
    case 'error':
      return new ChaosFault({ ...common, ...(spec.message === undefined ? {} : { message: spec.message }) });
    case 'latency':
      return new ChaosLatency({ ...common, latencyMs: spec.latencyMs, ...(spec.jitterMs === undefined ? {} : { jitterMs: spec.jitterMs }) });
    case 'outcome':
      return new ChaosOutcome({ ...common, outcome: spec.value });
    case 'behavior':
      return new ChaosBehavior({ ...common, behavior: spec.behavior });
  }
}
