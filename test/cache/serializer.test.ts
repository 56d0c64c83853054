import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { richSerializer } from '../../src/cache/serializer.js';

// An array with a hole, which JSON would turn into null.
const sparse = (): unknown[] => {
  const array: unknown[] = [1];
  array[2] = 3;
  return array;
};

describe('richSerializer', () => {
  it('writes plain JSON values as JSON and the rest with devalue', () => {
    expect(richSerializer.serialize({ a: [1, 'x', null, true] })).toBe('J{"a":[1,"x",null,true]}');
    for (const special of [{ d: new Date(0) }, { n: -0 }, { u: undefined }, sparse(), { big: 1n }, new Map(), { nan: NaN }]) {
      expect(richSerializer.serialize(special).startsWith('D')).toBe(true);
    }
  });

  it('round-trips exactly, whichever form it picks', () => {
    const cases: unknown[] = [{ n: -0 }, sparse(), { u: undefined, d: new Date(5), s: new Set(['a']), m: new Map([[1, 2n]]) }, 'text', 0, null];
    for (const value of cases) expect(richSerializer.deserialize(richSerializer.serialize(value))).toStrictEqual(value);
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(richSerializer.deserialize(richSerializer.serialize(value))).toStrictEqual(value);
      }),
    );
  });

  it('does not take objects with a custom prototype or symbols for plain JSON', () => {
    const withSymbol = { a: 1, [Symbol('s')]: 2 };
    expect(() => richSerializer.serialize(withSymbol)).toThrow(/symbolic keys/);
    expect(() => richSerializer.serialize(Object.create({ inherited: 1 }))).toThrow(/non-POJO/);
  });
});
