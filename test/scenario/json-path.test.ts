import { describe, expect, it } from 'vitest';
import { parseJsonPath, readJsonPath } from '../../src/scenario/json-path.js';

describe('JSON paths into a target status', () => {
  const status = { breakers: { payment: 'open', 'payment-api': 'closed' }, metrics: { order_completion: 0.97 }, list: [{ a: 1 }, { a: 2 }] };

  it('parses dotted, bracketed and indexed paths and reads them', () => {
    expect(parseJsonPath('$.breakers.payment')?.segments).toEqual(['breakers', 'payment']);
    expect(readJsonPath(parseJsonPath('$.breakers.payment')!, status)).toBe('open');
    expect(readJsonPath(parseJsonPath("$.breakers['payment-api']")!, status)).toBe('closed');
    expect(readJsonPath(parseJsonPath('$["metrics"].order_completion')!, status)).toBe(0.97);
    expect(readJsonPath(parseJsonPath('$.list[1].a')!, status)).toBe(2);
    expect(readJsonPath(parseJsonPath('$')!, status)).toBe(status);
  });

  it('reads undefined for missing steps and refuses what is not a path', () => {
    expect(readJsonPath(parseJsonPath('$.breakers.search')!, status)).toBeUndefined();
    expect(readJsonPath(parseJsonPath('$.list[5].a')!, status)).toBeUndefined();
    expect(readJsonPath(parseJsonPath('$.metrics.order_completion.x')!, status)).toBeUndefined();
    expect(readJsonPath(parseJsonPath('$.toString')!, status)).toBeUndefined();
    for (const bad of ['breakers.payment', '$.', '$..x', '$[*]', '$.a b']) expect(parseJsonPath(bad)).toBeUndefined();
  });
});
