import type { PolicyContext, PolicyFunction } from './policy.js';

/**
 * Calls `fn` and settles through `onSuccess` / `onFailure` with a single `.then`: the breakers' allocation-free
 * closed path. A synchronous throw from `fn` goes through `onFailure` too (which rethrows by design) and
 * becomes the returned rejection.
 * @internal
 */
export function callWithHandlers<T>(
  fn: PolicyFunction<T>,
  context: PolicyContext,
  onSuccess: (value: T) => T,
  onFailure: (error: unknown) => never,
): Promise<T> {
  let pending: PromiseLike<T> | T;
  try {
    pending = fn(context);
  } catch (error) {
    try {
      onFailure(error);
    } catch {
      // onFailure rethrows by design; the rejection below carries the error.
    }
    return Promise.reject(error);
  }
  return Promise.resolve(pending).then(onSuccess, onFailure);
}
