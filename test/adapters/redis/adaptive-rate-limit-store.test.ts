import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdaptiveRateLimitStore, type AdaptiveRateLimitStoreOptions } from '../../../src/adapters/redis/adaptive-rate-limit-store.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { AdaptiveRateLimiter } from '../../../src/protection/adaptive-rate-limiter.js';
import type { KeyedLimit } from '../../../src/protection/keyed-rate-limit-store.js';
import { LocalRateLimitStore } from '../../../src/protection/local-rate-limit-store.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
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

function store(options: Partial<AdaptiveRateLimitStoreOptions> = {}): AdaptiveRateLimitStore {
  return new AdaptiveRateLimitStore({ client, name: `t${++run}`, ...options });
}

const poll = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

describe('AdaptiveRateLimitStore', () => {
  it('shares each key among limiters on different connections (a fleet)', async () => {
    const clock = new VirtualClock(1_000_000);
    const other = new Redis(server.options);
    extraClients.push(other);
    const name = `fleet${++run}`;
    const a = new AdaptiveRateLimiter({ capacity: 5, refillPerSecond: 5, clock, behavior: false, store: new AdaptiveRateLimitStore({ client, name, clock }) });
    const b = new AdaptiveRateLimiter({ capacity: 5, refillPerSecond: 5, clock, behavior: false, store: new AdaptiveRateLimitStore({ client: other, name, clock }) });
    const results: boolean[] = [];
    for (let i = 0; i < 6; i++) results.push((await (i % 2 === 0 ? a : b).consume('user:1')).allowed);
    expect(results).toEqual([true, true, true, true, true, false]);
    expect((await a.consume('user:2')).allowed).toBe(true);
    clock.advance(200);
    expect((await b.consume('user:1')).allowed).toBe(true);
    expect((await a.consume('user:1')).allowed).toBe(false);
  });

  it('decides exactly as the local store while limits move', async () => {
    const clock = new VirtualClock(5_000_000);
    const redis = store({ clock });
    const local = new LocalRateLimitStore({ clock });
    const limits: KeyedLimit[] = [
      { capacity: 10, refillPerSecond: 10 },
      { capacity: 5, refillPerSecond: 5 },
      { capacity: 1, refillPerSecond: 0.5 },
      { capacity: 3, refillPerSecond: 3 },
    ];
    for (let i = 0; i < 120; i++) {
      const limit = limits[Math.floor(i / 7) % limits.length] as KeyedLimit;
      const key = `k${i % 3}`;
      const [r, l] = [await redis.consume(key, limit), local.consume(key, limit)];
      expect(r.allowed, `step ${i}`).toBe(l.allowed);
      expect(r.remaining, `step ${i}`).toBe(l.remaining);
      expect(r.retryAfterMs).toBeCloseTo(l.retryAfterMs, 6);
      expect(r.resetAfterMs).toBeCloseTo(l.resetAfterMs, 6);
      clock.advance((i * 37) % 230);
    }
  });

  it('scales a key\'s limit with load, fleet-wide, keeping its fill ratio', async () => {
    const clock = new VirtualClock(9_000_000);
    let load = 1;
    const limiter = new AdaptiveRateLimiter({
      capacity: 10,
      refillPerSecond: 10,
      clock,
      behavior: false,
      store: store({ clock, maxLimits: 1 }), // one limit kept at a time: switching limits must not lose state
      load: { signals: [{ load: () => load }], minFactor: 0.2 },
    });
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, limit: 1, remaining: 0 });
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, limit: 1 });
    load = 0;
    clock.advance(99);
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, limit: 10 });
    clock.advance(1);
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, limit: 10, remaining: 0 });
  });

  it('falls back to local buckets when Redis is gone, with one fallback event, and recovers', async () => {
    const own = await PrivateRedisServer.start();
    const ownClient = new Redis({ ...own.options, maxRetriesPerRequest: 0 });
    extraClients.push(ownClient);
    try {
      const s = new AdaptiveRateLimitStore({ client: ownClient, name: 'outage', redisTimeoutMs: 200 });
      const events: string[] = [];
      s.on('fallback', ({ mode }) => events.push(`fallback:${mode}`));
      s.on('recovered', () => events.push('recovered'));
      expect((await s.consume('k', { capacity: 2, refillPerSecond: 1 })).allowed).toBe(true);
      await own.kill();
      for (let i = 0; i < 100 && ownClient.status === 'ready'; i++) await poll();
      const first = await s.consume('k', { capacity: 2, refillPerSecond: 1 });
      const second = await s.consume('k', { capacity: 1, refillPerSecond: 0.5 });
      expect(first.allowed).toBe(true); // a fresh local bucket
      expect(second.allowed).toBe(true); // another limit, another local bucket
      expect(s.usingFallback).toBe(true);
      expect(events).toEqual(['fallback:local']);
      await own.restart();
      for (let i = 0; i < 300 && s.usingFallback; i++) {
        await s.consume('k', { capacity: 2, refillPerSecond: 1 });
        await s.consume('k', { capacity: 1, refillPerSecond: 0.5 });
        await poll();
      }
      expect(s.usingFallback).toBe(false);
      expect(events).toEqual(['fallback:local', 'recovered']);
    } finally {
      await own.stop();
    }
  });

  it('reports bad options, its own and the shared ones', () => {
    let error: unknown;
    try {
      new AdaptiveRateLimitStore({ client: {} as never, maxLimits: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['maxLimits']);
    expect(() => new AdaptiveRateLimitStore({ client: {} as never })).toThrow(/client/);
    expect(() => new AdaptiveRateLimitStore({ client, redisTimeoutMs: 0 })).toThrow(InvalidOptionsError);
  });
});
