import { sleep, throwIfAborted } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import { messageOf } from './errors.js';
import type { BreakerRegistry, ClearableCache, RestartRequester } from './health-source.js';
import type { FailureSeverity } from './recovery-strategy.js';

/** What every healing step and verification receives. */
export interface HealingContext {
  /** The component being healed. */
  component: string;
  category: string;
  severity: FailureSeverity;
  /** The failure being healed. */
  error: unknown;
  /** Aborts when the healing must stop (recovery timeout, healer stopped). */
  signal: AbortSignal;
  clock: Clock;
  /** Clears every registered cache (in parallel); resolves with the names cleared. Rejects if one fails. */
  clearCaches(): Promise<string[]>;
  /**
   * Resets the breaker `name` (default: the component) when it is open or half-open (an isolated breaker is
   * left alone: someone isolated it on purpose). Returns whether it reset one.
   */
  resetBreaker(name?: string): boolean;
  /** Asks for a rolling restart; rejects when no {@link RestartRequester} is set. */
  requestRollingRestart(reason: string): Promise<void>;
  /** The default verification (the component's health check passing again), when there is one. */
  verify?: (() => Promise<boolean>) | undefined;
}

/** One step of a {@link HealingStrategy}. */
export interface HealingStep {
  name: string;
  /** Does the remedy. A throw fails the step and the runner moves to the next one. */
  run(ctx: HealingContext): void | PromiseLike<void>;
  /**
   * Whether the problem is gone after this step; the runner stops at the first step that verifies.
   * @default the context's `verify` (the health check); a step with neither is never taken as the cure
   */
  verify?(ctx: HealingContext): boolean | PromiseLike<boolean>;
  /**
   * Time to let the remedy take effect before verifying, in milliseconds (on the context's clock).
   * @default 0
   */
  settleMs?: number;
}

/** A named list of remedies, tried in order with verification after each (seed 001's healing strategies). */
export interface HealingStrategy {
  name: string;
  steps: readonly HealingStep[];
}

/** How one step went. */
export interface HealingStepRecord {
  step: string;
  /** Whether `run` completed without throwing. */
  ran: boolean;
  /** Whether the verification passed; undefined when nothing could verify. */
  verified: boolean | undefined;
  /** What `run` or `verify` threw. */
  error?: unknown;
  startedAt: number;
  durationMs: number;
}

/** The outcome of {@link runHealingStrategy}. */
export interface HealingRunResult {
  strategy: string;
  /** Whether a step's verification passed. */
  healed: boolean;
  /** The step whose verification passed. */
  resolvedBy: string | undefined;
  steps: HealingStepRecord[];
}

/** Options of {@link createHealingContext}. */
export interface HealingContextOptions {
  component: string;
  /** @default 'unknown' */
  category?: string;
  /** @default 'high' */
  severity?: FailureSeverity;
  error?: unknown;
  signal?: AbortSignal;
  /** @default systemClock */
  clock?: Clock;
  /** Caches `clearCaches()` clears. */
  caches?: ReadonlyMap<string, ClearableCache>;
  /** Where `resetBreaker()` finds breakers (a `CircuitBreakerManager`). */
  breakers?: BreakerRegistry | undefined;
  /** Who carries out `requestRollingRestart()` (the `Supervisor`). */
  restarter?: RestartRequester | undefined;
  /** Default verification for steps that have none. */
  verify?: (() => Promise<boolean>) | undefined;
}

/** Builds a {@link HealingContext}, for running a {@link HealingStrategy} outside the self-healer. */
export function createHealingContext(options: HealingContextOptions): HealingContext {
  const { caches, breakers, restarter, component } = options;
  return {
    component,
    category: options.category ?? 'unknown',
    severity: options.severity ?? 'high',
    error: options.error,
    signal: options.signal ?? new AbortController().signal,
    clock: options.clock ?? systemClock,
    verify: options.verify,
    async clearCaches() {
      if (caches === undefined) return [];
      const names = [...caches.keys()];
      await Promise.all([...caches.values()].map((cache) => cache.clear()));
      return names;
    },
    resetBreaker(name = component) {
      const breaker = breakers?.get(name);
      if (breaker === undefined || (breaker.state !== 'open' && breaker.state !== 'half-open')) return false;
      breaker.reset();
      return true;
    },
    async requestRollingRestart(reason) {
      if (restarter === undefined) throw new Error(`No restart requester is set; cannot restart (${reason})`);
      await restarter.requestRollingRestart(reason);
    },
  };
}

/**
 * Runs `strategy`'s steps in order. After each step that ran, waits its `settleMs` and verifies (the step's
 * own `verify`, else `ctx.verify`); stops at the first verification that passes. A step that throws, or whose
 * verification throws or fails, hands over to the next. Never resolves `healed` without a verification
 * passing: success is checked, not assumed. Rejects only with `ctx.signal.reason` when the signal aborts.
 *
 * @param onStep called after each step, for events and history.
 */
export async function runHealingStrategy(
  strategy: HealingStrategy,
  ctx: HealingContext,
  onStep?: (record: HealingStepRecord) => void,
): Promise<HealingRunResult> {
  const result: HealingRunResult = { strategy: strategy.name, healed: false, resolvedBy: undefined, steps: [] };
  for (const step of strategy.steps) {
    throwIfAborted(ctx.signal);
    const startedAt = ctx.clock.now();
    const record: HealingStepRecord = { step: step.name, ran: false, verified: undefined, startedAt, durationMs: 0 };
    try {
      await step.run(ctx);
      record.ran = true;
      const verifier = step.verify !== undefined ? (c: HealingContext) => (step.verify as NonNullable<HealingStep['verify']>)(c) : ctx.verify;
      if (verifier !== undefined) {
        if (step.settleMs !== undefined && step.settleMs > 0) await sleep(ctx.clock, step.settleMs, ctx.signal);
        record.verified = (await verifier(ctx)) === true;
      }
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      record.error = error;
      if (record.ran) record.verified = false;
    }
    record.durationMs = ctx.clock.now() - startedAt;
    result.steps.push(record);
    onStep?.(record);
    if (record.verified === true) {
      result.healed = true;
      result.resolvedBy = step.name;
      return result;
    }
  }
  return result;
}

/** A one-line summary of a failed run, for error messages. @internal */
export function describeRun(run: HealingRunResult): string {
  if (run.steps.length === 0) return `healing strategy "${run.strategy}" has no steps`;
  return `healing strategy "${run.strategy}" did not verify: ${run.steps
    .map((s) => `${s.step} ${s.error !== undefined ? `failed (${messageOf(s.error)})` : s.verified === undefined ? 'unverifiable' : 'not verified'}`)
    .join(', ')}`;
}
