import { describe, expect, it, vi } from 'vitest';
import { BrokenCircuitError, isThrottledError, ThrottledError, TimeoutError } from '../../src/core/errors.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { ClientThrottle, type ClientThrottleEvents } from '../../src/policies/client-throttle.js';
import { SignalCell } from '../../src/policies/lazy-context.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const refused = new Error('503');
const ok = (): string => 'ok';
const fail = (): Promise<never> => Promise.reject(refused);

/** A random source that returns `values` in turn, and fails the test if asked once more. */
function scripted(...values: number[]): { random: () => number; calls: () => number } {
  let i = 0;
  return {
    random: () => {
      const v = values[i++];
      if (v === undefined) throw new Error('random() called more often than scripted');
      return v;
    },
    calls: () => i,
  };
}

const outcome = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (v) => v,
    (e: unknown) => (isThrottledError(e) ? `throttled ${e.probability}` : e === refused ? 'refused' : e),
  );

describe('ClientThrottle: the SRE formula', () => {
  it('rejects locally with probability max(0, (requests - k * accepts) / (requests + 1)), exactly', async () => {
    const r = scripted(0.5, 2 / 3 - 1e-12, 0.75, 0.4, 0.1, 0.99, 0.99);
    const throttle = new ClientThrottle({ clock: new VirtualClock(), random: r.random });
    const throttled: ClientThrottleEvents['throttled'][] = [];
    throttle.on('throttled', (e) => throttled.push(e));
    const steps: [() => unknown, unknown, number][] = [
      // fn, outcome, probability afterwards (k = 2)
      [fail, 'refused', 1 / 2], // p was 0: random() not consulted
      [fail, 'refused', 2 / 3], // 0.5 is not < 1/2: runs
      [ok, `throttled ${2 / 3}`, 3 / 4], // 2/3 - 1e-12 < 2/3: rejected locally, still a request
      [ok, 'ok', 2 / 5], // 0.75 is not < 3/4: (4 - 2 * 1) / 5
      [ok, 'ok', 1 / 6], // (5 - 2 * 2) / 6
      [ok, `throttled ${1 / 6}`, 2 / 7], // 0.1 < 1/6; (6 - 2 * 2) / 7
      [ok, 'ok', 1 / 8], // (7 - 2 * 3) / 8
      [ok, 'ok', 0], // (8 - 2 * 4) / 9
      [ok, 'ok', 0], // p is 0: random() not consulted
    ];
    for (const [fn, expected, probability] of steps) {
      expect(await outcome(throttle.execute(fn))).toBe(expected);
      expect(throttle.probability).toBe(probability);
    }
    expect(r.calls()).toBe(7);
    expect([throttle.requests, throttle.accepts]).toEqual([9, 5]);
    expect(throttled).toEqual([
      { name: 'client-throttle', probability: 2 / 3, requests: 3, accepts: 0 },
      { name: 'client-throttle', probability: 1 / 6, requests: 6, accepts: 2 },
    ]);
  });

  it('raises ThrottledError with code THROTTLED and the probability, and honours k', async () => {
    const throttle = new ClientThrottle({ k: 1.5, clock: new VirtualClock(), random: () => 0 });
    await outcome(throttle.execute(ok));
    await outcome(throttle.execute(fail));
    await outcome(throttle.execute(fail));
    // (3 - 1.5 * 1) / 4
    expect(throttle.probability).toBe(0.375);
    const error = await throttle.execute(ok).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).code).toBe('THROTTLED');
    expect((error as ThrottledError).probability).toBe(0.375);
  });

  it('never consults random() while the backend accepts everything', async () => {
    const r = scripted();
    const throttle = new ClientThrottle({ clock: new VirtualClock(), random: r.random });
    for (let i = 0; i < 50; i++) await throttle.execute(ok);
    expect([throttle.requests, throttle.accepts, throttle.probability, r.calls()]).toEqual([50, 50, 0, 0]);
  });
});

describe('ClientThrottle: window', () => {
  it('forgets requests bucket by bucket as the window slides, lazily', async () => {
    const clock = new VirtualClock();
    const throttle = new ClientThrottle({ windowMs: 1_000, buckets: 10, clock, random: () => 1 });
    await outcome(throttle.execute(fail));
    await outcome(throttle.execute(fail));
    clock.advance(500);
    await outcome(throttle.execute(fail));
    await outcome(throttle.execute(fail));
    expect(throttle.probability).toBe(4 / 5);
    clock.advance(499); // t=999
    expect(throttle.requests).toBe(4);
    clock.advance(1); // t=1000: the bucket of t=0 leaves the window
    expect([throttle.requests, throttle.probability]).toEqual([2, 2 / 3]);
    clock.advance(500); // t=1500
    expect([throttle.requests, throttle.probability]).toEqual([0, 0]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('reset() forgets everything', async () => {
    const throttle = new ClientThrottle({ clock: new VirtualClock(), random: () => 1 });
    await outcome(throttle.execute(fail));
    throttle.reset();
    expect([throttle.requests, throttle.accepts, throttle.probability]).toEqual([0, 0, 0]);
  });
});

describe('ClientThrottle: what counts', () => {
  it('counts errors isRejection rejects as accepted (the backend answered)', async () => {
    const notFound = Object.assign(new Error('404'), { status: 404 });
    const throttle = new ClientThrottle({
      clock: new VirtualClock(),
      random: () => 1,
      isRejection: (e) => (e as { status?: number }).status !== 404,
    });
    await expect(throttle.execute(() => Promise.reject(notFound))).rejects.toBe(notFound);
    await expect(throttle.execute(fail)).rejects.toBe(refused);
    expect([throttle.requests, throttle.accepts]).toEqual([2, 1]);
  });

  it('counts a call as a rejection when isRejection throws, reports it, and rethrows the original error', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const throttle = new ClientThrottle({
        name: 'quotes',
        clock: new VirtualClock(),
        random: () => 1,
        isRejection: () => {
          throw new Error('predicate bug');
        },
      });
      await expect(throttle.execute(fail)).rejects.toBe(refused);
      expect([throttle.requests, throttle.accepts]).toEqual([1, 0]);
      expect(warn).toHaveBeenCalledWith('ClientThrottle "quotes" option isRejection threw: predicate bug', {
        code: 'ANTIFRAGILE_CALLBACK_ERROR',
      });
    } finally {
      warn.mockRestore();
    }
  });

  it('does not count calls that never reached the backend: inner local refusals and caller aborts', async () => {
    const throttle = new ClientThrottle({ clock: new VirtualClock(), random: () => 1 });
    const open = new BrokenCircuitError();
    await expect(throttle.execute(() => Promise.reject(open))).rejects.toBe(open);
    const controller = new AbortController();
    const reason = new Error('client went away');
    const aborted = throttle.execute(
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      { signal: controller.signal },
    );
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    await expect(throttle.execute(ok, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(throttle.requests).toBe(0);

    // a timeout is the backend not answering in time: a rejection
    const timeout = new AbortController();
    const timedOut = throttle.execute(
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      { signal: timeout.signal },
    );
    timeout.abort(new TimeoutError(500));
    await expect(timedOut).rejects.toBeInstanceOf(TimeoutError);
    expect([throttle.requests, throttle.accepts]).toEqual([1, 0]);
  });

  it('creates no lazy signal, even for a failing call', async () => {
    const throttle = new ClientThrottle({ clock: new VirtualClock(), random: () => 1 });
    const cell = new SignalCell(undefined, 1);
    await throttle.execute(ok, cell);
    await expect(throttle.execute(fail, cell)).rejects.toBe(refused);
    expect(cell.created).toBe(false);
    expect([throttle.requests, throttle.accepts]).toEqual([2, 1]);
  });

  it('passes the incoming context through unchanged', async () => {
    const throttle = new ClientThrottle({ clock: new VirtualClock() });
    const context = { signal: new AbortController().signal, attempt: 2, extra: 'x' };
    await throttle.execute((ctx) => expect(ctx).toBe(context), context);
  });
});

describe('ClientThrottle: options', () => {
  it('lists every bad field in one InvalidOptionsError', () => {
    let error: unknown;
    try {
      new ClientThrottle({ k: 0.5, windowMs: 0, buckets: 1.5, isRejection: 1, random: 'no', name: 2, clock: {} } as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => `${i.path}: ${i.expected}`)).toEqual([
      'k: a number >= 1',
      'windowMs: a number > 0',
      'buckets: an integer >= 1',
      'isRejection: a function',
      'random: a function',
      'name: a string',
      'clock: a Clock with now() and schedule()',
    ]);
  });
});
