import { describe, expect, expectTypeOf, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { isTimeoutError } from '../../src/core/errors.js';
import { pipeline, type Pipeline } from '../../src/policies/pipeline.js';
import type { ExecuteOptions, ExtraOf, Policy, PolicyContext, PolicyFunction } from '../../src/policies/policy.js';
import { Timeout } from '../../src/policies/timeout.js';
import { Fallback } from '../../src/policies/fallback.js';
import { Hedge } from '../../src/policies/hedge.js';
import { contextOf } from '../../src/policies/context.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

/** A policy that logs entry and exit and passes the context on with attempt + 1. */
class Recorder implements Policy {
  constructor(
    private readonly name: string,
    private readonly log: string[],
  ) {}
  async execute<T>(fn: PolicyFunction<T>, options?: ExecuteOptions): Promise<T> {
    const ctx = contextOf(options);
    this.log.push(`${this.name}>${ctx.attempt}`);
    try {
      return await fn({ ...ctx, attempt: ctx.attempt + 1 });
    } finally {
      this.log.push(`${this.name}<`);
    }
  }
}

describe('pipeline', () => {
  it('runs policies outermost first, passing the context through every layer', async () => {
    const log: string[] = [];
    const call = pipeline(new Recorder('a', log), new Recorder('b', log), new Recorder('c', log));
    const signal = new AbortController().signal;
    const seen = await call.execute((ctx) => (log.push(`fn:${ctx.attempt}`), ctx), { signal });
    expect(log).toEqual(['a>1', 'b>2', 'c>3', 'fn:4', 'c<', 'b<', 'a<']);
    expect(seen.signal).toBe(signal);
  });

  it('exposes its policies and validates them', () => {
    const timeout = new Timeout({ ms: 1 });
    expect(pipeline(timeout).policies).toEqual([timeout]);
    expect(() => pipeline(timeout, {} as never)).toThrow(/argument 1 must be a policy/);
    expect(() => pipeline(undefined as never)).toThrow(TypeError);
  });

  it('with no policies runs the function with the default context, turning throws into rejections', async () => {
    await expect(pipeline().execute((ctx) => ctx.attempt)).resolves.toBe(1);
    const error = new Error('sync');
    let result: Promise<unknown> | undefined;
    expect(() => (result = pipeline().execute(() => { throw error; }))).not.toThrow();
    await expect(result).rejects.toBe(error);
  });

  it('a shared policy instance serves several pipelines', async () => {
    const clock = new VirtualClock();
    const timeout = new Timeout({ ms: 10, clock });
    const a = pipeline(timeout, new Fallback({ fallback: () => 'a' }));
    const b = pipeline(new Fallback({ fallback: () => 'b' }), timeout);
    await expect(a.execute(() => 1)).resolves.toBe(1);
    await expect(b.execute(() => Promise.reject(new Error('x')))).resolves.toBe('b');
  });

  it('Fallback outside Timeout turns a timeout into the fallback value', async () => {
    const clock = new VirtualClock();
    const errors: unknown[] = [];
    const call = pipeline(
      new Fallback({ fallback: ({ error }) => (errors.push(error), 'stale') }),
      new Timeout({ ms: 100, strategy: 'aggressive', clock }),
    );
    const result = call.execute(() => new Promise<string>(() => {}));
    await clock.advanceAsync(100);
    await expect(result).resolves.toBe('stale');
    expect(isTimeoutError(errors[0])).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('Timeout outside Hedge aborts every hedged attempt and leaves nothing behind', async () => {
    const clock = new VirtualClock();
    const parent = new AbortController();
    const signals: AbortSignal[] = [];
    const call = pipeline(new Timeout({ ms: 100, clock }), new Hedge({ delayMs: 30 }, { maxHedges: 2, clock }));
    const result = call
      .execute(
        ({ signal }) =>
          new Promise<number>((_, reject) => {
            signals.push(signal);
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          }),
        { signal: parent.signal },
      )
      .catch((e: unknown) => e);
    await clock.advanceAsync(100);
    const error = await result;
    expect(isTimeoutError(error)).toBe(true);
    expect(signals).toHaveLength(3);
    expect(signals.every((s) => isTimeoutError(s.reason))).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });

  it("the caller's abort reaches the innermost function and is not replaced by a fallback", async () => {
    const clock = new VirtualClock();
    const parent = new AbortController();
    const reason = new Error('client went away');
    let inner: AbortSignal | undefined;
    const call = pipeline(new Fallback({ fallback: () => 'fallback' }), new Timeout({ ms: 100, clock }));
    const result = call.execute(
      ({ signal }) => ((inner = signal), new Promise<string>(() => {})),
      { signal: parent.signal },
    );
    parent.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(inner?.reason).toBe(reason);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });

  describe('type inference', () => {
    it('a pipeline with Fallback<string> around a number function resolves to number | string', () => {
      const call = pipeline(new Timeout({ ms: 10 }), new Fallback({ fallback: () => 'cached' }), new Hedge({ delayMs: 5 }));
      expectTypeOf(call).toEqualTypeOf<Pipeline<string>>();
      expectTypeOf(call.execute(() => 42)).toEqualTypeOf<Promise<number | string>>();
      expectTypeOf(call.execute(async () => 42)).toEqualTypeOf<Promise<number | string>>();
    });

    it('a pipeline without fallback keeps the function result type', () => {
      const call = pipeline(new Timeout({ ms: 10 }), new Hedge({ delayMs: 5 }));
      expectTypeOf(call).toEqualTypeOf<Pipeline<never>>();
      expectTypeOf(call.execute(() => 42)).toEqualTypeOf<Promise<number>>();
      expectTypeOf(pipeline().execute(async () => 42)).toEqualTypeOf<Promise<number>>();
    });

    it('unions the extras of several fallbacks and of nested pipelines', () => {
      const inner = pipeline(new Fallback({ fallback: () => null }));
      const call = pipeline(new Fallback({ fallback: async () => 'x' }), inner, new Timeout({ ms: 1 }));
      expectTypeOf(call.execute(() => 42)).toEqualTypeOf<Promise<number | string | null>>();
    });

    it('ExtraOf reads the extra type of any policy', () => {
      expectTypeOf<ExtraOf<Timeout>>().toBeNever();
      expectTypeOf<ExtraOf<Policy>>().toBeNever();
      expectTypeOf<ExtraOf<Fallback<string | undefined>>>().toEqualTypeOf<string | undefined>();
      expectTypeOf<ExtraOf<Policy<boolean>>>().toEqualTypeOf<boolean>();
      expectTypeOf<ExtraOf<Pipeline<Date>>>().toEqualTypeOf<Date>();
    });

    it('gives the function a PolicyContext', () => {
      pipeline(new Timeout({ ms: 1 })).execute((ctx) => {
        expectTypeOf(ctx).toEqualTypeOf<PolicyContext>();
        return 1;
      }).catch(() => {});
    });
  });
});
