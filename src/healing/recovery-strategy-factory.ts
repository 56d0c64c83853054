import { EscalationRecovery, type EscalationRecoveryConfig } from './escalation-recovery.js';
import { FallbackRecovery, type FallbackRecoveryConfig } from './fallback-recovery.js';
import { RestoreRecovery, type RestoreRecoveryConfig } from './restore-recovery.js';
import { RetryRecovery, type RetryRecoveryConfig } from './retry-recovery.js';

/**
 * Builds the seed's four recovery strategies. Each has a `type`, the seed's `execute(...)`, and `recover()`
 * for the {@link SelfHealer}'s `strategyMap`.
 *
 * @example
 * ```ts
 * const retry = RecoveryStrategyFactory.createRetry({ name: 'exponential-retry', maxAttempts: 5, backoffStrategy: 'exponential' });
 * const fallback = RecoveryStrategyFactory.createFallback({ name: 'cache-fallback', fallbackChain: [...], cascadeOnFailure: true });
 * const healer = new SelfHealer({ defaultStrategy: retry, strategyMap: { database: fallback } });
 * ```
 */
export const RecoveryStrategyFactory: {
  /** Retry with backoff; see {@link RetryRecoveryConfig}. */
  readonly createRetry: (config: RetryRecoveryConfig) => RetryRecovery;
  /** A fallback chain by priority; see {@link FallbackRecoveryConfig}. */
  readonly createFallback: <T = unknown>(config: FallbackRecoveryConfig<T>) => FallbackRecovery<T>;
  /** Restore from named checkpoints; see {@link RestoreRecoveryConfig}. */
  readonly createRestore: <S = unknown>(config: RestoreRecoveryConfig<S>) => RestoreRecovery<S>;
  /** Escalation to registered channel handlers; see {@link EscalationRecoveryConfig}. */
  readonly createEscalation: (config: EscalationRecoveryConfig) => EscalationRecovery;
} = Object.freeze({
  createRetry: (config: RetryRecoveryConfig) => new RetryRecovery(config),
  createFallback: <T = unknown>(config: FallbackRecoveryConfig<T>) => new FallbackRecovery<T>(config),
  createRestore: <S = unknown>(config: RestoreRecoveryConfig<S>) => new RestoreRecovery<S>(config),
  createEscalation: (config: EscalationRecoveryConfig) => new EscalationRecovery(config),
});
