import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FleetCoordinator } from '../../../src/adapters/redis/fleet-coordinator.js';
import { FleetDegradationSync } from '../../../src/adapters/redis/fleet-degradation-sync.js';
import { MemoryBus, MemoryBusHub } from '../../../src/core/bus.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { GracefulDegradation } from '../../../src/degradation/graceful-degradation.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { PrivateRedisServer } from '../../support/redis-server.js';

failOnUnhandledRejections();

let server: PrivateRedisServer;
const clients: Redis[] = [];
const closers: (() => Promise<void> | void)[] = [];
let run = 0;
let prefix = '';

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

function connect(options: RedisOptions = {}, target = server): Redis {
  const client = new Redis({ ...target.options, ...options });
  client.on('error', () => undefined); // outages are the point of some tests
  clients.push(client);
  return client;
}

/** One fleet member, started: its own connections, as a separate process would have. */
async function member(id: string): Promise<FleetCoordinator> {
  const fleet = new FleetCoordinator({ client: connect(), instanceId: id, prefix });
  closers.push(() => fleet.close());
  await fleet.start();
  return fleet;
}

function degradation(): GracefulDegradation {
  return new GracefulDegradation({ features: [{ name: 'recommendations', degradationLevels: ['reduced'] }] });
}

const poll = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await condition()) return;
    await poll();
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Resolves once every message `from` published before now has reached `to` (the bus keeps order per connection). */
async function drained(from: FleetCoordinator, to: FleetCoordinator): Promise<void> {
  const id = `marker-${++run}`;
  const seen = new Promise<void>((resolve) => {
    const off = to.on('experiment', ({ state }) => {
      if (state.id === id) {
        off();
        resolve();
      }
    });
  });
  await from.publishExperiment({ id, name: 'marker', status: 'completed', startedAt: 0 });
  await seen;
}

const beforeEachPrefix = (): void => {
  prefix = `t${++run}:`;
};

describe('FleetCoordinator.syncDegradation over Redis', () => {
  it('an override set on one instance is applied on the others, once, without echo', async () => {
    beforeEachPrefix();
    const [a, b] = await Promise.all([member('a'), member('b')]);
    const [da, db] = [degradation(), degradation()];
    await a.syncDegradation(da);
    await b.syncDegradation(db);
    await until(() => a['bus'].connected && b['bus'].connected, 'both buses to connect');
    const published: unknown[] = [];
    const applied: { a: unknown[]; b: unknown[] } = { a: [], b: [] };
    a.on('degradationPublished', (e) => published.push(e));
    b.on('degradationPublished', (e) => published.push(e));
    a.on('degradationApplied', (e) => applied.a.push(e));
    b.on('degradationApplied', (e) => applied.b.push(e));

    await da.setOverride('minimal');
    await until(() => db.getCurrentState().override === 'minimal', 'b to apply the override');
    expect(db.getCurrentState()).toMatchObject({ level: 'minimal', override: 'minimal', trigger: 'manual' });
    expect(db.isFeatureEnabled('recommendations')).toBe(false);

    await drained(b, a); // anything b would have echoed has reached a by now
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ override: 'minimal', by: 'a' });
    expect(applied.b).toEqual([{ ...(published[0] as object) }]);
    expect(applied.a).toEqual([]);
    const redis = connect();
    expect(Number(await redis.hget(`${prefix}degradation`, 'v'))).toBe((published[0] as { version: number }).version);

    // Clearing on b (forceRecover clears the override) clears it on a; a keeps its level until it evaluates.
    await db.forceRecover();
    await until(() => da.getCurrentState().override === null, 'a to clear the override');
    expect(da.getCurrentState().level).toBe('minimal');
    expect(db.getCurrentState().level).toBe('full');
    await drained(a, b);
    expect(published).toHaveLength(2);
    expect(applied.a).toHaveLength(1);
    expect(applied.b).toHaveLength(1);
  });

  it('a degrade() while an override is set moves it fleet-wide; a degrade() without one stays local', async () => {
    beforeEachPrefix();
    const [a, b] = await Promise.all([member('a'), member('b')]);
    const [da, db] = [degradation(), degradation()];
    await a.syncDegradation(da);
    await b.syncDegradation(db);
    await until(() => a['bus'].connected && b['bus'].connected, 'both buses to connect');
    await da.degrade('reduced');
    await da.setOverride('minimal');
    await until(() => db.getCurrentState().override === 'minimal', 'b to apply the override');
    await da.degrade('emergency');
    await until(() => db.getCurrentState().override === 'emergency', 'b to follow the moved override');
    await da.setOverride(null);
    await until(() => db.getCurrentState().override === null, 'b to clear');
    await da.degrade('reduced'); // no override: local only
    await drained(a, b);
    expect(da.getCurrentState().level).toBe('reduced');
    expect(db.getCurrentState().level).toBe('emergency');
  });

  it('an instance started later applies the current fleet override on start', async () => {
    beforeEachPrefix();
    const a = await member('a');
    const da = degradation();
    await a.syncDegradation(da);
    await da.setOverride('emergency');
    const redis = connect();
    await until(async () => (await redis.exists(`${prefix}degradation`)) === 1, 'the override to be stored');

    const late = await member('late');
    const dl = degradation();
    const sync = await late.syncDegradation(dl);
    expect(dl.getCurrentState()).toMatchObject({ level: 'emergency', override: 'emergency' });
    expect(sync.appliedVersion).toBeGreaterThan(0);
    expect(await late.syncDegradation(dl)).toBe(sync);
  });

  it('concurrent overrides on two instances converge on the last one Redis stored', async () => {
    beforeEachPrefix();
    const [a, b] = await Promise.all([member('a'), member('b')]);
    const [da, db] = [degradation(), degradation()];
    await a.syncDegradation(da);
    await b.syncDegradation(db);
    await until(() => a['bus'].connected && b['bus'].connected, 'both buses to connect');
    for (let i = 0; i < 5; i++) {
      await Promise.all([da.setOverride(i % 2 === 0 ? 'reduced' : 'minimal'), db.setOverride(i % 2 === 0 ? 'emergency' : 'full')]);
    }
    const redis = connect();
    await until(async () => {
      const stored = JSON.parse((await redis.hget(`${prefix}degradation`, 'state')) ?? '{}') as { override?: string };
      return da.getCurrentState().override === stored.override && db.getCurrentState().override === stored.override;
    }, 'both instances to hold the stored override');
  });

  it('a level unknown to an instance is reported, not applied, and breaks nothing', async () => {
    beforeEachPrefix();
    const [a, b] = await Promise.all([member('a'), member('b')]);
    const da = new GracefulDegradation({ levels: ['normal', 'survival'] });
    const db = degradation();
    await a.syncDegradation(da);
    await b.syncDegradation(db);
    await until(() => a['bus'].connected && b['bus'].connected, 'both buses to connect');
    const errors: { source: string; operation: string; error: unknown }[] = [];
    b.on('error', (e) => errors.push(e));
    a.on('error', (e) => errors.push(e));
    await da.setOverride('survival');
    await until(() => errors.length === 1, 'b to report the unknown level');
    expect(errors[0]).toMatchObject({ source: 'degradation', operation: 'apply' });
    expect(String(errors[0]?.error)).toMatch(/unknown level "survival"/);
    expect(db.getCurrentState().override).toBeNull();
    // The next known override still goes through.
    await db.setOverride('reduced');
    await until(() => errors.length === 2, 'a to report the unknown level');
    expect(String(errors[1]?.error)).toMatch(/unknown level "reduced"/);
    expect(da.getCurrentState().override).toBe('survival');
  });
});

describe('FleetDegradationSync on a partitioned bus', () => {
  it('re-reads the fleet override when its bus connects again', async () => {
    beforeEachPrefix();
    const hub = new MemoryBusHub();
    const [busA, busB] = [new MemoryBus(hub), new MemoryBus(hub)];
    const [da, db] = [degradation(), degradation()];
    const key = `${prefix}degradation`;
    const a = new FleetDegradationSync({ degradation: da, client: connect(), bus: busA, instanceId: 'a', key });
    const b = new FleetDegradationSync({ degradation: db, client: connect(), bus: busB, instanceId: 'b', key });
    closers.push(() => a.stop(), () => b.stop());
    await a.start();
    await b.start();
    busB.setConnected(false);
    const published = new Promise((resolve) => a.on('published', resolve));
    await da.setOverride('reduced');
    await published;
    await poll();
    expect(db.getCurrentState().override).toBeNull(); // missed: partitioned
    busB.setConnected(true);
    await until(() => db.getCurrentState().override === 'reduced', 'b to re-read the override');
  });

  it('publishes a change made while Redis was unreachable once the bus is back', async () => {
    beforeEachPrefix();
    const outage = await PrivateRedisServer.start();
    closers.push(() => outage.stop());
    const hub = new MemoryBusHub();
    const [busA, busB] = [new MemoryBus(hub), new MemoryBus(hub)];
    const [da, db] = [degradation(), degradation()];
    const clientA = connect({ enableOfflineQueue: false }, outage);
    await until(() => clientA.status === 'ready', 'a to connect');
    const a = new FleetDegradationSync({ degradation: da, client: clientA, bus: busA, instanceId: 'a' });
    const b = new FleetDegradationSync({ degradation: db, client: connect({}, outage), bus: busB, instanceId: 'b' });
    closers.push(() => a.stop(), () => b.stop());
    await a.start();
    await b.start();
    const errors: unknown[] = [];
    a.on('error', (e) => errors.push(e));

    await outage.kill();
    busA.setConnected(false);
    await da.setOverride('emergency');
    await until(() => errors.length === 1, 'the failed publish to be reported');
    expect(errors[0]).toMatchObject({ operation: 'publish' });

    await outage.restart();
    await until(() => clientA.status === 'ready', 'a to reconnect');
    busA.setConnected(true); // the bus is back: the pending change is published
    await until(() => db.getCurrentState().override === 'emergency', 'b to receive the pending override');
  });

  it('validates its options', () => {
    expect(() => new FleetDegradationSync({ degradation: {} as never, client: {} as never, bus: {} as never, instanceId: 1 as never })).toThrow(
      InvalidOptionsError,
    );
    try {
      new FleetDegradationSync({} as never);
    } catch (error) {
      expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['degradation', 'client', 'bus', 'instanceId']);
    }
  });
});
