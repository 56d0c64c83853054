import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChaosAdminHandler, type ResourceFaultHandle } from '../../../src/adapters/http/chaos-admin-handler.js';
import { ChaosControl } from '../../../src/chaos/chaos-control.js';
import { ChaosRegistry } from '../../../src/chaos/chaos-registry.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

const TOKEN = 'test-token-0123456789';
const control = new ChaosControl({ environment: 'test' });
const registry = new ChaosRegistry({ control });
const stopped: string[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  let next = 0;
  const handler = createChaosAdminHandler({
    registry,
    token: TOKEN,
    resources: (spec) => {
      const handle: ResourceFaultHandle = { id: `r${++next}`, kind: String(spec.kind), stop: () => void stopped.push(handle.id) };
      return handle;
    },
    status: () => ({ breakers: { pricing: 'closed' }, degradation: { level: 'full' }, metrics: { order_completion: 0.97 } }),
  });
  server = createServer((req, res) => {
    void handler(req, res).then((handled) => {
      if (!handled) res.writeHead(200).end('app');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const auth = { authorization: `Bearer ${TOKEN}` };
const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = auth): Promise<Response> =>
  fetch(`${base}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });

describe('chaos admin endpoint (real node:http server)', () => {
  it('leaves other paths to the application', async () => {
    expect(await (await call('GET', '/quotes')).text()).toBe('app');
  });

  it('refuses requests without the right token, changing nothing', async () => {
    const none = await call('POST', '/admin/chaos/enable', undefined, {});
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toBe('application/problem+json');
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await call('POST', '/admin/chaos/enable', undefined, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(control.enabled).toBe(false);
  });

  it('enables chaos, injects and removes faults, reads state and status', async () => {
    expect(await (await call('POST', '/admin/chaos/enable')).json()).toEqual({ enabled: true });
    const created = await call('POST', '/admin/chaos/faults', { dependency: 'pricing', fault: { kind: 'error', rate: 0.3 } });
    expect(created.status).toBe(201);
    const fault = (await created.json()) as { id: string; dependency: string; kind: string };
    expect(fault).toMatchObject({ dependency: 'pricing', kind: 'error' });
    const state = (await (await call('GET', '/admin/chaos')).json()) as { enabled: boolean; faults: unknown[] };
    expect(state.enabled).toBe(true);
    expect(state.faults).toHaveLength(1);
    expect((await call('DELETE', `/admin/chaos/faults/${fault.id}`)).status).toBe(204);
    expect((await call('DELETE', `/admin/chaos/faults/${fault.id}`)).status).toBe(404);
    expect(await (await call('GET', '/admin/chaos/status')).json()).toMatchObject({ metrics: { order_completion: 0.97 } });
    const resource = (await (await call('POST', '/admin/chaos/resources', { kind: 'cpu', percent: 50 })).json()) as { id: string };
    expect((await call('DELETE', `/admin/chaos/resources/${resource.id}`)).status).toBe(204);
    expect(stopped).toEqual([resource.id]);
    // The kill switch also stops resource faults still running.
    const running = (await (await call('POST', '/admin/chaos/resources', { kind: 'memory', mb: 1 })).json()) as { id: string };
    expect(await (await call('POST', '/admin/chaos/disable')).json()).toEqual({ enabled: false });
    expect(stopped).toEqual([resource.id, running.id]);
    expect(((await (await call('GET', '/admin/chaos')).json()) as { resources: unknown[] }).resources).toEqual([]);
  });

  it('keeps a tag with a fault and a resource fault, lists it, and removes faults by tag only', async () => {
    await call('POST', '/admin/chaos/enable');
    const tagged = (await (await call('POST', '/admin/chaos/faults', { dependency: 'pricing', fault: { kind: 'error' }, tag: 'run-a' })).json()) as { id: string; tag?: string };
    expect(tagged.tag).toBe('run-a');
    await call('POST', '/admin/chaos/faults', { dependency: 'stock', fault: { kind: 'latency', latencyMs: 5 }, tag: 'run-a' });
    const other = (await (await call('POST', '/admin/chaos/faults', { dependency: 'pricing', fault: { kind: 'error' }, tag: 'run-b' })).json()) as { id: string };
    const untagged = (await (await call('POST', '/admin/chaos/faults', { dependency: 'pricing', fault: { kind: 'error' } })).json()) as { id: string; tag?: string };
    expect(untagged).not.toHaveProperty('tag');
    const resource = (await (await call('POST', '/admin/chaos/resources', { kind: 'cpu', percent: 5, tag: 'run-a' })).json()) as { id: string };
    const state = (await (await call('GET', '/admin/chaos')).json()) as { faults: { id: string; tag?: string }[]; resources: unknown[] };
    expect(state.faults.map((f) => f.tag)).toEqual(['run-a', 'run-a', 'run-b', undefined]);
    expect(state.resources).toEqual([{ id: resource.id, kind: 'cpu', tag: 'run-a' }]);
    expect(await (await call('DELETE', '/admin/chaos/faults?tag=run-a&dependency=stock')).json()).toEqual({ removed: 1 });
    expect(await (await call('DELETE', '/admin/chaos/faults?tag=run-a')).json()).toEqual({ removed: 1 });
    expect(registry.active().map((f) => f.id)).toEqual([other.id, untagged.id]);
    expect(await (await call('DELETE', '/admin/chaos/faults?tag=run-a')).json()).toEqual({ removed: 0 });
    const badTag = await call('POST', '/admin/chaos/faults', { dependency: 'pricing', fault: { kind: 'error' }, tag: 'x'.repeat(201) });
    expect(badTag.status).toBe(400);
    expect(((await badTag.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['tag']);
    expect(registry.active()).toHaveLength(2);
    registry.clear();
    await call('DELETE', `/admin/chaos/resources/${resource.id}`);
    await call('POST', '/admin/chaos/disable');
  });

  it('answers bad input with problem+json naming the field, and changes nothing', async () => {
    const malformed = await call('POST', '/admin/chaos/faults', '{"dependency": ');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { detail: string }).detail).toMatch(/body: expected valid JSON/);
    const bad = await call('POST', '/admin/chaos/faults', { dependency: '', fault: { kind: 'latency' } });
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { errors: { path: string }[] };
    expect(problem.errors.map((e) => e.path)).toEqual(['dependency']);
    const badFault = await call('POST', '/admin/chaos/faults', { dependency: 'db', fault: { kind: 'latency' } });
    expect(((await badFault.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['fault.latencyMs']);
    expect((await call('PUT', '/admin/chaos/enable')).status).toBe(405);
    expect((await call('POST', '/admin/chaos/reboot')).status).toBe(404);
    const huge = await call('POST', '/admin/chaos/faults', { dependency: 'db', fault: { kind: 'outcome', value: 'x'.repeat(70_000) } });
    expect(huge.status).toBe(413);
    expect(registry.active()).toEqual([]);
  });

  it('refuses to enable chaos in production', async () => {
    const production = new ChaosRegistry({ control: new ChaosControl({ environment: 'production' }) });
    const handler = createChaosAdminHandler({ registry: production, token: TOKEN });
    const prodServer = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => prodServer.listen(0, '127.0.0.1', resolve));
    const response = await fetch(`http://127.0.0.1:${(prodServer.address() as AddressInfo).port}/admin/chaos/enable`, { method: 'POST', headers: auth });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { code: string }).code).toBe('CHAOS_REFUSED');
    await new Promise((resolve) => prodServer.close(resolve));
  });

  it('requires a real token at construction', () => {
    expect(() => createChaosAdminHandler({ registry, token: 'short' })).toThrow(/token: expected a bearer token/);
  });
});
