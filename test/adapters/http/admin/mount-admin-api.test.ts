import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { createAdminApi } from '../../../../src/adapters/http/admin/create-admin-api.js';
import { failOnUnhandledRejections } from '../../../support/no-unhandled-rejections.js';
import { TOKEN, makeComponents, tripBreaker } from './admin-test-kit.js';

failOnUnhandledRejections();

const kit = makeComponents();
const admin = createAdminApi({ token: TOKEN, components: kit.components, store: kit.store });
const closers: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  admin.close();
  for (const close of closers) await close();
});

async function exercise(base: string): Promise<void> {
  expect(await (await fetch(`${base}/hello`)).text()).toBe('app');
  expect((await fetch(`${base}/admin/`)).headers.get('content-type')).toBe('text/html; charset=utf-8');
  await tripBreaker(kit.components.breakers, 'pricing');
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  expect((await fetch(`${base}/admin/breakers/pricing/reset`, { method: 'POST', headers })).status).toBe(200);
  expect(kit.components.breakers.get('pricing')?.state).toBe('closed');
  const malformed = await fetch(`${base}/admin/degradation`, { method: 'POST', headers, body: '{nope' });
  expect(malformed.status).toBe(400);
  expect(malformed.headers.get('content-type')).toBe('application/problem+json');
  expect((await fetch(`${base}/admin/degradation`, { method: 'POST', headers, body: JSON.stringify({ level: 'reduced' }) })).status).toBe(200);
  expect(kit.components.degradation.getCurrentState().level).toBe('reduced');
  await kit.components.degradation.forceRecover();
}

describe('mounting the admin API', () => {
  it('in Express, as middleware before the routes', async () => {
    const app = express();
    app.use((req, res, next) => {
      admin(req, res).then((handled) => handled || next(), next);
    });
    app.get('/hello', (_req, res) => void res.send('app'));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    await exercise(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  it('in Fastify, from an onRequest hook that hijacks the admin paths', async () => {
    const app = Fastify();
    app.addHook('onRequest', async (req, reply) => {
      if (req.url === '/admin' || req.url.startsWith('/admin/')) {
        reply.hijack();
        await admin(req.raw, reply.raw);
      }
    });
    app.get('/hello', async () => 'app');
    await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    await exercise(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
  });
});
