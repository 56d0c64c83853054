import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { LinkedAbortController, sleep, throwIfAborted, neverAbortedSignal } from '../../src/core/abort.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';

describe('abort helpers', () => {
  it('LinkedAbortController follows its parent and detaches on dispose', () => {
    const parent = new AbortController();
    const child = new LinkedAbortController(parent.signal);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    child.dispose();
    child.dispose();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    const child2 = new LinkedAbortController(parent.signal);
    parent.abort(new Error('stop'));
    expect(child2.signal.aborted).toBe(true);
    expect((child2.signal.reason as Error).message).toBe('stop');
    expect(new LinkedAbortController(parent.signal).signal.aborted).toBe(true);
    expect(new LinkedAbortController(neverAbortedSignal).signal.aborted).toBe(false);
  });

  it('sleep resolves on time and rejects at once on abort, leaving nothing behind', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const done = sleep(clock, 100, controller.signal);
    await clock.advanceAsync(100);
    await expect(done).resolves.toBeUndefined();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);

    const aborted = sleep(clock, 100, controller.signal);
    const reason = new Error('cancel');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    expect(clock.pendingTimers).toBe(0);
    await expect(sleep(clock, 10, controller.signal)).rejects.toBe(reason);
    expect(() => throwIfAborted(controller.signal)).toThrow('cancel');
    await expect(sleep(clock, 0)).resolves.toBeUndefined();
  });
});
