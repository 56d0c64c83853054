import { createServer as createNetServer } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProxyControlServer } from '../../../src/chaos/proxy/index.js';
import { PrivateRedisServer, freePort } from '../../support/redis-server.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { errorOf } from '../../support/promises.js';
import { RawClient } from './proxy-test-kit.js';

failOnUnhandledRejections();

let redis: PrivateRedisServer;
let control: ProxyControlServer;
let upstream: string;
const clients: RawClient[] = [];

beforeAll(async () => {
  redis = await PrivateRedisServer.start();
  upstream = `127.0.0.1:${redis.port}`;
});

beforeEach(async () => {
  control = await new ProxyControlServer({ port: 0 }).start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await control.stop();
});

afterAll(async () => {
  await redis.stop();
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json' } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${control.url}${path}`, init);
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

async function connect(port: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  clients.push(client);
  return client;
}

const listenPort = (json: unknown): number => Number((json as { listen: string }).listen.split(':').pop());

describe('ProxyControlServer (toxiproxy API)', () => {
  it('GET /version', async () => {
    expect(await api('GET', '/version')).toEqual({ status: 200, json: { version: '2.12.0-antifragile' } });
  });

  it('creates a proxy, adds, shows, updates and deletes a toxic that really acts on the traffic', async () => {
    const created = await api('POST', '/proxies', { name: 'redis', listen: '127.0.0.1:0', upstream, enabled: true });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'redis', upstream, enabled: true, toxics: [] });
    const port = listenPort(created.json);
    const client = await connect(port);
    expect(await client.roundTrip('PING\r\n', 7)).toBeLessThan(100);

    const toxic = await api('POST', '/proxies/redis/toxics', { type: 'latency', attributes: { latency: 150 } });
    expect(toxic).toEqual({
      status: 200,
      json: { name: 'latency_downstream', type: 'latency', stream: 'downstream', toxicity: 1, attributes: { latency: 150, jitter: 0 } },
    });
    const rtt = await client.roundTrip('PING\r\n', 7);
    expect(rtt).toBeGreaterThanOrEqual(145);
    expect(rtt).toBeLessThan(350);

    expect((await api('GET', '/proxies/redis/toxics')).json).toEqual([toxic.json]);
    expect((await api('GET', '/proxies/redis/toxics/latency_downstream')).json).toEqual(toxic.json);
    expect((await api('GET', '/proxies')).json).toEqual({ redis: { ...(created.json as object), toxics: [toxic.json] } });

    const updated = await api('POST', '/proxies/redis/toxics/latency_downstream', { attributes: { latency: 10 }, toxicity: 1 });
    expect(updated.json).toMatchObject({ attributes: { latency: 10, jitter: 0 } });
    expect(await client.roundTrip('PING\r\n', 7)).toBeLessThan(140);

    expect((await api('DELETE', '/proxies/redis/toxics/latency_downstream')).status).toBe(204);
    expect((await api('GET', '/proxies/redis/toxics/latency_downstream')).status).toBe(404);
    expect((await api('DELETE', '/proxies/redis')).status).toBe(204);
    expect((await api('GET', '/proxies/redis')).status).toBe(404);
    expect(((await errorOf(RawClient.connect(port))) as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('answers bad input with 400 naming the field, unknown names with 404, clashes with 409; nothing changes', async () => {
    await api('POST', '/proxies', { name: 'redis', listen: '127.0.0.1:0', upstream, toxics: [{ name: 'lag', type: 'latency' }] });
    const before = (await api('GET', '/proxies')).json;

    const malformed = await api('POST', '/proxies/redis/toxics', '{"type": "latency",');
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ status: 400, error: expect.stringMatching(/^bad request body/) });

    const unknownType = await api('POST', '/proxies/redis/toxics', { type: 'explode' });
    expect(unknownType.status).toBe(400);
    expect((unknownType.json as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['type']);

    const badAttribute = await api('POST', '/proxies/redis/toxics', { type: 'latency', name: 'other', attributes: { latency: 'slow' } });
    expect(badAttribute.status).toBe(400);
    expect(badAttribute.json).toMatchObject({ error: expect.stringContaining('attributes.latency') });

    const badUpdate = await api('POST', '/proxies/redis/toxics/lag', { attributes: { jitter: -1 } });
    expect(badUpdate.status).toBe(400);
    expect((badUpdate.json as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['attributes.jitter']);

    expect((await api('POST', '/proxies', { name: 'redis', listen: '127.0.0.1:0', upstream })).status).toBe(409);
    expect((await api('POST', '/proxies/redis/toxics', { name: 'lag', type: 'bandwidth' })).status).toBe(409);
    const missing = await api('POST', '/proxies', { name: 'nameless-upstream' });
    expect(missing.status).toBe(400);
    expect((missing.json as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['upstream']);

    expect((await api('GET', '/proxies/nope')).status).toBe(404);
    expect((await api('POST', '/proxies/nope/toxics', { type: 'latency' })).status).toBe(404);
    expect((await api('DELETE', '/proxies/redis/toxics/nope')).status).toBe(404);
    expect((await api('GET', '/nothing-here')).status).toBe(404);
    expect((await api('PUT', '/proxies')).status).toBe(405);

    expect((await api('GET', '/proxies')).json).toEqual(before);
  });

  it('POST /proxies/{name} disables and enables; POST /reset enables all and removes every toxic', async () => {
    const created = await api('POST', '/proxies', {
      name: 'redis',
      listen: '127.0.0.1:0',
      upstream,
      toxics: [{ type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } }],
    });
    const port = listenPort(created.json);
    const held = await connect(port);
    held.write('PING\r\n');

    const disabled = await api('POST', '/proxies/redis', { enabled: false });
    expect(disabled.json).toMatchObject({ enabled: false });
    expect(await held.until((c) => c.closed)).toBe(true);
    expect(((await errorOf(RawClient.connect(port))) as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');

    expect((await api('POST', '/reset')).status).toBe(204);
    expect((await api('GET', '/proxies/redis')).json).toMatchObject({ enabled: true, toxics: [] });
    expect(await (await connect(port)).roundTrip('PING\r\n', 7)).toBeLessThan(100);
  });

  it('POST /proxies/{name} moving to a busy address answers 409 naming it and keeps the proxy serving where it was', async () => {
    const created = await api('POST', '/proxies', { name: 'redis', listen: '127.0.0.1:0', upstream });
    const port = listenPort(created.json);
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as { port: number }).port;
    try {
      const moved = await api('POST', '/proxies/redis', { listen: `127.0.0.1:${busy}` });
      expect(moved.status).toBe(409);
      expect(JSON.stringify(moved.json)).toContain(`cannot listen on 127.0.0.1:${busy}`);
      expect((await api('GET', '/proxies/redis')).json).toMatchObject({ listen: `127.0.0.1:${port}`, enabled: true });
      expect(await (await connect(port)).roundTrip('PING\r\n', 7)).toBeLessThan(1_000);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('POST /populate creates all the proxies or none', async () => {
    const [portA, portB] = [await freePort(), await freePort()];

    const invalid = await api('POST', '/populate', [
      { name: 'a', listen: `127.0.0.1:${portA}`, upstream },
      { name: 'b', listen: `127.0.0.1:${portB}`, upstream: 'nowhere' },
      { name: 'c', listen: '127.0.0.1:0', upstream, toxics: [{ type: 'latency', attributes: { latency: -1 } }] },
    ]);
    expect(invalid.status).toBe(400);
    expect((invalid.json as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual([
      '[1].upstream',
      '[2].toxics[0].attributes.latency',
    ]);
    expect((await api('GET', '/proxies')).json).toEqual({});

    // `a` could listen, `b`'s port is in use by `existing`: neither is created.
    const existing = await api('POST', '/proxies', { name: 'existing', listen: `127.0.0.1:${portB}`, upstream });
    expect(existing.status).toBe(201);
    const clash = await api('POST', '/populate', [
      { name: 'a', listen: `127.0.0.1:${portA}`, upstream },
      { name: 'b', listen: `127.0.0.1:${portB}`, upstream },
    ]);
    expect(clash.status).toBe(409);
    expect(Object.keys((await api('GET', '/proxies')).json as object)).toEqual(['existing']);
    expect(((await errorOf(RawClient.connect(portA))) as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');

    const populated = await api('POST', '/populate', [
      { name: 'a', listen: `127.0.0.1:${portA}`, upstream, toxics: [{ type: 'latency', attributes: { latency: 100 } }] },
      { name: 'existing', listen: `127.0.0.1:${portB}`, upstream, enabled: false },
    ]);
    expect(populated.status).toBe(201);
    expect((populated.json as { proxies: { name: string; enabled: boolean }[] }).proxies.map((p) => [p.name, p.enabled])).toEqual([
      ['a', true],
      ['existing', false],
    ]);
    const rtt = await (await connect(portA)).roundTrip('PING\r\n', 7);
    expect(rtt).toBeGreaterThanOrEqual(95);
    expect(((await errorOf(RawClient.connect(portB))) as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');

    // A different upstream replaces the proxy (and its toxics).
    const replaced = await api('POST', '/populate', [{ name: 'a', listen: `127.0.0.1:${portA}`, upstream: '127.0.0.1:1' }]);
    expect(replaced.status).toBe(201);
    expect((await api('GET', '/proxies/a')).json).toEqual({ name: 'a', listen: `127.0.0.1:${portA}`, upstream: '127.0.0.1:1', enabled: true, toxics: [] });
  });

  it('refuses browsers, as toxiproxy does', async () => {
    const response = await fetch(`${control.url}/proxies`, { headers: { 'user-agent': 'Mozilla/5.0' } });
    expect(response.status).toBe(403);
  });
});
