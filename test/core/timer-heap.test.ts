import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TimerHeap, type TimerEntry } from '../../src/core/timer-heap.js';

describe('TimerHeap', () => {
  it('pops in (due, insertion) order after arbitrary pushes and removals', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 50 }), remove: fc.boolean(), keepAlive: fc.boolean() }), {
          maxLength: 200,
        }),
        (ops) => {
          const heap = new TimerHeap();
          const entries: TimerEntry[] = [];
          for (const op of ops) entries.push(heap.push(op.at, () => undefined, op.keepAlive));
          const kept = entries.filter((e, i) => {
            if (ops[i]?.remove) {
              expect(heap.remove(e)).toBe(true);
              expect(heap.remove(e)).toBe(false);
              return false;
            }
            return true;
          });
          expect(heap.size).toBe(kept.length);
          expect(heap.keepAlivePending).toBe(kept.filter((e) => e.keepAlive).length);
          const expected = [...kept].sort((a, b) => a.at - b.at || a.seq - b.seq);
          const popped: TimerEntry[] = [];
          let e: TimerEntry | undefined;
          while ((e = heap.popDue(Infinity)) !== undefined) popped.push(e);
          expect(popped).toEqual(expected);
          expect(heap.keepAlivePending).toBe(0);
        },
      ),
    );
  });

  it('popDue returns nothing that is not due', () => {
    const heap = new TimerHeap();
    heap.push(10, () => undefined, true);
    expect(heap.popDue(9)).toBeUndefined();
    expect(heap.popDue(10)?.at).toBe(10);
  });
});
