import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitState } from '../../src/policies/circuit-breaker.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { BrokenCircuitError, isBrokenCircuitError } from '../../src/core/errors.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { isTimeoutError } from '../../src/core/errors.js';
import { Timeout } from '../../src/policies/timeout.js';
import { pipeline } from '../../src/policies/pipeline.js';
import type { PolicyContext } from '../../src/policies/policy.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const boom = new Error('boom');
const ok = (): Promise<string> => Promise.resolve('ok');
const fail = (): Promise<never> => Promise.reject(boom);

async function outcomes(breaker: CircuitBreaker, pattern: string): Promise<void> {
  for (const c of pattern) {
    if (c === 'f') await expect(breaker.execute(fail)).rejects.toBe(boom);
    else await expect(breaker.execute(ok)).resolves.toBe('ok');
  }
}

function transitions(breaker: CircuitBreaker): string[] {
  const seen: string[] = [];
  breaker.on('stateChange', ({ from, to, reason }) => seen.push(`${from}->${to}:${reason}`));
  return seen;
}

describe('CircuitBreaker: consecutive window', () => {
  it('opens on exactly the Nth consecutive failure; a success resets the streak', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, window: { type: 'consecutive', failures: 3 }, openMs: 1_000 });
    await outcomes(breaker, 'ffsff');
    expect(breaker.state).toBe('closed');
    await outcomes(breaker, 'f');
    expect(breaker.state).toBe('open');
    const error = await breaker.execute(ok).catch((e: unknown) => e);
    expect(isBrokenCircuitError(error)).toBe(true);
    expect((error as BrokenCircuitError).retryAfterMs).toBe(1_000);
    expect((error as BrokenCircuitError).code).toBe('CIRCUIT_OPEN');
  });
});

describe('CircuitBreaker: count window', () => {
  it('judges the failure rate of the last N calls once minimumCalls is reached', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({
      clock,
      window: { type: 'count', size: 4 },
      failureRateThreshold: 0.5,
      minimumCalls: 4,
    });
    const seen = transitions(breaker);
    await outcomes(breaker, 'ff'); // 2 of 2 failed but below minimumCalls
    expect(breaker.state).toBe('closed');
    await outcomes(breaker, 's'); // 2/3
    expect(breaker.state).toBe('closed');
    await outcomes(breaker, 's'); // 2/4 = 0.5 -> only a failure is judged
    expect(breaker.state).toBe('closed');
    await outcomes(breaker, 's'); // ring drops first f: 1/4
    await outcomes(breaker, 'f'); // drops second f, adds f: 1/4
    expect(breaker.state).toBe('closed');
    await outcomes(breaker, 'f'); // s s f f = 2/4 = 0.5 -> opens
    expect(breaker.state).toBe('open');
    expect(seen).toEqual(['closed->open:failure-rate']);
  });

  it('caps minimumCalls at the window size', async () => {
    const breaker = new CircuitBreaker({ clock: new VirtualClock(), window: { type: 'count', size: 2 } });
    await outcomes(breaker, 'ff');
    expect(breaker.state).toBe('open');
  });
});

describe('CircuitBreaker: time window', () => {
  it('forgets failures older than the window, bucket by bucket', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({
      clock,
      window: { type: 'time', ms: 1_000, buckets: 10 },
      failureRateThreshold: 0.5,
      minimumCalls: 4,
    });
    await outcomes(breaker, 'fff'); // t=0: 3 failures
    clock.advance(999);
    expect(breaker.metrics().failures).toBe(3);
    clock.advance(1); // t=1000: the bucket of t=0 leaves
    expect(breaker.metrics().calls).toBe(0);
    await outcomes(breaker, 'f');
    expect(breaker.state).toBe('closed'); // 1 call < minimumCalls
    clock.advance(500);
    await outcomes(breaker, 'sf'); // 2 f of 3
    expect(breaker.state).toBe('closed');
    await outcomes(breaker, 's'); // 2/4 = 0.5 but judged on failure only
    expect(breaker.state).toBe('closed');
    await outcomes(breaker, 'f'); // 3/5
    expect(breaker.state).toBe('open');
  });

  it('opens on a failure count in the window regardless of rate', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({
      clock,
      window: { type: 'time', ms: 60_000 },
      failureThreshold: 3,
      failureRateThreshold: 1,
      minimumCalls: 1,
    });
    await outcomes(breaker, 'sssssssfsssfss');
    expect(breaker.state).toBe('closed');
    await outcomes(breaker, 'f');
    expect(breaker.state).toBe('open');
  });

  it('opens on the slow-call rate', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({
      clock,
      window: { type: 'count', size: 10 },
      minimumCalls: 2,
      slowCallMs: 100,
      slowCallRateThreshold: 1,
    });
    const seen = transitions(breaker);
    const slow = breaker.execute(async () => {
      await sleepVirtual(clock, 100);
      return 1;
    });
    await clock.advanceAsync(100);
    await slow;
    expect(breaker.state).toBe('closed');
    const slow2 = breaker.execute(async () => {
      await sleepVirtual(clock, 150);
      return 1;
    });
    await clock.advanceAsync(150);
    await slow2;
    expect(breaker.state).toBe('open');
    expect(seen).toEqual(['closed->open:slow-call-rate']);
    expect(breaker.metrics().totals.slowCalls).toBe(2);
  });
});

describe('CircuitBreaker: open and half-open', () => {
  function tripped(clock: VirtualClock, halfOpen = {}): CircuitBreaker {
    const breaker = new CircuitBreaker({
      clock,
      window: { type: 'consecutive', failures: 1 },
      openMs: 1_000,
      halfOpen,
    });
    breaker.open();
    return breaker;
  }

  it('moves to half-open exactly at openMs, lazily, without a timer', () => {
    const clock = new VirtualClock();
    const breaker = tripped(clock);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(999);
    expect(breaker.state).toBe('open');
    expect(breaker.metrics().retryAfterMs).toBe(1);
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
  });

  it('caps concurrent probes and closes after the required successes', async () => {
    const clock = new VirtualClock();
    const breaker = tripped(clock, { maxCalls: 2, successes: 2 });
    const seen = transitions(breaker);
    clock.advance(1_000);
    const gates: Array<() => void> = [];
    const probe = (): Promise<string> =>
      breaker.execute(() => new Promise<string>((resolve) => gates.push(() => resolve('probe'))));
    const p1 = probe();
    const p2 = probe();
    const third = await breaker.execute(ok).catch((e: unknown) => e);
    expect(isBrokenCircuitError(third)).toBe(true);
    expect((third as BrokenCircuitError).retryAfterMs).toBeUndefined();
    gates[0]?.();
    await p1;
    expect(breaker.state).toBe('half-open');
    gates[1]?.();
    await p2;
    expect(breaker.state).toBe('closed');
    expect(seen).toEqual(['open->half-open:open-elapsed', 'half-open->closed:probes-succeeded']);
  });

  it('re-opens on a failed probe for another full openMs', async () => {
    const clock = new VirtualClock();
    const breaker = tripped(clock, { successes: 2 });
    clock.advance(1_000);
    await outcomes(breaker, 's');
    await outcomes(breaker, 'f');
    expect(breaker.state).toBe('open');
    clock.advance(999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
  });

  it('never sticks in half-open: hung probes are abandoned after maxWaitMs', async () => {
    const clock = new VirtualClock();
    const breaker = tripped(clock, { maxCalls: 1, maxWaitMs: 5_000 });
    const seen = transitions(breaker);
    clock.advance(1_000);
    let release!: () => void;
    const hung = breaker.execute(() => new Promise<void>((resolve) => (release = resolve)));
    clock.advance(4_999);
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(BrokenCircuitError);
    clock.advance(1);
    expect(breaker.state).toBe('open');
    clock.advance(1_000);
    expect(breaker.state).toBe('half-open');
    await outcomes(breaker, 's'); // a fresh probe closes it
    expect(breaker.state).toBe('closed');
    release();
    await hung; // the stale probe's late success changes nothing
    expect(breaker.state).toBe('closed');
    expect(seen).toEqual([
      'open->half-open:open-elapsed',
      'half-open->open:half-open-timeout',
      'open->half-open:open-elapsed',
      'half-open->closed:probes-succeeded',
    ]);
  });

  it('ignores the outcome of calls admitted before a transition', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, window: { type: 'consecutive', failures: 1 } });
    let rejectLate!: (e: unknown) => void;
    const late = breaker.execute(() => new Promise((_, reject) => (rejectLate = reject)));
    breaker.open();
    breaker.close();
    rejectLate(boom);
    await expect(late).rejects.toBe(boom);
    expect(breaker.state).toBe('closed');
  });
});

describe('CircuitBreaker: manual control', () => {
  it('isolate refuses everything until close; disable lets everything through unrecorded', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, window: { type: 'consecutive', failures: 1 }, openMs: 10 });
    breaker.isolate();
    clock.advance(1_000_000);
    expect(breaker.state).toBe('isolated');
    const error = await breaker.execute(ok).catch((e: unknown) => e);
    expect((error as BrokenCircuitError).isolated).toBe(true);
    breaker.disable();
    await outcomes(breaker, 'fffs');
    expect(breaker.state).toBe('disabled');
    breaker.close();
    expect(breaker.state).toBe('closed');
    await outcomes(breaker, 'f');
    expect(breaker.state).toBe('open');
    breaker.reset();
    expect(breaker.state).toBe('closed');
    expect(breaker.metrics().totals.calls).toBe(0);
  });
});

describe('CircuitBreaker: what counts', () => {
  it('isFailure=false errors and caller aborts are not failures', async () => {
    class ValidationError extends Error {}
    const breaker = new CircuitBreaker({
      clock: new VirtualClock(),
      window: { type: 'consecutive', failures: 1 },
      isFailure: (e) => !(e instanceof ValidationError),
    });
    const ignored: unknown[] = [];
    breaker.on('ignored', ({ error }) => ignored.push(error));
    const invalid = new ValidationError('bad input');
    await expect(breaker.execute(() => Promise.reject(invalid))).rejects.toBe(invalid);
    const controller = new AbortController();
    const running = breaker.execute(({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))), {
      signal: controller.signal,
    });
    controller.abort(new Error('caller gave up'));
    await expect(running).rejects.toThrow('caller gave up');
    expect(breaker.state).toBe('closed');
    expect(ignored).toHaveLength(2);
    expect(breaker.metrics().totals).toMatchObject({ failures: 0, ignored: 2 });
  });

  it('rejects at once with the reason when the signal is already aborted', async () => {
    const breaker = new CircuitBreaker({ clock: new VirtualClock() });
    const reason = new Error('already');
    let called = false;
    await expect(
      breaker.execute(() => {
        called = true;
      }, { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    expect(called).toBe(false);
  });

  it('passes the caller signal and attempt to fn', async () => {
    const breaker = new CircuitBreaker({ clock: new VirtualClock() });
    const controller = new AbortController();
    const ctx = await breaker.execute((c) => c, { signal: controller.signal });
    expect(ctx.signal).toBe(controller.signal);
    expect(ctx.attempt).toBe(1);
  });
});

describe('CircuitBreaker: events, metrics, health and state export', () => {
  it('emits success, failure and rejected events; a throwing listener breaks nothing', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, window: { type: 'consecutive', failures: 2 } });
    const seen: string[] = [];
    const off = breaker.on('success', () => seen.push('success'));
    breaker.on('failure', () => seen.push('failure'));
    breaker.on('rejected', ({ state }) => seen.push(`rejected:${state}`));
    breaker.on('success', () => {
      throw new Error('listener bug');
    });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    await outcomes(breaker, 's');
    off();
    await outcomes(breaker, 'sff');
    await breaker.execute(ok).catch(() => undefined);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(seen).toEqual(['success', 'failure', 'failure', 'rejected:open']);
    expect(warnings.some((w) => w.includes('listener bug'))).toBe(true);
  });

  it('reports metrics with latency percentiles and a health score', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, window: { type: 'count', size: 10 }, minimumCalls: 10 });
    breaker.on('success', () => undefined); // observed call events: every call is timed exactly
    for (let i = 1; i <= 10; i++) {
      const call = breaker.execute(() => sleepVirtual(clock, i * 10));
      await clock.advanceAsync(i * 10);
      await call;
    }
    await outcomes(breaker, 'ff');
    const m = breaker.metrics();
    expect(m).toMatchObject({ state: 'closed', calls: 10, failures: 2, failureRate: 0.2 });
    expect(m.latency.count).toBe(12);
    expect(m.latency.p50).toBeGreaterThanOrEqual(40);
    expect(m.latency.p50).toBeLessThanOrEqual(50 * 1.125);
    expect(m.latency.p99).toBe(100);
    expect(m.healthScore).toBe(60); // 0.2 of a 0.5 threshold
    breaker.open();
    expect(breaker.healthScore()).toBe(0);
  });

  it('round-trips its state through toJSON / initialState', async () => {
    const clock = new VirtualClock(5_000);
    const options = { clock, window: { type: 'time', ms: 10_000 } as const, minimumCalls: 3, openMs: 2_000 };
    const before = new CircuitBreaker(options);
    await outcomes(before, 'sf');
    const json = JSON.parse(JSON.stringify(before.toJSON())) as ReturnType<CircuitBreaker['toJSON']>;
    const after = new CircuitBreaker({ ...options, initialState: json });
    expect(after.metrics()).toMatchObject({ calls: 2, failures: 1 });
    await outcomes(after, 'f');
    expect(after.state).toBe('open');
    const late = new CircuitBreaker(options);
    const seen = transitions(late);
    late.restoreState(after.toJSON());
    expect(late.state).toBe('open');
    expect(seen).toEqual(['closed->open:restored']);
    expect(() => late.restoreState({ version: 1 } as never)).toThrow(/state\.state/);
    const reopened = new CircuitBreaker({ ...options, initialState: after.toJSON() });
    expect(reopened.state).toBe('open');
    clock.advance(2_000);
    expect(reopened.state).toBe('half-open');
  });
});

describe('CircuitBreaker: refusals', () => {
  it('refuses without a stack trace by default, with one when asked', async () => {
    const quiet = new CircuitBreaker({ clock: new VirtualClock(), name: 'pricing' });
    quiet.open();
    const error = (await quiet.execute(ok).catch((e: unknown) => e)) as Error;
    expect(error.stack).toBe('BrokenCircuitError: Circuit "pricing" is open');
    const limit = Error.stackTraceLimit;
    expect(limit).toBeGreaterThan(0);
    const loud = new CircuitBreaker({ clock: new VirtualClock(), rejectionStackTraces: true });
    loud.isolate();
    const traced = (await loud.execute(ok).catch((e: unknown) => e)) as Error;
    expect(traced.stack?.split('\n').length).toBeGreaterThan(1);
  });
});

describe('CircuitBreaker: closed fast path', () => {
  it('times one call per clock tick for percentiles and still counts every call', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, window: { type: 'count', size: 100 } });
    for (let i = 0; i < 64; i++) await breaker.execute(ok);
    clock.advance(1);
    for (let i = 0; i < 64; i++) await breaker.execute(ok);
    const m = breaker.metrics();
    expect(m.calls).toBe(100);
    expect(m.totals.successes).toBe(128);
    expect(m.latency.count).toBe(2);
  });

  it('records synchronous throws and non-promise results', async () => {
    const breaker = new CircuitBreaker({ clock: new VirtualClock(), window: { type: 'consecutive', failures: 2 } });
    await expect(breaker.execute(() => 7)).resolves.toBe(7);
    const thrower = (): never => {
      throw boom;
    };
    await expect(breaker.execute(thrower)).rejects.toBe(boom);
    await expect(breaker.execute(thrower)).rejects.toBe(boom);
    expect(breaker.state).toBe('open');
  });

  it('times every call while a listener observes call events, and stops when it leaves', async () => {
    const breaker = new CircuitBreaker({ clock: new VirtualClock(), window: { type: 'count', size: 100 } });
    const off = breaker.on('failure', () => undefined);
    for (let i = 0; i < 16; i++) await breaker.execute(ok);
    expect(breaker.metrics().latency.count).toBe(16);
    off();
    for (let i = 0; i < 16; i++) await breaker.execute(ok);
    expect(breaker.metrics().latency.count).toBe(16); // same instant: no new sample
  });
});

describe('CircuitBreaker: regressions', () => {
  const hang = ({ signal }: PolicyContext): Promise<never> =>
    new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

  it('an outer timeout counts as a failure with or without a caller signal', async () => {
    for (const signal of [undefined, new AbortController().signal]) {
      const clock = new VirtualClock();
      const breaker = new CircuitBreaker({ clock, window: { type: 'consecutive', failures: 1 } });
      const call = pipeline(new Timeout({ ms: 10, clock }), breaker)
        .execute(hang, signal === undefined ? undefined : { signal })
        .catch((e: unknown) => e);
      await clock.advanceAsync(10);
      expect(isTimeoutError(await call)).toBe(true);
      expect(breaker.metrics().totals.ignored).toBe(0);
      expect(breaker.state).toBe('open');
    }
  });

  it('a caller abort through an outer timeout is ignored', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, window: { type: 'consecutive', failures: 1 } });
    const caller = new AbortController();
    const call = pipeline(new Timeout({ ms: 10, clock }), breaker).execute(hang, { signal: caller.signal }).catch((e: unknown) => e);
    caller.abort(new Error('client went away'));
    expect(((await call) as Error).message).toBe('client went away');
    expect(breaker.metrics().totals).toMatchObject({ ignored: 1, failures: 0 });
    expect(breaker.state).toBe('closed');
  });

  it('an isFailure that throws neither replaces the call error nor strands a half-open probe', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, openMs: 100, isFailure: (e) => (e as { status: number }).status >= 500 });
    breaker.open();
    clock.advance(100);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    const probe = await breaker.execute(() => Promise.reject(null)).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(probe).toBe(null);
    expect(breaker.state).toBe('open'); // counted as a failed probe, not stuck half-open with its slot taken
    expect(warnings.some((w) => w.includes('isFailure'))).toBe(true);
  });

  it('a stale unsubscribe after dispose() does not silence a listener added later', async () => {
    const breaker = new CircuitBreaker({ clock: new VirtualClock() });
    const offOld = breaker.on('success', () => undefined);
    breaker.dispose();
    const seen: number[] = [];
    breaker.on('success', ({ durationMs }) => seen.push(durationMs));
    offOld();
    for (let i = 0; i < 3; i++) await breaker.execute(() => 'ok');
    expect(seen).toHaveLength(3);
  });

  it('the fast path counts a call whose fn changes the state synchronously', async () => {
    const breaker = new CircuitBreaker({ clock: new VirtualClock() });
    await breaker.execute(() => 'timed');
    await breaker.execute(() => {
      breaker.close();
      return 'fast';
    });
    expect(breaker.metrics().totals.calls).toBe(2);
  });
});

describe('CircuitBreaker: options', () => {
  it('lists every bad field in one error', () => {
    let error: unknown;
    try {
      new CircuitBreaker({
        failureRateThreshold: 1.5,
        openMs: -1,
        minimumCalls: 0,
        halfOpen: { maxCalls: 0, maxWaitMs: 0 },
        window: { type: 'sliding' } as never,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    const paths = (error as InvalidOptionsError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['failureRateThreshold', 'halfOpen.maxCalls', 'halfOpen.maxWaitMs', 'minimumCalls', 'openMs', 'window.type']);
    expect((error as Error).message).toContain('failureRateThreshold: expected a number in 0..1, received 1.5');
  });

  it('validates initialState field by field', () => {
    let error: unknown;
    try {
      new CircuitBreaker({ initialState: { version: 2, state: 'constructor', since: 'x' } as never });
    } catch (e) {
      error = e;
    }
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
      'initialState.version',
      'initialState.state',
      'initialState.since',
      'initialState.openUntil',
      'initialState.window',
    ]);
  });

  it('names a missing window size', () => {
    expect(() => new CircuitBreaker({ window: { type: 'count' } as never })).toThrow(/window\.size: expected an integer >= 1, received undefined/);
  });
});

describe('CircuitBreaker: state names', () => {
  it('covers every state', () => {
    const states: CircuitState[] = ['closed', 'open', 'half-open', 'isolated', 'disabled'];
    expect(states).toHaveLength(5);
  });
});

function sleepVirtual(clock: VirtualClock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.schedule(resolve, ms));
}
