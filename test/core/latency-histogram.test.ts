import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LatencyHistogram } from '../../src/core/latency-histogram.js';
import { RollingHistogram } from '../../src/core/rolling-histogram.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';

describe('LatencyHistogram', () => {
  it('reports percentiles within 12.5% above the exact value, never above the max', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.001, max: 3_600_000, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (samples, q) => {
          const h = new LatencyHistogram();
          for (const s of samples) h.record(s);
          const sorted = [...samples].sort((a, b) => a - b);
          const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
          const got = h.percentile(q);
          expect(got).toBeLessThanOrEqual(Math.max(...samples));
          expect(got).toBeGreaterThanOrEqual(exact * 0.999 - 0.001);
          expect(got).toBeLessThanOrEqual(exact * 1.125 + 0.002);
        },
      ),
    );
  });

  it('is empty-safe and resets', () => {
    const h = new LatencyHistogram();
    expect(h.percentile(0.99)).toBe(0);
    expect(h.mean()).toBe(0);
    h.record(10);
    h.record(30);
    expect(h.mean()).toBe(20);
    expect(h.count).toBe(2);
    h.reset();
    expect(h.count).toBe(0);
  });
});

describe('RollingHistogram', () => {
  it('keeps one to two intervals of samples and allocates nothing until the first sample', () => {
    const clock = new VirtualClock();
    const h = new RollingHistogram(clock, 1_000);
    expect(h.percentile(0.5)).toBe(0);
    h.record(100);
    clock.advance(1_000);
    h.record(200);
    expect(h.count).toBe(2);
    clock.advance(1_000);
    expect(h.count).toBe(1);
    expect(h.mean()).toBe(200);
    clock.advance(5_000);
    expect(h.count).toBe(0);
  });
});
