import { describe, expect, it } from 'vitest';
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { getEventListeners, setMaxListeners } from 'node:events';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { TimeoutError, isTimeoutError } from '../../src/core/errors.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { Timeout } from '../../src/policies/timeout.js';
import type { PolicyContext } from '../../src/policies/policy.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { errorOf, track } from '../support/promises.js';

failOnUnhandledRejections();

/** A function that settles only when its signal aborts, rejecting with the signal's reason. */
function untilAborted({ signal }: PolicyContext): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

/** A function that ignores its signal and settles when the test says so. */
function manual<T>(): { fn: (ctx: PolicyContext) => Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void; ctx?: PolicyContext } {
  const handle: ReturnType<typeof manual<T>> = {
    fn: (ctx) => {
      handle.ctx = ctx;
      return new Promise<T>((resolve, reject) => {
        handle.resolve = resolve;
        handle.reject = reject;
      });
    },
    resolve: () => {},
    reject: () => {},
  };
  return handle;
}


describe('Timeout', () => {
  for (const strategy of ['cooperative', 'aggressive'] as const) {
    it(`${strategy}: fires exactly at ms, not at ms - 1, aborting the signal with a TimeoutError`, async () => {
      const clock = new VirtualClock();
      const timeout = new Timeout({ ms: 100, strategy, clock });
      let signal: AbortSignal | undefined;
      const call = track(timeout.execute((ctx) => ((signal = ctx.signal), untilAborted(ctx))));
      await clock.advanceAsync(99);
      expect(call.state).toBe('pending');
      expect(signal?.aborted).toBe(false);
      await clock.advanceAsync(1);
      expect(call.state).toBe('rejected');
      expect(call.error).toBeInstanceOf(TimeoutError);
      expect(isTimeoutError(call.error)).toBe(true);
      expect((call.error as TimeoutError).timeoutMs).toBe(100);
      expect(signal?.reason).toBe(call.error);
      expect(clock.pendingTimers).toBe(0);
    });
  }

  it('cooperative: waits for the function and rejects with the TimeoutError, not the error it threw', async () => {
    const clock = new VirtualClock();
    const timeout = new Timeout({ ms: 50, clock });
    const m = manual<string>();
    const call = track(timeout.execute(m.fn));
    await clock.advanceAsync(50);
    expect(m.ctx?.signal.aborted).toBe(true);
    expect(call.state).toBe('pending');
    const own = new Error('socket closed');
    m.reject(own);
    await clock.advanceAsync(0);
    expect(call.state).toBe('rejected');
    expect(isTimeoutError(call.error)).toBe(true);
    expect((call.error as TimeoutError).cause).toBe(own);
  });

  it('cooperative: a value that arrives after the deadline is returned', async () => {
    const clock = new VirtualClock();
    const timeout = new Timeout({ ms: 50, clock });
    const timeouts: number[] = [];
    timeout.on('timeout', ({ ms }) => timeouts.push(ms));
    const m = manual<string>();
    const call = timeout.execute(m.fn);
    await clock.advanceAsync(70);
    m.resolve('late');
    await expect(call).resolves.toBe('late');
    expect(timeouts).toEqual([50]);
  });

  it('aggressive: rejects at the deadline and ignores the abandoned promise, late rejection included', async () => {
    const clock = new VirtualClock();
    const timeout = new Timeout({ ms: 50, strategy: 'aggressive', clock });
    const m = manual<string>();
    const call = track(timeout.execute(m.fn));
    await clock.advanceAsync(50);
    expect(call.state).toBe('rejected');
    expect(call.error).toBe(m.ctx?.signal.reason);
    m.reject(new Error('late failure, never unhandled'));
    await clock.advanceAsync(0);
    expect(call.state).toBe('rejected');
    expect(isTimeoutError(call.error)).toBe(true);
  });

  it('resolves before the deadline and leaves no timer and no listener behind', async () => {
    const clock = new VirtualClock();
    const timeout = new Timeout({ ms: 1_000, clock });
    const parent = new AbortController();
    await expect(timeout.execute(() => 'ok', { signal: parent.signal })).resolves.toBe('ok');
    await expect(timeout.execute(async () => 42, { signal: parent.signal })).resolves.toBe(42);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });

  it('removes its listeners from a long-lived parent signal after many calls, however they end', async () => {
    const clock = new VirtualClock();
    const parent = new AbortController();
    setMaxListeners(0, parent.signal);
    for (const strategy of ['cooperative', 'aggressive'] as const) {
      const timeout = new Timeout({ ms: 10, strategy, clock });
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 500; i++) {
        calls.push(timeout.execute(() => i, { signal: parent.signal }));
        calls.push(timeout.execute(() => Promise.reject(new Error('boom')), { signal: parent.signal }).catch(() => {}));
        calls.push(timeout.execute(untilAborted, { signal: parent.signal }).catch(() => {}));
      }
      expect(getEventListeners(parent.signal, 'abort').length).toBeGreaterThan(0);
      await clock.advanceAsync(10);
      await Promise.all(calls);
    }
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });

  for (const strategy of ['cooperative', 'aggressive'] as const) {
    it(`${strategy}: the caller's abort rejects at once with its reason, not a TimeoutError`, async () => {
      const clock = new VirtualClock();
      const timeout = new Timeout({ ms: 100, strategy, clock });
      let timedOut = false;
      timeout.on('timeout', () => (timedOut = true));
      const parent = new AbortController();
      const m = manual<string>();
      const call = track(timeout.execute(m.fn, { signal: parent.signal }));
      await clock.advanceAsync(30);
      const reason = new Error('client went away');
      parent.abort(reason);
      await clock.advanceAsync(0);
      expect(call.state).toBe('rejected');
      expect(call.error).toBe(reason);
      expect(m.ctx?.signal.reason).toBe(reason);
      expect(clock.pendingTimers).toBe(0);
      expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
      await clock.advanceAsync(200);
      m.reject(new Error('late'));
      await clock.advanceAsync(0);
      expect(timedOut).toBe(false);
    });
  }

  it('cooperative: a caller abort after the deadline still stops the wait at once', async () => {
    const clock = new VirtualClock();
    const timeout = new Timeout({ ms: 10, clock });
    const parent = new AbortController();
    const m = manual<string>();
    const call = track(timeout.execute(m.fn, { signal: parent.signal }));
    await clock.advanceAsync(10);
    expect(call.state).toBe('pending');
    const reason = new Error('gone');
    parent.abort(reason);
    await clock.advanceAsync(0);
    expect(call.error).toBe(reason);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });

  it('rejects with the reason of an already aborted signal without calling the function', async () => {
    const timeout = new Timeout({ ms: 10, clock: new VirtualClock() });
    const reason = new Error('already');
    let called = false;
    await expect(timeout.execute(() => (called = true), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(called).toBe(false);
  });

  it('passes errors thrown before the deadline through, synchronous throws included', async () => {
    const clock = new VirtualClock();
    const timeout = new Timeout({ ms: 10, clock });
    const error = new Error('sync');
    await expect(timeout.execute(() => { throw error; })).rejects.toBe(error);
    await expect(timeout.execute(() => Promise.reject(error))).rejects.toBe(error);
    expect(clock.pendingTimers).toBe(0);
  });

  it('gives the function a derived context: its own signal, the same attempt and extra fields', async () => {
    const timeout = new Timeout({ ms: 10, clock: new VirtualClock() });
    const parent = new AbortController();
    const options = { signal: parent.signal, attempt: 3, traceId: 'abc' };
    const seen = await timeout.execute((ctx) => ctx, options);
    expect(seen.signal).not.toBe(parent.signal);
    expect(seen.attempt).toBe(3);
    expect((seen as PolicyContext & { traceId?: string }).traceId).toBe('abc');
  });

  it('emits timeout events with the budget and stops after unsubscribe', async () => {
    const clock = new VirtualClock();
    const timeout = new Timeout({ ms: 5, strategy: 'aggressive', clock });
    const seen: number[] = [];
    const off = timeout.on('timeout', ({ ms }) => seen.push(ms));
    await Promise.all([timeout.execute(untilAborted).catch(() => {}), clock.advanceAsync(5)]);
    off();
    await Promise.all([timeout.execute(untilAborted).catch(() => {}), clock.advanceAsync(5)]);
    expect(seen).toEqual([5]);
  });

  it('validates options eagerly, listing every bad field', () => {
    const error = (() => {
      try {
        new Timeout({ ms: -1, strategy: 'eager' as never });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['ms', 'strategy']);
    expect(() => new Timeout({} as never)).toThrow(/ms: expected a number > 0, received undefined/);
    expect(() => new Timeout(undefined as never)).toThrow(/options: expected an object, received undefined/);
    expect(() => new Timeout({ ms: Infinity })).toThrow(InvalidOptionsError);
    expect(new Timeout({ ms: 1 }).strategy).toBe('cooperative');
  });

  it('names a bad clock and a bad name, and names options (not ms) when they are null', () => {
    const pathsOf = (create: () => unknown): string[] => {
      try {
        create();
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidOptionsError);
        return (e as InvalidOptionsError).issues.map((i) => i.path);
      }
      return [];
    };
    expect(pathsOf(() => new Timeout({ ms: 100, clock: {} as never, name: 42 as never }))).toEqual(['clock', 'name']);
    expect(pathsOf(() => new Timeout(null as never))).toEqual(['options']);
    expect(pathsOf(() => new Timeout({ ms: 100, clock: new VirtualClock(), name: 'pricing' }))).toEqual([]);
  });
});

describe('Timeout: the timeout event belongs to the call', () => {
  const cases = [
    { path: 'with a caller signal', strategy: 'cooperative' as const, signal: true },
    { path: 'lazy, cooperative', strategy: 'cooperative' as const, signal: false },
    { path: 'lazy, aggressive', strategy: 'aggressive' as const, signal: false },
  ];
  for (const { path, strategy, signal } of cases) {
    it(`emits timeout once per call, in the async context the call started in, though the clock fires from the test (${path})`, async () => {
      const clock = new VirtualClock();
      const timeout = new Timeout({ ms: 50, strategy, clock, name: 'ctx-test' });
      const storage = new AsyncLocalStorage<string>();
      const viaListener: (string | undefined)[] = [];
      const viaChannel: (string | undefined)[] = [];
      timeout.on('timeout', () => viaListener.push(storage.getStore()));
      const onMessage = (message: unknown): void => {
        if ((message as { name: string }).name === 'ctx-test') viaChannel.push(storage.getStore());
      };
      subscribe('antifragile:timeout:timeout', onMessage);
      try {
        const options = signal ? { signal: new AbortController().signal } : undefined;
        const calls = ['call a', 'call b'].map((id) => errorOf(storage.run(id, () => timeout.execute(untilAborted, options))));
        storage.run('elsewhere', () => clock.advance(50));
        for (const error of await Promise.all(calls)) expect(error).toBeInstanceOf(TimeoutError);
        expect(viaListener).toEqual(['call a', 'call b']);
        expect(viaChannel).toEqual(['call a', 'call b']);
      } finally {
        unsubscribe('antifragile:timeout:timeout', onMessage);
      }
    });
  }

  it('still emits to a listener added after the call started (no context kept for it)', async () => {
    const clock = new VirtualClock();
    const timeout = new Timeout({ ms: 10, clock });
    const call = errorOf(timeout.execute(untilAborted));
    const seen: number[] = [];
    timeout.on('timeout', ({ ms }) => seen.push(ms));
    clock.advance(10);
    expect(await call).toBeInstanceOf(TimeoutError);
    expect(seen).toEqual([10]);
  });
});

describe('Timeout: the context kept for the timeout event is released', () => {
  /** Records the ids of the resources a Timeout keeps for its `timeout` event, and their destroy hook calls. */
  function watchScopes(): { created: number[]; destroyed: number[]; drained: () => Promise<void>; stop: () => void } {
    const created: number[] = [];
    const destroyed: number[] = [];
    const hook = createHook({
      init: (asyncId, type) => {
        if (type === 'antifragile:timeout') created.push(asyncId);
      },
      destroy: (asyncId) => {
        if (created.includes(asyncId)) destroyed.push(asyncId);
      },
    }).enable();
    return {
      created,
      destroyed,
      // Node runs destroy hooks from its own immediate queue, a turn after emitDestroy: a few turns are plenty.
      drained: async () => {
        for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      },
      stop: () => void hook.disable(),
    };
  }

  const paths = [
    { path: 'with a caller signal', strategy: 'cooperative' as const, signal: true },
    { path: 'with a caller signal', strategy: 'aggressive' as const, signal: true },
    { path: 'lazy', strategy: 'cooperative' as const, signal: false },
    { path: 'lazy', strategy: 'aggressive' as const, signal: false },
  ];
  for (const { path, strategy, signal } of paths) {
    it(`destroys it exactly once, whether the call settles in time, times out, settles late or throws (${strategy}, ${path})`, async () => {
      const watch = watchScopes();
      try {
        const clock = new VirtualClock();
        const timeout = new Timeout({ ms: 50, strategy, clock });
        timeout.on('timeout', () => undefined);
        const options = (): { signal: AbortSignal } | undefined => (signal ? { signal: new AbortController().signal } : undefined);

        // In time.
        expect(await timeout.execute(async () => 'fast', options())).toBe('fast');
        // At the deadline.
        const slow = errorOf(timeout.execute(untilAborted, options()));
        clock.advance(50);
        expect(await slow).toBeInstanceOf(TimeoutError);
        // Settled after the deadline (cooperative returns the late value; aggressive has already rejected).
        const late = manual<string>();
        const lateCall = timeout.execute(late.fn, options()).then(
          (value) => value,
          (error: unknown) => error,
        );
        clock.advance(50);
        late.resolve('late');
        const lateOutcome = await lateCall;
        if (strategy === 'cooperative') expect(lateOutcome).toBe('late');
        else expect(lateOutcome).toBeInstanceOf(TimeoutError);
        // A synchronous throw.
        const thrown = errorOf(
          timeout.execute(() => {
            throw new Error('sync');
          }, options()),
        );
        expect(await thrown).toMatchObject({ message: 'sync' });

        await watch.drained();
        expect(watch.created).toHaveLength(4);
        expect([...watch.destroyed].sort()).toEqual([...watch.created].sort());
        expect(clock.pendingTimers).toBe(0);
      } finally {
        watch.stop();
      }
    });
  }

  it('destroys it when the caller aborts', async () => {
    const watch = watchScopes();
    try {
      const clock = new VirtualClock();
      const timeout = new Timeout({ ms: 50, clock });
      timeout.on('timeout', () => undefined);
      const caller = new AbortController();
      const call = errorOf(timeout.execute(untilAborted, { signal: caller.signal }));
      caller.abort(new Error('caller gave up'));
      expect(await call).toMatchObject({ message: 'caller gave up' });
      await watch.drained();
      expect(watch.created).toHaveLength(1);
      expect(watch.destroyed).toEqual(watch.created);
    } finally {
      watch.stop();
    }
  });

  it('creates none while nobody listens to timeout', async () => {
    const watch = watchScopes();
    try {
      const clock = new VirtualClock();
      const timeout = new Timeout({ ms: 50, clock });
      expect(await timeout.execute(async () => 1)).toBe(1);
      await watch.drained();
      expect(watch.created).toEqual([]);
    } finally {
      watch.stop();
    }
  });
});
