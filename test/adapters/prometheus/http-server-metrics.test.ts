import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { expressResilience } from '../../../src/adapters/http/express-resilience.js';
import { fastifyResilience } from '../../../src/adapters/http/fastify-resilience.js';
import { HttpResilience } from '../../../src/adapters/http/http-resilience.js';
import { nodeHttpHandler } from '../../../src/adapters/http/node-http-handler.js';
import { HttpServerMetrics } from '../../../src/adapters/prometheus/http-server-metrics.js';
import { metricsHandler } from '../../../src/adapters/prometheus/metrics-handler.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { find, parseExposition, value } from './parse-exposition.js';

failOnUnhandledRejections();

const NAME = 'http_server_request_duration_seconds';

async function scrape(registry: Registry) {
  return parseExposition(await registry.metrics());
}

describe('HttpServerMetrics', () => {
  it('keeps a histogram per method, route and status, with inclusive bucket bounds', async () => {
    const metrics = new HttpServerMetrics({ buckets: [0.1, 0.5, 1] });
    metrics.observeRequest('GET', '/quotes/:id', 200, 0.1);
    metrics.observeRequest('GET', '/quotes/:id', 200, 0.3);
    metrics.observeRequest('GET', '/quotes/:id', 200, 2);
    metrics.observeRequest('POST', '/orders', 503, 0.05);
    metrics.observeRequest('GET', undefined, 404, 0);
    const e = await scrape(metrics.registry);
    expect(e.types.get(NAME)).toBe('histogram');
    const quotes = { method: 'GET', route: '/quotes/:id', status_code: '200' };
    expect(find(e, `${NAME}_bucket`, quotes).map((s) => [s.labels.le, s.value])).toEqual([
      ['0.1', 1],
      ['0.5', 2],
      ['1', 2],
      ['+Inf', 3],
    ]);
    expect(value(e, `${NAME}_count`, quotes)).toBe(3);
    expect(value(e, `${NAME}_sum`, quotes)).toBeCloseTo(2.4, 10);
    expect(value(e, `${NAME}_count`, { method: 'POST', route: '/orders', status_code: '503' })).toBe(1);
    const noRoute = find(e, `${NAME}_count`, { status_code: '404' });
    expect(noRoute.map((s) => s.labels)).toEqual([{ method: 'GET', status_code: '404' }]);
  });

  it('bounds its labels: unknown methods are _OTHER, routes past maxRoutes are other', async () => {
    const metrics = new HttpServerMetrics({ maxRoutes: 2 });
    for (const route of ['/a', '/b', '/c', '/d']) metrics.observeRequest('GET', route, 200, 0.01);
    metrics.observeRequest('BREW', '/a', 418, 0.01);
    metrics.observeRequest('get', '/a', 200, 0.01);
    const e = await scrape(metrics.registry);
    const routes = new Set(find(e, `${NAME}_count`).map((s) => s.labels.route));
    expect([...routes].sort()).toEqual(['/a', '/b', 'other']);
    expect(value(e, `${NAME}_count`, { method: 'GET', route: 'other', status_code: '200' })).toBe(2);
    expect(value(e, `${NAME}_count`, { method: '_OTHER', route: '/a', status_code: '418' })).toBe(1);
    expect(value(e, `${NAME}_count`, { method: '_OTHER', route: '/a', status_code: '200' })).toBe(1);
  });

  it('is a registry citizen: custom name, shared registry, reset, no duplicate name', async () => {
    const registry = new Registry();
    const metrics = new HttpServerMetrics({ registry, name: 'api_request_seconds' });
    metrics.observeRequest('GET', '/x', 200, 0.2);
    expect(value(await scrape(registry), 'api_request_seconds_count', { route: '/x' })).toBe(1);
    expect((await registry.getMetricsAsJSON()).map((m) => m.name)).toEqual(['api_request_seconds']);
    registry.resetMetrics();
    expect(find(await scrape(registry), 'api_request_seconds_count')).toEqual([]);
    expect(() => new HttpServerMetrics({ registry, name: 'api_request_seconds' })).toThrow(/already been registered/);
  });

  it('rejects bad options, naming each field', () => {
    let error: unknown;
    try {
      new HttpServerMetrics({ registry: {} as never, name: '1bad', buckets: [1, 0.5], maxRoutes: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['registry', 'name', 'buckets', 'maxRoutes']);
  });
});

describe('HttpServerMetrics fed by the resilience middleware on real servers', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  const listen = async (server: Server): Promise<string> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  /** Scrapes until `count` requests are recorded (a record is taken on `finish`, which may follow the client's read). */
  async function scrapeWhen(url: string, count: number) {
    for (let i = 0; i < 50; i++) {
      const e = parseExposition(await (await fetch(`${url}/metrics`)).text());
      const seen = find(e, `${NAME}_count`).reduce((sum, s) => sum + s.value, 0);
      if (seen >= count) return e;
    }
    throw new Error(`fewer than ${count} requests recorded`);
  }

  it('Express: route templates, 404s and /metrics itself', async () => {
    const metrics = new HttpServerMetrics();
    const x = expressResilience(new HttpResilience({ metrics }));
    const app = express();
    app.use(x.middleware);
    app.get('/metrics', metricsHandler(metrics.registry));
    app.get('/quotes/:id', (req, res) => void res.json({ id: req.params.id }));
    app.use(x.errorHandler);
    const url = await listen(createServer(app));
    await fetch(`${url}/quotes/1`);
    await fetch(`${url}/quotes/2`);
    await fetch(`${url}/nowhere`);
    const e = await scrapeWhen(url, 3);
    expect(value(e, `${NAME}_count`, { method: 'GET', route: '/quotes/:id', status_code: '200' })).toBe(2);
    expect(find(e, `${NAME}_count`, { status_code: '404' }).map((s) => s.labels)).toEqual([{ method: 'GET', status_code: '404' }]);
  });

  it('Fastify and node:http', async () => {
    const fastifyMetrics = new HttpServerMetrics();
    const app = Fastify();
    await app.register(fastifyResilience, { resilience: new HttpResilience({ metrics: fastifyMetrics }) });
    app.get('/quotes/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    app.get('/metrics', (request, reply) => {
      reply.hijack();
      metricsHandler(fastifyMetrics.registry)(request.raw, reply.raw);
    });
    const fastifyUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await fetch(`${fastifyUrl}/quotes/9`);
      const e = await scrapeWhen(fastifyUrl, 1);
      expect(value(e, `${NAME}_count`, { method: 'GET', route: '/quotes/:id', status_code: '200' })).toBe(1);
    } finally {
      await app.close();
    }

    const nodeMetrics = new HttpServerMetrics();
    const scrapeHandler = metricsHandler(nodeMetrics.registry);
    const url = await listen(
      createServer(
        nodeHttpHandler(new HttpResilience({ metrics: nodeMetrics }), (req, res) => {
          if (req.url === '/metrics') return scrapeHandler(req, res);
          res.writeHead(201).end();
        }),
      ),
    );
    await fetch(`${url}/things`, { method: 'POST' });
    const e = await scrapeWhen(url, 1);
    expect(find(e, `${NAME}_count`, { method: 'POST' }).map((s) => [s.labels, s.value])).toEqual([[{ method: 'POST', status_code: '201' }, 1]]);
  });
});
