import { describe, expect, it } from 'vitest';
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
