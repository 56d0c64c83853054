import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DistributedRateLimiter, type DistributedRateLimiterOptions, type RateLimitDecision } from '../../../src/adapters/redis/distributed-rate-limiter.js';
import { isRateLimitedError, RateLimitedError } from '../../../src/core/errors.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { pipeline } from '../../../src/policies/pipeline.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { errorOf } from '../../support/promises.js';
import { PrivateRedisServer } from '../../support/redis-server.js';

failOnUnhandledRejections();

let server: PrivateRedisServer;
let client: Redis;
const extraClients: Redis[] = [];
let run = 0;

beforeAll(async () => {
  server = await PrivateRedisServer.start();
  client = new Redis(server.options);
});
afterAll(async () => {
  client.disconnect();
  await server.stop();
});
afterEach(() => {
  for (const c of extraClients.splice(0)) c.disconnect();
});

/** A limiter on its own name, so tests never share keys. */
function limiter(options: Partial<DistributedRateLimiterOptions> = {}): DistributedRateLimiter {
  return new DistributedRateLimiter({ client, capacity: 5, refillPerSecond: 10, name: `t${++run}`, ...options });
}

const poll = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await condition()) return;
    await poll();
  }
  throw new Error(`timed out waiting for ${what}`);
}

const pick = (d: RateLimitDecision): Omit<RateLimitDecision, 'source'> => ({
  allowed: d.allowed,
  remaining: d.remaining,
  retryAfterMs: d.retryAfterMs,
  resetAfterMs: d.resetAfterMs,
});

describe('options', () => {
  it('reports every bad field with its path', () => {
    let error: unknown;
    try {
      new DistributedRateLimiter({
        client: {} as never,
        capacity: 0.5,
        refillPerSecond: 0,
        redisTimeoutMs: -1,
        onRedisUnavailable: 'maybe' as never,
        maxLocalKeys: 0,
        defaultKey: '',
        clock: {} as never,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path).sort()).toEqual(
      ['capacity', 'client', 'clock', 'defaultKey', 'maxLocalKeys', 'onRedisUnavailable', 'redisTimeoutMs', 'refillPerSecond'].sort(),
    );
  });

  it('requires client, capacity and refillPerSecond', () => {
    expect(() => new DistributedRateLimiter({} as never)).toThrow(/client.*\n.*capacity.*\n.*refillPerSecond/s);
  });
});

describe('GCRA on Redis with an injected clock', () => {
  it('allows a burst of capacity, then one permit per interval, with exact retryAfterMs', async () => {
    const clock = new VirtualClock(1_000_000);
    const rl = limiter({ clock }); // 5 permits, one more every 100 ms
    const burst = [];
    for (let i = 0; i < 5; i++) burst.push(pick(await rl.tryAcquire('k')));
    expect(burst).toEqual([4, 3, 2, 1, 0].map((remaining, i) => ({ allowed: true, remaining, retryAfterMs: 0, resetAfterMs: (i + 1) * 100 })));
    const refused = await rl.tryAcquire('k');
    expect(refused).toEqual({ allowed: false, remaining: 0, retryAfterMs: 100, resetAfterMs: 500, source: 'redis' });

    clock.advance(99);
    expect(pick(await rl.tryAcquire('k'))).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1, resetAfterMs: 401 });
    clock.advance(1);
    expect(pick(await rl.tryAcquire('k'))).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 500 });

    clock.advance(250); // 2.5 permits back
    expect(pick(await rl.tryAcquire('k', 3))).toEqual({ allowed: false, remaining: 2, retryAfterMs: 50, resetAfterMs: 250 });
    expect(pick(await rl.tryAcquire('k', 2))).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 450 });
    expect(pick(await rl.tryAcquire('k', 5))).toEqual({ allowed: false, remaining: 0, retryAfterMs: 450, resetAfterMs: 450 });

    clock.advance(450); // full again
    expect(pick(await rl.tryAcquire('k', 5))).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 500 });
  });

  it('never reports more remaining permits than the capacity, even when the slack covers many refills', async () => {
    const rl = limiter({ clock: new VirtualClock(1_000_000), capacity: 10, refillPerSecond: 1e9 }); // the 1 µs slack is 1000 permits
    expect((await rl.tryAcquire('k')).remaining).toBe(10);
    expect((await rl.tryAcquire('k')).remaining).toBe(10);
  });

  it('refuses a request larger than the bucket clearly, and bad permits or keys', async () => {
    const rl = limiter({ clock: new VirtualClock() });
    await expect(rl.tryAcquire('k', 6)).rejects.toThrow(/6 permits can never be taken at once: capacity is 5/);
    await expect(rl.tryAcquire('k', 0)).rejects.toThrow(RangeError);
    await expect(rl.tryAcquire('k', Number.NaN)).rejects.toThrow(RangeError);
    await expect(rl.tryAcquire('')).rejects.toThrow(/key must be a non-empty string/);
    await expect(rl.execute(() => 1, { permits: 6 })).rejects.toThrow(RangeError);
    expect(() => rl.forKey('k', 6)).toThrow(RangeError);
    // Nothing was taken by the refused requests.
    expect((await rl.tryAcquire('k', 5)).allowed).toBe(true);
  });

  it('keeps keys apart, and uses defaultKey when none is given', async () => {
    const rl = limiter({ clock: new VirtualClock(), capacity: 2 });
    expect((await rl.tryAcquire(undefined, 2)).allowed).toBe(true);
    expect((await rl.tryAcquire()).allowed).toBe(false);
    expect((await rl.tryAcquire('other', 2)).allowed).toBe(true);
    expect(await client.exists(`antifragile:rate-limit:${rl.name}:default`, `antifragile:rate-limit:${rl.name}:other`)).toBe(2);
  });

  it('expires a key once its bucket would be full again', async () => {
    const clock = new VirtualClock(5_000);
    const rl = limiter({ clock, capacity: 5, refillPerSecond: 10 });
    await rl.tryAcquire('ttl', 3); // full again in 300 ms
    const pttl = await client.pttl(`antifragile:rate-limit:${rl.name}:ttl`);
    expect(pttl).toBeGreaterThan(200);
    expect(pttl).toBeLessThanOrEqual(300);
    // Redis expires it on its own clock: the idle key vanishes.
    await until(async () => (await client.exists(`antifragile:rate-limit:${rl.name}:ttl`)) === 0, 'the idle key to expire');
  });

  it('decides exactly as the in-process GCRA of the local fallback (property)', async () => {
    const down = new Redis({ ...server.options, lazyConnect: true });
    extraClients.push(down);
    down.disconnect(); // status 'end': every decision goes to the fallback at once
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(1, 2, 4, 10, 3),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 1, max: 8 })), { minLength: 1, maxLength: 25 }),
        async (capacity, refillPerSecond, steps) => {
          const clock = new VirtualClock(1_700_000_000_000);
          const remote = limiter({ clock, capacity, refillPerSecond });
          const local = new DistributedRateLimiter({ client: down, clock, capacity, refillPerSecond, name: remote.name });
          for (const [advance, permits] of steps) {
            clock.advance(advance);
            const n = Math.min(permits, capacity);
            const r = await remote.tryAcquire('p', n);
            const l = await local.tryAcquire('p', n);
            expect(r.source).toBe('redis');
            expect(l.source).toBe('local');
            expect(pick(r)).toEqual(pick(l));
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('concurrency', () => {
  it('1,000 concurrent requests on a burst of 100 get exactly 100 permits (Redis TIME)', async () => {
    const rl = limiter({ capacity: 100, refillPerSecond: 0.001 });
    const decisions = await Promise.all(Array.from({ length: 1_000 }, () => rl.tryAcquire('hot')));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(100);
    expect(new Set(decisions.map((d) => d.source))).toEqual(new Set(['redis']));
    const refused = decisions.find((d) => !d.allowed) as RateLimitDecision;
    expect(refused.retryAfterMs).toBeGreaterThan(999_000); // one permit per 1 000 s
  });

  it('two connections (two instances) share one limit', async () => {
    const other = new Redis(server.options);
    extraClients.push(other);
    const a = limiter({ capacity: 50, refillPerSecond: 0.001 });
    const b = new DistributedRateLimiter({ client: other, capacity: 50, refillPerSecond: 0.001, name: a.name });
    const decisions = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).tryAcquire('shared')));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(50);
  });
});

describe('execute', () => {
  it('runs the function with a permit and refuses with RateLimitedError over the limit', async () => {
    const clock = new VirtualClock();
    const rl = limiter({ clock, capacity: 2 });
    const rejected: unknown[] = [];
    rl.on('rejected', (e) => rejected.push(e));
    expect(await rl.execute(({ attempt }) => `ran ${attempt}`, { key: 'x' })).toBe('ran 1');
    expect(await rl.execute(() => 'ran', { key: 'x' })).toBe('ran');
    let ran = false;
    const error = await errorOf(rl.execute(() => (ran = true), { key: 'x' }));
    expect(ran).toBe(false);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(isRateLimitedError(error)).toBe(true);
    expect((error as RateLimitedError).code).toBe('RATE_LIMITED');
    expect((error as RateLimitedError).retryAfterMs).toBe(100);
    expect((error as Error).message).toMatch(new RegExp(`Rate limit "${rl.name}" exceeded for key "x"; permits free in 100 ms`));
    expect(rejected).toEqual([{ name: rl.name, key: 'x', permits: 1, retryAfterMs: 100, source: 'redis' }]);
    // Other keys are unaffected; permits are a cost.
    expect(await rl.execute(() => 'y', { key: 'y', permits: 2 })).toBe('y');
    await expect(rl.execute(() => 'y', { key: 'y' })).rejects.toThrow(RateLimitedError);
  });

  it('forKey() gives a policy for pipelines', async () => {
    const rl = limiter({ clock: new VirtualClock(), capacity: 1 });
    const policy = pipeline(rl.forKey('partner'));
    expect(await policy.execute(() => 42)).toBe(42);
    await expect(policy.execute(() => 42)).rejects.toThrow(RateLimitedError);
  });

  it('rejects with the signal reason when aborted before or while waiting for Redis', async () => {
    const rl = limiter({ clock: new VirtualClock() });
    const before = new AbortController();
    before.abort(new Error('gone'));
    await expect(rl.execute(() => 1, { signal: before.signal })).rejects.toThrow('gone');
    const during = new AbortController();
    const pending = rl.execute(() => 1, { signal: during.signal });
    during.abort(new Error('left'));
    await expect(pending).rejects.toThrow('left');
  });
});

describe('when Redis is unavailable', () => {
  let outage: PrivateRedisServer;
  let outageClient: Redis;
  beforeAll(async () => {
    outage = await PrivateRedisServer.start();
  });
  afterAll(async () => {
    await outage.stop();
  });
  afterEach(async () => {
    outageClient.disconnect();
    outage.resume();
    if (!outage.running) await outage.restart();
  });

  async function connectOutage(): Promise<void> {
    outageClient = new Redis(outage.options);
    outageClient.on('error', () => undefined); // the outage is the point
    await outageClient.ping();
  }

  async function killed(mode: DistributedRateLimiterOptions['onRedisUnavailable']) {
    await connectOutage();
    const clock = new VirtualClock();
    const rl = new DistributedRateLimiter({ client: outageClient, clock, capacity: 2, refillPerSecond: 10, ...(mode === undefined ? {} : { onRedisUnavailable: mode }) });
    const events: string[] = [];
    rl.on('fallback', (e) => events.push(`fallback ${e.mode}`));
    rl.on('recovered', () => events.push('recovered'));
    expect((await rl.tryAcquire('k')).source).toBe('redis');
    await outage.kill();
    await until(() => outageClient.status !== 'ready', 'the client to see the outage');
    return { rl, clock, events };
  }

  it("'local' (default): each instance limits with an in-process bucket, then Redis takes over again", async () => {
    const { rl, clock, events } = await killed(undefined);
    const decisions = [await rl.tryAcquire('k'), await rl.tryAcquire('k'), await rl.tryAcquire('k')];
    expect(decisions.map((d) => [d.allowed, d.source])).toEqual([
      [true, 'local'],
      [true, 'local'],
      [false, 'local'],
    ]);
    expect(decisions[2]?.retryAfterMs).toBe(100);
    expect(rl.usingFallback).toBe(true);
    await expect(rl.execute(() => 1, { key: 'k' })).rejects.toThrow(RateLimitedError);
    expect(events).toEqual(['fallback local']);

    await outage.restart();
    await until(() => outageClient.status === 'ready', 'the client to reconnect');
    clock.advance(10);
    const back = await rl.tryAcquire('k');
    expect(back.source).toBe('redis');
    expect(back.allowed).toBe(true); // the restarted server is empty
    expect(events).toEqual(['fallback local', 'recovered']);
    expect(rl.usingFallback).toBe(false);
  });

  it("'allow' lets calls through and 'deny' refuses them", async () => {
    const allow = await killed('allow');
    const allowed = await Promise.all([1, 2, 3].map(() => allow.rl.tryAcquire('k')));
    expect(allowed.every((d) => d.allowed && d.source === 'allow')).toBe(true);
    expect(await allow.rl.execute(() => 'through')).toBe('through');
    expect(allow.events).toEqual(['fallback allow']);
    outageClient.disconnect();
    await outage.restart();

    const deny = await killed('deny');
    const denied = await deny.rl.tryAcquire('k');
    expect(denied).toEqual({ allowed: false, remaining: 0, retryAfterMs: 0, resetAfterMs: 0, source: 'deny' });
    const error = await errorOf(deny.rl.execute(() => 'never'));
    expect(isRateLimitedError(error)).toBe(true);
    expect((error as RateLimitedError).retryAfterMs).toBeUndefined();
    expect((error as Error).message).toMatch(/Redis unavailable/);
  });

  it('calls in flight when Redis is killed all settle with a decision, and nothing is left unhandled', async () => {
    await connectOutage();
    const rl = new DistributedRateLimiter({ client: outageClient, capacity: 1_000, refillPerSecond: 1, redisTimeoutMs: 100 });
    const pending = Array.from({ length: 200 }, () => rl.tryAcquire('k'));
    await outage.kill();
    const decisions = await Promise.all(pending);
    expect(decisions.every((d) => d.allowed && (d.source === 'redis' || d.source === 'local'))).toBe(true);
    const after = await rl.tryAcquire('k');
    expect(after.source).toBe('local');
    expect(rl.usingFallback).toBe(true);
  });

  it('a hung server (SIGSTOP) is cut off after redisTimeoutMs; one call probes while the others decide locally', async () => {
    await connectOutage();
    const clock = new VirtualClock();
    const rl = new DistributedRateLimiter({ client: outageClient, clock, capacity: 3, refillPerSecond: 0.001, redisTimeoutMs: 200 });
    const fallbacks: unknown[] = [];
    rl.on('fallback', (e) => fallbacks.push(e));
    outage.pause();
    const first = rl.tryAcquire('k');
    const second = rl.tryAcquire('k');
    clock.advance(199);
    await poll();
    expect(rl.usingFallback).toBe(false);
    clock.advance(1);
    expect((await first).source).toBe('local');
    expect((await second).source).toBe('local');
    expect(fallbacks).toHaveLength(1);
    expect((fallbacks[0] as { error: Error }).error.message).toMatch(/did not answer within 200 ms/);

    const probe = rl.tryAcquire('k'); // goes to Redis
    const meanwhile = await rl.tryAcquire('k'); // decided at once: the probe is out
    expect(meanwhile).toMatchObject({ allowed: true, remaining: 0, source: 'local' }); // the 3rd local permit
    outage.resume();
    const probed = await probe;
    expect(probed.source).toBe('redis');
    expect(rl.usingFallback).toBe(false);
    // The two timed-out calls reached Redis when it woke up: they took their permits there.
    expect(probed.remaining).toBe(0);
  });
});
