import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FleetCoordinator } from '../../../src/adapters/redis/fleet-coordinator.js';
import { FleetGameDayLock, GameDayLockedError, isGameDayLockedError } from '../../../src/adapters/redis/fleet-game-day-lock.js';
import type { DistributedLock } from '../../../src/core/distributed-lock.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { errorOf } from '../../support/promises.js';
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
  clients.push(client);
  return client;
}

function member(id: string, prefix: string, clock?: VirtualClock): FleetCoordinator {
  const fleet = new FleetCoordinator({ client: connect(), instanceId: id, prefix, ...(clock === undefined ? {} : { clock }) });
  closers.push(() => fleet.close());
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

describe('game-day lock', () => {
  it('lets one game day run at a time and names the holder to the others', async () => {
    const prefix = `t${++run}:`;
    const clock = new VirtualClock(Date.UTC(2030, 0, 2, 3, 4, 5));
    const [a, b] = [member('instance-a', prefix, clock), member('instance-b', prefix)];
    const lease = await a.acquireGameDay('redis-outage', 60_000);
    expect(lease).toMatchObject({ name: 'redis-outage', held: true, holder: { name: 'redis-outage', by: 'instance-a', since: clock.now() } });
    expect(lease.signal.aborted).toBe(false);

    const error = await errorOf(b.acquireGameDay('latency-drill'));
    expect(error).toBeInstanceOf(GameDayLockedError);
    expect(isGameDayLockedError(error)).toBe(true);
    expect(isGameDayLockedError(new Error('x'))).toBe(false);
    expect((error as GameDayLockedError).code).toBe('GAME_DAY_LOCKED');
    expect((error as GameDayLockedError).holder).toEqual(lease.holder);
    expect((error as Error).message).toBe(
      'Game day "latency-drill" cannot start: game day "redis-outage" is running on instance instance-a since 2030-01-02T03:04:05.000Z',
    );
    expect(await b.gameDayHolder()).toEqual(lease.holder);
    // Not even the holder runs two at once.
    await expect(a.acquireGameDay('second')).rejects.toThrow(GameDayLockedError);

    expect(await lease.release()).toBe(true);
    expect(await lease.release()).toBe(false);
    expect(lease.held).toBe(false);
    expect(lease.signal.aborted).toBe(true);
    expect(await b.gameDayHolder()).toBeUndefined();
    const next = await b.acquireGameDay('latency-drill');
    expect(next.holder.by).toBe('instance-b');
    await next.release();
  });

  it('extends the lease every ttl/3 until released, so it outlives its first time-to-live', async () => {
    const prefix = `t${++run}:`;
    const clock = new VirtualClock();
    const a = member('a', prefix, clock);
    const redis = connect();
    const lease = await a.acquireGameDay('long', 60_000);
    const lockKey = `${prefix}lock:game-day`;
    const holderKey = `${prefix}game-day:holder`;
    // Shorten both keys by hand: only an extension can bring them back to a minute.
    await redis.pexpire(lockKey, 5_000);
    await redis.pexpire(holderKey, 5_000);
    clock.advance(19_999);
    await poll();
    expect(await redis.pttl(lockKey)).toBeLessThanOrEqual(5_000);
    clock.advance(1);
    await until(async () => (await redis.pttl(lockKey)) > 50_000 && (await redis.pttl(holderKey)) > 50_000, 'the lease to be extended');
    expect(lease.held).toBe(true);
    await lease.release();
    expect(await redis.exists(lockKey, holderKey)).toBe(0);
    clock.advance(60_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it("emits lockLost and aborts the lease's signal when another instance took the lock", async () => {
    const prefix = `t${++run}:`;
    const clock = new VirtualClock();
    const a = member('a', prefix, clock);
    const lost: unknown[] = [];
    a.on('lockLost', (e) => lost.push(e));
    const lease = await a.acquireGameDay('drill', 30_000);
    const redis = connect();
    await redis.set(`${prefix}lock:game-day`, 'someone-else'); // the lease expired and another instance took it
    clock.advance(10_000);
    await until(() => !lease.held, 'the loss to be noticed');
    expect(lost).toEqual([{ name: 'drill', reason: 'lost: another instance holds it' }]);
    expect(lease.signal.aborted).toBe(true);
    expect((lease.signal.reason as Error).message).toBe('game day "drill" lock lost: another instance holds it');
    expect(await lease.release()).toBe(false);
    expect(await redis.get(`${prefix}lock:game-day`)).toBe('someone-else');
    expect(clock.pendingTimers).toBe(0);
  });

  it('gives up with lockLost when no extension succeeds for a whole time-to-live', async () => {
    const clock = new VirtualClock();
    let extensions = 0;
    const failing: DistributedLock = {
      tryAcquire: (key) =>
        Promise.resolve({
          key,
          token: 't',
          extend: () => {
            extensions++;
            return Promise.reject(new Error('Redis unreachable'));
          },
          release: () => Promise.resolve(true),
        }),
    };
    const gameDay = new FleetGameDayLock({ lock: failing, client: connect(), instanceId: 'a', holderKey: `t${++run}:holder`, clock });
    const lost: { name: string; reason: string; error?: unknown }[] = [];
    gameDay.on('lockLost', (e) => lost.push(e));
    const lease = await gameDay.acquire('drill', 3_000);
    await clock.advanceAsync(1_000);
    await clock.advanceAsync(1_000);
    expect(extensions).toBe(2);
    expect(lease.held).toBe(true);
    await clock.advanceAsync(1_000);
    expect(extensions).toBe(3);
    expect(lease.held).toBe(false);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ name: 'drill', reason: 'lost: not extended within its time-to-live' });
    expect((lost[0]?.error as Error).message).toBe('Redis unreachable');
    expect(clock.pendingTimers).toBe(0);
  });

  it('close() releases a lease still held; bad arguments are refused', async () => {
    const prefix = `t${++run}:`;
    const a = member('a', prefix);
    const b = member('b', prefix);
    const lease = await a.acquireGameDay('left-open');
    await a.close();
    expect(lease.held).toBe(false);
    const taken = await b.acquireGameDay('after');
    await taken.release();
    await expect(b.acquireGameDay('')).rejects.toThrow(TypeError);
    await expect(b.acquireGameDay('x', 0)).rejects.toThrow(RangeError);
    await expect(a.acquireGameDay('closed')).rejects.toThrow(/closed/);
  });
});
