import { describe, expect, it } from 'vitest';
import { parseToleranceExpression, toleranceHolds, type Tolerance } from '../../src/scenario/tolerance.js';

const parse = (text: string): Tolerance => {
  const t = parseToleranceExpression(text);
  if (t === undefined) throw new Error(`not a tolerance: ${text}`);
  return t;
};

describe('tolerance expressions of success criteria', () => {
  it('parses the seed forms into typed comparisons and equalities', () => {
    expect(parse('> 99%')).toEqual({ kind: 'compare', op: '>', value: 0.99, unit: 'ratio', text: '> 99%' });
    expect(parse('< 2000ms')).toEqual({ kind: 'compare', op: '<', value: 2_000, unit: 'ms', text: '< 2000ms' });
    expect(parse('< 60s')).toEqual({ kind: 'compare', op: '<', value: 60_000, unit: 'ms', text: '< 60s' });
    expect(parse('< 10%')).toEqual({ kind: 'compare', op: '<', value: 0.1, unit: 'ratio', text: '< 10%' });
    expect(parse('>= 0.9')).toEqual({ kind: 'compare', op: '>=', value: 0.9, unit: 'number', text: '>= 0.9' });
    expect(parse('= 3')).toMatchObject({ op: '==', value: 3 });
    expect(parse('< 1 minute')).toMatchObject({ value: 60_000, unit: 'ms' });
    expect(parse('0')).toEqual({ kind: 'equals', value: 0, text: '0' });
    expect(parse('true')).toEqual({ kind: 'equals', value: true, text: 'true' });
    expect(parse('available')).toEqual({ kind: 'equals', value: 'available', text: 'available' });
    for (const bad of ['', '> lots', 'more than 99%', '< 5 parsecs', '>', 'a b']) expect(parseToleranceExpression(bad)).toBeUndefined();
  });

  it('judges observed values', () => {
    expect(toleranceHolds(parse('> 99%'), 0.995)).toBe(true);
    expect(toleranceHolds(parse('> 99%'), 0.99)).toBe(false);
    expect(toleranceHolds(parse('< 2000ms'), 1_999.9)).toBe(true);
    expect(toleranceHolds(parse('< 2000ms'), 2_000)).toBe(false);
    expect(toleranceHolds(parse('0'), 0)).toBe(true);
    expect(toleranceHolds(parse('0'), 1)).toBe(false);
    expect(toleranceHolds(parse('true'), true)).toBe(true);
    expect(toleranceHolds(parse('true'), 1)).toBe(true);
    expect(toleranceHolds(parse('true'), 0)).toBe(false);
    expect(toleranceHolds(parse('true'), 'true')).toBe(true);
    expect(toleranceHolds(parse('available'), 1)).toBe(true);
    expect(toleranceHolds(parse('available'), 'UP')).toBe(true);
    expect(toleranceHolds(parse('available'), 0)).toBe(false);
    expect(toleranceHolds(parse('available'), 'down')).toBe(false);
    expect(toleranceHolds(parse('closed'), 'CLOSED')).toBe(true);
    expect(toleranceHolds({ kind: 'range', min: 0.9, max: 1, text: '' }, 0.95)).toBe(true);
    expect(toleranceHolds({ kind: 'range', min: 0.9, max: 1, text: '' }, 1.01)).toBe(false);
    expect(toleranceHolds({ kind: 'regex', pattern: '^(open|half_open)$', text: '' }, 'half_open')).toBe(true);
    expect(toleranceHolds({ kind: 'regex', pattern: '^open$', text: '' }, 'closed')).toBe(false);
    expect(toleranceHolds({ kind: 'oneOf', values: ['normal', 'full'], text: '' }, 'full')).toBe(true);
    // a missing value never holds, whatever the tolerance
    for (const t of [parse('> 0'), parse('!= 1'), parse('false'), parse('available')]) {
      expect(toleranceHolds(t, undefined)).toBe(false);
      expect(toleranceHolds(t, null)).toBe(false);
    }
    expect(toleranceHolds(parse('> 0'), Number.NaN)).toBe(false);
    expect(toleranceHolds(parse('> 0'), 'fast')).toBe(false);
  });
});
