import type { ToxicContext, ToxicStage, ToxicStream } from './toxic-stage.js';

/**
 * One attribute of a toxic type: its default (none: the attribute is required) and its check, which returns
 * what was expected when `value` is not acceptable.
 */
export interface ToxicAttributeSpec<T> {
  /** Value used when the attribute is absent; without one the attribute is required. */
  readonly default?: T;
  /** Returns `undefined` when `value` is acceptable, else what was expected (e.g. `a number >= 0`). */
  readonly check: (value: unknown) => string | undefined;
}

/** The attributes of a toxic type, one spec per attribute. */
export type ToxicAttributeSchema<A> = { readonly [K in keyof A]-?: ToxicAttributeSpec<A[K]> };

/**
 * A kind of toxic: its name in toxiproxy's JSON (`type`), the streams it can act on, its attributes and how to
 * run it on a connection. The built-in kinds are listed in {@link builtInToxics}.
 *
 * @typeParam A the attributes, with every default applied.
 */
export interface ToxicDefinition<A extends object> {
  /** The `type` in toxic JSON, e.g. `latency`. */
  readonly type: string;
  /** Streams the toxic may act on; the first is its default. */
  readonly streams: readonly ToxicStream[];
  /** Attribute specs; unknown attributes are refused. */
  readonly attributes: ToxicAttributeSchema<A>;
  /**
   * Checks between attributes, run once each passed its own check. Returns problems as `[attribute, expected]`.
   */
  readonly crossCheck?: (attributes: A) => readonly (readonly [keyof A & string, string])[];
  /** Starts the toxic on one direction of one connection. */
  createStage(attributes: A, context: ToxicContext): ToxicStage<A>;
}

/** A duration or size attribute: a finite number >= 0. */
export const nonNegativeNumber = (value: unknown): string | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? undefined : 'a number >= 0';

/** An integer attribute >= `min`. */
export const integerAtLeast =
  (min: number) =>
  (value: unknown): string | undefined =>
    typeof value === 'number' && Number.isInteger(value) && value >= min ? undefined : `an integer >= ${min}`;

/** A probability attribute in 0..1. */
export const probability = (value: unknown): string | undefined =>
  typeof value === 'number' && value >= 0 && value <= 1 ? undefined : 'a number in 0..1';
