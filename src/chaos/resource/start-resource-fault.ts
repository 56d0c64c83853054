import { randomUUID } from 'node:crypto';
import { OptionsValidator } from '../../core/options.js';
import { startCpuPressure } from './cpu-pressure.js';
import { startEventLoopBlock } from './event-loop-block.js';
import { startMemoryPressure } from './memory-pressure.js';
import type { ResourceFaultHandle } from './resource-fault-handle.js';

/**
 * A resource fault described as JSON, as scenarios and the admin endpoint send it:
 * - `{ kind: 'cpu', percent?, threads?, durationMs? }`: CPU pressure (percent of one core per thread);
 * - `{ kind: 'memory', mb? | percent?, durationMs? }`: memory pressure, `percent` of `memoryBudgetMb`;
 * - `{ kind: 'event-loop', blockMs, intervalMs?, durationMs? }`: the event loop blocked for `blockMs` every `intervalMs`.
 */
export type ResourceFaultSpec =
  | { kind: 'cpu'; percent?: number; threads?: number; durationMs?: number }
  | { kind: 'memory'; mb?: number; percent?: number; durationMs?: number }
  | { kind: 'event-loop'; blockMs: number; intervalMs?: number; durationMs?: number };

/** Options of {@link startResourceFault}. */
export interface StartResourceFaultOptions {
  /** What `{ kind: 'memory', percent: 100 }` allocates, in MB. @default 512 */
  memoryBudgetMb?: number;
  /** Duration when the spec gives none, in ms. @default 60000 */
  defaultDurationMs?: number;
}

/** A running resource fault with an id, as the chaos admin endpoint lists it. */
export interface IdentifiedResourceFault extends ResourceFaultHandle {
  readonly id: string;
}

/**
 * Starts the resource fault described by `spec` (validated; every bad field reported with its path) and
 * returns its handle with an id. Plug it into `createChaosAdminHandler({ resources: startResourceFault })`.
 */
export async function startResourceFault(spec: unknown, options: StartResourceFaultOptions = {}): Promise<IdentifiedResourceFault> {
  const v = new OptionsValidator('resource fault');
  const input = (typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? spec : {}) as Record<string, unknown>;
  if (input !== spec) v.fail('resource', 'an object with a kind', spec);
  v.oneOf('kind', input.kind, ['cpu', 'memory', 'event-loop']);
  if (input.kind === undefined) v.fail('kind', 'one of "cpu", "memory", "event-loop"', undefined);
  v.duration('durationMs', input.durationMs, true);
  if (input.kind === 'cpu') {
    v.number('percent', input.percent, { min: 1, max: 100 });
    v.integer('threads', input.threads, 1);
  }
  if (input.kind === 'memory') {
    v.integer('mb', input.mb, 1);
    v.number('percent', input.percent, { min: 1, max: 100 });
    if (input.mb !== undefined && input.percent !== undefined) v.fail('percent', 'only one of mb and percent', input.percent);
  }
  if (input.kind === 'event-loop') {
    if (v.required('blockMs', input.blockMs, 'a duration in ms')) v.duration('blockMs', input.blockMs, true);
    v.duration('intervalMs', input.intervalMs, true);
  }
  v.throwIfInvalid();
  const durationMs = (input.durationMs as number | undefined) ?? options.defaultDurationMs ?? 60_000;
  let handle: ResourceFaultHandle;
  if (input.kind === 'cpu') {
    handle = await startCpuPressure({
      durationMs,
      ...(input.percent === undefined ? {} : { percent: input.percent as number }),
      ...(input.threads === undefined ? {} : { threads: input.threads as number }),
    });
  } else if (input.kind === 'memory') {
    const budget = options.memoryBudgetMb ?? 512;
    const mb = (input.mb as number | undefined) ?? Math.max(1, Math.round((budget * ((input.percent as number | undefined) ?? 50)) / 100));
    handle = await startMemoryPressure({ mb, durationMs });
  } else {
    handle = startEventLoopBlock({
      blockMs: input.blockMs as number,
      durationMs,
      ...(input.intervalMs === undefined ? {} : { intervalMs: input.intervalMs as number }),
    });
  }
  const id = randomUUID();
  return {
    id,
    get kind() {
      return handle.kind;
    },
    get stopped() {
      return handle.stopped;
    },
    done: handle.done,
    stop: () => handle.stop(),
  };
}
