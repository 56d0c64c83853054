import type { Clock } from '../../core/clock.js';
import type { Unsubscribe } from '../../core/events.js';
import type { ChaosRegistry } from '../chaos-registry.js';
import type { ExperimentComponents } from './experiment-components.js';
import type { BreakerChange, DegradationChange, HealingObservation } from './experiment-run.js';

/** Most changes of each kind kept per run. */
const MAX_CHANGES = 200;

const HEALER_EVENTS: ReadonlySet<string> = new Set(['recovery-succeeded', 'recovery-failed', 'escalated', 'failure-detected', 'failure-resolved']);

/**
 * Watches the registry and the components while one run lasts: calls reached by the run's own faults (by
 * fault id, so concurrent runs do not mix), breaker and degradation changes, self-healer outcomes.
 * @internal
 */
export class ExperimentObserver {
  readonly injections: Record<string, number> = {};
  readonly breakerChanges: BreakerChange[] = [];
  readonly degradationChanges: DegradationChange[] = [];
  readonly healing: HealingObservation[] = [];
  /** Degradation level when watching began. */
  readonly initialLevel: string | undefined;
  private readonly faultIds = new Set<string>();
  private readonly offs: Unsubscribe[] = [];

  constructor(
    registry: ChaosRegistry,
    private readonly components: ExperimentComponents,
    clock: Clock,
  ) {
    this.offs.push(
      registry.on('injected', ({ id, dependency }) => {
        if (this.faultIds.has(id)) this.injections[dependency] = (this.injections[dependency] ?? 0) + 1;
      }),
    );
    const { circuitBreakers, degradation, selfHealer } = components;
    if (circuitBreakers !== undefined) {
      this.offs.push(
        circuitBreakers.on('stateChange', ({ name, from, to, reason, at }) => {
          if (this.breakerChanges.length < MAX_CHANGES) this.breakerChanges.push({ name, from, to, reason, at });
        }),
      );
    }
    if (degradation !== undefined) {
      this.initialLevel = degradation.getCurrentState().level;
      this.offs.push(
        degradation.on('levelChange', ({ from, to, reason, at }) => {
          if (this.degradationChanges.length < MAX_CHANGES) this.degradationChanges.push({ from, to, reason, at });
        }),
      );
    }
    if (selfHealer !== undefined) {
      this.offs.push(
        selfHealer.onEvent((event) => {
          if (!HEALER_EVENTS.has(event.type) || this.healing.length >= MAX_CHANGES) return;
          const entry: HealingObservation = { type: event.type, component: event.component, at: clock.now() };
          if (event.strategy !== undefined) entry.strategy = event.strategy;
          if (event.durationMs !== undefined) entry.durationMs = event.durationMs;
          this.healing.push(entry);
        }),
      );
    }
  }

  /** Counts the calls fault `id` reaches from now on. */
  track(faultId: string, dependency: string): void {
    this.faultIds.add(faultId);
    this.injections[dependency] ??= 0;
  }

  /** The state of the breaker named `name` now, or undefined without such a breaker (or without breakers). */
  breakerState(name: string): string | undefined {
    return this.components.circuitBreakers?.get(name)?.state;
  }

  /** Whether breakers are watched at all. */
  get watchesBreakers(): boolean {
    return this.components.circuitBreakers !== undefined;
  }

  /** The degradation level now, if degradation is watched. */
  currentLevel(): string | undefined {
    return this.components.degradation?.getCurrentState().level;
  }

  /** Stops watching. Idempotent. */
  detach(): void {
    for (const off of this.offs.splice(0)) off();
  }
}
