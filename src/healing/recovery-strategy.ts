import type { PolicyContext } from '../policies/policy.js';

/** Kinds of recovery strategy, as the seed names them. */
export type RecoveryStrategyType = 'retry' | 'fallback' | 'restore' | 'escalate';

/** How bad a failure is, as the seed grades it. */
export type FailureSeverity = 'low' | 'medium' | 'high' | 'critical';

/** Every {@link FailureSeverity}, for validation. @internal */
export const failureSeverities: readonly FailureSeverity[] = ['low', 'medium', 'high', 'critical'];

/** What is known about the failure a strategy recovers from; extra fields are passed through. */
export interface RecoveryContext {
  /** The failing component (a dependency, a breaker name, a health check's component). */
  component?: string;
  /** Failure category (`network`, `database`, ...), which selected the strategy. */
  category?: string;
  severity?: FailureSeverity;
  /** For a restore strategy: the checkpoint to restore. */
  checkpoint?: string;
  [key: string]: unknown;
}

/**
 * What a {@link RecoveryStrategy} is asked to recover: the error, optionally the operation that failed (a
 * retry runs it again, a fallback replaces it), optionally a probe telling whether the component is healthy
 * again, and a signal that aborts when the recovery times out or the healer stops.
 */
export interface RecoveryRequest<T = unknown> {
  /** The failure being recovered from. */
  error: unknown;
  /** The operation that failed, when there is one to run again. */
  operation?: (context: PolicyContext) => PromiseLike<T> | T;
  /** Resolves true when the component is healthy again (a health check passing). */
  verify?: () => Promise<boolean>;
  context: RecoveryContext;
  /** Aborts when the recovery must stop. */
  signal?: AbortSignal;
}

/**
 * A recovery strategy as the {@link SelfHealer} drives it. The strategies made by `RecoveryStrategyFactory`
 * also have the seed's own `execute(...)`; a custom strategy implements only this.
 */
export interface RecoveryStrategy {
  /** Name, for events, statistics and history. */
  readonly name: string;
  readonly type: RecoveryStrategyType;
  /**
   * Recovers from `request.error`: resolves with the operation's (or replacement's) result when recovered,
   * rejects when it could not. An `'escalate'` strategy resolves once people were notified; the healer does
   * not count that as recovered.
   */
  recover(request: RecoveryRequest): Promise<unknown>;
}
