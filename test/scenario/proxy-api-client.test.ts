import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyControlServer } from '../../src/chaos/proxy/proxy-control-server.js';
import { ProxyApiClient } from '../../src/scenario/proxy-api-client.js';
import { isTargetRequestError, type TargetRequestError } from '../../src/scenario/target-request-error.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { errorOf } from '../support/promises.js';

failOnUnhandledRejections();

let control: ProxyControlServer;

beforeAll(async () => {
  control = await new ProxyControlServer({ port: 0 }).start();
  await control.registry.create({ name: 'redis', upstream: '127.0.0.1:1' });
});

afterAll(async () => {
  await control.stop();
});

describe('ProxyApiClient against the fault proxy control API (toxiproxy paths)', () => {
  it('adds a toxic with its defaults and removes it, treating a missing toxic as gone', async () => {
    const proxy = new ProxyApiClient({ url: control.url });
    await proxy.addToxic('redis', 'slow-redis', { type: 'latency', attributes: { latency: 200 } });
    expect(control.registry.get('redis')?.toxics.map((t) => ({ name: t.name, type: t.type, stream: t.stream, toxicity: t.toxicity }))).toEqual([
      { name: 'slow-redis', type: 'latency', stream: 'downstream', toxicity: 1 },
    ]);
    expect(await proxy.removeToxic('redis', 'slow-redis')).toBe(true);
    expect(control.registry.get('redis')?.toxics).toEqual([]);
    expect(await proxy.removeToxic('redis', 'slow-redis')).toBe(false);
  });

  it("throws the API's error message for an unknown proxy or a bad toxic", async () => {
    const proxy = new ProxyApiClient({ url: control.url });
    const unknown = (await errorOf(proxy.addToxic('postgres', 't', { type: 'latency', attributes: {} }))) as TargetRequestError;
    expect(isTargetRequestError(unknown)).toBe(true);
    expect(unknown.status).toBe(404);
    expect(unknown.message).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/proxies\/postgres\/toxics answered 404: .*postgres/);
    const bad = (await errorOf(proxy.addToxic('redis', 't', { type: 'warp_drive', attributes: {} }))) as TargetRequestError;
    expect(bad.status).toBe(400);
    expect(control.registry.get('redis')?.toxics).toEqual([]);
  });
});
