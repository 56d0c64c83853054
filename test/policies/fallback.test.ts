import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { InvalidOptionsError } from '../../src/core/options.js';
import { TimeoutError } from '../../src/core/errors.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { Fallback, type FallbackContext } from '../../src/policies/fallback.js';
import { pipeline } from '../../src/policies/pipeline.js';
import { Timeout } from '../../src/policies/timeout.js';
import { FallbackError, isFallbackError } from '../../src/core/errors.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

describe('Fallback', () => {
  it('replaces a failed call with the fallback value, giving it the error and the context', async () => {
    const seen: FallbackContext[] = [];
    const fallback = new Fallback({ fallback: (ctx) => (seen.push(ctx), 'cached') });
    const error = new TimeoutError(100);
    const signal = new AbortController().signal;
    await expect(fallback.execute(() => Promise.reject(error), { signal, attempt: 2 })).resolves.toBe('cached');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'error', error, signal, attempt: 2 });
    await expect(fallback.execute(() => { throw error; })).resolves.toBe('cached');
  });

  it('passes successful results through untouched', async () => {
    const fallback = new Fallback({ fallback: () => 'cached' });
    await expect(fallback.execute(() => 7)).resolves.toBe(7);
    await expect(fallback.execute(async () => null)).resolves.toBeNull();
  });

  it('handles only the errors shouldHandle accepts', async () => {
    const fallback = new Fallback({
      fallback: async () => 'cached',
      shouldHandle: (error) => !(error instanceof TypeError),
    });
    const bad = new TypeError('validation');
    await expect(fallback.execute(() => Promise.reject(bad))).rejects.toBe(bad);
    await expect(fallback.execute(() => Promise.reject(new Error('down')))).resolves.toBe('cached');
  });

  it('replaces results shouldHandleResult rejects', async () => {
    const seen: FallbackContext[] = [];
    const fallback = new Fallback({
      fallback: (ctx) => (seen.push(ctx), [0]),
      shouldHandleResult: (result) => Array.isArray(result) && result.length === 0,
    });
    await expect(fallback.execute(() => [])).resolves.toEqual([0]);
    await expect(fallback.execute(() => [1, 2])).resolves.toEqual([1, 2]);
    expect(seen).toEqual([expect.objectContaining({ kind: 'result', result: [] })]);
  });

  it("never handles the caller's own abort", async () => {
    let called = 0;
    const fallback = new Fallback({ fallback: () => ((called += 1), 'cached') });
    const controller = new AbortController();
    const reason = new Error('client went away');
    const call = fallback.execute(
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted fetch')))),
      { signal: controller.signal },
    );
    controller.abort(reason);
    await expect(call).rejects.toThrow('aborted fetch');
    await expect(fallback.execute(() => 1, { signal: controller.signal })).rejects.toBe(reason);
    expect(called).toBe(0);
  });

  it('propagates the original error, or an error caused by it, unchanged when the fallback throws it', async () => {
    const original = new Error('down');
    const rethrow = new Fallback({ fallback: ({ error }) => { throw error; } });
    await expect(rethrow.execute(() => Promise.reject(original))).rejects.toBe(original);

    const translated = new Error('service unavailable', { cause: original });
    const translate = new Fallback({ fallback: async () => { throw translated; } });
    await expect(translate.execute(() => Promise.reject(original))).rejects.toBe(translated);
  });

  it('wraps anything else the fallback throws in a FallbackError caused by the original error', async () => {
    const original = new Error('down');
    const own = new Error('cache down too');
    const fallback = new Fallback({ fallback: () => { throw own; } });
    const error: unknown = await fallback.execute(() => Promise.reject(original)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FallbackError);
    expect(isFallbackError(error)).toBe(true);
    expect(isFallbackError(own)).toBe(false);
    expect((error as FallbackError).code).toBe('FALLBACK_FAILED');
    expect((error as FallbackError).cause).toBe(original);
    expect((error as FallbackError).fallbackError).toBe(own);
    expect((error as FallbackError).message).toBe('Fallback failed: cache down too');
  });

  it('propagates what the fallback for a result throws unchanged', async () => {
    const own = new Error('no default either');
    const fallback = new Fallback({ fallback: () => Promise.reject(own), shouldHandleResult: () => true });
    await expect(fallback.execute(() => 1)).rejects.toBe(own);
  });

  it('emits fallback events for errors and results', async () => {
    const fallback = new Fallback({ fallback: () => 0, shouldHandleResult: (r) => r === -1 });
    const events: unknown[] = [];
    const off = fallback.on('fallback', (e) => events.push(e));
    const error = new Error('x');
    await fallback.execute(() => Promise.reject(error));
    await fallback.execute(() => -1);
    await fallback.execute(() => 5);
    off();
    await fallback.execute(() => Promise.reject(error));
    expect(events).toEqual([
      { kind: 'error', error },
      { kind: 'result', result: -1 },
    ]);
  });

  it('gives the fallback a signal when the context is a lazy one (a spread dropped its prototype getter)', async () => {
    const clock = new VirtualClock();
    let seen: FallbackContext | undefined;
    const call = pipeline(
      new Timeout({ ms: 1_000, clock }), // no caller signal: the lazy path, the context is a SignalCell
      new Fallback({ fallback: (ctx) => ((seen = ctx), 'fallback') }),
    ).execute(() => Promise.reject(new Error('boom')));
    await expect(call).resolves.toBe('fallback');
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
    expect(seen).toMatchObject({ kind: 'error', attempt: 1 });
    expect(Object.keys(seen as object).sort()).toEqual(['attempt', 'error', 'kind', 'signal']);

    const onResult = await pipeline(
      new Timeout({ ms: 1_000, clock }),
      new Fallback({ fallback: (ctx) => ((seen = ctx), 'fallback'), shouldHandleResult: (r) => r === null }),
    ).execute(() => null);
    expect(onResult).toBe('fallback');
    expect(seen?.signal).toBeInstanceOf(AbortSignal);
    expect(seen).toMatchObject({ kind: 'result', result: null, attempt: 1 });
  });

  it('keeps the other fields of a plain context', async () => {
    let seen: FallbackContext | undefined;
    const fallback = new Fallback({ fallback: (ctx) => ((seen = ctx), 'cached') });
    const signal = new AbortController().signal;
    await fallback.execute(() => Promise.reject(new Error('down')), { signal, attempt: 1, traceId: 't-1' } as never);
    expect(seen).toMatchObject({ signal, attempt: 1, traceId: 't-1', kind: 'error' });
  });

  describe('predicates that throw', () => {
    it('shouldHandle: reported, the error is not handled and propagates unchanged', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      try {
        let called = 0;
        const fallback = new Fallback({
          name: 'prices',
          fallback: () => ((called += 1), 'cached'),
          shouldHandle: () => {
            throw new Error('predicate bug');
          },
        });
        const original = new Error('down');
        await expect(fallback.execute(() => Promise.reject(original))).rejects.toBe(original);
        expect(called).toBe(0);
        expect(warn).toHaveBeenCalledWith('Fallback "prices" option shouldHandle threw: predicate bug', {
          code: 'ANTIFRAGILE_CALLBACK_ERROR',
        });
      } finally {
        warn.mockRestore();
      }
    });

    it('shouldHandleResult: reported, the result is not handled and returned unchanged', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      try {
        let called = 0;
        const fallback = new Fallback({
          fallback: () => ((called += 1), 'cached'),
          shouldHandleResult: () => {
            throw new Error('predicate bug');
          },
        });
        await expect(fallback.execute(() => 'fresh')).resolves.toBe('fresh');
        expect(called).toBe(0);
        expect(warn).toHaveBeenCalledWith('Fallback "fallback" option shouldHandleResult threw: predicate bug', {
          code: 'ANTIFRAGILE_CALLBACK_ERROR',
        });
      } finally {
        warn.mockRestore();
      }
    });
  });

  it('infers the result type T | R', () => {
    const fallback = new Fallback({ fallback: () => 'cached' });
    expectTypeOf(fallback).toEqualTypeOf<Fallback<string>>();
    expectTypeOf(fallback.execute(() => 1)).toEqualTypeOf<Promise<number | string>>();
    expectTypeOf(new Fallback({ fallback: async () => null }).execute(async () => 1)).toEqualTypeOf<Promise<number | null>>();
  });

  it('validates options eagerly, listing every bad field', () => {
    try {
      new Fallback({ fallback: 'x' as never, shouldHandle: 1 as never, shouldHandleResult: {} as never });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['fallback', 'shouldHandle', 'shouldHandleResult']);
    }
    expect(() => new Fallback(undefined as never)).toThrow(/fallback: expected a function, received undefined/);
  });

  it('names a bad name', () => {
    try {
      new Fallback({ fallback: () => 1, name: 42 as never });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['name']);
    }
    expect(new Fallback({ fallback: () => 1, name: 'prices' }).name).toBe('prices');
  });
});
