import { describe, expect, it, vi } from 'vitest';
import { sleep } from '../../src/core/abort.js';
import { BulkheadFullError, ConcurrencyLimitError, isConcurrencyLimitError, TimeoutError } from '../../src/core/errors.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { AdaptiveConcurrency, type AdaptiveConcurrencyOptions } from '../../src/policies/adaptive-concurrency.js';
import { AimdLimit } from '../../src/policies/concurrency-limit/aimd-limit.js';
import { Gradient2Limit } from '../../src/policies/concurrency-limit/gradient2-limit.js';
import { VegasLimit } from '../../src/policies/concurrency-limit/vegas-limit.js';
import { SignalCell } from '../../src/policies/lazy-context.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/** Feeds `[rttMs, inflight, didDrop]` samples and returns the limit after each. */
function run(
  algorithm: { onSample(rttMs: number, inflight: number, didDrop: boolean): number },
  samples: [number, number, boolean?][],
): number[] {
  return samples.map(([rtt, inflight, drop]) => algorithm.onSample(rtt, inflight, drop ?? false));
}

describe('AIMD', () => {
  it('adds 1 per window of `limit` successes while in use, ignores idle successes, multiplies by backoffRatio on a drop', () => {
    const aimd = new AimdLimit({ initialLimit: 4, minLimit: 1, maxLimit: 6 }, { backoffRatio: 0.5, timeoutMs: 100 });
    expect(
      run(aimd, [
        [10, 2], // inflight * 2 >= 4: success 1 of 4
        [10, 1], // 1 * 2 < 4: the limit is not in use, not counted
        [10, 4],
        [10, 3],
        [10, 2], // 4th counted success -> 5
        [10, 3],
        [10, 3],
        [10, 3],
        [10, 3],
        [10, 3], // 5 successes at limit 5 -> 6
        ...Array.from({ length: 6 }, (): [number, number] => [10, 6]), // capped at maxLimit
        [10, 6, true], // drop: floor(6 * 0.5) = 3
        [100, 3], // exactly timeoutMs: not a drop; success 1 of 3
        [101, 3], // slower than timeoutMs: a drop, floor(3 * 0.5) = 1, count restarts
        [10, 1, true], // floor(1 * 0.5) = 0 -> minLimit 1
      ]),
    ).toEqual([4, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 3, 3, 1, 1]);
  });

  it('backs off by 0.9 by default, flooring each step', () => {
    const aimd = new AimdLimit({ initialLimit: 20, minLimit: 1, maxLimit: 200 }, {});
    expect(run(aimd, Array.from({ length: 16 }, (): [number, number, boolean] => [10, 20, true]))).toEqual([
      18, 16, 14, 12, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1, 1,
    ]);
    // floor(50 * 0.9) is 45 although 50 * 0.9 may land a hair below it in floating point
    expect(new AimdLimit({ initialLimit: 50, minLimit: 1, maxLimit: 200 }, {}).onSample(1, 50, true)).toBe(45);
  });
});

describe('Gradient2', () => {
  it('moves the limit by gradient = max(0.5, min(1, tolerance * longRtt / rtt)) plus queueSize, smoothed', () => {
    const gradient2 = new Gradient2Limit(
      { initialLimit: 20, minLimit: 1, maxLimit: 100 },
      { smoothing: 0.25, queueSize: 4 },
    );
    expect(
      run(gradient2, [
        // longRtt 10; gradient min(1, 1.5) = 1; L = 20 * 0.75 + (20 + 4) * 0.25 = 21
        [10, 20],
        // longRtt (10 + 20) / 2 = 15; gradient min(1, 1.5 * 15 / 20) = 1 (within tolerance); L = 22
        [20, 21],
        // longRtt 30; gradient 1.5 * 30 / 60 = 0.75; L = 22 * 0.75 + (22 * 0.75 + 4) * 0.25 = 21.625
        [60, 22],
        // longRtt 97.5; gradient max(0.5, 0.4875) = 0.5; L = 21.625 * 0.75 + (10.8125 + 4) * 0.25 = 19.921875
        [300, 21],
        // app-limited: 5 < 19.921875 / 2, the limit stays
        [10, 5],
      ]),
    ).toEqual([21, 22, 21, 19, 19]);
  });

  it('uses sqrt(limit) as the default queue size and 0.2 as the default smoothing', () => {
    const gradient2 = new Gradient2Limit({ initialLimit: 16, minLimit: 1, maxLimit: 100 }, {});
    // L = 16 * 0.8 + (16 + sqrt(16)) * 0.2 = 16.8; then 16.8 * 0.8 + (16.8 + sqrt(16)) * 0.2 = 17.6
    expect(run(gradient2, [[10, 16], [10, 16]])).toEqual([16, 17]);
  });

  it('lets the long RTT fall fast once latency is back to normal, so the next rise is seen at once', () => {
    const gradient2 = new Gradient2Limit({ initialLimit: 50, minLimit: 1, maxLimit: 1000 }, { queueSize: 4 });
    for (let i = 0; i < 10; i++) gradient2.onSample(100, 1, false); // a long overload: longRtt 100 (app-limited)
    for (let i = 0; i < 60; i++) gradient2.onSample(10, 1, false); // back to normal (still app-limited)
    // longRtt decayed by 0.95 while above 2 * rtt, to 18.958...; without the decay the moving average would
    // still be 83.7 and 40 ms would look fine (gradient 1, limit 50.8). With it: gradient 1.5 * 18.958 / 40,
    // L = 50 * 0.8 + (50 * 0.711 + 4) * 0.2 = 47.94
    expect(gradient2.onSample(40, 50, false)).toBe(47);
  });
});

describe('Vegas', () => {
  it('keeps the estimated queue ceil(L * (1 - rttNoLoad / rtt)) between alpha = 3 log and beta = 6 log', () => {
    const vegas = new VegasLimit(
      { initialLimit: 10, minLimit: 1, maxLimit: 100 },
      { probeMultiplier: 1_000, random: () => 0.5 },
    );
    expect(
      run(vegas, [
        [10, 10], // first sample: rttNoLoad = 10
        [10, 10], // queue 0 <= threshold 1: slow start, 10 + beta 6 = 16
        [20, 16], // queue ceil(16 * 0.5) = 8 > beta 6: 16 - 1 = 15
        [16, 15], // queue ceil(15 * 0.375) = 6, between alpha 3 and beta 6: stays
        [11, 15], // queue ceil(15 * 1/11) = 2 < alpha 3: 15 + 1 = 16
        [11, 16, true], // drop: 16 - 1 = 15
        [11, 5], // app-limited (5 * 2 < 15): stays
        [11, 5, true], // a drop lowers it even when app-limited: 14
        [5, 14, true], // faster than rttNoLoad: it becomes the new rttNoLoad, nothing else
      ]),
    ).toEqual([10, 16, 15, 15, 16, 15, 15, 14, 14]);
  });

  it('re-measures the no-load RTT every jitter * probeMultiplier * L samples, accepting a lasting latency shift', () => {
    const vegas = new VegasLimit({ initialLimit: 10, minLimit: 1, maxLimit: 100 }, { probeMultiplier: 1, random: () => 0 });
    // jitter 0.5: probe on the 5th sample (5 >= 0.5 * 1 * 10)
    expect(run(vegas, [[10, 1], [50, 1], [50, 1], [50, 1], [50, 1], [50, 10]])).toEqual([10, 10, 10, 10, 10, 16]);
    // without the probe, 50 ms against 10 ms would be a queue of 8 > beta: the limit would have dropped to 9
  });

  it('applies smoothing: L = (1 - smoothing) * L + smoothing * next', () => {
    const vegas = new VegasLimit(
      { initialLimit: 10, minLimit: 1, maxLimit: 100 },
      { smoothing: 0.5, probeMultiplier: 1_000 },
    );
    expect(run(vegas, [[10, 10], [10, 10], [10, 13]])).toEqual([10, 13, 16]); // 10 -> (10 + 16) / 2 -> (13 + 19) / 2
  });
});

describe('AdaptiveConcurrency', () => {
  function gate(): { fn: () => Promise<void>; release: () => void } {
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    return { fn: () => promise, release };
  }

  it('sheds calls beyond the limit at once with ConcurrencyLimitError, and counts inflight', async () => {
    const limiter = new AdaptiveConcurrency({ algorithm: 'aimd', initialLimit: 2, minLimit: 1, maxLimit: 10 });
    const rejected: unknown[] = [];
    limiter.on('rejected', (e) => rejected.push(e));
    const [a, b] = [gate(), gate()];
    const pa = limiter.execute(a.fn);
    const pb = limiter.execute(b.fn);
    expect(limiter.inflight).toBe(2);
    const error = await limiter.execute(() => 'x').catch((e: unknown) => e);
    expect(isConcurrencyLimitError(error)).toBe(true);
    expect((error as ConcurrencyLimitError).limit).toBe(2);
    expect((error as ConcurrencyLimitError).code).toBe('CONCURRENCY_LIMITED');
    expect(rejected).toEqual([{ name: 'adaptive-concurrency', limit: 2, inflight: 2 }]);
    a.release();
    b.release();
    await Promise.all([pa, pb]);
    // two successes with the limit in use: one window of 2 -> 3
    expect(limiter.limit).toBe(3);
    expect(limiter.inflight).toBe(0);
  });

  it('measures RTT on the clock: a call slower than timeoutMs lowers the limit, and emits limitChange', async () => {
    const clock = new VirtualClock();
    const limiter = new AdaptiveConcurrency({ algorithm: 'aimd', initialLimit: 10, timeoutMs: 100, clock });
    const changes: unknown[] = [];
    limiter.on('limitChange', (e) => changes.push(e));
    const onTime = limiter.execute(() => sleep(clock, 100));
    await clock.advanceAsync(100);
    await onTime;
    expect(limiter.limit).toBe(10);
    const late = limiter.execute(() => sleep(clock, 101));
    await clock.advanceAsync(101);
    await late;
    expect(limiter.limit).toBe(9);
    expect(changes).toEqual([{ name: 'adaptive-concurrency', from: 10, to: 9 }]);
  });

  it('treats errors as drops unless isDrop says otherwise', async () => {
    const boom = new Error('boom');
    const notFound = Object.assign(new Error('404'), { status: 404 });
    const limiter = new AdaptiveConcurrency({
      algorithm: 'aimd',
      initialLimit: 10,
      isDrop: (e) => (e as { status?: number }).status !== 404,
    });
    await expect(limiter.execute(() => Promise.reject(notFound))).rejects.toBe(notFound);
    expect(limiter.limit).toBe(10);
    await expect(limiter.execute(() => Promise.reject(boom))).rejects.toBe(boom);
    expect(limiter.limit).toBe(9);
    const byDefault = new AdaptiveConcurrency({ algorithm: 'aimd', initialLimit: 10 });
    await expect(byDefault.execute(() => Promise.reject(notFound))).rejects.toBe(notFound);
    expect(byDefault.limit).toBe(9);
  });

  it('counts a call as a drop when isDrop throws, reports it, and rethrows the original error', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const boom = new Error('boom');
      const limiter = new AdaptiveConcurrency({
        algorithm: 'aimd',
        initialLimit: 10,
        name: 'search',
        isDrop: () => {
          throw new Error('predicate bug');
        },
      });
      await expect(limiter.execute(() => Promise.reject(boom))).rejects.toBe(boom);
      expect(limiter.limit).toBe(9);
      expect(limiter.inflight).toBe(0);
      expect(warn).toHaveBeenCalledWith('AdaptiveConcurrency "search" option isDrop threw: predicate bug', {
        code: 'ANTIFRAGILE_CALLBACK_ERROR',
      });
    } finally {
      warn.mockRestore();
    }
  });

  it('does not sample calls that say nothing about the dependency: caller aborts and inner local refusals', async () => {
    const limiter = new AdaptiveConcurrency({ algorithm: 'aimd', initialLimit: 10 });
    const controller = new AbortController();
    const reason = new Error('client went away');
    const aborted = limiter.execute(
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      { signal: controller.signal },
    );
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    const full = new BulkheadFullError();
    await expect(limiter.execute(() => Promise.reject(full))).rejects.toBe(full);
    expect(limiter.limit).toBe(10);
    expect(limiter.inflight).toBe(0);

    // an outer timeout aborting the call is overload: a drop
    const timeout = new AbortController();
    const timedOut = limiter.execute(
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      { signal: timeout.signal },
    );
    timeout.abort(new TimeoutError(1_000));
    await expect(timedOut).rejects.toBeInstanceOf(TimeoutError);
    expect(limiter.limit).toBe(9);
  });

  it('holds its place until fn settles and passes the incoming context through unchanged', async () => {
    const limiter = new AdaptiveConcurrency({ algorithm: 'vegas', initialLimit: 1 });
    const context = { signal: new AbortController().signal, attempt: 4, extra: true };
    const g = gate();
    const running = limiter.execute((ctx) => {
      expect(ctx).toBe(context);
      return g.fn();
    }, context);
    await expect(limiter.execute(() => 'x')).rejects.toBeInstanceOf(ConcurrencyLimitError);
    g.release();
    await running;
    await expect(limiter.execute(() => 'x')).resolves.toBe('x');
  });

  it('creates no lazy signal, even for a failing call', async () => {
    const limiter = new AdaptiveConcurrency({ algorithm: 'aimd', initialLimit: 10 });
    const cell = new SignalCell(undefined, 1);
    await limiter.execute(() => 'ok', cell);
    await expect(limiter.execute(() => Promise.reject(new Error('x')), cell)).rejects.toThrow('x');
    expect(cell.created).toBe(false);
    expect(limiter.limit).toBe(9);
  });

  it('starts at 20 within 1..200 by default, and caps the default start to the bounds', () => {
    expect(new AdaptiveConcurrency({ algorithm: 'gradient2' }).limit).toBe(20);
    expect(new AdaptiveConcurrency({ algorithm: 'aimd', maxLimit: 8 }).limit).toBe(8);
    expect(new AdaptiveConcurrency({ algorithm: 'aimd', minLimit: 30 }).limit).toBe(30);
  });

  it('lists every bad field in one InvalidOptionsError', () => {
    const issues = (options: unknown): string[] => {
      try {
        new AdaptiveConcurrency(options as AdaptiveConcurrencyOptions);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidOptionsError);
        return (e as InvalidOptionsError).issues.map((i) => `${i.path}: ${i.expected}`);
      }
      return [];
    };
    expect(
      issues({ algorithm: 'aimd', minLimit: 0, maxLimit: 2.5, backoffRatio: 0.3, timeoutMs: -1, isDrop: 'yes', clock: {} }),
    ).toEqual([
      'minLimit: an integer >= 1',
      'maxLimit: an integer >= 1',
      'backoffRatio: a number in 0.5..1',
      'timeoutMs: a number >= 0',
      'isDrop: a function',
      'clock: a Clock with now() and schedule()',
    ]);
    expect(issues({ algorithm: 'gradient2', minLimit: 5, maxLimit: 10, initialLimit: 11, smoothing: 2, rttTolerance: 0.5, longWindow: 0, queueSize: -1 })).toEqual([
      'initialLimit: an integer in 5..10',
      'smoothing: a number in 0..1',
      'rttTolerance: a number >= 1',
      'longWindow: an integer >= 1',
      'queueSize: a number >= 0',
    ]);
    expect(issues({ algorithm: 'vegas', maxLimit: 3, minLimit: 4, probeMultiplier: 0, random: 1 })).toEqual([
      'maxLimit: an integer >= 4',
      'probeMultiplier: an integer >= 1',
      'random: a function',
    ]);
    expect(issues({ algorithm: 'bbr' })).toEqual(['algorithm: one of "aimd", "gradient2", "vegas"']);
  });
});
