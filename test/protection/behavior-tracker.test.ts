import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { BehaviorTracker } from '../../src/protection/behavior-tracker.js';

describe('BehaviorTracker', () => {
  it('turns errors and rejections into points that halve every half-life', () => {
    const clock = new VirtualClock();
    const tracker = new BehaviorTracker({ clock, halfLifeMs: 1_000, tolerance: 10, errorWeight: 2, rejectionWeight: 1 });
    expect(tracker.factor('a')).toBe(1);
    for (let i = 0; i < 5; i++) tracker.record('a', 'error');
    tracker.record('a', 'rejection');
    tracker.record('a', 'rejection');
    tracker.record('a', 'rejection');
    tracker.record('a', 'rejection');
    tracker.record('a', 'rejection');
    tracker.record('a', 'rejection'); // 5 errors × 2 + 6 rejections × 1
    expect(tracker.points('a')).toBe(16);
    expect(tracker.factor('a')).toBeCloseTo(1 / (1 + 1.6), 12);
    clock.advance(1_000);
    expect(tracker.points('a')).toBeCloseTo(8, 9);
    clock.advance(2_000);
    expect(tracker.points('a')).toBeCloseTo(2, 9);
    expect(tracker.factor('b')).toBe(1);
  });

  it('never goes below minFactor and forgives entirely', () => {
    const clock = new VirtualClock();
    const tracker = new BehaviorTracker({ clock, tolerance: 1, minFactor: 0.25 });
    for (let i = 0; i < 100; i++) tracker.record('a', 'error');
    expect(tracker.factor('a')).toBe(0.25);
    tracker.forgive('a');
    expect(tracker.factor('a')).toBe(1);
  });

  it('drops entries whose points decayed to nothing, and stays bounded', () => {
    const clock = new VirtualClock();
    const tracker = new BehaviorTracker({ clock, halfLifeMs: 100, maxKeys: 500 });
    for (let i = 0; i < 100_000; i++) tracker.record(`k${i}`, 'error');
    expect(tracker.size).toBe(500);
    clock.advance(100 * 20); // 2^-20 of a point
    expect(tracker.points('k99999')).toBe(0);
    expect(tracker.size).toBe(499);
  });

  it('reports every bad option', () => {
    const error = (() => {
      try {
        new BehaviorTracker({ halfLifeMs: 0, tolerance: -1, minFactor: 2, maxKeys: 0, errorWeight: -1 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path).sort()).toEqual(['errorWeight', 'halfLifeMs', 'maxKeys', 'minFactor', 'tolerance']);
  });
});
