import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeHttpHandler, nodeHttpRoute } from '../../../src/adapters/http/node-http-handler.js';
import { sendReply } from '../../../src/adapters/http/http-reply.js';
import { HttpError } from '../../../src/adapters/http/http-error.js';
import { HttpResilience } from '../../../src/adapters/http/http-resilience.js';
import { describe, expect, it } from 'vitest';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { describeHttpAdapter } from './http-adapter-scenarios.js';

failOnUnhandledRejections();

/** Serves `handler` on a free loopback port; `close` also drops kept-alive connections. */
async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describeHttpAdapter('node:http', async (parts) => {
  const quote = nodeHttpRoute(parts.quotes, 'GET:/quotes/:id', (req) => {
    if (parts.state.quoteFails) throw new Error('pricing down');
    return { id: (req.url ?? '').split('/')[2] };
  });
  const guarded = nodeHttpRoute(parts.guarded, 'GET:/guarded/:id', () => {
    parts.state.guardedCalls++;
    throw new Error('dependency down');
  });
  return listen(
    nodeHttpHandler(parts.resilience, async (req, res, context) => {
      const [, first, second] = context.path.split('/');
      if (req.method === 'GET' && first === 'quotes' && second !== undefined) return quote(req, res, context);
      if (req.method === 'GET' && first === 'guarded' && second !== undefined) return guarded(req, res, context);
      if (req.method === 'GET' && first === 'errors' && second !== undefined) throw parts.errorFor(second);
      if (req.method === 'POST' && context.path === '/orders') {
        const body = await context.readJson();
        parts.state.orders.push(body);
        return sendReply(res, { status: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: parts.state.orders.length }) });
      }
      return sendReply(res, { status: 404, headers: {}, body: '' });
    }),
  );
}, false);

describe('nodeHttpHandler edge cases', () => {
  it('a handler failing after its answer started (even with a 413) breaks the connection instead of throwing', async () => {
    const app = await listen(
      nodeHttpHandler(new HttpResilience(), async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        await new Promise((resolve) => setImmediate(resolve));
        throw new HttpError(413, 'Content Too Large', 'upstream said so');
      }),
    );
    try {
      const response = await fetch(app.url);
      expect(response.status).toBe(200);
      await expect(response.text()).rejects.toThrow();
    } finally {
      await app.close();
    }
  });

  it('records a request whose client went away before the answer as 499', async () => {
    const observed: number[] = [];
    let arrived: () => void = () => undefined;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const resilience = new HttpResilience({ metrics: { observeRequest: (_m, _r, status) => void observed.push(status) } });
    const app = await listen(
      nodeHttpHandler(resilience, () => {
        arrived(); // never answers
      }),
    );
    try {
      const controller = new AbortController();
      const request = fetch(app.url, { signal: controller.signal }).catch(() => undefined);
      await arrival;
      controller.abort();
      await request;
      for (let i = 0; i < 200 && observed.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(observed).toEqual([499]);
    } finally {
      await app.close();
    }
  });

  it('a rate limit that throws or rejects becomes an error answer that keeps the request id, and is recorded', async () => {
    const observed: number[] = [];
    let mode: 'throw' | 'reject' = 'throw';
    const rateLimit = {
      check: () => {
        if (mode === 'throw') throw new Error('limit exploded');
        return Promise.reject(new Error('limit rejected'));
      },
      recordOutcome: () => undefined,
      recordsOutcomes: false,
      handle: async () => false,
      express: () => undefined,
      fastify: async () => undefined,
    };
    const resilience = new HttpResilience({ rateLimit, metrics: { observeRequest: (_m, _r, status) => void observed.push(status) } });
    const app = await listen(nodeHttpHandler(resilience, (_req, res) => void res.end('ok')));
    try {
      for (const m of ['throw', 'reject'] as const) {
        mode = m;
        const response = await fetch(app.url, { headers: { 'x-request-id': `rl-${m}` } });
        expect(response.status).toBe(500);
        expect(response.headers.get('x-request-id')).toBe(`rl-${m}`);
        expect(await response.json()).toMatchObject({ status: 500, requestId: `rl-${m}` });
      }
      for (let i = 0; i < 100 && observed.length < 2; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(observed).toEqual([500, 500]);
    } finally {
      await app.close();
    }
  });
});
