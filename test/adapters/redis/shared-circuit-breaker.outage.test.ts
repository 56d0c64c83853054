import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SharedCircuitBreaker, type SharedCircuitBreakerOptions } from '../../../src/adapters/redis/shared-circuit-breaker.js';
import { isBrokenCircuitError } from '../../../src/core/errors.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { PrivateRedisServer } from '../../support/redis-server.js';

failOnUnhandledRejections();

// Real time, real outages: a private redis-server is SIGKILLed, restarted, SIGSTOPped and resumed under
// traffic. Small intervals keep the file to a few seconds; real time is used only to wait for those events
// (bounded polls), never to judge the breaker's logic.

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Partial<SharedCircuitBreakerOptions> = {}) {
  const server = await PrivateRedisServer.start();
  cleanups.push(() => server.stop());
  const client = new Redis(server.options);
  client.on('error', () => {});
  cleanups.push(() => client.disconnect());
  const breaker = new SharedCircuitBreaker({
    client,
    name: `outage-${process.pid}`,
    syncIntervalMs: 20,
    redisTimeoutMs: 100,
    window: { type: 'time', ms: 5_000, buckets: 10 },
    minimumCalls: 5,
    failureRateThreshold: 0.5,
    openMs: 60_000,
    ...options,
  });
  cleanups.push(() => breaker.dispose());
  const events: string[] = [];
  breaker.on('sharedStateUnavailable', () => events.push('unavailable'));
  breaker.on('sharedStateRestored', () => events.push('restored'));
  await breaker.start();
  expect(breaker.mode).toBe('shared');
  return { server, client, breaker, events };
}

/** Calls through `breaker` every few ms until stopped; collects what each call settled with. */
function traffic(breaker: SharedCircuitBreaker, fn: () => Promise<string>) {
  const results = { ok: 0, refused: 0, failed: 0, other: [] as unknown[] };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        await breaker.execute(fn);
        results.ok++;
      } catch (error) {
        if (isBrokenCircuitError(error)) results.refused++;
        else if (error instanceof Error && error.message === 'dependency down') results.failed++;
        else results.other.push(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  return {
    results,
    stop: async () => {
      running = false;
      await loop;
      return results;
    },
  };
}

const healthy = (): Promise<string> => Promise.resolve('ok');
const wait = { timeout: 8_000, interval: 10 };

describe('SharedCircuitBreaker: Redis outages', () => {
  it('SIGKILL: calls keep being answered by the local breaker, the event fires, a restart heals without a restart of ours', async () => {
    const { server, breaker, events } = await setup();
    const load = traffic(breaker, healthy);
    await vi.waitFor(() => expect(load.results.ok).toBeGreaterThan(5), wait);

    await server.kill();
    await vi.waitFor(() => expect(breaker.mode).toBe('local'), wait);
    expect(events).toEqual(['unavailable']);
    const okAtOutage = load.results.ok;
    await vi.waitFor(() => expect(load.results.ok).toBeGreaterThan(okAtOutage + 10), wait);

    await server.restart();
    await vi.waitFor(() => expect(breaker.mode).toBe('shared'), wait);
    expect(events).toEqual(['unavailable', 'restored']);
    const okAtRestore = load.results.ok;
    await vi.waitFor(() => expect(load.results.ok).toBeGreaterThan(okAtRestore + 5), wait);

    const results = await load.stop();
    expect(results).toMatchObject({ refused: 0, failed: 0, other: [] });
    // The fresh server holds this instance's counts again.
    await breaker.sync();
    expect(breaker.metrics()).toMatchObject({ mode: 'shared', unsyncedCalls: 0 });
    expect(breaker.metrics().calls).toBeGreaterThan(0);
  });

  it('SIGKILL: the local breaker judges the outcomes it sees and opens on its own', async () => {
    const { server, breaker, events } = await setup();
    const seen: string[] = [];
    breaker.on('stateChange', ({ from, to, mode }) => seen.push(`${from}->${to}@${mode}`));
    await server.kill();
    await vi.waitFor(() => expect(breaker.mode).toBe('local'), wait);

    const load = traffic(breaker, () => Promise.reject(new Error('dependency down')));
    await vi.waitFor(() => expect(load.results.refused).toBeGreaterThan(0), wait);
    const results = await load.stop();
    expect(results.failed).toBeGreaterThanOrEqual(5);
    expect(results.other).toEqual([]);
    expect(breaker.state).toBe('open');
    expect(seen).toEqual(['closed->open@local']);
    expect(events).toEqual(['unavailable']);

    // Back on shared state, the failures seen during the outage reach the fleet window and open it there.
    await server.restart();
    await vi.waitFor(() => expect(breaker.mode).toBe('shared'), wait);
    expect(breaker.state).toBe('open');
    expect(breaker.metrics().retryAfterMs).toBeGreaterThan(50_000);
  });

  it('SIGKILL: the local breaker starts from the fleet window, not from nothing', async () => {
    const { server, breaker } = await setup();
    for (let i = 0; i < 4; i++) await breaker.execute(() => Promise.reject(new Error('dependency down'))).catch(() => {});
    await breaker.sync();
    expect(breaker.metrics()).toMatchObject({ state: 'closed', calls: 4, failures: 4 }); // minimumCalls is 5
    await server.kill();
    await vi.waitFor(() => expect(breaker.mode).toBe('local'), wait);
    expect(breaker.metrics()).toMatchObject({ mode: 'local', calls: 4, failures: 4 });
    // One more failure is the fifth the local breaker knows of: it opens at once.
    await expect(breaker.execute(() => Promise.reject(new Error('dependency down')))).rejects.toThrow('dependency down');
    expect(breaker.state).toBe('open');
    expect(isBrokenCircuitError(await breaker.execute(healthy).catch((error: unknown) => error))).toBe(true);
  });

  it('SIGSTOP: closed-circuit calls keep flowing while Redis hangs; resume heals', async () => {
    const { server, breaker, events } = await setup();
    const load = traffic(breaker, healthy);
    await vi.waitFor(() => expect(load.results.ok).toBeGreaterThan(5), wait);

    server.pause();
    await vi.waitFor(() => expect(breaker.mode).toBe('local'), wait);
    expect(events).toEqual(['unavailable']);
    const okAtOutage = load.results.ok;
    await vi.waitFor(() => expect(load.results.ok).toBeGreaterThan(okAtOutage + 10), wait);
    const results = await load.stop();
    expect(results).toMatchObject({ refused: 0, failed: 0, other: [] });

    server.resume();
    await vi.waitFor(() => expect(breaker.mode).toBe('shared'), wait);
    expect(events).toEqual(['unavailable', 'restored']);
    await breaker.sync();
    expect(breaker.metrics()).toMatchObject({ mode: 'shared', unsyncedCalls: 0 });
  });

  it('SIGSTOP: a call needing a probe permit waits at most about redisTimeoutMs, then the local breaker decides', async () => {
    const { server, breaker, events } = await setup({ openMs: 50, halfOpen: { maxCalls: 1, successes: 1 } });
    // Open the circuit fleet-wide and let openUntil pass; then hang Redis: the next call needs a probe
    // permit from Redis. It must not hang with the server.
    for (let i = 0; i < 5; i++) await breaker.execute(() => Promise.reject(new Error('dependency down'))).catch(() => {});
    await breaker.sync();
    await vi.waitFor(() => expect(breaker.state).toBe('half-open'), wait);
    server.pause();
    const started = performance.now();
    await expect(breaker.execute(healthy)).resolves.toBe('ok');
    const elapsed = performance.now() - started;
    // Not a performance assertion: without the timeout this call would wait as long as the server hangs.
    expect(elapsed).toBeLessThan(2_000);
    expect(breaker.mode).toBe('local');
    expect(breaker.state).toBe('closed'); // the local breaker's probe succeeded

    server.resume();
    await vi.waitFor(() => expect(breaker.mode).toBe('shared'), wait);
    expect(events).toEqual(['unavailable', 'restored']);
  });
});
