import { neverAbortedSignal } from '../core/abort.js';
import { AttemptContext, LazyContext } from './lazy-context.js';
import type { ExecuteOptions, PolicyContext } from './policy.js';

/** The context used when a caller passes no options: never aborted, first attempt. Shared and frozen. */
export const defaultContext: PolicyContext = Object.freeze({ signal: neverAbortedSignal, attempt: 1 });

/**
 * The context for a call made with `options`, allocating only when the caller passed a partial one.
 * Inside a pipeline every policy receives a full context from the one outside it, so this is free there.
 * @internal
 */
export function contextOf(options: ExecuteOptions | undefined): PolicyContext {
  if (options === undefined) return defaultContext;
  if (options instanceof LazyContext) return options;
  if (options.signal !== undefined && options.attempt !== undefined) return options as PolicyContext;
  return { ...options, signal: options.signal ?? neverAbortedSignal, attempt: options.attempt ?? 1 };
}

/** A context like `parent` with another signal and/or attempt, keeping any other fields. @internal */
export function deriveContext(parent: PolicyContext, signal: AbortSignal, attempt = parent.attempt): PolicyContext {
  return { ...parent, signal, attempt };
}

/** A context like `parent` for another attempt, keeping its (possibly not yet created) signal. @internal */
export function withAttempt(parent: PolicyContext, attempt: number): PolicyContext {
  if (parent.attempt === attempt) return parent;
  if (parent instanceof LazyContext) return new AttemptContext(parent.cell, attempt);
  return { ...parent, attempt };
}
