import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SharedCircuitBreaker, type SharedCircuitBreakerOptions } from '../../../src/adapters/redis/shared-circuit-breaker.js';
import { MemoryBus, MemoryBusHub } from '../../../src/core/bus.js';
import { isBrokenCircuitError, type BrokenCircuitError } from '../../../src/core/errors.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { CircuitBreaker } from '../../../src/policies/circuit-breaker.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { errorOf, track } from '../../support/promises.js';
import { PrivateRedisServer } from '../../support/redis-server.js';

failOnUnhandledRejections();

// Logic on a VirtualClock against a private redis-server. Syncs are driven by hand (`await breaker.sync()`):
// the housekeeping interval is far beyond any time a test advances, and every script is awaited before the
// clock moves, so no virtual Redis timeout can fire while the real server answers.
const FAR = 3_600_000;

let server: PrivateRedisServer;
const clients: Redis[] = [];
const breakers: SharedCircuitBreaker[] = [];
let sequence = 0;

beforeAll(async () => {
  server = await PrivateRedisServer.start();
});

afterEach(() => {
  for (const breaker of breakers.splice(0)) breaker.dispose();
});

afterAll(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  await server.stop();
});

function connect(): Redis {
  const client = new Redis(server.options);
  client.on('error', () => {});
  clients.push(client);
  return client;
}

function uniqueName(): string {
  return `svc-${process.pid}-${++sequence}`;
}

function make(clock: VirtualClock, name: string, options: Partial<SharedCircuitBreakerOptions> = {}): SharedCircuitBreaker {
  const breaker = new SharedCircuitBreaker({
    client: connect(),
    name,
    clock,
    syncIntervalMs: FAR,
    redisTimeoutMs: FAR,
    window: { type: 'time', ms: 10_000, buckets: 10 },
    minimumCalls: 4,
    failureRateThreshold: 0.5,
    openMs: 1_000,
    ...options,
  });
  breakers.push(breaker);
  return breaker;
}

/** Two instances of one service: same name, same clock, separate connections. */
async function fleet(options: Partial<SharedCircuitBreakerOptions> = {}, start = 1_000_000) {
  const clock = new VirtualClock(start);
  const name = uniqueName();
  const a = make(clock, name, options);
  const b = make(clock, name, options);
  await a.start();
  await b.start();
  return { clock, name, a, b };
}

const boom = new Error('boom');
const ok = (): Promise<string> => Promise.resolve('ok');
const fail = (): Promise<never> => Promise.reject(boom);

async function outcomes(breaker: SharedCircuitBreaker | CircuitBreaker, pattern: string): Promise<void> {
  for (const c of pattern) {
    if (c === 'f') await expect(breaker.execute(fail)).rejects.toBe(boom);
    else await expect(breaker.execute(ok)).resolves.toBe('ok');
  }
}

function transitions(breaker: SharedCircuitBreaker): string[] {
  const seen: string[] = [];
  breaker.on('stateChange', ({ from, to, reason }) => seen.push(`${from}->${to}:${reason}`));
  return seen;
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SharedCircuitBreaker: closed -> open, judged fleet-wide in Redis', () => {
  it('opens for every instance when the fleet window crosses the failure rate, though no instance saw enough calls', async () => {
    const { a, b } = await fleet();
    const seenA = transitions(a);
    const seenB = transitions(b);
    await outcomes(a, 'sf');
    await outcomes(b, 's');
    await a.sync();
    await b.sync();
    expect(a.state).toBe('closed');
    expect(b.metrics()).toMatchObject({ calls: 3, failures: 1, mode: 'shared', unsyncedCalls: 0 });

    await outcomes(b, 'f'); // fleet: 4 calls, 2 failures = 0.5 >= 0.5 with minimumCalls 4
    await b.sync();
    expect(b.state).toBe('open');
    expect(seenB).toEqual(['closed->open:failure-rate']);
    // A acts on what it last read until its next sync...
    expect(a.state).toBe('closed');
    await a.sync();
    expect(a.state).toBe('open');
    expect(seenA).toEqual(['closed->open:failure-rate']);

    // ...then refuses locally, without running the function.
    const fn = vi.fn(ok);
    const error = await errorOf(a.execute(fn));
    expect(isBrokenCircuitError(error)).toBe(true);
    expect((error as BrokenCircuitError).code).toBe('CIRCUIT_OPEN');
    expect((error as BrokenCircuitError).retryAfterMs).toBe(1_000);
    expect(fn).not.toHaveBeenCalled();
    expect(a.metrics().totals).toMatchObject({ calls: 2, failures: 1, successes: 1, rejections: 1 });
  });

  it('judges thresholds only when a failure or slow call arrives, as a local breaker does', async () => {
    const { a } = await fleet();
    await outcomes(a, 'ff');
    await a.sync(); // 2 calls: below minimumCalls
    await outcomes(a, 'ss');
    await a.sync(); // 4 calls, 2 failures, but only successes arrived
    expect(a.state).toBe('closed');
    await outcomes(a, 's');
    await a.sync();
    expect(a.state).toBe('closed');
    await outcomes(a, 'f'); // 6 calls, 3 failures
    await a.sync();
    expect(a.state).toBe('open');
  });

  it('ages buckets out exactly like a local breaker with the same window', async () => {
    for (const [gapMs, expected] of [
      [9_999, 'open'],
      [10_000, 'closed'],
    ] as const) {
      const { clock, a } = await fleet();
      const local = new CircuitBreaker({
        clock,
        window: { type: 'time', ms: 10_000, buckets: 10 },
        minimumCalls: 4,
        failureRateThreshold: 0.5,
        openMs: 1_000,
      });
      await outcomes(a, 'ff');
      await outcomes(local, 'ff');
      await a.sync();
      clock.advance(gapMs);
      await outcomes(a, 'ff');
      await outcomes(local, 'ff');
      await a.sync();
      expect(local.state).toBe(expected);
      expect(a.state).toBe(expected);
      if (expected === 'closed') expect(a.metrics()).toMatchObject({ calls: 2, failures: 2 });
    }
  });

  it('opens on failureThreshold (count) and on the slow-call rate', async () => {
    const counted = await fleet({ failureThreshold: 3, failureRateThreshold: 1, minimumCalls: 1 });
    const seen = transitions(counted.b);
    await outcomes(counted.a, 'ssssf');
    await outcomes(counted.b, 'sssf');
    await counted.a.sync();
    await counted.b.sync();
    expect(counted.b.state).toBe('closed');
    await outcomes(counted.a, 'f');
    await counted.a.sync();
    await counted.b.sync();
    expect(seen).toEqual(['closed->open:failure-count']);

    const slow = await fleet({ slowCallMs: 500, slowCallRateThreshold: 0.5, minimumCalls: 2 });
    const seenSlow = transitions(slow.a);
    for (const breaker of [slow.a, slow.b]) {
      const gate = deferred<string>();
      const call = breaker.execute(() => gate.promise);
      slow.clock.advance(500);
      gate.resolve('late');
      await expect(call).resolves.toBe('late');
    }
    await slow.a.sync();
    expect(slow.a.state).toBe('closed'); // judged only when B's slow call reaches Redis
    await slow.b.sync();
    await slow.a.sync();
    expect(seenSlow).toEqual(['closed->open:slow-call-rate']);
    expect(slow.b.metrics().totals.slowCalls).toBe(1);
  });

  it('counts errors isFailure rejects as successes and does not count calls the caller aborted', async () => {
    const { a } = await fleet({ isFailure: (error) => error !== boom, minimumCalls: 2 });
    await outcomes(a, 'ffff');
    const controller = new AbortController();
    const gate = deferred<string>();
    const aborted = a.execute(() => gate.promise, { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    gate.reject(new Error('dependency failed after the abort'));
    await expect(aborted).rejects.toThrow('dependency failed after the abort');
    await a.sync();
    expect(a.state).toBe('closed');
    expect(a.metrics()).toMatchObject({ calls: 4, failures: 0 });
    expect(a.metrics().totals).toMatchObject({ calls: 5, ignored: 5, failures: 0 });
  });

  it('syncs at once when a failure may cross a threshold, without waiting for the interval', async () => {
    const { a, b } = await fleet();
    await outcomes(b, 'ff');
    await b.sync();
    await a.sync(); // A has read 2 failures of 2 calls
    await outcomes(a, 's');
    expect(a.state).toBe('closed');
    await outcomes(a, 'f'); // 4 calls, 3 failures with what A read: an early sync opens the circuit
    await vi.waitFor(() => expect(a.state).toBe('open'), { timeout: 5_000, interval: 5 });
  });

  it('learns the shared state on its sync timer', async () => {
    const { clock, a, name } = await fleet();
    const watcher = make(clock, name, { syncIntervalMs: 100 });
    await watcher.start();
    await outcomes(a, 'ffff');
    await a.sync();
    expect(a.state).toBe('open');
    expect(watcher.state).toBe('closed');
    expect(clock.pendingTimers).toBeGreaterThan(0);
    clock.advance(100);
    await vi.waitFor(() => expect(watcher.state).toBe('open'), { timeout: 5_000, interval: 5 });
  });

  it('drops outcomes of calls admitted before the state changed', async () => {
    const { clock, a, b } = await fleet();
    const gate = deferred<string>();
    const late = a.execute(() => gate.promise);
    await outcomes(b, 'ffff');
    await b.sync(); // open
    clock.advance(1_000);
    await outcomes(b, 's'); // probe closes it (successes: 1)
    expect(b.state).toBe('closed');
    await a.sync();
    expect(a.state).toBe('closed');
    gate.reject(boom);
    await expect(late).rejects.toBe(boom);
    expect(a.metrics().unsyncedCalls).toBe(0);
  });
});

describe('SharedCircuitBreaker: open -> half-open -> closed or open, fleet-wide', () => {
  it('refuses until openUntil, then probes; enough successes close the circuit for everyone', async () => {
    const { clock, a, b } = await fleet({ halfOpen: { maxCalls: 1, successes: 2 } });
    const seenA = transitions(a);
    const seenB = transitions(b);
    await outcomes(a, 'ffff');
    await a.sync();
    await b.sync();
    clock.advance(999);
    expect(((await errorOf(b.execute(ok))) as BrokenCircuitError).retryAfterMs).toBe(1);
    clock.advance(1);
    expect(a.state).toBe('half-open'); // due: its next call asks for a permit
    await outcomes(a, 's');
    expect(a.metrics().halfOpen).toEqual({ inFlight: 0, successes: 1 });
    await outcomes(a, 's');
    expect(a.state).toBe('closed');
    await b.sync();
    expect(b.state).toBe('closed');
    expect(seenA).toEqual(['closed->open:failure-rate', 'open->half-open:open-elapsed', 'half-open->closed:probes-succeeded']);
    expect(seenB).toEqual(['closed->open:failure-rate', 'open->closed:probes-succeeded']);
  });

  it('a failed probe re-opens the circuit for everyone for another openMs', async () => {
    const { clock, a, b } = await fleet();
    const seenA = transitions(a);
    const seenB = transitions(b);
    await outcomes(a, 'ffff');
    await a.sync();
    await b.sync();
    clock.advance(1_500);
    await outcomes(b, 'f');
    expect(b.state).toBe('open');
    expect(((await errorOf(b.execute(ok))) as BrokenCircuitError).retryAfterMs).toBe(1_000);
    expect(seenB).toEqual(['closed->open:failure-rate', 'open->half-open:open-elapsed', 'half-open->open:probe-failed']);
    await a.sync();
    // A never saw the half-open period: for A the circuit stayed open, now until the new openUntil.
    expect(seenA).toEqual(['closed->open:failure-rate']);
    expect(((await errorOf(a.execute(ok))) as BrokenCircuitError).retryAfterMs).toBe(1_000);
    clock.advance(1_000);
    await outcomes(a, 's');
    expect(a.state).toBe('closed');
  });

  it('caps probes in flight fleet-wide at halfOpen.maxCalls across two instances on two connections', async () => {
    const { clock, a, b } = await fleet({ halfOpen: { maxCalls: 2, successes: 2 } });
    await outcomes(a, 'ffff');
    await a.sync();
    await b.sync();
    clock.advance(1_000);
    const gateA = deferred<string>();
    const gateB = deferred<string>();
    const probeA = track(a.execute(() => gateA.promise));
    await vi.waitFor(() => expect(a.metrics().halfOpen.inFlight).toBe(1), { timeout: 5_000, interval: 2 });
    const probeB = track(b.execute(() => gateB.promise));
    await vi.waitFor(() => expect(b.metrics().halfOpen.inFlight).toBe(2), { timeout: 5_000, interval: 2 });

    // Both permits are taken: a third probe from either instance is refused, without a retry hint.
    const third = vi.fn(ok);
    for (const breaker of [a, b]) {
      const error = await errorOf(breaker.execute(third));
      expect(isBrokenCircuitError(error)).toBe(true);
      expect((error as BrokenCircuitError).retryAfterMs).toBeUndefined();
      expect((error as Error).message).toContain('probes are taken');
    }
    expect(third).not.toHaveBeenCalled();

    gateA.resolve('a');
    gateB.resolve('b');
    await vi.waitFor(() => expect([probeA.state, probeB.state]).toEqual(['resolved', 'resolved']), { timeout: 5_000, interval: 2 });
    await a.sync();
    await b.sync();
    expect([a.state, b.state]).toEqual(['closed', 'closed']);
  });

  it('frees the permit of an instance that died mid-probe after halfOpen.permitTtlMs', async () => {
    const { clock, a, b } = await fleet({ halfOpen: { maxCalls: 1, successes: 1, permitTtlMs: 5_000, maxWaitMs: 60_000 } });
    await outcomes(a, 'ffff');
    await a.sync();
    clock.advance(1_000);
    const hung = track(a.execute(() => new Promise<string>(() => {}))); // A "dies" holding the permit
    await vi.waitFor(() => expect(a.metrics().halfOpen.inFlight).toBe(1), { timeout: 5_000, interval: 2 });
    await b.sync();
    expect(((await errorOf(b.execute(ok))) as Error).message).toContain('probes are taken');
    clock.advance(4_999);
    await b.sync();
    expect(((await errorOf(b.execute(ok))) as Error).message).toContain('probes are taken');
    clock.advance(1);
    await b.sync();
    await outcomes(b, 's');
    expect(b.state).toBe('closed');
    expect(hung.state).toBe('pending');
  });

  it('re-opens a circuit stuck half-open past halfOpen.maxWaitMs; a late probe outcome changes nothing', async () => {
    const { clock, a, b } = await fleet({ halfOpen: { maxCalls: 1, successes: 1, maxWaitMs: 3_000 } });
    const seenB = transitions(b);
    await outcomes(a, 'ffff');
    await a.sync();
    await b.sync();
    clock.advance(1_000);
    const gate = deferred<string>();
    const probe = a.execute(() => gate.promise);
    await vi.waitFor(() => expect(a.metrics().halfOpen.inFlight).toBe(1), { timeout: 5_000, interval: 2 });
    clock.advance(3_000);
    await b.sync();
    expect(b.state).toBe('open');
    // B never saw the half-open period: the circuit stays open for it, until a new openUntil.
    expect(seenB).toEqual(['closed->open:failure-rate']);
    gate.resolve('too late');
    await expect(probe).resolves.toBe('too late');
    await b.sync();
    expect(b.state).toBe('open');
    expect(b.metrics().retryAfterMs).toBe(1_000);
    expect(b.toJSON()).toMatchObject({ state: 'open', mode: 'shared', openUntil: clock.now() + 1_000 });
  });
});

describe('SharedCircuitBreaker: bus', () => {
  it('broadcasts a transition so other instances adopt it at once, without a sync', async () => {
    const clock = new VirtualClock(5_000_000);
    const hub = new MemoryBusHub();
    const name = uniqueName();
    const a = make(clock, name, { bus: new MemoryBus(hub) });
    const b = make(clock, name, { bus: new MemoryBus(hub) });
    await a.start();
    await b.start();
    const seenB = transitions(b);
    await outcomes(a, 'ffff');
    await a.sync();
    await new Promise((resolve) => setImmediate(resolve));
    expect(b.state).toBe('open');
    expect(seenB).toEqual(['closed->open:failure-rate']);
    expect(((await errorOf(b.execute(ok))) as BrokenCircuitError).retryAfterMs).toBe(1_000);
  });
});

describe('SharedCircuitBreaker: lifecycle and options', () => {
  it('starts one housekeeping timer on first use and dispose() stops it', async () => {
    const clock = new VirtualClock();
    const breaker = make(clock, uniqueName(), { syncIntervalMs: 250 });
    expect(clock.pendingTimers).toBe(0);
    await outcomes(breaker, 's');
    await breaker.start(); // the first sync has answered: only the sync timer is left
    expect(clock.pendingTimers).toBe(1);
    breaker.dispose();
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports every invalid option with its path', () => {
    let error: unknown;
    try {
      new SharedCircuitBreaker({
        client: {} as never,
        name: '',
        window: { type: 'count', size: 10 } as never,
        failureRateThreshold: 2,
        minimumCalls: 0,
        halfOpen: { maxCalls: 0, permitTtlMs: 0 },
        syncIntervalMs: 0,
        redisTimeoutMs: -1,
        bus: {} as never,
        clock: {} as never,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    const paths = (error as InvalidOptionsError).issues.map((issue) => issue.path);
    expect(paths).toEqual([
      'client',
      'name',
      'window.type',
      'window.ms',
      'failureRateThreshold',
      'minimumCalls',
      'halfOpen.maxCalls',
      'halfOpen.permitTtlMs',
      'syncIntervalMs',
      'redisTimeoutMs',
      'bus',
      'clock',
    ]);
    expect((error as Error).message).toContain('only time windows can be shared');
    expect(() => new SharedCircuitBreaker(undefined as never)).toThrow(InvalidOptionsError);
    expect(() => new SharedCircuitBreaker({ name: 'x' } as never)).toThrow(/client: expected an ioredis client/);
    expect(() => new SharedCircuitBreaker({ client: connect(), name: 'x', window: { type: 'time', ms: 1_000, buckets: 1_001 } })).toThrow(
      /window\.buckets/,
    );
  });
});
