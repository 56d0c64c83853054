import type { Unsubscribe } from '../../../core/events.js';
import { RingBuffer } from '../../../store/ring-buffer.js';
import { experimentRunnerOf, type AdminComponents } from './admin-components.js';

/** Where an {@link AdminActivity} came from. */
export type AdminActivitySource = 'breaker' | 'health' | 'degradation' | 'healing' | 'chaos' | 'experiment' | 'admin';

/** One line of the admin API's recent activity (breaker transitions, healing events, experiments, actions). */
export interface AdminActivity {
  /** Clock milliseconds. */
  at: number;
  source: AdminActivitySource;
  /** What happened, e.g. `closed -> open`, `recovery-succeeded`, `breaker.reset`. */
  type: string;
  /** What it happened to (a breaker, component, experiment...). */
  target: string;
  /** A short human-readable detail. */
  detail?: string;
}

/**
 * A bounded log of recent activity, fed by the components' events, and the change signal of the admin
 * API's event stream: every event it listens to calls `onChange` (the stream coalesces them).
 * `close()` removes every listener it added.
 */
export class AdminActivityLog {
  private readonly items: RingBuffer<AdminActivity>;
  private readonly offs: Unsubscribe[] = [];

  constructor(
    components: AdminComponents,
    private readonly now: () => number,
    capacity: number,
    private readonly onChange: () => void,
  ) {
    this.items = new RingBuffer(capacity);
    const { breakers, health, degradation, cache, chaos, healer } = components;
    const runner = experimentRunnerOf(components);
    if (breakers !== undefined) {
      this.offs.push(
        breakers.on('stateChange', (e) => this.add({ at: e.at, source: 'breaker', type: `${e.from} -> ${e.to}`, target: e.name, detail: e.reason })),
        breakers.on('created', onChange),
        breakers.on('removed', onChange),
      );
    }
    if (health !== undefined) {
      this.offs.push(
        health.on('componentStatusChange', (e) => this.add({ at: this.now(), source: 'health', type: `${e.from} -> ${e.to}`, target: e.component })),
        health.on('checkCompleted', onChange),
      );
    }
    if (degradation !== undefined) {
      this.offs.push(
        degradation.on('levelChange', (e) => this.add({ at: this.now(), source: 'degradation', type: `${e.from} -> ${e.to}`, target: 'level', detail: e.reason })),
        degradation.on('featureChange', onChange),
        degradation.on('overrideChange', onChange),
      );
    }
    if (cache !== undefined) {
      this.offs.push(cache.on('layerStateChange', (e) => this.add({ at: this.now(), source: 'breaker', type: `${e.from} -> ${e.to}`, target: `cache layer ${e.layer}` })));
    }
    if (chaos !== undefined) {
      this.offs.push(
        chaos.on('faultAdded', (f) => this.add({ at: this.now(), source: 'chaos', type: 'fault-added', target: f.dependency, detail: f.kind })),
        chaos.on('faultRemoved', (f) => this.add({ at: this.now(), source: 'chaos', type: `fault-${f.reason}`, target: f.dependency, detail: f.kind })),
        chaos.control.on('change', (e) => this.add({ at: this.now(), source: 'chaos', type: e.enabled ? 'enabled' : 'disabled', target: 'chaos', detail: e.reason })),
      );
    }
    if (runner !== undefined) {
      this.offs.push(
        runner.on('started', ({ run }) => this.add({ at: run.startedAt, source: 'experiment', type: 'started', target: run.name })),
        runner.on('finished', ({ run }) => this.add({ at: run.endedAt ?? this.now(), source: 'experiment', type: run.status, target: run.name })),
        runner.on('refused', (e) => this.add({ at: this.now(), source: 'experiment', type: 'refused', target: e.name, detail: e.reasons.join('; ') })),
      );
    }
    if (healer !== undefined) {
      this.offs.push(
        healer.onEvent((e) =>
          this.add({ at: e.timestamp.getTime(), source: 'healing', type: e.type, target: e.component, ...(e.strategy === undefined ? {} : { detail: e.strategy }) }),
        ),
      );
    }
  }

  /** Appends an activity (the oldest is dropped when full) and signals a change. */
  add(activity: AdminActivity): void {
    this.items.push(activity);
    this.onChange();
  }

  /** The newest `limit` activities, newest first. */
  recent(limit: number): AdminActivity[] {
    const out: AdminActivity[] = [];
    this.items.visitNewestFirst((item) => out.push(item) < limit);
    return out;
  }

  /** Removes every listener added to the components. Idempotent. */
  close(): void {
    for (const off of this.offs.splice(0)) off();
  }
}
