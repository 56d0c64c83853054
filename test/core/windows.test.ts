import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CountWindow } from '../../src/core/count-window.js';
import { TimeWindow } from '../../src/core/time-window.js';
import { ConsecutiveWindow } from '../../src/core/consecutive-window.js';
import { failureRate, slowCallRate } from '../../src/core/rolling-window.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';

describe('CountWindow', () => {
  it('matches a naive model of the last N outcomes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.tuple(fc.boolean(), fc.boolean()), { maxLength: 100 }), (size, outcomes) => {
        const w = new CountWindow(size);
        for (const [f, s] of outcomes) w.record(f, s);
        const last = outcomes.slice(-size);
        expect(w.calls()).toBe(last.length);
        expect(w.failures()).toBe(last.filter(([f]) => f).length);
        expect(w.slowCalls()).toBe(last.filter(([, s]) => s).length);
        const copy = new CountWindow(size);
        copy.restore(w.toJSON());
        copy.record(true, false);
        w.record(true, false);
        expect([copy.calls(), copy.failures(), copy.slowCalls()]).toEqual([w.calls(), w.failures(), w.slowCalls()]);
      }),
    );
  });
});

describe('TimeWindow', () => {
  it('matches a naive model of outcomes in the last windowMs, at bucket resolution', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.boolean()), { maxLength: 80 }), (steps) => {
        const clock = new VirtualClock();
        const w = new TimeWindow(clock, 1_000, 10);
        const log: Array<{ bucket: number; failed: boolean }> = [];
        for (const [dt, failed] of steps) {
          clock.advance(dt);
          w.record(failed, false);
          log.push({ bucket: Math.floor(clock.now() / 100), failed });
          const current = Math.floor(clock.now() / 100);
          const live = log.filter((e) => e.bucket > current - 10);
          expect(w.calls()).toBe(live.length);
          expect(w.failures()).toBe(live.filter((e) => e.failed).length);
        }
      }),
    );
  });

  it('empties after a long idle gap and restores from its export', () => {
    const clock = new VirtualClock();
    const w = new TimeWindow(clock, 1_000, 4);
    w.record(true, true);
    w.record(false, false);
    expect(failureRate(w)).toBe(0.5);
    expect(slowCallRate(w)).toBe(0.5);
    const copy = new TimeWindow(clock, 1_000, 4);
    copy.restore(w.toJSON());
    expect(copy.calls()).toBe(2);
    clock.advance(10_000);
    expect(w.calls()).toBe(0);
    expect(copy.calls()).toBe(0);
    expect(failureRate(w)).toBe(0);
  });
});

describe('ConsecutiveWindow', () => {
  it('counts the failure streak and totals', () => {
    const w = new ConsecutiveWindow();
    w.record(true, false);
    w.record(true, true);
    expect(w.consecutiveFailures()).toBe(2);
    w.record(false, false);
    expect(w.consecutiveFailures()).toBe(0);
    expect([w.calls(), w.failures(), w.slowCalls()]).toEqual([3, 2, 1]);
    const copy = new ConsecutiveWindow();
    copy.restore(w.toJSON());
    expect(copy.toJSON()).toEqual(w.toJSON());
  });
});
