// The same behaviours, run against real opossum 10 and against antifragile/opossum: proof of drop-in use.
// Real opossum runs on real timers, so the few time-based cases here use durations of a few ms and wait for
// events rather than sleeping; exact timing is tested on the facade with a VirtualClock (circuit-breaker.test.ts).
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import AntifragileBreaker from '../../../src/adapters/opossum/index.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { errorOf } from '../../support/promises.js';

failOnUnhandledRejections();

// opossum ships no types; it is typed as our class, which is itself a check that the shapes agree.
const Opossum = createRequire(import.meta.url)('opossum') as typeof AntifragileBreaker;

const implementations = [
  ['opossum', Opossum],
  ['antifragile/opossum', AntifragileBreaker],
] as const;

const STATS_KEYS = [
  'failures',
  'fallbacks',
  'successes',
  'rejects',
  'fires',
  'timeouts',
  'cacheHits',
  'cacheMisses',
  'coalesceCacheHits',
  'coalesceCacheMisses',
  'semaphoreRejections',
  'percentiles',
  'latencyTimes',
  'latencyMean',
];
const PERCENTILE_KEYS = ['0', '1', '0.25', '0.5', '0.75', '0.9', '0.95', '0.99', '0.995'];

const boom = new Error('boom');
const never = (): Promise<never> => new Promise<never>(() => {});

describe.each(implementations)('%s', (_label, Impl) => {
  const created: AntifragileBreaker[] = [];
  function track<B>(breaker: B): B {
    created.push(breaker as AntifragileBreaker);
    return breaker;
  }
  afterEach(() => {
    for (const b of created.splice(0)) b.shutdown();
  });

  /** Records every event listed, with its arguments, in order. */
  function record(breaker: AntifragileBreaker, names: string[]): [string, unknown[]][] {
    const seen: [string, unknown[]][] = [];
    const emitter = breaker as unknown as { on(name: string, fn: (...args: unknown[]) => void): unknown };
    for (const name of names) emitter.on(name, (...args: unknown[]) => void seen.push([name, args]));
    return seen;
  }

  describe('fire and call', () => {
    it('resolves with the action result, passing the arguments through', async () => {
      const breaker = track(new Impl((a: number, b: number) => Promise.resolve(a + b)));
      await expect(breaker.fire(1, 2)).resolves.toBe(3);
    });

    it('accepts actions that return plain values', async () => {
      const breaker = track(new Impl((a: number) => a * 2));
      await expect(breaker.fire(21)).resolves.toBe(42);
    });

    it('call() runs the action with the given this', async () => {
      const breaker = track(new Impl(function (this: { base: number }, x: number) {
        return Promise.resolve(this.base + x);
      }));
      await expect(breaker.call({ base: 40 }, 2)).resolves.toBe(42);
    });

    it('a non-function action resolves with that value', async () => {
      const breaker = track(new Impl('foo'));
      await expect(breaker.fire()).resolves.toBe('foo');
    });

    it('throws a TypeError without an action', () => {
      expect(() => new Impl(undefined as unknown as () => void)).toThrow(TypeError);
    });

    it('names the circuit after the action, the group after the name, unless told', () => {
      async function fetchPrice(): Promise<number> {
        return 1;
      }
      const named = track(new Impl(fetchPrice));
      expect(named.name).toBe('fetchPrice');
      expect(named.group).toBe('fetchPrice');
      const explicit = track(new Impl(fetchPrice, { name: 'pricing', group: 'upstream' }));
      expect(explicit.name).toBe('pricing');
      expect(explicit.group).toBe('upstream');
      const anonymous = track(new Impl('x'));
      expect(anonymous.name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it("emits 'fire' with the arguments and 'success' with the result and a latency", async () => {
      const breaker = track(new Impl((x: string) => Promise.resolve(x.toUpperCase())));
      const seen = record(breaker, ['fire', 'success']);
      await breaker.fire('a');
      expect(seen.map(([name]) => name)).toEqual(['fire', 'success']);
      expect(seen[0]?.[1]).toEqual([['a']]);
      expect(seen[1]?.[1][0]).toBe('A');
      expect(typeof seen[1]?.[1][1]).toBe('number');
    });

    it("rejects with the action's error and emits 'failure' with the error, a latency and the arguments", async () => {
      const breaker = track(new Impl((_x: number) => Promise.reject(boom)));
      const seen = record(breaker, ['failure']);
      await expect(breaker.fire(7)).rejects.toBe(boom);
      expect(seen).toHaveLength(1);
      const [error, latency, args] = seen[0]?.[1] ?? [];
      expect(error).toBe(boom);
      expect(typeof latency).toBe('number');
      expect(args).toEqual([7]);
      expect(Impl.isOurError(boom)).toBe(false);
    });

    it('counts a synchronous throw as a failure', async () => {
      const breaker = track(new Impl(() => {
        throw boom;
      }));
      await expect(breaker.fire()).rejects.toBe(boom);
      expect(breaker.stats.failures).toBe(1);
    });
  });

  describe('opening', () => {
    it('opens when the failure percentage of fires strictly exceeds errorThresholdPercentage', async () => {
      let fail = false;
      const breaker = track(new Impl(() => (fail ? Promise.reject(boom) : Promise.resolve('ok')), {
        errorThresholdPercentage: 50,
      }));
      await breaker.fire();
      fail = true;
      await expect(breaker.fire()).rejects.toBe(boom); // 1 of 2 = 50%: not above
      expect(breaker.closed).toBe(true);
      await expect(breaker.fire()).rejects.toBe(boom); // 2 of 3
      expect(breaker.opened).toBe(true);
      expect(breaker.closed).toBe(false);
    });

    it('stays closed until volumeThreshold fires are in the window', async () => {
      const breaker = track(new Impl(() => Promise.reject(boom), { volumeThreshold: 3 }));
      expect(breaker.volumeThreshold).toBe(3);
      await expect(breaker.fire()).rejects.toBe(boom);
      await expect(breaker.fire()).rejects.toBe(boom);
      expect(breaker.closed).toBe(true);
      await expect(breaker.fire()).rejects.toBe(boom);
      expect(breaker.opened).toBe(true);
    });

    it("fails fast when open: EOPENBREAKER, 'reject', rejects counted, the action not called", async () => {
      let calls = 0;
      const breaker = track(new Impl(() => {
        calls++;
        return Promise.resolve('ok');
      }));
      const seen = record(breaker, ['reject', 'open']);
      breaker.open();
      const error = (await errorOf(breaker.fire())) as Error & { code: string };
      expect(error.code).toBe('EOPENBREAKER');
      expect(error.message).toBe('Breaker is open');
      expect(error).toBeInstanceOf(Error);
      expect(Impl.isOurError(error)).toBe(true);
      expect(calls).toBe(0);
      expect(seen.map(([name]) => name)).toEqual(['open', 'reject']);
      expect(seen[1]?.[1]).toEqual([error]);
      expect(breaker.stats.rejects).toBe(1);
      expect(breaker.stats.fires).toBe(1);
    });

    it('open() and close() are idempotent and emit once', () => {
      const breaker = track(new Impl(() => Promise.resolve(1)));
      const seen = record(breaker, ['open', 'close']);
      breaker.open();
      breaker.open();
      breaker.close();
      breaker.close();
      expect(seen.map(([name]) => name)).toEqual(['open', 'close']);
    });
  });

  describe('fallback', () => {
    it("is called with the arguments and the error; 'failure', 'open' then 'fallback'; fire resolves with it", async () => {
      const breaker = track(new Impl((_a: number, _b: string) => Promise.reject(boom)));
      const calls: unknown[][] = [];
      expect(breaker.fallback((...args: unknown[]) => {
        calls.push(args);
        return 'fallback value';
      })).toBe(breaker);
      const seen = record(breaker, ['failure', 'open', 'fallback']);
      await expect(breaker.fire(1, 'two')).resolves.toBe('fallback value');
      expect(calls).toEqual([[1, 'two', boom]]);
      expect(seen.map(([name]) => name)).toEqual(['failure', 'open', 'fallback']);
      expect(seen[2]?.[1]).toEqual(['fallback value', boom]);
      expect(breaker.stats.fallbacks).toBe(1);
    });

    it('runs for refused calls too, with the EOPENBREAKER error', async () => {
      const breaker = track(new Impl((_x: number) => Promise.resolve('live')));
      let received: unknown[] = [];
      breaker.fallback((...args: unknown[]) => {
        received = args;
        return 'cached';
      });
      breaker.open();
      await expect(breaker.fire(5)).resolves.toBe('cached');
      expect(received[0]).toBe(5);
      expect((received[1] as { code: string }).code).toBe('EOPENBREAKER');
    });

    it('a fallback that throws or rejects makes fire reject with its error', async () => {
      const breaker = track(new Impl(() => Promise.reject(boom)));
      const fallbackError = new Error('fallback failed');
      breaker.fallback(() => {
        throw fallbackError;
      });
      await expect(breaker.fire()).rejects.toBe(fallbackError);
      breaker.fallback(() => Promise.reject(fallbackError));
      await expect(breaker.fire()).rejects.toBe(fallbackError);
    });

    it('may be another breaker, fired with the arguments and the error', async () => {
      const breaker = track(new Impl((_x: number) => Promise.reject(boom)));
      const backup = track(new Impl((x: number, error: Error) => Promise.resolve(`backup ${x} after ${error.message}`)));
      breaker.fallback(backup);
      await expect(breaker.fire(3)).resolves.toBe('backup 3 after boom');
    });
  });

  describe('half-open', () => {
    it("emits 'halfOpen' with resetTimeout, lets one probe through, and closes on its success (before 'success' listeners run)", async () => {
      let fail = true;
      const breaker = track(new Impl(() => (fail ? Promise.reject(boom) : Promise.resolve('ok')), { resetTimeout: 15 }));
      const seen = record(breaker, ['open', 'halfOpen', 'success', 'close']);
      await expect(breaker.fire()).rejects.toBe(boom);
      expect(breaker.opened).toBe(true);
      const [resetTimeout] = await once(breaker, 'halfOpen');
      expect(resetTimeout).toBe(15);
      expect(breaker.halfOpen).toBe(true);
      expect(breaker.pendingClose).toBe(true);
      fail = false;
      const probe = breaker.fire();
      expect(breaker.pendingClose).toBe(false);
      const second = (await errorOf(breaker.fire())) as { code: string };
      expect(second.code).toBe('EOPENBREAKER');
      await expect(probe).resolves.toBe('ok');
      expect(breaker.closed).toBe(true);
      // opossum closes from its own 'success' listener, which runs before the user's.
      expect(seen.map(([name]) => name)).toEqual(['open', 'halfOpen', 'close', 'success']);
    });

    it('re-opens when the probe fails', async () => {
      const breaker = track(new Impl(() => Promise.reject(boom), { resetTimeout: 15 }));
      breaker.open();
      await once(breaker, 'halfOpen');
      const seen = record(breaker, ['failure', 'open']);
      await expect(breaker.fire()).rejects.toBe(boom);
      expect(breaker.opened).toBe(true);
      expect(seen.map(([name]) => name)).toEqual(['failure', 'open']);
    });
  });

  describe('timeout', () => {
    it("rejects with ETIMEDOUT, emits 'timeout' then 'failure', and counts both", async () => {
      const breaker = track(new Impl((_x: number) => never(), { timeout: 5 }));
      const seen = record(breaker, ['timeout', 'failure', 'open']);
      const error = (await errorOf(breaker.fire(1))) as Error & { code: string };
      expect(error.code).toBe('ETIMEDOUT');
      expect(error.message).toBe('Timed out after 5ms');
      expect(Impl.isOurError(error)).toBe(true);
      expect(seen.map(([name]) => name)).toEqual(['timeout', 'failure', 'open']);
      const [timeoutError, latency, args] = seen[0]?.[1] ?? [];
      expect(timeoutError).toBe(error);
      expect(latency).toBeGreaterThanOrEqual(4);
      expect(args).toEqual([1]);
      expect(breaker.stats.timeouts).toBe(1);
      expect(breaker.stats.failures).toBe(1);
    });

    it("with a fallback: 'timeout', 'failure', 'open', then 'fallback'", async () => {
      const breaker = track(new Impl(() => never(), { timeout: 5 }));
      breaker.fallback(() => 'fallback');
      const seen = record(breaker, ['timeout', 'failure', 'open', 'fallback']);
      await expect(breaker.fire()).resolves.toBe('fallback');
      expect(seen.map(([name]) => name)).toEqual(['timeout', 'failure', 'open', 'fallback']);
    });

    it('passes timeouts through errorFilter too', async () => {
      const breaker = track(new Impl(() => never(), {
        timeout: 5,
        errorFilter: (error: Error) => (error as Error & { code?: string }).code === 'ETIMEDOUT',
      }));
      const seen = record(breaker, ['timeout', 'success', 'failure']);
      expect(((await errorOf(breaker.fire())) as { code: string }).code).toBe('ETIMEDOUT');
      expect(seen.map(([name]) => name)).toEqual(['timeout', 'success']);
      expect(breaker.closed).toBe(true);
      expect(breaker.stats.timeouts).toBe(1);
      expect(breaker.stats.failures).toBe(0);
    });

    it('aborts options.abortController when a call times out', async () => {
      const abortController = new AbortController();
      const breaker = track(new Impl((signal: AbortSignal) => new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }), { timeout: 5, abortController }));
      expect(breaker.getAbortController()).toBe(abortController);
      expect(breaker.getSignal()).toBe(abortController.signal);
      const error = (await errorOf(breaker.fire(abortController.signal))) as { code: string };
      expect(error.code).toBe('ETIMEDOUT');
      expect(abortController.signal.aborted).toBe(true);
    });

    it('autoRenewAbortController creates a controller and renews it once the circuit closes', async () => {
      const breaker = track(new Impl((_signal: AbortSignal | undefined) => never(), { timeout: 5, autoRenewAbortController: true }));
      const first = breaker.getSignal();
      expect(first).toBeInstanceOf(AbortSignal);
      await errorOf(breaker.fire(first));
      expect(first?.aborted).toBe(true);
      expect(breaker.opened).toBe(true);
      breaker.close();
      expect(breaker.getSignal()).not.toBe(first);
      expect(breaker.getSignal()?.aborted).toBe(false);
    });

    it('timeout: false disables the timeout', async () => {
      let finish: (value: string) => void = () => {};
      const breaker = track(new Impl(() => new Promise<string>((resolve) => (finish = resolve)), { timeout: false }));
      const call = breaker.fire();
      await new Promise((resolve) => setTimeout(resolve, 15));
      finish('late but fine');
      await expect(call).resolves.toBe('late but fine');
      expect(breaker.stats.timeouts).toBe(0);
    });
  });

  describe('errorFilter', () => {
    it("excused errors still reject, emit 'success', skip the fallback and do not count as failures", async () => {
      const notFound = Object.assign(new Error('not found'), { statusCode: 404 });
      const filterCalls: unknown[][] = [];
      const breaker = track(new Impl((_id: string) => Promise.reject(notFound), {
        errorFilter: (error: Error, ...args: unknown[]) => {
          filterCalls.push([error, ...args]);
          return (error as Error & { statusCode?: number }).statusCode === 404;
        },
      }));
      let fallbackCalled = false;
      breaker.fallback(() => {
        fallbackCalled = true;
        return 'fallback';
      });
      const seen = record(breaker, ['success', 'failure']);
      await expect(breaker.fire('id-1')).rejects.toBe(notFound);
      expect(filterCalls).toEqual([[notFound, 'id-1']]);
      expect(fallbackCalled).toBe(false);
      expect(seen.map(([name]) => name)).toEqual(['success']);
      expect(seen[0]?.[1][0]).toBe(notFound);
      expect(breaker.closed).toBe(true);
      expect(breaker.stats.failures).toBe(0);
      expect(breaker.stats.successes).toBe(1);
    });
  });

  describe('capacity', () => {
    it("rejects calls beyond capacity with ESEMLOCKED, 'semaphoreLocked', counted as a failure", async () => {
      let release: () => void = () => {};
      const breaker = track(new Impl(() => new Promise<void>((resolve) => (release = resolve)), { capacity: 1 }));
      const seen = record(breaker, ['semaphoreLocked', 'failure']);
      const first = breaker.fire();
      const error = (await errorOf(breaker.fire())) as Error & { code: string };
      expect(error.code).toBe('ESEMLOCKED');
      expect(error.message).toBe('Semaphore locked');
      expect(Impl.isOurError(error)).toBe(true);
      expect(seen.map(([name]) => name)).toEqual(['semaphoreLocked', 'failure']);
      expect(seen[0]?.[1][0]).toBe(error);
      expect(breaker.stats.semaphoreRejections).toBe(1);
      expect(breaker.stats.failures).toBe(1);
      release();
      await first;
      const third = breaker.fire();
      release();
      await expect(third).resolves.toBeUndefined();
    });
  });

  describe('cache', () => {
    it('returns the first successful result per key until clearCache()', async () => {
      let calls = 0;
      const breaker = track(new Impl((x: number) => Promise.resolve(`${x}:${++calls}`), { cache: true }));
      const seen = record(breaker, ['cacheHit', 'cacheMiss']);
      await expect(breaker.fire(1)).resolves.toBe('1:1');
      await expect(breaker.fire(1)).resolves.toBe('1:1');
      await expect(breaker.fire(2)).resolves.toBe('2:2');
      expect(seen.map(([name]) => name)).toEqual(['cacheMiss', 'cacheHit', 'cacheMiss']);
      expect(breaker.stats.cacheHits).toBe(1);
      expect(breaker.stats.cacheMisses).toBe(2);
      expect(breaker.stats.fires).toBe(3);
      breaker.clearCache();
      await expect(breaker.fire(1)).resolves.toBe('1:3');
    });

    it('serves cached results even while open, and uses cacheGetKey', async () => {
      let calls = 0;
      const breaker = track(new Impl((user: { id: number; at: number }) => Promise.resolve(`${user.id}#${++calls}`), {
        cache: true,
        cacheGetKey: (user: { id: number; at: number }) => String(user.id),
      }));
      await breaker.fire({ id: 1, at: 1 });
      breaker.open();
      await expect(breaker.fire({ id: 1, at: 2 })).resolves.toBe('1#1');
    });

    it('rejects a malformed cacheTransport with a TypeError', () => {
      expect(() => new Impl(() => 1, { cache: true, cacheTransport: {} as never })).toThrow(TypeError);
    });
  });

  describe('coalesce', () => {
    it('shares one execution between concurrent calls with the same key', async () => {
      let calls = 0;
      const breaker = track(new Impl((x: number) => new Promise<string>((resolve) => setImmediate(() => resolve(`${x}:${++calls}`))), {
        coalesce: true,
      }));
      const seen = record(breaker, ['coalesceCacheHit', 'coalesceCacheMiss']);
      const [a, b, c] = await Promise.all([breaker.fire(1), breaker.fire(1), breaker.fire(2)]);
      expect([a, b, c]).toEqual(['1:1', '1:1', '2:2']);
      expect(seen.map(([name]) => name)).toEqual(['coalesceCacheMiss', 'coalesceCacheHit', 'coalesceCacheMiss']);
      expect(breaker.stats.coalesceCacheHits).toBe(1);
      expect(breaker.stats.coalesceCacheMisses).toBe(2);
    });
  });

  describe('enable / disable', () => {
    it('a disabled circuit runs the action even when open, without fallback, still counting fires', async () => {
      let calls = 0;
      const breaker = track(new Impl(() => Promise.resolve(++calls), { enabled: false }));
      expect(breaker.enabled).toBe(false);
      breaker.fallback(() => 'fallback');
      breaker.open();
      await expect(breaker.fire()).resolves.toBe(1);
      expect(breaker.stats.fires).toBe(1);
      expect(breaker.stats.successes).toBe(0);
      breaker.enable();
      expect(breaker.enabled).toBe(true);
      await expect(breaker.fire()).resolves.toBe('fallback');
      breaker.disable();
      expect(breaker.enabled).toBe(false);
      await expect(breaker.fire()).resolves.toBe(2);
    });
  });

  describe('shutdown', () => {
    it("emits 'shutdown', then refuses every call with ESHUTDOWN", async () => {
      const breaker = track(new Impl(() => Promise.resolve(1)));
      let shutdownEvents = 0;
      breaker.on('shutdown', () => void shutdownEvents++);
      breaker.shutdown();
      expect(shutdownEvents).toBe(1);
      expect(breaker.isShutdown).toBe(true);
      expect(breaker.enabled).toBe(false);
      expect(breaker.closed).toBe(false);
      expect(breaker.opened).toBe(false);
      expect(breaker.halfOpen).toBe(false);
      expect(breaker.eventNames()).toEqual([]);
      const error = (await errorOf(breaker.fire())) as Error & { code: string };
      expect(error.code).toBe('ESHUTDOWN');
      expect(error.message).toBe('The circuit has been shutdown.');
      expect(Impl.isOurError(error)).toBe(true);
    });
  });

  describe('healthCheck', () => {
    it("opens the circuit and emits 'healthCheckFailed' when the check rejects; the check runs as the breaker", async () => {
      const breaker = track(new Impl(() => Promise.resolve(1)));
      const unhealthy = new Error('unhealthy');
      const thisValues: unknown[] = [];
      const failed = once(breaker, 'healthCheckFailed');
      breaker.healthCheck(function (this: unknown) {
        thisValues.push(this);
        return Promise.reject(unhealthy);
      }, 10_000);
      const [error] = await failed;
      expect(error).toBe(unhealthy);
      expect(thisValues).toEqual([breaker]);
      expect(breaker.opened).toBe(true);
    });

    it('validates its arguments', () => {
      const breaker = track(new Impl(() => Promise.resolve(1)));
      expect(() => breaker.healthCheck('nope' as never)).toThrow(new TypeError('Health check function must be a function'));
      expect(() => breaker.healthCheck(() => Promise.resolve(), 'x' as never)).toThrow(
        new TypeError('Health check interval must be a number'),
      );
    });
  });

  describe('warm-up', () => {
    it('allowWarmUp keeps the circuit closed on failures during the first rollingCountTimeout', async () => {
      const breaker = track(new Impl(() => Promise.reject(boom), { allowWarmUp: true, rollingCountTimeout: 10_000 }));
      expect(breaker.warmUp).toBe(true);
      for (let i = 0; i < 5; i++) await expect(breaker.fire()).rejects.toBe(boom);
      expect(breaker.closed).toBe(true);
      expect(breaker.stats.failures).toBe(5);
    });

    it('without it, a first failure opens the circuit', async () => {
      const breaker = track(new Impl(() => Promise.reject(boom)));
      expect(breaker.warmUp).toBe(false);
      await expect(breaker.fire()).rejects.toBe(boom);
      expect(breaker.opened).toBe(true);
    });
  });

  describe('toJSON and restoring state', () => {
    it('exports the state and the stats', async () => {
      const breaker = track(new Impl(() => Promise.resolve(1), { name: 'exported' }));
      await breaker.fire();
      const json = breaker.toJSON();
      expect(Object.keys(json)).toEqual(['state', 'status']);
      expect(json.state).toMatchObject({
        name: 'exported',
        enabled: true,
        closed: true,
        open: false,
        halfOpen: false,
        warmUp: false,
        shutdown: false,
      });
      expect(Object.keys(json.state)).toEqual(['name', 'enabled', 'closed', 'open', 'halfOpen', 'warmUp', 'shutdown', 'lastTimerAt']);
      expect(json.status.fires).toBe(1);
      expect(json.status.successes).toBe(1);
    });

    it('restores an open circuit', async () => {
      const source = track(new Impl(() => Promise.resolve(1)));
      source.open();
      const restored = track(new Impl(() => Promise.resolve(1), { state: source.toJSON().state }));
      expect(restored.opened).toBe(true);
      expect(((await errorOf(restored.fire())) as { code: string }).code).toBe('EOPENBREAKER');
    });

    it('restores a circuit that opened more than resetTimeout ago as half-open', () => {
      const restored = track(new Impl(() => Promise.resolve(1), {
        resetTimeout: 1_000,
        state: { closed: false, open: true, halfOpen: false, lastTimerAt: Date.now() - 60_000 },
      }));
      expect(restored.halfOpen).toBe(true);
      expect(restored.pendingClose).toBe(true);
    });

    it('restores a half-open circuit with its probe pending', async () => {
      const restored = track(new Impl(() => Promise.resolve('ok'), { state: { closed: false, halfOpen: true } }));
      expect(restored.halfOpen).toBe(true);
      expect(restored.pendingClose).toBe(true);
      await expect(restored.fire()).resolves.toBe('ok');
      expect(restored.closed).toBe(true);
    });

    it('restores disabled, warming-up and shut-down circuits', async () => {
      const disabled = track(new Impl(() => Promise.resolve(1), { state: { enabled: false } }));
      expect(disabled.enabled).toBe(false);
      expect(disabled.closed).toBe(true);
      const warming = track(new Impl(() => Promise.resolve(1), { state: { warmUp: true } }));
      expect(warming.warmUp).toBe(true);
      const shut = track(new Impl(() => Promise.resolve(1), { state: { shutdown: true } }));
      expect(shut.isShutdown).toBe(true);
      expect(((await errorOf(shut.fire())) as { code: string }).code).toBe('ESHUTDOWN');
    });

    it('primes the stats from a previous status, as a plain object or through newStatus()', async () => {
      const source = track(new Impl(() => Promise.reject(boom), { allowWarmUp: true }));
      await errorOf(source.fire());
      await errorOf(source.fire());
      const fromObject = track(new Impl(() => Promise.resolve(1), { status: source.toJSON().status }));
      expect(fromObject.stats.failures).toBe(2);
      expect(fromObject.stats.fires).toBe(2);
      const status = Impl.newStatus({ stats: source.stats });
      const fromStatus = track(new Impl(() => Promise.resolve(1), { status }));
      expect(fromStatus.status).toBe(status);
      await fromStatus.fire();
      expect(fromStatus.stats.fires).toBe(3);
    });
  });

  describe('stats and status', () => {
    it('has the same stats shape and percentile keys', async () => {
      const breaker = track(new Impl(() => Promise.resolve(1)));
      await breaker.fire();
      const stats = breaker.stats;
      expect(Object.keys(stats)).toEqual(STATS_KEYS);
      expect(Object.keys(stats.percentiles)).toEqual(PERCENTILE_KEYS);
      expect(stats.latencyTimes).toHaveLength(1);
      expect(stats.latencyMean).toBe(stats.latencyTimes[0]);
    });

    it('reports -1 for latency summaries when rollingPercentilesEnabled is false', async () => {
      const breaker = track(new Impl(() => Promise.resolve(1), { rollingPercentilesEnabled: false }));
      await breaker.fire();
      expect(breaker.stats.latencyMean).toBe(-1);
      expect(Object.values(breaker.stats.percentiles)).toEqual(PERCENTILE_KEYS.map(() => -1));
      expect(breaker.stats.latencyTimes).toEqual([]);
    });

    it('exposes the rolling window as rollingCountBuckets buckets, newest first', async () => {
      const breaker = track(new Impl(() => Promise.resolve(1), { rollingCountBuckets: 5, rollingCountTimeout: 5_000 }));
      await breaker.fire();
      breaker.open();
      const window = breaker.status.window;
      expect(window).toHaveLength(5);
      expect(window[0]).toMatchObject({ fires: 1, successes: 1, isCircuitBreakerOpen: true });
      expect(window[1]?.fires).toBe(0);
    });

    it('lists its built-in events from the start (opossum-prometheus counts these)', () => {
      const breaker = track(new Impl(() => Promise.resolve(1)));
      expect(breaker.eventNames()).toEqual(expect.arrayContaining([
        'success', 'failure', 'fallback', 'timeout', 'fire', 'reject', 'cacheHit', 'cacheMiss',
        'coalesceCacheHit', 'coalesceCacheMiss', 'open', 'close', 'semaphoreLocked',
      ]));
    });

    it('on() chains like an EventEmitter', () => {
      const breaker = track(new Impl(() => Promise.resolve(1)));
      expect(breaker.on('open', () => {}).on('close', () => {})).toBe(breaker);
    });
  });
});
