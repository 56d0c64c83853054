import { onAbort } from '../../core/abort.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { isResilienceError } from '../../core/errors.js';
import type { ExperimentTraffic } from './experiment-definition.js';
import type { TrafficSummary } from './experiment-run.js';

const MAX_ERROR_KEYS = 20;

/**
 * Sends an experiment's caller traffic while the faults are in place and counts what reached the callers.
 * Each caller sends a request, waits for it, pauses `intervalMs` on the clock, and again, until stopped.
 * Stopping aborts the requests in flight (through their signal) without waiting for them; those are not
 * counted.
 * @internal
 */
export class TrafficDriver {
  private readonly controller = new AbortController();
  private readonly stats: { spec: ExperimentTraffic; summary: TrafficSummary; totalMs: number }[];
  private readonly timers = new Set<TimerHandle>();

  constructor(
    specs: readonly ExperimentTraffic[],
    private readonly clock: Clock,
  ) {
    this.stats = specs.map((spec) => ({
      spec,
      totalMs: 0,
      summary: { target: spec.target, calls: 0, succeeded: 0, failed: 0, injectedErrors: 0, circuitOpen: 0, timeouts: 0, errors: {}, maxLatencyMs: 0, meanLatencyMs: 0 },
    }));
  }

  /** Starts every caller. */
  start(): void {
    for (const stat of this.stats) {
      for (let i = 0; i < (stat.spec.concurrency ?? 1); i++) void this.loop(stat);
    }
  }

  /** Stops every caller and aborts the requests in flight. Idempotent. */
  stop(): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(new Error('experiment traffic stopped'));
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
  }

  /** What each dependency's callers saw so far. */
  summaries(): TrafficSummary[] {
    return this.stats.map(({ summary }) => ({ ...summary, errors: { ...summary.errors } }));
  }

  private async loop(stat: { spec: ExperimentTraffic; summary: TrafficSummary; totalMs: number }): Promise<void> {
    const signal = this.controller.signal;
    const { spec, summary } = stat;
    while (!signal.aborted) {
      const start = this.clock.now();
      let failure: { error: unknown } | undefined;
      try {
        await spec.call(signal);
      } catch (error) {
        failure = { error };
      }
      if (signal.aborted) return;
      const ms = this.clock.now() - start;
      summary.calls++;
      stat.totalMs += ms;
      summary.maxLatencyMs = Math.max(summary.maxLatencyMs, ms);
      summary.meanLatencyMs = stat.totalMs / summary.calls;
      if (failure === undefined) summary.succeeded++;
      else this.countFailure(summary, failure.error);
      await this.pause(spec.intervalMs ?? 100);
    }
  }

  private countFailure(summary: TrafficSummary, error: unknown): void {
    summary.failed++;
    if (isResilienceError(error)) {
      if (error.code === 'INJECTED_FAULT') summary.injectedErrors++;
      else if (error.code === 'CIRCUIT_OPEN') summary.circuitOpen++;
      else if (error.code === 'TIMEOUT') summary.timeouts++;
    }
    const code = (error as { code?: unknown } | null)?.code;
    const key = typeof code === 'string' ? code : error instanceof Error ? error.name : typeof error;
    if (key in summary.errors) summary.errors[key] = (summary.errors[key] ?? 0) + 1;
    else if (Object.keys(summary.errors).length < MAX_ERROR_KEYS) summary.errors[key] = 1;
  }

  /** Waits `ms` on the clock (even 0: a zero interval never spins), or until stopped. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.controller.signal.aborted) return resolve();
      // stop() cancels the timer; resolve then so the loop ends.
      const unsubscribe = onAbort(this.controller.signal, resolve);
      const timer = this.clock.schedule(() => {
        this.timers.delete(timer);
        unsubscribe();
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}
