import { MultiLayerCache } from '../../../../src/cache/multi-layer-cache.js';
import { ChaosControl } from '../../../../src/chaos/chaos-control.js';
import { ChaosRegistry } from '../../../../src/chaos/chaos-registry.js';
import { ChaosExperiments } from '../../../../src/chaos/experiments/chaos-experiments.js';
import { ExperimentRunner } from '../../../../src/chaos/experiments/experiment-runner.js';
import type { Clock } from '../../../../src/core/clock.js';
import { GracefulDegradation } from '../../../../src/degradation/graceful-degradation.js';
import { SelfHealer } from '../../../../src/healing/self-healer.js';
import { HealthMonitor } from '../../../../src/health/health-monitor.js';
import { CircuitBreakerManager } from '../../../../src/policies/circuit-breaker-manager.js';
import { MemoryStore } from '../../../../src/store/memory-store.js';
import type { AdminComponents } from '../../../../src/adapters/http/admin/admin-components.js';

export const TOKEN = 'admin-token-0123456789';
export const OPS_TOKEN = 'ops-token-abcdefghijklmnop';

/** Real components wired the way a service wires them. */
export function makeComponents(clock?: Clock) {
  const opts = clock === undefined ? {} : { clock };
  const breakers = new CircuitBreakerManager(opts);
  breakers.getOrCreate('pricing', { failureThreshold: 2, timeout: 60_000 });
  breakers.getOrCreate('inventory');
  const health = new HealthMonitor(opts);
  health.registerCheck('db', () => true, { component: 'database' });
  const degradation = new GracefulDegradation({ ...opts, minDwellMs: 0, features: [{ name: 'recommendations', priority: 1 }] });
  const cache = new MultiLayerCache({ ...opts, name: 'quotes' });
  const control = new ChaosControl({ environment: 'test', enabled: true });
  const chaos = new ChaosRegistry({ control, ...opts });
  const store = new MemoryStore(opts);
  const experiments = new ExperimentRunner({ registry: chaos, store, ...opts });
  experiments.register(ChaosExperiments.errorBurst('pricing', 1, 60_000, { name: 'pricing-burst' }));
  const healer = new SelfHealer(opts);
  const components = { breakers, health, degradation, cache, chaos, experiments, healer } satisfies Required<AdminComponents>;
  return { components, store, control };
}

/** Fails a breaker's calls until it opens. */
export async function tripBreaker(breakers: CircuitBreakerManager, name: string): Promise<void> {
  const breaker = breakers.get(name);
  if (breaker === undefined) throw new Error(`no breaker ${name}`);
  while (breaker.state !== 'open') {
    await breaker.execute(() => Promise.reject(new Error('boom'))).catch(() => undefined);
  }
}

/** Reads server-sent events from a fetch response body. */
export class SseReader {
  readonly events: { event: string; data: string }[] = [];
  readonly comments: string[] = [];
  /** Whether the server ended the stream (or it was closed). */
  ended = false;
  private buffer = '';
  private readonly done: Promise<void>;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(response: Response) {
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    this.reader = reader;
    const decoder = new TextDecoder();
    this.done = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
        if (done) {
          this.ended = true;
          return;
        }
        this.buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) this.comments.push(line);
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) this.events.push({ event, data: data.join('\n') });
        }
      }
    })();
  }

  /** Parsed snapshots received so far. */
  snapshots(): { breakers: { name: string; state: string }[] | null; activity: { type: string; target: string }[]; degradation: { level: string } | null }[] {
    return this.events.filter((e) => e.event === 'snapshot').map((e) => JSON.parse(e.data) as never);
  }

  /** Waits (bounded, real time) until `predicate` holds. */
  async until(predicate: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!predicate()) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.events.map((e) => e.data.slice(0, 200)))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async close(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
    await this.done;
  }
}

/** Waits (bounded, real time) until `predicate` holds. */
export async function eventually(predicate: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
