import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { EventLoopDelaySignal, type EventLoopDelayHistogram } from '../../src/protection/event-loop-delay-signal.js';

/** A histogram whose delay (ms) is set by hand; records what the signal did to it. */
class FakeHistogram implements EventLoopDelayHistogram {
  delayMs = 0;
  count = 0;
  resets = 0;
  enabled = false;
  asked: number[] = [];
  percentile(p: number): number {
    this.asked.push(p);
    return this.delayMs * 1e6;
  }
  reset(): void {
    this.resets++;
    this.count = 0;
  }
  enable(): boolean {
    this.enabled = true;
    return true;
  }
  disable(): boolean {
    this.enabled = false;
    return true;
  }
}

describe('EventLoopDelaySignal', () => {
  it('maps the window percentile linearly from lowMs to highMs, read once per window', () => {
    const clock = new VirtualClock();
    const histogram = new FakeHistogram();
    const signal = new EventLoopDelaySignal({ clock, histogram, lowMs: 20, highMs: 120, percentile: 90, windowMs: 1_000 });
    expect(histogram.enabled).toBe(true);
    histogram.count = 50;
    histogram.delayMs = 70;
    expect(signal.load()).toBe(0); // the first window is not over
    clock.advance(999);
    expect(signal.load()).toBe(0);
    clock.advance(1);
    expect(signal.load()).toBe(0.5);
    expect(histogram.asked).toEqual([90]);
    expect(histogram.resets).toBe(1);
    histogram.count = 50;
    histogram.delayMs = 500;
    expect(signal.load()).toBe(0.5); // still the last complete window
    clock.advance(1_000);
    expect(signal.load()).toBe(1); // clamped
    clock.advance(1_000); // an empty window: no load
    expect(signal.load()).toBe(0);
    histogram.count = 10;
    histogram.delayMs = 5;
    clock.advance(1_000);
    expect(signal.load()).toBe(0);
    signal.stop();
    expect(histogram.enabled).toBe(false);
    expect(signal.load()).toBe(0);
  });

  it('sees a real blocked event loop', async () => {
    const signal = new EventLoopDelaySignal({ lowMs: 10, highMs: 60, windowMs: 1, resolutionMs: 5 });
    try {
      signal.load(); // starts a fresh window
      await new Promise((resolve) => setTimeout(resolve, 20));
      const until = performance.now() + 120;
      while (performance.now() < until) {
        // block the loop: timers fire ~120 ms late
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(signal.load()).toBeGreaterThan(0.5);
    } finally {
      signal.stop();
    }
  });

  it('reports every bad option', () => {
    let error: unknown;
    try {
      new EventLoopDelaySignal({ lowMs: 50, highMs: 40, percentile: 0, windowMs: 0, resolutionMs: 0.5, histogram: {} as never, clock: 1 as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['highMs', 'percentile', 'windowMs', 'resolutionMs', 'histogram', 'clock']);
  });
});
