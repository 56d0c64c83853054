import { describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import type { PolicyContext } from '../../src/policies/policy.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { isTimeoutError } from '../../src/core/errors.js';
import { Timeout } from '../../src/policies/timeout.js';
import { Retry } from '../../src/policies/retry.js';
import { CircuitBreaker } from '../../src/policies/circuit-breaker.js';
import { pipeline } from '../../src/policies/pipeline.js';
import type { LazyContext} from '../../src/policies/lazy-context.js';
import { SignalCell, isContextAborted, peekSignal } from '../../src/policies/lazy-context.js';
import { withAttempt } from '../../src/policies/context.js';
import { ConstantBackoff } from '../../src/policies/backoff/constant-backoff.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

describe('SignalCell / LazyContext', () => {
  it('creates no signal until read, remembers an early abort, and follows its parent', () => {
    const parentCell = new SignalCell(undefined, 1);
    const parent: LazyContext = parentCell;
    const child = new SignalCell(parent, 1);
    expect(peekSignal(child)).toBeUndefined();
    expect(parentCell.created).toBe(false);
    const reason = new Error('deadline');
    parentCell.abort(reason);
    expect(isContextAborted(child)).toBe(true);
    expect(parentCell.created).toBe(false);
    expect(child.signal.aborted).toBe(true);
    expect(child.signal.reason).toBe(reason);
    expect(withAttempt(child, 2)).toMatchObject({ attempt: 2 });
    expect((withAttempt(child, 2) as LazyContext).cell).toBe(child.cell);
  });
});

describe('lazy signals through a pipeline', () => {
  it('regression: a lazy signal first read after its Timeout settled leaves no listener on the parent', async () => {
    const clock = new VirtualClock();
    const outer = new Timeout({ ms: 10_000, clock });
    const inner = new Timeout({ ms: 1_000, clock });
    await outer.execute(async (outerCtx) => {
      const outerSignal = outerCtx.signal;
      let innerCtx: PolicyContext | undefined;
      await inner.execute((ctx) => {
        innerCtx = ctx;
        return 'ok';
      }, outerCtx);
      expect(innerCtx?.signal.aborted).toBe(false);
      expect(getEventListeners(outerSignal, 'abort')).toHaveLength(0);
    });
  });

  it('an outer timeout still aborts a signal that the function reads late', async () => {
    const clock = new VirtualClock();
    const call = pipeline(new Timeout({ ms: 100, clock }), new Retry({ maxAttempts: 1, clock }))
      .execute(async (ctx) => {
        await new Promise<void>((r) => clock.schedule(() => r(), 10));
        const signal = ctx.signal; // read after the call started
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      })
      .catch((e: unknown) => e);
    await clock.advanceAsync(100);
    expect(isTimeoutError(await call)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a function that never reads its signal costs no AbortController, and an aggressive timeout still fires', async () => {
    const clock = new VirtualClock();
    let seen: unknown;
    const call = new Timeout({ ms: 50, strategy: 'aggressive', clock })
      .execute((ctx) => {
        seen = ctx;
        return new Promise(() => undefined);
      })
      .catch((e: unknown) => e);
    expect(peekSignal(seen as LazyContext)).toBeUndefined();
    await clock.advanceAsync(50);
    expect(isTimeoutError(await call)).toBe(true);
  });

  it('retry stops retrying once the outer timeout has fired', async () => {
    const clock = new VirtualClock();
    let attempts = 0;
    const call = pipeline(
      new Timeout({ ms: 25, strategy: 'aggressive', clock }),
      new Retry({ maxAttempts: 10, backoff: new ConstantBackoff({ delayMs: 10 }), clock }),
    )
      .execute(async () => {
        attempts++;
        throw new Error('flaky');
      })
      .catch((e: unknown) => e);
    await clock.runAllAsync();
    expect(isTimeoutError(await call)).toBe(true);
    expect(attempts).toBe(3); // t=0, 10, 20; the wait to t=30 is cut by the deadline at 25
  });

  it('the breaker counts an outer timeout as a failure of the protected call', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, window: { type: 'consecutive', failures: 1 } });
    const call = pipeline(new Timeout({ ms: 10, clock }), breaker)
      .execute(({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))))
      .catch((e: unknown) => e);
    await clock.advanceAsync(10);
    expect(isTimeoutError(await call)).toBe(true);
    expect(breaker.state).toBe('open');
  });
});
