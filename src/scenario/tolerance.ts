import { parseScenarioDuration } from './scenario-duration.js';

/** Comparison operators of a {@link Tolerance}. */
export type ComparisonOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/**
 * What an observed value must be for a criterion, probe or halt condition to hold. Written in a scenario as
 * an expression (`"> 99%"`, `"< 2000ms"`, `"< 60s"`, `"0"`, `"true"`, `"available"`) or as a typed mapping
 * (`{ range: [0.9, 1] }`, `{ regex: "^(open|half_open)$" }`, `{ equals: reduced }`, `{ oneOf: [a, b] }`).
 * `text` is what was written, for reports.
 */
export type Tolerance =
  | {
      kind: 'compare';
      op: ComparisonOperator;
      /** The bound in the observed value's unit: ratios 0..1 for `%`, milliseconds for durations. */
      value: number;
      /** `ratio`: written as a percentage; `ms`: written as a duration; `number`: a plain number. */
      unit: 'ratio' | 'ms' | 'number';
      text: string;
    }
  | { kind: 'equals'; value: string | number | boolean; text: string }
  | { kind: 'range'; min: number; max: number; text: string }
  | { kind: 'regex'; pattern: string; text: string }
  | { kind: 'oneOf'; values: readonly (string | number | boolean)[]; text: string };

/** How tolerance expressions are written, for error messages. */
export const TOLERANCE_EXAMPLES = 'a tolerance such as "> 99%", "< 2000ms", "< 60s", ">= 0.9", "0", "true" or "available"';

const COMPARE = /^(<=|>=|==|!=|<|>|=)\s*(.+)$/;
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const PERCENT = /^(-?(?:\d+(?:\.\d*)?|\.\d+))\s*%$/;

/** Words that an `"available"` expectation accepts (with `true` and any number > 0). */
const AVAILABLE_WORDS = new Set(['available', 'up', 'ok', 'healthy', 'true', 'yes']);

/**
 * Parses a tolerance expression: `<op> <number>[%|ms|s|m|h|…]` (a percentage becomes a ratio 0..1, a duration
 * milliseconds), a bare number (equality), `true`/`false`, or a word (equality, case-insensitive; `available`
 * also accepts `true`, `up`, `ok` and numbers > 0). Returns undefined when `text` is not one.
 *
 * @example parseToleranceExpression('> 99%') // { kind: 'compare', op: '>', value: 0.99, unit: 'ratio', ... }
 */
export function parseToleranceExpression(text: string): Tolerance | undefined {
  const input = text.trim();
  if (input === '') return undefined;
  const compare = COMPARE.exec(input);
  if (compare !== null) {
    const op = (compare[1] === '=' ? '==' : compare[1]) as ComparisonOperator;
    const bound = parseBound((compare[2] ?? '').trim());
    return bound === undefined ? undefined : { kind: 'compare', op, ...bound, text: input };
  }
  if (NUMBER.test(input)) return { kind: 'equals', value: Number(input), text: input };
  const percent = PERCENT.exec(input);
  if (percent !== null) return { kind: 'compare', op: '==', value: Number(percent[1]) / 100, unit: 'ratio', text: input };
  if (input === 'true' || input === 'false') return { kind: 'equals', value: input === 'true', text: input };
  if (/^[\w.-]+$/.test(input)) return { kind: 'equals', value: input, text: input };
  return undefined;
}

function parseBound(text: string): { value: number; unit: 'ratio' | 'ms' | 'number' } | undefined {
  if (NUMBER.test(text)) return { value: Number(text), unit: 'number' };
  const percent = PERCENT.exec(text);
  if (percent !== null) return { value: Number(percent[1]) / 100, unit: 'ratio' };
  const ms = parseScenarioDuration(text);
  return ms === undefined ? undefined : { value: ms, unit: 'ms' };
}

/**
 * Whether `observed` is within `tolerance`. Numbers compare numerically; booleans count as 1/0 against
 * numbers; `equals` on a word is case-insensitive; `null`/`undefined` never hold.
 */
export function toleranceHolds(tolerance: Tolerance, observed: unknown): boolean {
  if (observed === null || observed === undefined) return false;
  switch (tolerance.kind) {
    case 'compare': {
      const value = asNumber(observed);
      return value !== undefined && compare(tolerance.op, value, tolerance.value);
    }
    case 'range': {
      const value = asNumber(observed);
      return value !== undefined && value >= tolerance.min && value <= tolerance.max;
    }
    case 'regex':
      return new RegExp(tolerance.pattern).test(typeof observed === 'string' ? observed : JSON.stringify(observed));
    case 'equals':
      return equals(tolerance.value, observed);
    case 'oneOf':
      return tolerance.values.some((value) => equals(value, observed));
  }
}

function compare(op: ComparisonOperator, value: number, bound: number): boolean {
  switch (op) {
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
    case '==':
      return Math.abs(value - bound) <= Number.EPSILON * Math.max(1, Math.abs(bound));
    case '!=':
      return Math.abs(value - bound) > Number.EPSILON * Math.max(1, Math.abs(bound));
  }
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && NUMBER.test(value.trim())) return Number(value);
  return undefined;
}

function equals(expected: string | number | boolean, observed: unknown): boolean {
  if (typeof expected === 'boolean') {
    if (typeof observed === 'boolean') return observed === expected;
    if (typeof observed === 'number') return (observed !== 0) === expected;
    if (typeof observed === 'string') return observed.trim().toLowerCase() === String(expected);
    return false;
  }
  if (typeof expected === 'number') {
    const value = asNumber(observed);
    return value !== undefined && compare('==', value, expected);
  }
  const word = expected.toLowerCase();
  if (word === 'available') {
    if (typeof observed === 'boolean') return observed;
    if (typeof observed === 'number') return observed > 0;
    return typeof observed === 'string' && AVAILABLE_WORDS.has(observed.trim().toLowerCase());
  }
  return typeof observed === 'string' || typeof observed === 'number' || typeof observed === 'boolean'
    ? String(observed).toLowerCase() === word
    : false;
}
