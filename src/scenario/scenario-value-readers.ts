import { parseScenarioDuration, SCENARIO_DURATION_EXAMPLES } from './scenario-duration.js';
import { parseToleranceExpression, TOLERANCE_EXAMPLES, type Tolerance } from './tolerance.js';
import { renderValue, type YamlField, type YamlReader } from './yaml-reader.js';

/**
 * Reads a duration field (`"90s"`, `"2 hours"`) in milliseconds; records an issue when it is not one (or is
 * zero and `positive`). @internal
 */
export function readDuration(reader: YamlReader, field: YamlField | undefined, path: string, positive = true): number | undefined {
  if (field === undefined) return undefined;
  const raw = reader.scalar(field);
  const ms = typeof raw === 'string' ? parseScenarioDuration(raw) : undefined;
  if (ms === undefined || (positive && ms <= 0)) {
    reader.fail(field.value ?? field.key, path, positive ? `a positive ${SCENARIO_DURATION_EXAMPLES.replace(/^a /, '')}` : SCENARIO_DURATION_EXAMPLES);
    return undefined;
  }
  return ms;
}

const TYPED_KINDS = ['range', 'regex', 'equals', 'oneOf'];

/**
 * Reads a tolerance: an expression (a string, number or boolean scalar) or one typed mapping
 * `{ range: [min, max] }`, `{ regex: pattern }`, `{ equals: value }`, `{ oneOf: [values] }`. @internal
 */
export function readTolerance(reader: YamlReader, field: YamlField | undefined, path: string): Tolerance | undefined {
  if (field === undefined) return undefined;
  const expected = `${TOLERANCE_EXAMPLES}, or one of { range: [min, max] }, { regex: pattern }, { equals: value }, { oneOf: [values] }`;
  if (!reader.isMap(field)) {
    const raw = reader.scalar(field);
    if (typeof raw === 'number' && Number.isFinite(raw)) return { kind: 'equals', value: raw, text: String(raw) };
    if (typeof raw === 'boolean') return { kind: 'equals', value: raw, text: String(raw) };
    const parsed = typeof raw === 'string' ? parseToleranceExpression(raw) : undefined;
    if (parsed === undefined) reader.fail(field.value ?? field.key, path, expected);
    return parsed;
  }
  const typed = reader.single(field, path, TYPED_KINDS, 'one typed tolerance: { range: [min, max] }, { regex: pattern }, { equals: value } or { oneOf: [values] }');
  if (typed === undefined) return undefined;
  const at = `${path}.${typed.name}`;
  switch (typed.name) {
    case 'range': {
      const items = reader.list(typed.field, at, 'a list [min, max] of two numbers');
      if (items === undefined) return undefined;
      if (items.length !== 2) {
        reader.fail(typed.field.value ?? typed.field.key, at, 'a list [min, max] of two numbers', `a list of ${items.length}`);
        return undefined;
      }
      const min = reader.number(items[0], `${at}[0]`);
      const max = reader.number(items[1], `${at}[1]`);
      if (min === undefined || max === undefined) return undefined;
      if (min > max) {
        reader.fail(typed.field.value, at, 'min <= max', `[${min}, ${max}]`);
        return undefined;
      }
      return { kind: 'range', min, max, text: `in ${min}..${max}` };
    }
    case 'regex': {
      const pattern = reader.string(typed.field, at, 'a regular expression');
      if (pattern === undefined) return undefined;
      try {
        new RegExp(pattern);
      } catch (error) {
        reader.fail(typed.field.value, at, 'a valid regular expression', `${renderValue(pattern)} (${error instanceof Error ? error.message : String(error)})`);
        return undefined;
      }
      return { kind: 'regex', pattern, text: `matches /${pattern}/` };
    }
    case 'equals': {
      const value = readPlain(reader, typed.field, at);
      return value === undefined ? undefined : { kind: 'equals', value, text: `== ${String(value)}` };
    }
    default: {
      const items = reader.list(typed.field, at, 'a non-empty list of strings, numbers or booleans', true);
      if (items === undefined) return undefined;
      const values = items.map((item, i) => readPlain(reader, item, `${at}[${i}]`));
      if (values.some((v) => v === undefined)) return undefined;
      return { kind: 'oneOf', values: values as (string | number | boolean)[], text: `one of ${values.map(String).join(', ')}` };
    }
  }
}

function readPlain(reader: YamlReader, field: YamlField, path: string): string | number | boolean | undefined {
  const raw = reader.scalar(field);
  if (typeof raw === 'string' || typeof raw === 'boolean' || (typeof raw === 'number' && Number.isFinite(raw))) return raw;
  reader.fail(field.value ?? field.key, path, 'a string, number or boolean');
  return undefined;
}
