import { Redis, ReplyError } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy, type FaultProxyOptions } from '../../../src/chaos/proxy/index.js';
import { PrivateRedisServer } from '../../support/redis-server.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { errorOf } from '../../support/promises.js';
import { RawClient } from './proxy-test-kit.js';

failOnUnhandledRejections();

let redis: PrivateRedisServer;
let direct: Redis;
const proxies: FaultProxy[] = [];
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  redis = await PrivateRedisServer.start();
  direct = new Redis(redis.options);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  direct.disconnect();
  await redis.stop();
});

async function proxyTo(port: number, options: Partial<FaultProxyOptions> = {}): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ name: 'dependency', upstream: `127.0.0.1:${port}`, ...options });
  proxies.push(proxy);
  return proxy;
}

async function redisThrough(proxy: FaultProxy): Promise<Redis> {
  const client = new Redis({ host: '127.0.0.1', port: proxy.port, maxRetriesPerRequest: 1, retryStrategy: () => null });
  cleanups.push(() => client.disconnect());
  await client.ping();
  return client;
}

describe('redis_error', () => {
  it('answers commands with a RESP error and forwards none of them', async () => {
    await direct.set('key', 'before');
    const proxy = await proxyTo(redis.port);
    const client = await redisThrough(proxy);
    proxy.addToxic({ name: 'loading', type: 'redis_error' });

    const error = await errorOf(client.set('key', 'during'));
    expect(error).toBeInstanceOf(ReplyError);
    expect((error as Error).message).toBe('LOADING Redis is loading the dataset in memory');
    expect(await errorOf(client.get('key'))).toBeInstanceOf(ReplyError);

    proxy.removeToxic('loading');
    expect(await client.get('key')).toBe('before'); // the SET never reached the server
  });

  it('answers every command of a pipeline in order, across chunk boundaries', async () => {
    const proxy = await proxyTo(redis.port);
    const client = await redisThrough(proxy);
    proxy.addToxic({ type: 'redis_error', attributes: { message: "READONLY You can't write against a read only replica." } });
    const results = await client
      .pipeline()
      .set('a', 'x'.repeat(50_000))
      .get('a')
      .incr('n')
      .exec();
    expect(results).toHaveLength(3);
    for (const [error] of results ?? []) {
      expect(error).toBeInstanceOf(ReplyError);
      expect((error as Error).message).toBe("READONLY You can't write against a read only replica.");
    }
    expect(await direct.exists('a', 'n')).toBe(0);
  });

  it('answers inline commands too', async () => {
    const proxy = await proxyTo(redis.port, { toxics: [{ type: 'redis_error', attributes: { message: 'OOM command not allowed' } }] });
    const raw = await RawClient.connect(proxy.port);
    cleanups.push(() => raw.destroy());
    raw.write('PING\r\n\r\nECHO hi\r\n');
    expect(await raw.until((c) => c.text.length >= 50)).toBe(true);
    expect(raw.text).toBe('-OOM command not allowed\r\n-OOM command not allowed\r\n');
  });

  it('only acts on requests', () => {
    expect(() => new FaultProxy({ name: 'p', upstream: '127.0.0.1:1', toxics: [{ type: 'redis_error', stream: 'downstream' }] })).toThrow(
      /toxics\[0\]\.stream: expected one of "upstream"/,
    );
  });
});

describe('pg_reset against the real PostgreSQL', () => {
  async function pgThrough(proxy: FaultProxy): Promise<pg.Client> {
    const client = new pg.Client({ host: '127.0.0.1', port: proxy.port, user: 'postgres', database: 'postgres' });
    client.on('error', () => undefined);
    cleanups.push(() => client.end().catch(() => undefined));
    await client.connect();
    return client;
  }

  it('connects, then the first query fails with a reset', async () => {
    const proxy = await proxyTo(5432, { toxics: [{ type: 'pg_reset' }] });
    const client = await pgThrough(proxy);
    const error = (await errorOf(client.query('SELECT 1 AS one'))) as NodeJS.ErrnoException;
    expect(error.code).toBe('ECONNRESET');
  });

  it('lets after_queries queries through first, simple and extended protocol alike', async () => {
    const proxy = await proxyTo(5432, { toxics: [{ type: 'pg_reset', attributes: { after_queries: 2 } }] });
    const client = await pgThrough(proxy);
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect((await client.query('SELECT $1::int AS two', [2])).rows).toEqual([{ two: 2 }]);
    const error = (await errorOf(client.query('SELECT 3'))) as NodeJS.ErrnoException;
    expect(error.code).toBe('ECONNRESET');
  });

  it('does nothing once removed', async () => {
    const proxy = await proxyTo(5432, { toxics: [{ name: 'reset', type: 'pg_reset' }] });
    const client = await pgThrough(proxy);
    proxy.removeToxic('reset');
    expect((await client.query('SELECT 42 AS answer')).rows).toEqual([{ answer: 42 }]);
  });
});
