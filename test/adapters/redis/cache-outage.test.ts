import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBus } from '../../../src/adapters/redis/redis-bus.js';
import { RedisCacheLayer } from '../../../src/adapters/redis/redis-cache-layer.js';
import { MultiLayerCache } from '../../../src/cache/multi-layer-cache.js';
import { PrivateRedisServer } from '../../support/redis-server.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

// Real Redis, real outages, real time: this file checks the claim "an outage adds bounded latency and no
// error", so it measures wall-clock latency with a wide margin rather than exact virtual transitions
// (those are in test/cache/layer-outage.test.ts).
const SOFT_TIMEOUT_MS = 40;
const LOADER_MS = 5;
// Generous for a loaded 2-core machine, and still well under the hard timeout: a call that waited for the
// hung command instead of giving up at the soft timeout would take at least HARD_TIMEOUT_MS.
const MARGIN_MS = 400;
const HARD_TIMEOUT_MS = 1_000;

let server: PrivateRedisServer;
const clients: Redis[] = [];

beforeAll(async () => {
  server = await PrivateRedisServer.start();
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await server?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function makeCache(): { cache: MultiLayerCache; redis: Redis; bus: RedisBus } {
  const redis = new Redis(server.options);
  redis.on('error', () => {});
  clients.push(redis);
  const bus = new RedisBus({ client: redis });
  const cache = new MultiLayerCache({
    layers: [new RedisCacheLayer({ client: redis })],
    bus,
    ttl: '300ms',
    grace: '1h',
    remote: { softTimeoutMs: SOFT_TIMEOUT_MS, hardTimeoutMs: HARD_TIMEOUT_MS, breaker: { minimumCalls: 5, openMs: 300 } },
  });
  return { cache, redis, bus };
}

/** Runs `workers` loops of getOrSet over `keys` keys until `stop()`; records every latency and error. */
function load(cache: MultiLayerCache, keys: number, workers: number): { stop: () => Promise<void>; latencies: number[]; errors: unknown[]; calls: () => number } {
  const latencies: number[] = [];
  const errors: unknown[] = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: workers }, async (_, w) => {
    while (running) {
      const key = `item:${(n + w) % keys}`;
      const start = performance.now();
      try {
        const value = await cache.getOrSet(key, async () => {
          await sleep(LOADER_MS);
          return { key, at: Date.now() };
        });
        if ((value as { key: string }).key !== key) errors.push(new Error(`wrong value for ${key}`));
      } catch (error) {
        errors.push(error);
      }
      latencies.push(performance.now() - start);
      n++;
      await sleep(1);
    }
  });
  return {
    latencies,
    errors,
    calls: () => n,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('MultiLayerCache while Redis is killed and hung (real redis-server)', () => {
  it('SIGKILL mid-load: every getOrSet answers, within bounded latency; Redis coming back heals without a restart', async () => {
    const { cache, redis, bus } = makeCache();
    const states: string[] = [];
    cache.on('layerStateChange', ({ to }) => states.push(to));
    const run = load(cache, 20, 8);
    await sleep(300);
    await server.kill();
    await sleep(HARD_TIMEOUT_MS + 500);
    const duringOutage = run.calls();
    await server.restart();
    await until(() => cache.getMetrics().layers[1]?.state === 'closed' && states.includes('open'));
    await sleep(300);
    await run.stop();

    expect(run.errors).toEqual([]);
    expect(duringOutage).toBeGreaterThan(100);
    expect(Math.max(...run.latencies), 'slowest call (ms)').toBeLessThan(SOFT_TIMEOUT_MS + LOADER_MS + MARGIN_MS);
    expect(SOFT_TIMEOUT_MS + LOADER_MS + MARGIN_MS).toBeLessThan(HARD_TIMEOUT_MS);
    expect(states).toContain('open');
    // Healed: new writes reach the restarted Redis.
    await cache.set('after', 'healed');
    expect(await redis.exists('cache:after')).toBe(1);
    await bus.close();
    await cache.close();
  });

  it('SIGSTOP mid-load: calls keep answering within the soft timeout; SIGCONT heals', async () => {
    const { cache, redis, bus } = makeCache();
    await until(() => redis.status === 'ready');
    const states: string[] = [];
    cache.on('layerStateChange', ({ to }) => states.push(to));
    const run = load(cache, 20, 8);
    await sleep(300);
    server.pause();
    await sleep(HARD_TIMEOUT_MS + 600);
    const stalled = cache.getMetrics().layers[1];
    server.resume();
    await until(() => cache.getMetrics().layers[1]?.state === 'closed');
    await sleep(300);
    await run.stop();

    expect(run.errors).toEqual([]);
    expect(stalled?.softTimeouts, 'soft timeouts while hung').toBeGreaterThan(0);
    expect(states, 'L2 circuit transitions').toContain('open');
    expect(stalled?.state, 'L2 circuit while hung').not.toBe('closed');
    expect(Math.max(...run.latencies), 'slowest call (ms)').toBeLessThan(SOFT_TIMEOUT_MS + LOADER_MS + MARGIN_MS);
    await cache.set('after', 'healed');
    expect(await redis.get('cache:after')).toMatch(/healed/);
    await bus.close();
    await cache.close();
  });
});
