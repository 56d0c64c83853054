import type { RunbookCondition } from './runbook.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Parses a runbook duration such as `'30s'`, `'2m'`, `'1m30s'`, `'1.5s'` or `'250ms'` into whole
 * milliseconds (units `ms`, `s`, `m`, `h`, `d`). Exact: decimals are scaled without floating-point drift.
 * Returns undefined when the text is not a duration or does not come to a whole number of milliseconds.
 *
 * @example parseRunbookDuration('1m30s') // 90_000
 */
export function parseRunbookDuration(text: string): number | undefined {
  const input = text.trim();
  if (input.length === 0) return undefined;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  while (DURATION_PART.lastIndex < input.length) {
    const match = DURATION_PART.exec(input);
    if (match === null) return undefined;
    const [, amount = '', unit = ''] = match;
    const ms = scaleDecimal(amount, UNIT_MS[unit] ?? 0);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/** `amount` (decimal text) times `factor`, exactly, when the result is an integer. */
function scaleDecimal(amount: string, factor: number): number | undefined {
  const [whole = '0', fraction = ''] = amount.split('.');
  const digits = BigInt(whole + fraction) * BigInt(factor);
  const divisor = 10n ** BigInt(fraction.length);
  if (digits % divisor !== 0n) return undefined;
  return Number(digits / divisor);
}

const CONDITION = /^\s*(<=|>=|==|!=|<|>|=)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*$/i;

/**
 * Parses a numeric condition such as `'< 5'`, `'>= 0.9'` or `'== 0'` (`=` means `==`).
 * Returns undefined when the text is not one.
 */
export function parseRunbookCondition(text: string): RunbookCondition | undefined {
  const match = CONDITION.exec(text);
  if (match === null) return undefined;
  const rawOp = match[1] ?? '';
  const value = Number(match[2]);
  if (!Number.isFinite(value)) return undefined;
  const op = (rawOp === '=' ? '==' : rawOp) as RunbookCondition['op'];
  return { op, value, text: text.trim() };
}

/** Whether `value` satisfies `condition` (false for NaN). */
export function conditionHolds(condition: RunbookCondition, value: number): boolean {
  switch (condition.op) {
    case '<':
      return value < condition.value;
    case '<=':
      return value <= condition.value;
    case '>':
      return value > condition.value;
    case '>=':
      return value >= condition.value;
    case '==':
      return value === condition.value;
    case '!=':
      return !Number.isNaN(value) && value !== condition.value;
  }
}
