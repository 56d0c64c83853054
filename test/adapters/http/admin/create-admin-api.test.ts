import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../../../../src/adapters/http/admin/start-admin-server.js';
import { failOnUnhandledRejections } from '../../../support/no-unhandled-rejections.js';
import { OPS_TOKEN, SseReader, TOKEN, eventually, makeComponents, tripBreaker } from './admin-test-kit.js';

failOnUnhandledRejections();

const kit = makeComponents();
const { breakers, degradation, experiments, chaos } = kit.components;
let server: AdminServer;

beforeAll(async () => {
  server = await startAdminServer({
    token: [
      { name: 'admin', token: TOKEN },
      { name: 'ops', token: OPS_TOKEN },
    ],
    components: kit.components,
    store: kit.store,
    maxBodyBytes: 1_024,
    maxStreamClients: 2,
  });
});

afterAll(async () => {
  experiments.abortAll();
  await server.close();
});

const auth = (token = TOKEN): Record<string, string> => ({ authorization: `Bearer ${token}` });
const call = (method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> =>
  fetch(`${server.url}${path}`, {
    method,
    headers: { ...(options.headers ?? auth()), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });

async function expectProblem(res: Response, status: number): Promise<{ title: string; detail: string; status: number }> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = (await res.json()) as { title: string; detail: string; status: number; instance: string };
  expect(body.status).toBe(status);
  return body;
}

describe('admin API (real node:http server)', () => {
  it('serves the dashboard page without a token, locked down by CSP and carrying no data', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'sha256-/);
    const html = await res.text();
    expect(html).toContain('<script type="application/json" id="cfg">{"base":"/admin"}</script>');
    expect(html).not.toContain('pricing');
    expect((await fetch(`${server.url}/dashboard`)).status).toBe(200);
  });

  it('answers the state of every component to a valid token only', async () => {
    await expectProblem(await call('GET', '/state', { headers: {} }), 401);
    await expectProblem(await call('GET', '/state', { headers: auth('wrong-token-0123456789') }), 401);
    await expectProblem(await call('GET', '/state', { headers: { authorization: `Basic ${TOKEN}` } }), 401);
    const res = await call('GET', '/state');
    expect(res.status).toBe(200);
    const state = (await res.json()) as Record<string, unknown> & { breakers: { name: string; state: string }[] };
    expect(state.breakers.map((b) => [b.name, b.state])).toEqual([['pricing', 'closed'], ['inventory', 'closed']]);
    expect(state).toMatchObject({
      environment: 'test',
      actionsAllowed: true,
      degradation: { level: 'full', levels: ['full', 'reduced', 'minimal', 'emergency'], override: null },
      cache: { hitRate: 0 },
      chaos: { enabled: true, faults: [] },
      experiments: { names: ['pricing-burst'], running: [] },
      healing: { attempts: 0 },
    });
    expect(await (await call('GET', '/breakers')).json()).toHaveLength(2);
    expect(await (await call('GET', '/health')).json()).toMatchObject({ score: 100 });
  });

  it('refuses actions without the right token and changes nothing', async () => {
    await tripBreaker(breakers, 'pricing');
    const auditBefore = (await kit.store.getAuditLog()).length;
    for (const headers of [{}, auth('wrong-token-0123456789'), { authorization: 'Bearer' }]) {
      const res = await call('POST', '/breakers/pricing/reset', { headers });
      const problem = await expectProblem(res, 401);
      expect(problem.title).toBe('Unauthorized');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      await expectProblem(await call('POST', '/degradation', { headers, body: { level: 'minimal' } }), 401);
      await expectProblem(await call('POST', '/chaos/disable', { headers }), 401);
    }
    expect(breakers.get('pricing')?.state).toBe('open');
    expect(degradation.getCurrentState().level).toBe('full');
    expect(chaos.control.enabled).toBe(true);
    expect(await kit.store.getAuditLog()).toHaveLength(auditBefore);
  });

  it('answers bad input with problem+json and changes nothing', async () => {
    const auditBefore = (await kit.store.getAuditLog()).length;
    expect((await expectProblem(await call('POST', '/breakers/pricing/explode'), 404)).detail).toMatch(/Unknown breaker action "explode"/);
    expect((await expectProblem(await call('POST', '/breakers/nope/reset'), 404)).detail).toMatch(/No breaker "nope"/);
    await expectProblem(await call('POST', '/self-destruct'), 404);
    await expectProblem(await call('DELETE', '/breakers/pricing/reset'), 405);
    expect((await expectProblem(await call('POST', '/degradation', { body: '{"level": "minimal"' }), 400)).detail).toMatch(/valid JSON/);
    await expectProblem(await call('POST', '/degradation', { body: '' }), 400);
    await expectProblem(await call('POST', '/degradation', { body: '["minimal"]' }), 400);
    await expectProblem(await call('POST', '/degradation', { body: { level: 'minimal', padding: 'x'.repeat(2_000) } }), 413);
    const bad = await call('POST', '/degradation', { body: { level: 'apocalypse', pin: 'yes' } });
    const problem = (await expectProblem(bad, 400)) as unknown as { errors: { path: string }[] };
    expect(problem.errors.map((e) => e.path)).toEqual(['level', 'pin']);
    await expectProblem(await call('POST', '/experiments/start', { body: { name: 'nope' } }), 404);
    await expectProblem(await call('POST', '/experiments/start', { body: { name: 'pricing-burst', durationMs: -5 } }), 400);
    await expectProblem(await call('POST', '/experiments/stop', { body: { id: 'not-running' } }), 404);
    await expectProblem(await call('POST', '/chaos/faults', { body: '{oops' }), 400);
    // A malformed percent escape is the client's mistake, not the server's.
    expect((await expectProblem(await call('POST', '/breakers/%E0%A4%A/reset'), 400)).detail).toMatch(/percent-encoded/);
    await expectProblem(await call('DELETE', '/chaos/faults/%E0%A4%A'), 404);
    expect(breakers.get('pricing')?.state).toBe('open');
    expect(degradation.getCurrentState()).toMatchObject({ level: 'full', override: null });
    expect(experiments.running()).toEqual([]);
    expect(chaos.active()).toEqual([]);
    expect(await kit.store.getAuditLog()).toHaveLength(auditBefore);
  });

  it('acts and records who acted and when in the store', async () => {
    const before = Date.now();
    const reset = await call('POST', '/breakers/pricing/reset', { headers: auth(OPS_TOKEN) });
    expect(reset.status).toBe(200);
    expect(await reset.json()).toEqual({ name: 'pricing', from: 'open', state: 'closed' });
    expect(breakers.get('pricing')?.state).toBe('closed');

    const set = await call('POST', '/degradation', { body: { level: 'minimal' } });
    expect(await set.json()).toEqual({ level: 'minimal', override: 'minimal' });
    expect(degradation.getCurrentState()).toMatchObject({ level: 'minimal', override: 'minimal' });
    expect((await call('POST', '/degradation', { body: { level: null } })).status).toBe(200);
    expect(degradation.getCurrentState().override).toBeNull();

    const audit = await kit.store.getAuditLog();
    expect(audit.slice(0, 3).map((a) => [a.who, a.action, a.target])).toEqual([
      ['admin', 'degradation.unpin', 'override'],
      ['admin', 'degradation.set', 'minimal'],
      ['ops', 'breaker.reset', 'pricing'],
    ]);
    for (const entry of audit.slice(0, 3)) {
      expect(entry.at).toBeGreaterThanOrEqual(before - 1);
      expect(entry.at).toBeLessThanOrEqual(Date.now() + 1);
    }
    expect(audit[2]?.data).toMatchObject({ from: 'open', to: 'closed', remoteAddress: '127.0.0.1' });
    expect(await (await call('GET', '/audit')).json()).toHaveLength(audit.length);
  });

  it('starts and stops experiments and mounts the chaos routes', async () => {
    const start = await call('POST', '/experiments/start', { body: { name: 'pricing-burst', durationMs: 60_000 } });
    expect(start.status).toBe(202);
    const { id } = (await start.json()) as { id: string };
    expect(experiments.running().map((r) => r.id)).toEqual([id]);
    const stop = await call('POST', '/experiments/stop', { body: { id } });
    expect(await stop.json()).toEqual({ stopped: 1 });
    await eventually(() => experiments.running().length === 0, 'the run to finish');
    expect(experiments.getHistory().at(-1)).toMatchObject({ id, status: 'aborted' });

    const inject = await call('POST', '/chaos/faults', { body: { dependency: 'pricing', fault: { kind: 'error', rate: 1 } } });
    expect(inject.status).toBe(201);
    expect(chaos.active()).toHaveLength(1);
    expect((await call('GET', '/chaos/status')).status).toBe(200);
    expect((await call('DELETE', '/chaos/faults', { headers: auth(OPS_TOKEN) })).status).toBe(200);
    expect(chaos.active()).toHaveLength(0);

    const audit = await kit.store.getAuditLog({ limit: 4 });
    expect(audit.map((a) => [a.who, a.action, a.target])).toEqual([
      ['ops', 'chaos.delete', '/faults'],
      ['admin', 'chaos.post', '/faults'],
      ['admin', 'experiment.stop', id],
      ['admin', 'experiment.start', 'pricing-burst'],
    ]);
  });

  it('streams snapshots to a ticket holder, live, and bounds the clients', async () => {
    await expectProblem(await fetch(`${server.url}/events`), 401);
    await expectProblem(await fetch(`${server.url}/events?ticket=forged.AAAA`), 401);
    await expectProblem(await call('POST', '/session', { headers: {} }), 401);
    const { ticket, expiresAt } = (await (await call('POST', '/session')).json()) as { ticket: string; expiresAt: number };
    expect(expiresAt).toBeGreaterThan(Date.now());
    const tampered = `${ticket.slice(0, -2)}${ticket.endsWith('A') ? 'B' : 'A'}A`;
    await expectProblem(await fetch(`${server.url}/events?ticket=${encodeURIComponent(tampered)}`), 401);

    const a = new SseReader(await fetch(`${server.url}/events?ticket=${encodeURIComponent(ticket)}`));
    const b = new SseReader(await fetch(`${server.url}/events`, { headers: auth() }));
    await expectProblem(await fetch(`${server.url}/events`, { headers: auth() }), 503);
    // A full stream refuses before a ticket is spent: the same ticket works once a place is free.
    const { ticket: waiting } = (await (await call('POST', '/session')).json()) as { ticket: string };
    const full = await fetch(`${server.url}/events?ticket=${encodeURIComponent(waiting)}`);
    await expectProblem(full, 503);
    expect(full.headers.get('retry-after')).toBe('1');
    await a.until(() => a.snapshots().length === 1, 'the first snapshot');
    expect(a.snapshots()[0]?.breakers?.find((x) => x.name === 'pricing')?.state).toBe('closed');

    await tripBreaker(breakers, 'pricing');
    await a.until(() => a.snapshots().some((s) => s.breakers?.find((x) => x.name === 'pricing')?.state === 'open'), 'pricing open');
    expect(a.snapshots().at(-1)?.activity[0]).toMatchObject({ type: 'closed -> open', target: 'pricing' });
    breakers.get('pricing')?.reset();
    await a.until(() => a.snapshots().at(-1)?.breakers?.find((x) => x.name === 'pricing')?.state === 'closed', 'pricing closed');
    await b.until(() => b.snapshots().at(-1)?.breakers?.find((x) => x.name === 'pricing')?.state === 'closed', 'pricing closed on b');

    expect(server.api.streamClients).toBe(2);
    await a.close();
    await b.close();
    await eventually(() => server.api.streamClients === 0, 'clients to be removed on disconnect');
    const c = new SseReader(await fetch(`${server.url}/events?ticket=${encodeURIComponent(waiting)}`));
    await c.until(() => c.snapshots().length === 1, 'the snapshot of the ticket refused while full');
    await c.close();
    await expectProblem(await fetch(`${server.url}/events?ticket=${encodeURIComponent(waiting)}`), 401); // spent now
  });
});

describe('admin API in production', () => {
  it('refuses every action unless enabled, still answering reads', async () => {
    const kit2 = makeComponents();
    const prod = await startAdminServer({ token: TOKEN, components: kit2.components, store: kit2.store, environment: 'production' });
    const allowed = await startAdminServer({ token: TOKEN, components: kit2.components, store: kit2.store, environment: 'production', allowInProduction: true });
    try {
      await tripBreaker(kit2.components.breakers, 'pricing');
      const post = (base: string, path: string, body?: unknown): Promise<Response> =>
        fetch(`${base}${path}`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      for (const [path, body] of [['/breakers/pricing/reset'], ['/degradation', { level: 'minimal' }], ['/experiments/start', { name: 'pricing-burst' }], ['/experiments/stop', {}], ['/chaos/disable']] as const) {
        const problem = await expectProblem(await post(prod.url, path, body), 403);
        expect(problem.detail).toMatch(/disabled in the "production" environment/);
      }
      await expectProblem(await fetch(`${prod.url}/breakers/pricing/reset`, { method: 'POST' }), 401);
      expect(kit2.components.breakers.get('pricing')?.state).toBe('open');
      expect(kit2.components.degradation.getCurrentState().level).toBe('full');
      expect(kit2.control.enabled).toBe(true);
      expect(await kit2.store.getAuditLog()).toEqual([]);
      expect(await (await fetch(`${prod.url}/state`, { headers: auth() })).json()).toMatchObject({ environment: 'production', actionsAllowed: false });

      expect((await post(allowed.url, '/breakers/pricing/reset')).status).toBe(200);
      expect(kit2.components.breakers.get('pricing')?.state).toBe('closed');
      expect(await kit2.store.getAuditLog()).toHaveLength(1);
    } finally {
      await prod.close();
      await allowed.close();
    }
  });
});

describe('createAdminApi options', () => {
  it('reports every invalid option with its path', async () => {
    const { createAdminApi } = await import('../../../../src/adapters/http/admin/create-admin-api.js');
    const { InvalidOptionsError } = await import('../../../../src/core/options.js');
    let error: unknown;
    try {
      createAdminApi({ token: 'short', maxBodyBytes: 0, streamMinIntervalMs: -1, allowInProduction: 'yes' as never, clock: {} as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InstanceType<typeof InvalidOptionsError>).issues.map((i) => i.path)).toEqual(['token', 'allowInProduction', 'maxBodyBytes', 'streamMinIntervalMs', 'clock']);
    expect(() => createAdminApi({ token: [{ name: '', token: 'x'.repeat(16) }, { name: 'ci', token: 'x' }] })).toThrow(/token\[0\]\.name[\s\S]*token\[1\]\.token/);
  });
});
