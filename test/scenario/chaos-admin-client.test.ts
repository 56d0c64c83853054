import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChaosAdminHandler } from '../../src/adapters/http/chaos-admin-handler.js';
import { ChaosControl } from '../../src/chaos/chaos-control.js';
import { ChaosRegistry } from '../../src/chaos/chaos-registry.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { ProxyApiClient } from '../../src/scenario/proxy-api-client.js';
import { ChaosAdminClient } from '../../src/scenario/chaos-admin-client.js';
import { isTargetRequestError, type TargetRequestError } from '../../src/scenario/target-request-error.js';
import { errorOf } from '../support/promises.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const TOKEN = 'client-test-token-0123456789';
const registry = new ChaosRegistry({ control: new ChaosControl({ environment: 'test' }) });
registry.injector('payment');
const stopped: string[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  let next = 0;
  const admin = createChaosAdminHandler({
    registry,
    token: TOKEN,
    resources: (spec) => ({ id: `r${++next}`, kind: String(spec.kind), stop: () => void stopped.push(`r${next}`) }),
    status: () => ({ breakers: { payment: 'closed' }, degradation: { level: 'normal' }, metrics: { order_completion: 0.97 } }),
  });
  server = createServer((req, res) => {
    void admin(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('ChaosAdminClient against createChaosAdminHandler (real node:http)', () => {
  it('drives every route of the admin endpoint', async () => {
    const client = new ChaosAdminClient({ url: `${base}/admin/chaos/`, token: TOKEN });
    expect(client.url).toBe(`${base}/admin/chaos`);
    expect(await client.state()).toMatchObject({ enabled: false, permitted: true, environment: 'test', dependencies: ['payment'], faults: [], resources: [] });
    await client.enable();
    expect(registry.control.enabled).toBe(true);
    const fault = await client.injectFault('payment', { kind: 'error', rate: 0.5 });
    expect(fault).toMatchObject({ dependency: 'payment', kind: 'error', spec: { kind: 'error', rate: 0.5 } });
    expect(registry.active().map((f) => f.id)).toEqual([fault.id]);
    expect(await client.removeFault(fault.id)).toBe(true);
    expect(await client.removeFault(fault.id)).toBe(false);
    await client.injectFault('payment', { kind: 'latency', latencyMs: 5 });
    await client.injectFault('search', { kind: 'error' });
    expect(await client.clearFaults('payment')).toBe(1);
    expect(await client.clearFaults()).toBe(1);
    const resource = await client.startResource({ kind: 'cpu', percent: 50 });
    expect(resource).toEqual({ id: 'r1', kind: 'cpu' });
    expect(await client.stopResource('r1')).toBe(true);
    expect(stopped).toEqual(['r1']);
    expect(await client.stopResource('r1')).toBe(false);
    expect(await client.status()).toEqual({ breakers: { payment: 'closed' }, degradation: { level: 'normal' }, metrics: { order_completion: 0.97 } });
    await client.disable();
    expect(registry.control.enabled).toBe(false);
  });

  it("throws the endpoint's problem detail, and refuses a wrong token", async () => {
    const client = new ChaosAdminClient({ url: `${base}/admin/chaos`, token: TOKEN });
    const bad = (await errorOf(client.injectFault('payment', { kind: 'nope' } as never))) as TargetRequestError;
    expect(isTargetRequestError(bad)).toBe(true);
    expect(bad.status).toBe(400);
    expect(bad.message).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/admin\/chaos\/faults answered 400: fault\.kind: expected one of "error", "latency", "outcome"/);
    expect(bad.problem).toMatchObject({ title: 'Bad Request', status: 400 });
    const stranger = new ChaosAdminClient({ url: `${base}/admin/chaos`, token: 'wrong-token-0123456789' });
    const refused = (await errorOf(stranger.status())) as TargetRequestError;
    expect(refused.status).toBe(401);
    expect(refused.message).toMatch(/answered 401: A valid bearer token is required$/);
  });

  it('reports an unreachable endpoint with status 0, and validates its options', async () => {
    const client = new ChaosAdminClient({ url: 'http://127.0.0.1:1/admin/chaos', token: TOKEN, timeoutMs: 2_000 });
    const error = (await errorOf(client.state())) as TargetRequestError;
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/^GET http:\/\/127\.0\.0\.1:1\/admin\/chaos\/ failed: /);
    expect(() => new ChaosAdminClient({ url: 'nope', token: '', timeoutMs: -1 })).toThrow(InvalidOptionsError);
    const issues = (options: object, make: (o: never) => unknown): string[] => {
      try {
        make(options as never);
      } catch (e) {
        return (e as InvalidOptionsError).issues.map((i) => `${i.path}: ${i.expected}`);
      }
      return [];
    };
    const bad = { url: 'ftp://x', token: '', timeoutMs: -1, clock: {}, fetch: 1 };
    expect(issues(bad, (o) => new ChaosAdminClient(o))).toEqual([
      'url: an http(s) URL',
      'token: a non-empty bearer token',
      expect.stringMatching(/^timeoutMs: /),
      expect.stringMatching(/^clock: /),
      expect.stringMatching(/^fetch: /),
    ]);
    // the proxy client takes the same settings, with an optional token
    expect(issues({ ...bad, token: 5 }, (o) => new ProxyApiClient(o)).map((i) => i.split(':')[0])).toEqual(['url', 'token', 'timeoutMs', 'clock', 'fetch']);
    expect(issues({ url: 'http://127.0.0.1:8474/' }, (o) => new ProxyApiClient(o))).toEqual([]);
    expect(new ProxyApiClient({ url: 'http://127.0.0.1:8474///' }).url).toBe('http://127.0.0.1:8474');
  });
});
