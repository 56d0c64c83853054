import { describe, expect, it } from 'vitest';
import { DeadlineScheduler } from '../../src/core/deadline-scheduler.js';
import { systemClock, pendingSystemTimers } from '../../src/core/clock.js';

describe('DeadlineScheduler (real time, ordering only)', () => {
  it('fires deadlines in order with one timer and forgets cancelled ones', async () => {
    const scheduler = new DeadlineScheduler(() => performance.now());
    const fired: number[] = [];
    const done = new Promise<void>((resolve) => {
      scheduler.schedule(() => fired.push(3), 15, true);
      scheduler.schedule(() => fired.push(1), 1, true);
      const cancelled = scheduler.schedule(() => fired.push(99), 5, true);
      scheduler.schedule(() => fired.push(2), 5, false);
      scheduler.schedule(() => resolve(), 20, true);
      cancelled.cancel();
    });
    expect(scheduler.pending).toBe(4);
    await done;
    expect(fired).toEqual([1, 2, 3]);
    expect(scheduler.pending).toBe(0);
  });

  it('systemClock.schedule goes through the shared scheduler', async () => {
    const before = pendingSystemTimers();
    const handle = systemClock.schedule(() => undefined, 60_000, { keepAlive: false });
    expect(pendingSystemTimers()).toBe(before + 1);
    handle.cancel();
    expect(pendingSystemTimers()).toBe(before);
    await new Promise<void>((resolve) => systemClock.schedule(resolve, 1));
    expect(systemClock.now()).toBeGreaterThan(Date.now() - 1_000);
  });
});
