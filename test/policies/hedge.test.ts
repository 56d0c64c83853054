import { describe, expect, it, vi } from 'vitest';
import { getEventListeners } from 'node:events';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { Hedge, type HedgeEvents } from '../../src/policies/hedge.js';
import type { PolicyContext } from '../../src/policies/policy.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { track } from '../support/promises.js';

failOnUnhandledRejections();

interface Attempt<T> {
  attempt: number;
  startedAt: number;
  signal: AbortSignal;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** A function whose attempts the test settles by hand; each attempt ignores its signal. */
function attempts<T>(clock: VirtualClock): { fn: (ctx: PolicyContext) => Promise<T>; started: Attempt<T>[] } {
  const started: Attempt<T>[] = [];
  const fn = (ctx: PolicyContext): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      started.push({ attempt: ctx.attempt, startedAt: clock.now(), signal: ctx.signal, resolve, reject });
    });
  return { fn, started };
}


/** A successful call that takes `ms` on the clock (no hedge fires when `ms` is below the delay). */
async function succeedAfter(hedge: Hedge, clock: VirtualClock, ms: number): Promise<void> {
  const call = hedge.execute(() => new Promise<void>((resolve) => clock.schedule(resolve, ms)));
  await clock.advanceAsync(ms);
  await call;
}

describe('Hedge', () => {
  it('starts the second attempt exactly at the delay; the first success wins and the loser is aborted', async () => {
    const clock = new VirtualClock();
    const hedge = new Hedge({ delayMs: 50 }, { clock });
    const { fn, started } = attempts<string>(clock);
    const call = track(hedge.execute(fn, { attempt: 1 }));
    await clock.advanceAsync(49);
    expect(started).toHaveLength(1);
    await clock.advanceAsync(1);
    expect(started.map((a) => [a.attempt, a.startedAt])).toEqual([
      [1, 0],
      [2, 50],
    ]);
    expect(clock.pendingTimers).toBe(0);
    await clock.advanceAsync(10);
    started[1]!.resolve('second');
    await clock.advanceAsync(0);
    expect(call).toMatchObject({ state: 'resolved', value: 'second' });
    expect(started[0]!.signal.aborted).toBe(true);
    expect(started[0]!.signal.reason).toMatchObject({ name: 'AbortError' });
    expect(started[1]!.signal.aborted).toBe(false);
    started[0]!.reject(new Error('late loser'));
    started[0]!.resolve('ignored');
    await clock.advanceAsync(0);
    expect(call.value).toBe('second');
  });

  it('starts no hedge when the first attempt succeeds in time, and leaves no timer', async () => {
    const clock = new VirtualClock();
    const hedge = new Hedge({ delayMs: 50 }, { clock });
    const hedges: HedgeEvents['hedge'][] = [];
    hedge.on('hedge', (e) => hedges.push(e));
    const { fn, started } = attempts<number>(clock);
    const call = hedge.execute(fn);
    await clock.advanceAsync(49);
    started[0]!.resolve(1);
    await expect(call).resolves.toBe(1);
    expect(started).toHaveLength(1);
    expect(started[0]!.signal.aborted).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    expect(hedges).toEqual([]);
  });

  it('starts up to maxHedges extra attempts, one delay apart, numbering their attempts', async () => {
    const clock = new VirtualClock();
    const hedge = new Hedge({ delayMs: 20 }, { maxHedges: 2, clock });
    const hedges: HedgeEvents['hedge'][] = [];
    hedge.on('hedge', (e) => hedges.push(e));
    const { fn, started } = attempts<string>(clock);
    const call = track(hedge.execute(fn, { attempt: 4 }));
    await clock.advanceAsync(100);
    expect(started.map((a) => [a.attempt, a.startedAt])).toEqual([
      [4, 0],
      [5, 20],
      [6, 40],
    ]);
    expect(hedges).toEqual([
      { attempt: 5, reason: 'delay' },
      { attempt: 6, reason: 'delay' },
    ]);
    expect(clock.pendingTimers).toBe(0);
    started[0]!.resolve('first, at last');
    await clock.advanceAsync(0);
    expect(call.value).toBe('first, at last');
    expect(started.map((a) => a.signal.aborted)).toEqual([false, true, true]);
  });

  it('starts the next attempt at once when one fails before the delay', async () => {
    const clock = new VirtualClock();
    const hedge = new Hedge({ delayMs: 50 }, { maxHedges: 2, clock });
    const hedges: HedgeEvents['hedge'][] = [];
    hedge.on('hedge', (e) => hedges.push(e));
    const { fn, started } = attempts<string>(clock);
    const call = track(hedge.execute(fn));
    await clock.advanceAsync(10);
    started[0]!.reject(new Error('fast failure'));
    await clock.advanceAsync(0);
    expect(started.map((a) => a.startedAt)).toEqual([0, 10]);
    await clock.advanceAsync(50);
    expect(started.map((a) => a.startedAt)).toEqual([0, 10, 60]);
    expect(hedges.map((h) => h.reason)).toEqual(['failure', 'delay']);
    started[2]!.resolve('third');
    await clock.advanceAsync(0);
    expect(call.value).toBe('third');
    expect(started[1]!.signal.aborted).toBe(true);
  });

  it('rejects with the error of the last attempt to fail when every attempt fails', async () => {
    const clock = new VirtualClock();
    const hedge = new Hedge({ delayMs: 50 }, { maxHedges: 1, clock });
    const { fn, started } = attempts<string>(clock);
    const call = track(hedge.execute(fn));
    await clock.advanceAsync(50);
    const second = new Error('second');
    started[1]!.reject(second);
    await clock.advanceAsync(0);
    expect(call.state).toBe('pending');
    started[0]!.reject(new Error('first, failing last'));
    await clock.advanceAsync(0);
    expect(call.state).toBe('rejected');
    expect((call.error as Error).message).toBe('first, failing last');
    expect(clock.pendingTimers).toBe(0);
  });

  it('ends the call with an error shouldHandle rejects, aborting the other attempts', async () => {
    const clock = new VirtualClock();
    const hedge = new Hedge({ delayMs: 10 }, { maxHedges: 3, clock, shouldHandle: (e) => !(e instanceof TypeError) });
    const { fn, started } = attempts<string>(clock);
    const call = track(hedge.execute(fn));
    await clock.advanceAsync(10);
    const fatal = new TypeError('404');
    started[1]!.reject(fatal);
    await clock.advanceAsync(0);
    expect(call.error).toBe(fatal);
    expect(started[0]!.signal.aborted).toBe(true);
    expect(started).toHaveLength(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('treats a shouldHandle that throws as "not handled": reports it and ends the call with the original error', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const clock = new VirtualClock();
      const hedge = new Hedge(
        { delayMs: 10 },
        {
          maxHedges: 3,
          clock,
          name: 'replicas',
          shouldHandle: () => {
            throw new Error('predicate bug');
          },
        },
      );
      const { fn, started } = attempts<string>(clock);
      const call = track(hedge.execute(fn));
      await clock.advanceAsync(10);
      const original = new Error('replica down');
      started[1]!.reject(original);
      await clock.advanceAsync(0);
      expect(call.error).toBe(original);
      expect(started[0]!.signal.aborted).toBe(true);
      expect(started).toHaveLength(2);
      expect(clock.pendingTimers).toBe(0);
      expect(warn).toHaveBeenCalledWith('Hedge "replicas" option shouldHandle threw: predicate bug', {
        code: 'ANTIFRAGILE_CALLBACK_ERROR',
      });
    } finally {
      warn.mockRestore();
    }
  });

  it("aborts every attempt with the caller's reason and rejects at once when the caller aborts", async () => {
    const clock = new VirtualClock();
    const hedge = new Hedge({ delayMs: 10 }, { maxHedges: 2, clock });
    const { fn, started } = attempts<string>(clock);
    const parent = new AbortController();
    const call = track(hedge.execute(fn, { signal: parent.signal }));
    await clock.advanceAsync(15);
    const reason = new Error('client went away');
    parent.abort(reason);
    await clock.advanceAsync(0);
    expect(call.error).toBe(reason);
    expect(started.map((a) => a.signal.reason)).toEqual([reason, reason]);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    started[0]!.reject(reason);
    await expect(hedge.execute(fn, { signal: parent.signal })).rejects.toBe(reason);
    expect(started).toHaveLength(2);
  });

  it('removes its listener from a long-lived parent signal after many calls', async () => {
    const clock = new VirtualClock();
    const hedge = new Hedge({ delayMs: 10 }, { clock });
    const parent = new AbortController();
    for (let i = 0; i < 200; i++) {
      await hedge.execute(() => i, { signal: parent.signal });
      await hedge.execute(() => Promise.reject(new Error('x')), { signal: parent.signal }).catch(() => {});
    }
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('with delayMs 0 starts the hedge on the next tick of the clock', async () => {
    const clock = new VirtualClock();
    const hedge = new Hedge({ delayMs: 0 }, { clock });
    const { fn, started } = attempts<number>(clock);
    const call = hedge.execute(fn);
    await clock.advanceAsync(0);
    expect(started.map((a) => a.startedAt)).toEqual([0, 0]);
    started[1]!.resolve(2);
    await expect(call).resolves.toBe(2);
  });

  it('catches synchronous throws as attempt failures', async () => {
    const clock = new VirtualClock();
    const hedge = new Hedge({ delayMs: 10 }, { clock });
    let n = 0;
    const result = hedge.execute(() => {
      n += 1;
      if (n === 1) throw new Error('sync');
      return 'ok';
    });
    await expect(result).resolves.toBe('ok');
  });

  describe('percentile delay', () => {
    it('uses the initial delay until minSamples successes, then the percentile of their latencies', async () => {
      const clock = new VirtualClock();
      const hedge = new Hedge({ percentile: 0.9, initialDelayMs: 200, minSamples: 10 }, { clock });
      expect(hedge.delayMs).toBe(200);
      for (let i = 0; i < 9; i++) await succeedAfter(hedge, clock, 40);
      expect(hedge.delayMs).toBe(200);
      await succeedAfter(hedge, clock, 40);
      expect(hedge.delayMs).toBe(40);

      const { fn, started } = attempts<string>(clock);
      const t0 = clock.now();
      const call = hedge.execute(fn);
      await clock.advanceAsync(39);
      expect(started).toHaveLength(1);
      await clock.advanceAsync(1);
      expect(started.map((a) => a.startedAt - t0)).toEqual([0, 40]);
      started[0]!.resolve('first');
      await expect(call).resolves.toBe('first');
    });

    it('follows the tail: p90 of 90 fast and 10 slow calls hedges after the slow latency', async () => {
      const clock = new VirtualClock();
      const hedge = new Hedge({ percentile: 0.9, initialDelayMs: 1_000 }, { clock });
      for (let i = 0; i < 89; i++) await succeedAfter(hedge, clock, 10);
      for (let i = 0; i < 11; i++) await succeedAfter(hedge, clock, 80);
      expect(hedge.delayMs).toBe(80);
    });

    it('clamps the delay to minDelayMs..maxDelayMs', async () => {
      const clock = new VirtualClock();
      const low = new Hedge({ percentile: 0.5, minDelayMs: 25, minSamples: 1 }, { clock });
      const high = new Hedge({ percentile: 0.5, maxDelayMs: 30, minSamples: 1 }, { clock });
      await succeedAfter(low, clock, 10);
      await succeedAfter(high, clock, 60);
      expect(low.delayMs).toBe(25);
      expect(high.delayMs).toBe(30);
    });

    it('forgets latencies older than windowMs', async () => {
      const clock = new VirtualClock();
      const hedge = new Hedge({ percentile: 0.5, minSamples: 1, initialDelayMs: 99, windowMs: 1_000 }, { clock });
      await succeedAfter(hedge, clock, 10);
      expect(hedge.delayMs).toBe(10);
      await clock.advanceAsync(1_000);
      expect(hedge.delayMs).toBe(99);
    });

    it('records only successful attempts, timed from their own start', async () => {
      const clock = new VirtualClock();
      const hedge = new Hedge({ percentile: 1, minSamples: 1, initialDelayMs: 50 }, { clock });
      const { fn, started } = attempts<string>(clock);
      const call = hedge.execute(fn);
      await clock.advanceAsync(50);
      await clock.advanceAsync(20);
      started[1]!.resolve('hedge');
      await call;
      started[0]!.reject(new Error('loser'));
      await clock.advanceAsync(0);
      expect(hedge.delayMs).toBe(20);
    });
  });

  it('validates options eagerly, listing every bad field', () => {
    try {
      new Hedge({ percentile: 1.5, minDelayMs: 10, maxDelayMs: 5, minSamples: 0 }, { maxHedges: 0, shouldHandle: 3 as never });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
        'delay.percentile',
        'delay.maxDelayMs',
        'delay.minSamples',
        'options.maxHedges',
        'options.shouldHandle',
      ]);
    }
    expect(() => new Hedge({} as never)).toThrow(/delay: expected exactly one of delayMs or percentile/);
    expect(() => new Hedge({ delayMs: 1, percentile: 0.5 } as never)).toThrow(InvalidOptionsError);
    expect(() => new Hedge({ delayMs: -1 })).toThrow(/delay.delayMs/);
    expect(() => new Hedge(undefined as never)).toThrow(InvalidOptionsError);
    expect(new Hedge({ delayMs: 5 }).maxHedges).toBe(1);
  });

  it('names a bad clock and a bad name', () => {
    try {
      new Hedge({ delayMs: 10 }, { clock: {} as never, name: 42 as never });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['options.clock', 'options.name']);
    }
    expect(() => new Hedge({ delayMs: 10 }, { clock: new VirtualClock(), name: 'replicas' })).not.toThrow();
  });
});
