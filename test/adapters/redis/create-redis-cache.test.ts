import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCache } from '../../../src/adapters/redis/create-redis-cache.js';
import type { InvalidOptionsError } from '../../../src/core/options.js';
import { freePort, PrivateRedisServer } from '../../support/redis-server.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

let local: PrivateRedisServer;
let localB: PrivateRedisServer;
let shared: PrivateRedisServer;
let sentinel: ChildProcess | undefined;
let sentinelPort = 0;

/** Starts a real Redis Sentinel monitoring `masterPort` as `mymaster`. */
async function startSentinel(masterPort: number): Promise<void> {
  sentinelPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'af-sentinel-'));
  const file = join(dir, 'sentinel.conf');
  writeFileSync(file, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 ${masterPort} 1\n`);
  sentinel = spawn('redis-server', [file, '--sentinel'], { stdio: 'ignore' });
  const probe = new Redis({ port: sentinelPort, lazyConnect: true, retryStrategy: () => 20 });
  probe.on('error', () => {});
  const start = Date.now();
  for (;;) {
    try {
      if (probe.status !== 'ready') await probe.connect();
      const master = (await probe.call('SENTINEL', 'get-master-addr-by-name', 'mymaster')) as string[] | null;
      if (master !== null && Number(master[1]) === masterPort) break;
    } catch {
      // not up yet
    }
    if (Date.now() - start > 10_000) throw new Error('sentinel did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  probe.disconnect();
}

beforeAll(async () => {
  [local, localB, shared] = await Promise.all([PrivateRedisServer.start(), PrivateRedisServer.start(), PrivateRedisServer.start()]);
  await startSentinel(shared.port);
});

afterAll(async () => {
  sentinel?.kill('SIGKILL');
  await Promise.all([local?.stop(), localB?.stop(), shared?.stop()]);
});

describe('createRedisCache (the seed configuration)', () => {
  it('L1 + local Redis L2 + Sentinel-resolved L3, with an invalidation bus', async () => {
    const { cache, clients, bus, close } = createRedisCache({
      l1MaxSize: 1000,
      l2Enabled: true,
      redis: local.url,
      l3Enabled: true,
      sentinelConfig: { sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: 'mymaster' },
    });
    expect(clients).toHaveLength(2);
    expect(bus).toBeDefined();
    await cache.set('quote:t1:f1', { price: 12 }, { ttl: 3600 });
    const direct = new Redis(shared.options);
    const directLocal = new Redis(local.options);
    expect(await direct.exists('cache:quote:t1:f1')).toBe(1);
    expect(await directLocal.exists('cache:quote:t1:f1')).toBe(1);
    // Only in L3 (the Sentinel master): read through and fill L2.
    await directLocal.del('cache:quote:t1:f1');
    const fresh = createRedisCache({ redis: local.url, sentinelConfig: { sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: 'mymaster' } });
    expect(await fresh.cache.get('quote:t1:f1')).toEqual({ price: 12 });
    expect(fresh.cache.getMetrics().layers.map((l) => l.name)).toEqual(['memory', 'l2', 'l3']);
    direct.disconnect();
    directLocal.disconnect();
    await fresh.close();
    await close();
    expect(clients.map((c) => c.status)).toEqual(['end', 'end']);
  });

  it('two hosts, each with its own L2, sharing L3: a delete on one host reaches the other host L1 and L2', async () => {
    const sentinelConfig = { sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: 'mymaster' };
    const a = createRedisCache({ redis: local.url, sentinelConfig, prefix: 'hosts:' });
    const b = createRedisCache({ redis: localB.url, sentinelConfig, prefix: 'hosts:' });
    const busesUp = async (): Promise<void> => {
      for (let i = 0; i < 200 && !(a.bus?.connected && b.bus?.connected); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await busesUp();
    await a.cache.set('k', 'v1');
    expect(await b.cache.get('k')).toBe('v1');
    const bL2 = new Redis(localB.options);
    // B fills its own L2 from L3 in the background (a read racing A's announcement does not fill: read again).
    for (let i = 0; i < 200 && (await bL2.exists('hosts:k')) === 0; i++) {
      await b.cache.get('k');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await bL2.exists('hosts:k')).toBe(1);
    await a.cache.delete('k');
    for (let i = 0; i < 200 && (await bL2.exists('hosts:k')) === 1; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await bL2.exists('hosts:k')).toBe(0);
    expect(await b.cache.get('k')).toBeUndefined();
    bL2.disconnect();
    await a.close();
    await b.close();
  });

  it('close() does not hang on a frozen Redis', async () => {
    const frozen = await PrivateRedisServer.start();
    const { cache, close } = createRedisCache({ redis: frozen.url });
    await cache.set('k', 1);
    frozen.pause();
    const started = Date.now();
    await close();
    const closeMs = Date.now() - started;
    expect(closeMs).toBeLessThan(3_000);
    frozen.resume();
    await frozen.stop();
  });

  it('rejects an incomplete configuration naming every field', () => {
    let error: InvalidOptionsError | undefined;
    try {
      createRedisCache({ l1MaxSize: 0, l3Enabled: true, sentinelConfig: { sentinels: [], name: 1 as unknown as string } });
    } catch (e) {
      error = e as InvalidOptionsError;
    }
    expect(error?.issues.map((i) => i.path)).toEqual(['l1MaxSize', 'sentinelConfig.sentinels', 'sentinelConfig.name']);
  });
});
