import type { Unsubscribe } from '../../core/events.js';

/** A latency toxic as the network templates add it (toxiproxy's JSON shape). */
export interface ProxyLatencyToxic {
  name: string;
  type: 'latency';
  stream: 'upstream' | 'downstream';
  toxicity: number;
  attributes: { latency: number; jitter: number };
}

/**
 * What the network templates need of a TCP fault proxy standing between the service and a dependency. The
 * library's `FaultProxy` (`src/chaos/proxy`) fits.
 */
export interface ProxyLike {
  /** Name of the proxy (the target in findings). */
  readonly name: string;
  /** The dependency's address, `host:port`. */
  readonly upstream: string;
  /** Counters; `upstreamErrors` counts connections whose upstream could not be reached. */
  readonly stats?: { readonly upstreamErrors: number };
  addToxic(toxic: ProxyLatencyToxic): unknown;
  removeToxic(name: string): unknown;
  /** Points the proxy at another upstream (closing open connections). */
  update(patch: { upstream: string }): unknown;
  /** Refuses connections, as a server that is down. */
  disable(): unknown;
  enable(): unknown;
}

/** A worker as a supervisor lists it. */
export interface SupervisedWorkerLike {
  readonly slot: number;
  readonly pid: number | undefined;
  readonly ready: boolean;
  readonly draining?: boolean;
}

/** What the process-kill template needs of a worker supervisor. The library's `Supervisor` fits. */
export interface SupervisorLike {
  getWorkers(): readonly SupervisedWorkerLike[];
  on(event: 'workerReady', listener: (event: { readonly slot: number; readonly pid: number | undefined }) => void): Unsubscribe;
}

/** A dependency that can be stopped and started again (a server, a queue consumer, a private Redis in tests). */
export interface StoppableService {
  /** Name in findings. */
  readonly name?: string;
  stop(): unknown;
  start(): unknown;
}
