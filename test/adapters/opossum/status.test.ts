import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { Status } from '../../../src/adapters/opossum/index.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const OpossumStatus = createRequire(import.meta.url)('opossum/lib/status.js') as typeof Status;

describe('Status', () => {
  it("computes opossum's percentiles and mean over the window's latencies", () => {
    const clock = new VirtualClock();
    const status = new Status({ clock });
    for (const ms of [5, 1, 4, 2, 3]) status.increment('successes', ms);
    status.increment('failures', 10);
    status.increment('fires');
    const stats = status.stats;
    expect(stats.latencyTimes).toEqual([1, 2, 3, 4, 5, 10]);
    expect(stats.latencyMean).toBeCloseTo(25 / 6);
    expect(stats.percentiles).toEqual({
      '0': 1,
      '0.25': 2,
      '0.5': 3,
      '0.75': 5,
      '0.9': 10,
      '0.95': 10,
      '0.99': 10,
      '0.995': 10,
      '1': 10,
    });
    expect(stats.successes).toBe(5);
    expect(stats.failures).toBe(1);
    expect(stats.fires).toBe(1);
  });

  it('agrees with opossum on the same samples', () => {
    const samples = [12, 7, 7, 30, 1, 18, 3, 3, 9];
    const ours = new Status({ clock: new VirtualClock() });
    const theirs = new OpossumStatus({ enableSnapshots: false });
    try {
      for (const ms of samples) {
        ours.increment('successes', ms);
        theirs.increment('successes', ms);
      }
      expect(ours.stats).toEqual(theirs.stats);
    } finally {
      theirs.shutdown();
      ours.shutdown();
    }
  });

  it('rotates on bucket boundaries measured from creation', () => {
    const clock = new VirtualClock(250);
    const status = new Status({ clock, rollingCountTimeout: 1_000, rollingCountBuckets: 4 });
    status.increment('fires'); // bucket [250, 500)
    clock.advance(249);
    status.increment('fires');
    expect(status.window.map((b) => b.fires)).toEqual([2, 0, 0, 0]);
    clock.advance(1); // 500: new bucket
    status.increment('fires');
    expect(status.window.map((b) => b.fires)).toEqual([1, 2, 0, 0]);
    clock.advance(750); // 1250: the first bucket falls out
    expect(status.window.map((b) => b.fires)).toEqual([0, 0, 0, 1]);
    expect(status.stats.fires).toBe(1);
    clock.advance(10_000);
    expect(status.stats.fires).toBe(0);
  });

  it('primes the current bucket from previous stats, latencies included', () => {
    const status = new Status({
      clock: new VirtualClock(),
      stats: { fires: 10, failures: 4, successes: 6, latencyTimes: [3, 1, 2], latencyMean: 99 },
    });
    const stats = status.stats;
    expect(stats.fires).toBe(10);
    expect(stats.failures).toBe(4);
    expect(stats.latencyTimes).toEqual([1, 2, 3]);
    expect(stats.latencyMean).toBe(2);
  });

  it('bounds the latencies kept per bucket while keeping the mean exact', () => {
    const status = new Status({ clock: new VirtualClock(), maxLatencySamplesPerBucket: 4 });
    for (let i = 1; i <= 100; i++) status.increment('successes', i);
    const stats = status.stats;
    expect(stats.successes).toBe(100);
    expect(stats.latencyTimes).toHaveLength(4);
    expect(stats.latencyMean).toBe(50.5);
  });

  it('marks the bucket in which the circuit opened or closed', () => {
    const clock = new VirtualClock();
    const status = new Status({ clock, rollingCountTimeout: 100, rollingCountBuckets: 2 });
    status.open();
    clock.advance(50);
    status.close();
    expect(status.window.map((b) => b.isCircuitBreakerOpen)).toEqual([false, true]);
    clock.advance(50);
    expect('isCircuitBreakerOpen' in (status.window[0] ?? {})).toBe(false);
  });

  it('keeps snapshots working after removeAllListeners(), and stops them on shutdown', () => {
    const clock = new VirtualClock();
    const status = new Status({ clock, rollingCountTimeout: 1_000, rollingCountBuckets: 10 });
    status.on('snapshot', () => {});
    status.removeAllListeners();
    expect(clock.pendingTimers).toBe(0);
    let snapshots = 0;
    status.on('snapshot', () => void snapshots++);
    clock.advance(300);
    expect(snapshots).toBe(3);
    status.shutdown();
    expect(clock.pendingTimers).toBe(0);
    status.on('snapshot', () => void snapshots++);
    clock.advance(300);
    expect(snapshots).toBe(3);
  });

  it('rotateBucket() rotates by one on demand', () => {
    const status = new Status({ clock: new VirtualClock(), rollingCountBuckets: 3 });
    status.increment('fires');
    status.rotateBucket();
    status.increment('fires');
    expect(status.window.map((b) => b.fires)).toEqual([1, 1, 0]);
  });
});
