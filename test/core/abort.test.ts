import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { LinkedAbortController, onAbort, sleep, throwIfAborted, neverAbortedSignal } from '../../src/core/abort.js';
import { Timeout } from '../../src/policies/timeout.js';
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

  it('onAbort: any number of subscribers share one native listener, each unsubscribes on its own', () => {
    const parent = new AbortController();
    const fired: number[] = [];
    const offs = Array.from({ length: 100 }, (_, i) => onAbort(parent.signal, () => fired.push(i)));
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    offs[0]?.();
    offs[0]?.();
    for (const off of offs.slice(1, 99)) off();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    offs[99]?.();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    const again = [onAbort(parent.signal, () => fired.push(-1)), onAbort(parent.signal, () => fired.push(-2))];
    parent.abort();
    expect(fired).toEqual([-1, -2]);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    again.forEach((off) => off());
    expect(onAbort(parent.signal, () => fired.push(-3))).toBeTypeOf('function');
    expect(fired).toEqual([-1, -2]);
  });

  it('regression: many concurrent timeouts on one caller signal add one listener, not one per call', async () => {
    const clock = new VirtualClock();
    const caller = new AbortController();
    const timeout = new Timeout({ ms: 1_000, clock });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    const calls = Array.from({ length: 50 }, () =>
      timeout.execute(({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))), {
        signal: caller.signal,
      }).catch((e: unknown) => e),
    );
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    caller.abort(new Error('shutdown'));
    const results = await Promise.all(calls);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(results.every((e) => (e as Error).message === 'shutdown')).toBe(true);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
    expect(clock.pendingTimers).toBe(0);
  });
});
