import { isResilienceError, ResilienceError, type ResilienceErrorCode } from '../core/errors.js';

/** Stable codes of the errors raised by the healing capability. */
export type HealingErrorCode = Extract<
  ResilienceErrorCode,
  'RECOVERY_FAILED' | 'RECOVERY_REFUSED' | 'CHECKPOINT_NOT_FOUND' | 'WEBHOOK_FAILED'
>;

const code = (c: HealingErrorCode): HealingErrorCode => c;

function hasCode(error: unknown, c: HealingErrorCode): boolean {
  return isResilienceError(error) && error.code === c;
}

/** What {@link RecoveryFailedError} carries besides its message. */
export interface RecoveryFailedErrorOptions {
  /** The error that made the recovery fail (the last attempt's, a timeout, a failed verification...). */
  cause?: unknown;
  /** The component being recovered, when known. */
  component?: string;
  /** Name of the strategy that failed. */
  strategy?: string;
  /** Whether the failure was escalated (to people) rather than recovered. */
  escalated?: boolean;
  /** Errors of each fallback provider or healing step that failed, in order. */
  errors?: readonly { name: string; error: unknown }[];
}

/**
 * Raised when a recovery strategy could not recover: retries and fallbacks exhausted, nothing restored, a
 * healing strategy whose steps never verified, a recovery that timed out, or a component that did not pass
 * its health check again. `cause` is the last underlying error. Code `RECOVERY_FAILED`.
 */
export class RecoveryFailedError extends ResilienceError {
  /** The component being recovered, when known. */
  readonly component: string | undefined;
  /** Name of the strategy that failed. */
  readonly strategy: string | undefined;
  /** Whether the failure was handed to people (an escalation) instead of being recovered. */
  readonly escalated: boolean;
  /** Errors of each fallback provider or healing step that failed, in order. */
  readonly errors: readonly { name: string; error: unknown }[];
  constructor(message: string, options: RecoveryFailedErrorOptions = {}) {
    super(code('RECOVERY_FAILED'), message, options.cause === undefined ? undefined : { cause: options.cause });
    this.component = options.component;
    this.strategy = options.strategy;
    this.escalated = options.escalated ?? false;
    this.errors = options.errors ?? [];
  }
}
Object.defineProperty(RecoveryFailedError.prototype, 'name', { value: 'RecoveryFailedError', writable: true, configurable: true });

/**
 * Raised by `SelfHealer.executeWithHealing` when `maxConcurrentRecoveries` recoveries are already running:
 * the recovery is refused rather than queued. `cause` is the call's original error. Code `RECOVERY_REFUSED`.
 */
export class RecoveryRefusedError extends ResilienceError {
  /** The component whose recovery was refused. */
  readonly component: string;
  constructor(component: string, limit: number, cause: unknown) {
    super(code('RECOVERY_REFUSED'), `Recovery of "${component}" refused: ${limit} recoveries already running`, { cause });
    this.component = component;
  }
}
Object.defineProperty(RecoveryRefusedError.prototype, 'name', { value: 'RecoveryRefusedError', writable: true, configurable: true });

/** Raised when a restore strategy is asked for a checkpoint it does not hold. Code `CHECKPOINT_NOT_FOUND`. */
export class CheckpointNotFoundError extends ResilienceError {
  /** The checkpoint asked for (undefined when none exists at all). */
  readonly checkpoint: string | undefined;
  constructor(checkpoint: string | undefined) {
    super(code('CHECKPOINT_NOT_FOUND'), checkpoint === undefined ? 'No checkpoint exists' : `No checkpoint named "${checkpoint}"`);
    this.checkpoint = checkpoint;
  }
}
Object.defineProperty(CheckpointNotFoundError.prototype, 'name', { value: 'CheckpointNotFoundError', writable: true, configurable: true });

/**
 * Raised by the webhook escalation handler when the endpoint answered with a non-2xx status, did not answer
 * in time (`cause` is the `TimeoutError`), could not be reached, or too many deliveries were in flight.
 * Code `WEBHOOK_FAILED`.
 */
export class WebhookDeliveryError extends ResilienceError {
  /** The HTTP status, when the endpoint answered. */
  readonly status: number | undefined;
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(code('WEBHOOK_FAILED'), message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
  }
}
Object.defineProperty(WebhookDeliveryError.prototype, 'name', { value: 'WebhookDeliveryError', writable: true, configurable: true });

/** Whether `error` is a {@link RecoveryFailedError}, from this or another copy of the package. */
export const isRecoveryFailedError = (error: unknown): error is RecoveryFailedError => hasCode(error, 'RECOVERY_FAILED');
/** Whether `error` is a {@link RecoveryRefusedError}, from this or another copy of the package. */
export const isRecoveryRefusedError = (error: unknown): error is RecoveryRefusedError => hasCode(error, 'RECOVERY_REFUSED');
/** Whether `error` is a {@link CheckpointNotFoundError}, from this or another copy of the package. */
export const isCheckpointNotFoundError = (error: unknown): error is CheckpointNotFoundError =>
  hasCode(error, 'CHECKPOINT_NOT_FOUND');
/** Whether `error` is a {@link WebhookDeliveryError}, from this or another copy of the package. */
export const isWebhookDeliveryError = (error: unknown): error is WebhookDeliveryError => hasCode(error, 'WEBHOOK_FAILED');

/** The message of an error-like value. @internal */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
