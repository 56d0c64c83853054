import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/core/abort.js';
import { BulkheadFullError, isBulkheadFullError, TimeoutError } from '../../src/core/errors.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { Bulkhead, type BulkheadEvents } from '../../src/policies/bulkhead.js';
import { SignalCell } from '../../src/policies/lazy-context.js';
import { pipeline } from '../../src/policies/pipeline.js';
import { Timeout } from '../../src/policies/timeout.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/** A function that runs until `release()` is called. */
function gate<T = string>(value = 'done' as T): { fn: () => Promise<T>; release: () => void; started: () => boolean } {
  let resolve!: (v: T) => void;
  let started = false;
  const promise = new Promise<T>((r) => (resolve = r));
  return {
    fn: () => {
      started = true;
      return promise;
    },
    release: () => resolve(value),
    started: () => started,
  };
}

describe('Bulkhead: slots and queue', () => {
  it('runs maxConcurrent calls, queues maxQueued, refuses the rest at once', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 2, maxQueued: 1 });
    const events: string[] = [];
    bulkhead.on('queued', ({ running, queued }) => events.push(`queued ${running}/${queued}`));
    bulkhead.on('rejected', ({ reason, running, queued }) => events.push(`rejected ${reason} ${running}/${queued}`));
    const [a, b, c] = [gate('a'), gate('b'), gate('c')];
    const pa = bulkhead.execute(a.fn);
    const pb = bulkhead.execute(b.fn);
    const pc = bulkhead.execute(c.fn);
    expect([a.started(), b.started(), c.started()]).toEqual([true, true, false]);
    expect([bulkhead.running, bulkhead.queued, bulkhead.available]).toEqual([2, 1, 0]);
    const error = await bulkhead.execute(() => 'never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BulkheadFullError);
    expect(isBulkheadFullError(error)).toBe(true);
    expect((error as BulkheadFullError).code).toBe('BULKHEAD_FULL');
    expect(events).toEqual(['queued 2/1', 'rejected full 2/1']);

    a.release();
    await expect(pa).resolves.toBe('a');
    expect(c.started()).toBe(true);
    expect([bulkhead.running, bulkhead.queued, bulkhead.available]).toEqual([2, 0, 0]);
    b.release();
    c.release();
    await expect(Promise.all([pb, pc])).resolves.toEqual(['b', 'c']);
    expect([bulkhead.running, bulkhead.queued, bulkhead.available]).toEqual([0, 0, 2]);
  });

  it('defaults to no queue, and releases the slot when fn throws synchronously or rejects', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const g = gate();
    const running = bulkhead.execute(g.fn);
    await expect(bulkhead.execute(() => 'x')).rejects.toBeInstanceOf(BulkheadFullError);
    g.release();
    await running;
    const boom = new Error('boom');
    await expect(
      bulkhead.execute(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await expect(bulkhead.execute(() => Promise.reject(boom))).rejects.toBe(boom);
    expect(bulkhead.running).toBe(0);
    await expect(bulkhead.execute(() => 'ok')).resolves.toBe('ok');
  });

  it('serves the queue first-in first-out, newcomers after everyone already waiting', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueued: 3 });
    const order: string[] = [];
    const first = gate();
    const second = gate();
    const p0 = bulkhead.execute(first.fn);
    const queued = [
      bulkhead.execute(() => {
        order.push('q1');
        return second.fn();
      }),
      bulkhead.execute(() => order.push('q2')),
      bulkhead.execute(() => order.push('q3')),
    ];
    first.release();
    await p0;
    expect(order).toEqual(['q1']);
    expect([bulkhead.running, bulkhead.queued]).toEqual([1, 2]);
    queued.push(bulkhead.execute(() => order.push('late')));
    second.release();
    await Promise.all(queued);
    expect(order).toEqual(['q1', 'q2', 'q3', 'late']);
  });

  it('passes the incoming context through unchanged', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const context = { signal: new AbortController().signal, attempt: 3, extra: 'kept' };
    await bulkhead.execute((ctx) => expect(ctx).toBe(context), context);
  });
});

describe('Bulkhead: cancellation', () => {
  it('an aborted queued call leaves the queue at once: rejects with the reason, no listener left, no slot leaked', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueued: 2 });
    const g = gate();
    const running = bulkhead.execute(g.fn);
    const controller = new AbortController();
    const ran: string[] = [];
    const aborted = bulkhead.execute(() => ran.push('aborted'), { signal: controller.signal });
    const next = bulkhead.execute(() => ran.push('next'));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    expect(bulkhead.queued).toBe(2);

    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(bulkhead.queued).toBe(1); // at once, not when a slot frees
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await expect(aborted).rejects.toBe(reason);
    expect(bulkhead.running).toBe(1);

    g.release();
    await running;
    await next;
    expect(ran).toEqual(['next']);
    expect([bulkhead.running, bulkhead.queued, bulkhead.available]).toEqual([0, 0, 1]);
  });

  it('rejects at once with the reason when the signal is already aborted, without taking a slot', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const reason = new Error('already');
    await expect(bulkhead.execute(() => 'x', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(bulkhead.running).toBe(0);
  });

  it('removes the abort listener when a queued call gets its slot', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueued: 1 });
    const g = gate();
    const running = bulkhead.execute(g.fn);
    const controller = new AbortController();
    const queued = bulkhead.execute(() => getEventListeners(controller.signal, 'abort').length, {
      signal: controller.signal,
    });
    g.release();
    await running;
    await expect(queued).resolves.toBe(0);
  });

  it('gives the slot back when the caller aborts between being handed the slot and running', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueued: 1 });
    const g = gate();
    const running = bulkhead.execute(g.fn);
    const controller = new AbortController();
    const reason = new Error('too late');
    // abort exactly when the queue hands over the slot (it removes its listener first)
    const signal = controller.signal;
    const remove = signal.removeEventListener.bind(signal);
    signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
      remove(...args);
      controller.abort(reason);
    }) as AbortSignal['removeEventListener'];
    let ran = false;
    const queued = bulkhead.execute(() => (ran = true), { signal });
    g.release();
    await running;
    await expect(queued).rejects.toBe(reason);
    expect(ran).toBe(false);
    expect([bulkhead.running, bulkhead.available]).toEqual([0, 1]);
  });

  it('holds the slot after an outer timeout rejected the caller, until fn itself settles', async () => {
    const clock = new VirtualClock();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, clock });
    const controller = new AbortController();
    // fn ignores its signal and takes 100 ms; an outer timeout gives up after 10 ms and aborts
    const inner = bulkhead.execute(() => sleep(clock, 100).then(() => 'late'), { signal: controller.signal });
    const outer = Promise.race([
      inner,
      sleep(clock, 10).then(() => {
        const error = new TimeoutError(10);
        controller.abort(error);
        throw error;
      }),
    ]);
    const outcome = outer.catch((e: unknown) => e);
    await clock.advanceAsync(10);
    expect(await outcome).toBeInstanceOf(TimeoutError);
    expect(bulkhead.running).toBe(1);
    await expect(bulkhead.execute(() => 'x')).rejects.toBeInstanceOf(BulkheadFullError);
    await clock.advanceAsync(89);
    expect(bulkhead.running).toBe(1);
    await clock.advanceAsync(1);
    await expect(inner).resolves.toBe('late');
    expect(bulkhead.running).toBe(0);
  });
});

describe('Bulkhead: lazy signals and a real outer Timeout', () => {
  it('creates no lazy signal for a call that gets a slot at once, and listens to one while queued', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueued: 1 });
    const fast = new SignalCell(undefined, 1);
    await bulkhead.execute(() => 'ok', fast);
    expect(fast.created).toBe(false);

    const g = gate();
    const running = bulkhead.execute(g.fn);
    const queuedCell = new SignalCell(undefined, 1);
    const queued = bulkhead.execute(() => 'never', queuedCell);
    expect(queuedCell.created).toBe(true);
    const reason = new Error('outer timeout');
    queuedCell.abort(reason);
    expect(bulkhead.queued).toBe(0);
    await expect(queued).rejects.toBe(reason);
    g.release();
    await running;
  });

  it("keeps the slot taken after an aggressive Timeout outside it rejected the caller, until fn settles", async () => {
    const clock = new VirtualClock();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, clock });
    const call = pipeline(new Timeout({ ms: 10, strategy: 'aggressive', clock }), bulkhead);
    const inner = call.execute(() => sleep(clock, 100)).catch((e: unknown) => e);
    await clock.advanceAsync(10);
    expect(await inner).toBeInstanceOf(TimeoutError);
    expect(bulkhead.running).toBe(1);
    await expect(bulkhead.execute(() => 'x')).rejects.toBeInstanceOf(BulkheadFullError);
    await clock.advanceAsync(90);
    expect(bulkhead.running).toBe(0);
  });
});

describe('Bulkhead: queue timeout', () => {
  it('refuses a call that waited queueTimeoutMs, exactly, and cancels the timer of one that got a slot', async () => {
    const clock = new VirtualClock();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueued: 2, queueTimeoutMs: 50, clock });
    const rejected: BulkheadEvents['rejected'][] = [];
    bulkhead.on('rejected', (e) => rejected.push(e));
    const g = gate();
    const running = bulkhead.execute(g.fn);
    const first = bulkhead.execute(() => 'first');
    await clock.advanceAsync(30);
    const second = bulkhead.execute(() => 'second');
    const firstOutcome = first.catch((e: unknown) => e);
    await clock.advanceAsync(19);
    expect(bulkhead.queued).toBe(2);
    await clock.advanceAsync(1);
    expect(bulkhead.queued).toBe(1);
    const error = await firstOutcome;
    expect(error).toBeInstanceOf(BulkheadFullError);
    expect((error as Error).message).toBe('Bulkhead "bulkhead" had no free slot within 50 ms');
    expect(rejected).toEqual([{ name: 'bulkhead', reason: 'queue-timeout', running: 1, queued: 1 }]);
    expect(clock.pendingTimers).toBe(1);
    g.release();
    await running;
    await expect(second).resolves.toBe('second');
    expect(clock.pendingTimers).toBe(0);
    expect(bulkhead.running).toBe(0);
  });
});

describe('Bulkhead: property', () => {
  it('never runs more than maxConcurrent nor queues more than maxQueued, and ends with every slot, queue place and listener free', async () => {
    const call = fc.record({
      at: fc.integer({ min: 0, max: 40 }),
      durationMs: fc.integer({ min: 0, max: 40 }),
      abortAfterMs: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
      honoursSignal: fc.boolean(),
      fails: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
        fc.array(call, { maxLength: 30 }),
        async (maxConcurrent, maxQueued, queueTimeoutMs, calls) => {
          const clock = new VirtualClock();
          const bulkhead = new Bulkhead(
            queueTimeoutMs === undefined
              ? { maxConcurrent, maxQueued, clock }
              : { maxConcurrent, maxQueued, queueTimeoutMs, clock },
          );
          const boom = new Error('boom');
          const abortReason = new Error('aborted');
          let running = 0;
          let maxRunning = 0;
          let maxQueuedSeen = 0;
          let badRejection = false;
          bulkhead.on('rejected', (e) => {
            if (e.reason === 'full' && (e.running !== maxConcurrent || e.queued !== maxQueued)) badRejection = true;
          });
          const signals: AbortSignal[] = [];
          const outcomes: Promise<string>[] = [];
          for (const c of calls) {
            clock.schedule(() => {
              const controller = new AbortController();
              signals.push(controller.signal);
              if (c.abortAfterMs !== undefined) clock.schedule(() => controller.abort(abortReason), c.abortAfterMs);
              const p = bulkhead.execute(
                async ({ signal }) => {
                  running++;
                  maxRunning = Math.max(maxRunning, running, bulkhead.running);
                  try {
                    await sleep(clock, c.durationMs, c.honoursSignal ? signal : undefined);
                  } finally {
                    running--;
                  }
                  if (c.fails) throw boom;
                  return 'ok';
                },
                { signal: controller.signal },
              );
              maxQueuedSeen = Math.max(maxQueuedSeen, bulkhead.queued);
              outcomes.push(
                p.then(
                  (v) => v,
                  (e: unknown) =>
                    e === boom ? 'boom' : e === abortReason ? 'aborted' : isBulkheadFullError(e) ? 'full' : `unexpected ${String(e)}`,
                ),
              );
            }, c.at);
          }
          await clock.runAllAsync();
          const results = await Promise.all(outcomes);
          expect(results.filter((r) => r.startsWith('unexpected'))).toEqual([]);
          expect(results).toHaveLength(calls.length);
          expect(maxRunning).toBeLessThanOrEqual(maxConcurrent);
          expect(maxQueuedSeen).toBeLessThanOrEqual(maxQueued);
          expect(badRejection).toBe(false);
          expect([bulkhead.running, bulkhead.queued, bulkhead.available]).toEqual([0, 0, maxConcurrent]);
          expect(signals.map((s) => getEventListeners(s, 'abort').length).every((n) => n === 0)).toBe(true);
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Bulkhead: options', () => {
  it('lists every bad field in one InvalidOptionsError', () => {
    const bad = { maxConcurrent: 0, maxQueued: 1.5, queueTimeoutMs: -1, name: 7, clock: {} };
    let error: unknown;
    try {
      new Bulkhead(bad as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
      'maxConcurrent',
      'maxQueued',
      'queueTimeoutMs',
      'name',
      'clock',
    ]);
    expect(() => new Bulkhead({} as never)).toThrow(/maxConcurrent: expected an integer >= 1, received undefined/);
  });
});
