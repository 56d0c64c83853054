import { afterEach, describe, expect, it, vi } from 'vitest';
import { sleep } from '../../src/core/abort.js';
import type { Clock } from '../../src/core/clock.js';
import { systemClock, pendingSystemTimers } from '../../src/core/clock.js';
import { DeadlineScheduler } from '../../src/core/deadline-scheduler.js';
import { Timeout } from '../../src/policies/timeout.js';

// The scheduler drives real Node timers; vitest's fake timers stand in for them, so nothing sleeps.
const fake = (): void => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'Date'] });
};
afterEach(() => {
  vi.useRealTimers();
});

function schedulerClock(): { scheduler: DeadlineScheduler; clock: Clock } {
  const now = (): number => Date.now();
  const scheduler = new DeadlineScheduler(now);
  return { scheduler, clock: { now, schedule: (cb, ms, o) => scheduler.schedule(cb, ms, o?.keepAlive !== false) } };
}

describe('DeadlineScheduler', () => {
  it('fires deadlines in order and forgets cancelled ones', async () => {
    fake();
    const { scheduler } = schedulerClock();
    const fired: number[] = [];
    scheduler.schedule(() => fired.push(3), 15, true);
    scheduler.schedule(() => fired.push(1), 1, true);
    scheduler.schedule(() => fired.push(99), 5, true).cancel();
    scheduler.schedule(() => fired.push(2), 5, false);
    expect(scheduler.pending).toBe(3);
    await vi.advanceTimersByTimeAsync(20);
    expect(fired).toEqual([1, 2, 3]);
    expect(scheduler.pending).toBe(0);
  });

  it('never fires a long deadline early, whatever the event loop did before it was placed', async () => {
    fake();
    const { scheduler } = schedulerClock();
    vi.setSystemTime(Date.now() + 300); // 300 ms of synchronous work just happened
    const scheduledAt = Date.now();
    let firedAt = Number.NaN;
    scheduler.schedule(() => (firedAt = Date.now()), 1_000, true);
    await vi.advanceTimersByTimeAsync(999);
    expect(firedAt).toBeNaN();
    await vi.advanceTimersByTimeAsync(1);
    expect(firedAt - scheduledAt).toBe(1_000);
  });

  it('regression: lets the continuations of an earlier deadline run before a later one due in the same batch', async () => {
    fake();
    const { clock } = schedulerClock();
    const call = new Timeout({ ms: 60, strategy: 'aggressive', clock })
      .execute(() => sleep(clock, 50).then(() => 'done at 50 ms'))
      .catch((e: unknown) => e);
    vi.setSystemTime(Date.now() + 20); // the loop lags: both deadlines are due when the timer fires at +50
    await vi.advanceTimersByTimeAsync(50);
    expect(await call).toBe('done at 50 ms');
  });

  it('systemClock.schedule goes through the shared scheduler', () => {
    const before = pendingSystemTimers();
    const handle = systemClock.schedule(() => undefined, 60_000, { keepAlive: false });
    expect(pendingSystemTimers()).toBe(before + 1);
    handle.cancel();
    expect(pendingSystemTimers()).toBe(before);
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(1_000);
  });
});

describe('DeadlineScheduler and async context', () => {
  it('runs each callback in the async context of the code that scheduled it, not of whoever armed the shared timer', async () => {
    const { AsyncLocalStorage } = await import('node:async_hooks');
    const { systemClock } = await import('../../src/core/clock.js');
    const storage = new AsyncLocalStorage<string>();
    const seen: (string | undefined)[] = [];
    await new Promise<void>((resolve) => {
      storage.run('caller-a', () => systemClock.schedule(() => seen.push(storage.getStore()), 5));
      storage.run('caller-b', () => systemClock.schedule(() => (seen.push(storage.getStore()), resolve()), 10));
    });
    expect(seen).toEqual(['caller-a', 'caller-b']);
  });
});

describe('DeadlineScheduler and async hooks', () => {
  it('destroys the async resource of each deadline exactly once, whether it fires or is cancelled', async () => {
    const { createHook } = await import('node:async_hooks');
    const created: number[] = [];
    const destroyed: number[] = [];
    const hook = createHook({
      init: (asyncId, type) => {
        if (type === 'antifragile:deadline') created.push(asyncId);
      },
      destroy: (asyncId) => {
        if (created.includes(asyncId)) destroyed.push(asyncId);
      },
    }).enable();
    try {
      const scheduler = new DeadlineScheduler(() => performance.now());
      await new Promise<void>((resolve) => void scheduler.schedule(resolve, 1, true));
      const cancelled = scheduler.schedule(() => undefined, 60_000, false);
      cancelled.cancel();
      cancelled.cancel(); // a second cancel destroys nothing more
      // Node runs destroy hooks from its own immediate queue, a turn after emitDestroy.
      for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      expect(created).toHaveLength(2);
      expect([...destroyed].sort()).toEqual([...created].sort());
    } finally {
      hook.disable();
    }
  });
});
