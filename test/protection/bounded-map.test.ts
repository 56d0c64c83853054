import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BoundedMap } from '../../src/protection/bounded-map.js';

describe('BoundedMap', () => {
  it('forgets the least recently used entry first; get refreshes, peek does not', () => {
    const evicted: string[] = [];
    const map = new BoundedMap<string, number>(2, (key) => evicted.push(key));
    map.set('a', 1).set('b', 2);
    expect(map.get('a')).toBe(1); // a is now the most recent
    map.set('c', 3);
    expect(evicted).toEqual(['b']);
    expect(map.peek('a')).toBe(1); // peek: a stays older than c
    map.set('d', 4);
    expect(evicted).toEqual(['b', 'a']);
    expect([...map.entries()]).toEqual([
      ['c', 3],
      ['d', 4],
    ]);
  });

  it('overwriting a key does not evict', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 3);
    expect(map.size).toBe(2);
    expect(map.get('a')).toBe(3);
    expect(map.has('b')).toBe(true);
  });

  it('stays at maxSize under 100k distinct keys', () => {
    const map = new BoundedMap<string, number>(1_000);
    for (let i = 0; i < 100_000; i++) map.set(`k${i}`, i);
    expect(map.size).toBe(1_000);
    expect(map.has('k99999')).toBe(true);
    expect(map.has('k98999')).toBe(false);
  });

  it('rejects a bad maxSize', () => {
    expect(() => new BoundedMap(0)).toThrow(RangeError);
    expect(() => new BoundedMap(1.5)).toThrow(RangeError);
  });
});

describe('BoundedMap against a reference LRU', () => {
  it('agrees on every read, size and eviction under random operations', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('peek' as const), key: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 5 }), value: fc.integer() }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('clear' as const) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (maxSize, ops) => {
        const evicted: number[] = [];
        const map = new BoundedMap<number, number>(maxSize, (key) => evicted.push(key));
        const model: [number, number][] = []; // least recently used first
        const modelEvicted: number[] = [];
        const touch = (key: number): number | undefined => {
          const i = model.findIndex(([k]) => k === key);
          if (i < 0) return undefined;
          const [entry] = model.splice(i, 1);
          model.push(entry as [number, number]);
          return (entry as [number, number])[1];
        };
        for (const o of ops) {
          if (o.kind === 'get') expect(map.get(o.key)).toBe(touch(o.key));
          else if (o.kind === 'peek') expect(map.peek(o.key)).toBe(model.find(([k]) => k === o.key)?.[1]);
          else if (o.kind === 'set') {
            map.set(o.key, o.value);
            const i = model.findIndex(([k]) => k === o.key);
            if (i >= 0) model.splice(i, 1);
            else if (model.length >= maxSize) modelEvicted.push((model.shift() as [number, number])[0]);
            model.push([o.key, o.value]);
          } else if (o.kind === 'delete') {
            const i = model.findIndex(([k]) => k === o.key);
            expect(map.delete(o.key)).toBe(i >= 0);
            if (i >= 0) model.splice(i, 1);
          } else {
            map.clear();
            model.length = 0;
          }
          expect(map.size).toBe(model.length);
          expect([...map.entries()]).toEqual(model);
          expect(evicted).toEqual(modelEvicted);
        }
      }),
      { numRuns: 500 },
    );
  });
});
