import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FleetCoordinator } from '../../../src/adapters/redis/fleet-coordinator.js';
import { FleetExperiments, type ExperimentEvent } from '../../../src/adapters/redis/fleet-experiments.js';
import { MemoryBus, MemoryBusHub } from '../../../src/core/bus.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { PrivateRedisServer } from '../../support/redis-server.js';

failOnUnhandledRejections();

let server: PrivateRedisServer;
const clients: Redis[] = [];
const closers: (() => Promise<void> | void)[] = [];
let run = 0;

beforeAll(async () => {
  server = await PrivateRedisServer.start();
});
afterAll(async () => {
  await server.stop();
});
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const c of clients.splice(0)) c.disconnect();
});

function connect(): Redis {
  const client = new Redis(server.options);
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

async function member(id: string, prefix: string, clock?: VirtualClock): Promise<FleetCoordinator> {
  const fleet = new FleetCoordinator({ client: connect(), instanceId: id, prefix, experimentTtlMs: 3_000, ...(clock === undefined ? {} : { clock }) });
  closers.push(() => fleet.close());
  await fleet.start();
  return fleet;
}

const poll = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await condition()) return;
    await poll();
  }
  throw new Error(`timed out waiting for ${what}`);
}

function record(fleet: FleetCoordinator): ExperimentEvent[] {
  const events: ExperimentEvent[] = [];
  fleet.on('experiment', (e) => events.push(e));
  return events;
}

describe('experiment state across the fleet', () => {
  it('announces a running experiment to every instance and removes it when it ends', async () => {
    const prefix = `t${++run}:`;
    const [a, b] = await Promise.all([member('a', prefix), member('b', prefix)]);
    await until(() => a['bus'].connected && b['bus'].connected, 'both buses to connect');
    const [ea, eb] = [record(a), record(b)];

    const running = await a.publishExperiment({ id: 'x1', name: 'redis-latency', status: 'running', startedAt: 1_000, details: { latencyMs: 200 } });
    expect(running).toEqual({ id: 'x1', name: 'redis-latency', status: 'running', startedAt: 1_000, by: 'a', details: { latencyMs: 200 } });
    expect(a.current()).toEqual([running]);
    await until(() => eb.length === 1, 'b to hear of it');
    expect(eb).toEqual([{ state: running, local: false }]);
    expect(ea).toEqual([{ state: running, local: true }]);
    expect(b.current()).toEqual([running]);

    const done = await a.publishExperiment({ ...running, status: 'completed' });
    await until(() => eb.length === 2, 'b to hear it ended');
    expect(eb[1]).toEqual({ state: done, local: false });
    expect(a.current()).toEqual([]);
    expect(b.current()).toEqual([]);
  });

  it('an instance started later, or whose bus reconnects, reads the active experiments from Redis', async () => {
    const prefix = `t${++run}:`;
    const a = await member('a', prefix);
    const state = await a.publishExperiment({ id: 'x2', name: 'cpu-burn', status: 'running', startedAt: 5 });
    const late = await member('late', prefix);
    expect(late.current()).toEqual([state]);

    // A partition: b misses the end, then reads Redis again when its bus reconnects.
    const hub = new MemoryBusHub();
    const busA = new MemoryBus(hub);
    const busB = new MemoryBus(hub);
    const keyPrefix = `p${++run}:`;
    const ax = new FleetExperiments({ client: connect(), bus: busA, instanceId: 'a', prefix: keyPrefix });
    const bx = new FleetExperiments({ client: connect(), bus: busB, instanceId: 'b', prefix: keyPrefix });
    closers.push(() => ax.stop(), () => bx.stop());
    await ax.start();
    await bx.start();
    const events: ExperimentEvent[] = [];
    bx.on('experiment', (e) => events.push(e));
    const s1 = await ax.publish({ id: 'y1', name: 'one', status: 'running', startedAt: 1 });
    const s2 = await ax.publish({ id: 'y2', name: 'two', status: 'running', startedAt: 2 });
    await until(() => bx.current().length === 2, 'b to hear both');
    busB.setConnected(false);
    await ax.publish({ ...s1, status: 'stopped' });
    const s2b = await ax.publish({ ...s2, status: 'paused' });
    expect(bx.current()).toEqual([s1, s2]);
    busB.setConnected(true);
    await until(() => bx.current().length === 1 && bx.current()[0]?.status === 'paused', 'b to catch up');
    expect(bx.current()).toEqual([s2b]);
    expect(events.map((e) => `${e.state.id} ${e.state.status}`)).toEqual(['y1 running', 'y2 running', 'y2 paused', 'y1 expired']);
  });

  it('keeps an experiment alive while its announcer refreshes it, and expires it when the announcer goes silent', async () => {
    const prefix = `t${++run}:`;
    const clock = new VirtualClock(1_000);
    const [a, b] = await Promise.all([member('a', prefix, clock), member('b', prefix, clock)]);
    await until(() => a['bus'].connected && b['bus'].connected, 'both buses to connect');
    const eb = record(b);
    const state = await a.publishExperiment({ id: 'z', name: 'packet-loss', status: 'running', startedAt: 1_000 });
    await until(() => eb.length === 1, 'b to hear of it');

    // ttl 3 000 ms, refreshed every 1 000 ms: 10 s later it is still alive everywhere.
    for (let i = 0; i < 10; i++) {
      const redis = connect();
      const before = await redis.zscore(`${prefix}{experiments}:expiry`, 'z');
      clock.advance(1_000);
      await until(async () => (await redis.zscore(`${prefix}{experiments}:expiry`, 'z')) !== before, 'the refresh to reach Redis');
      await poll();
    }
    expect(b.current()).toEqual([state]);
    expect(eb).toHaveLength(1);

    await a.close(); // stops refreshing (as a crash would)
    clock.advance(2_000);
    expect(b.current()).toEqual([state]);
    clock.advance(1_000); // 3 s since the last refresh: gone
    expect(b.current()).toEqual([]);
    clock.advance(1_000); // b's housekeeping tick reports it
    expect(eb.at(-1)).toEqual({ state: { ...state, status: 'expired' }, local: false });
  });

  it('rejects invalid states and refuses to publish "expired"', async () => {
    const a = await member('a', `t${++run}:`);
    await expect(a.publishExperiment({ id: '', name: 'n', status: 'running', startedAt: 0 })).rejects.toThrow(/id must be a non-empty string/);
    await expect(a.publishExperiment({ id: 'i', name: 'n', status: 'bogus' as never, startedAt: 0 })).rejects.toThrow(/status must be one of/);
    await expect(a.publishExperiment({ id: 'i', name: 'n', status: 'running', startedAt: Number.NaN })).rejects.toThrow(/startedAt/);
    await expect(a.publishExperiment({ id: 'i', name: 'n', status: 'expired', startedAt: 0 })).rejects.toThrow(/reported by receivers/);
    expect(a.current()).toEqual([]);
  });

  it('ignores a stale or malformed message', async () => {
    const hub = new MemoryBusHub();
    const rogue = new MemoryBus(hub);
    const bx = new FleetExperiments({ client: connect(), bus: new MemoryBus(hub), instanceId: 'b', prefix: `p${++run}:` });
    closers.push(() => bx.stop());
    await bx.start();
    const state = { id: 'q', name: 'n', status: 'running', startedAt: 0, by: 'rogue' };
    await rogue.publish('fleet:experiment', { v: 5, state, ttlMs: 1_000 });
    await rogue.publish('fleet:experiment', { v: 4, state: { ...state, status: 'completed' }, ttlMs: 1_000 });
    await rogue.publish('fleet:experiment', { v: 6, state: { ...state, status: 'nope' }, ttlMs: 1_000 });
    await rogue.publish('fleet:experiment', 'garbage');
    await poll();
    expect(bx.current()).toEqual([state]);
  });

  it('validates its options', () => {
    let error: unknown;
    try {
      new FleetCoordinator({ client: {} as never, bus: {} as never, lock: {} as never, instanceId: '', experimentTtlMs: 0, maxExperiments: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['client', 'bus', 'lock', 'instanceId', 'experimentTtlMs', 'maxExperiments']);
  });
});
