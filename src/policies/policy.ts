/**
 * What a policy hands to the function it runs. One context flows from the outermost policy of a pipeline
 * to the innermost function; each policy passes on what it does not change.
 */
export interface PolicyContext {
  /** Aborts when the caller gives up, a timeout fires, or a hedge loses. Pass it to your I/O. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
}

/** Options accepted by every `execute`. */
export interface ExecuteOptions {
  /** Cancels the call: waiting stops at once and the call rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** @internal attempt number, set by an outer Retry */
  attempt?: number;
}

/** The function a policy runs. */
export type PolicyFunction<T> = (context: PolicyContext) => PromiseLike<T> | T;

/**
 * A resilience policy: runs a function under some protection.
 * @typeParam Extra result type a policy may produce in place of the function's own (a fallback value).
 */
export interface Policy<Extra = never> {
  /** Runs `fn` under this policy. */
  execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T | Extra>;
  /**
   * Type-level only, never present at run time: carries `Extra` for {@link ExtraOf}. A class whose `Extra`
   * is not `never` declares it: `declare readonly '~types'?: { readonly extra: R };`.
   */
  readonly '~types'?: { readonly extra: Extra };
}

/**
 * The `Extra` result type of a policy, read from its type-only `'~types'` member: inference cannot see it
 * through the generic `execute<T>` (TypeScript erases `T` to `unknown` and yields `unknown`).
 */
export type ExtraOf<P> = P extends { readonly '~types'?: infer X } ? (X extends { readonly extra: infer E } ? E : never) : never;
