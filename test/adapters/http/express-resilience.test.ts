import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { expressResilience } from '../../../src/adapters/http/express-resilience.js';
import { HttpResilience } from '../../../src/adapters/http/http-resilience.js';
import { RouteInterceptor } from '../../../src/adapters/http/route-interceptor.js';
import { CircuitBreakerManager } from '../../../src/policies/circuit-breaker-manager.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { describeHttpAdapter } from './http-adapter-scenarios.js';

failOnUnhandledRejections();

describeHttpAdapter('Express 5', async (parts) => {
  const { middleware, errorHandler, route } = expressResilience(parts.resilience);
  const app = express();
  app.use(middleware);
  app.use(express.json({ limit: parts.maxBodyBytes }));
  app.get(
    '/quotes/:id',
    route(parts.quotes, (req) => {
      if (parts.state.quoteFails) throw new Error('pricing down');
      return { id: req.params.id };
    }),
  );
  app.get(
    '/guarded/:id',
    route(parts.guarded, () => {
      parts.state.guardedCalls++;
      throw new Error('dependency down');
    }),
  );
  app.get('/errors/:kind', (req) => {
    throw parts.errorFor(req.params.kind);
  });
  app.post('/orders', (req, res) => {
    parts.state.orders.push(req.body);
    res.status(201).json({ count: parts.state.orders.length });
  });
  app.use(errorHandler);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
});

describe('expressResilience options', () => {
  it('needs an HttpResilience', () => {
    expect(() => expressResilience({} as never)).toThrow(InvalidOptionsError);
  });
});

describe('expressResilience under a mounted router', () => {
  it('labels metrics with the mount path even for errors and fall-throughs, and keys route breakers by it', async () => {
    const observed: [string, string | undefined, number][] = [];
    const resilience = new HttpResilience({ metrics: { observeRequest: (method, route, status) => void observed.push([method, route, status]) } });
    const manager = new CircuitBreakerManager();
    const interceptor = new RouteInterceptor({ manager });
    const { middleware, errorHandler, route } = expressResilience(resilience);
    const router = express.Router();
    router.get('/quotes/:id', () => {
      throw new Error('pricing down');
    });
    router.get('/next/:id', (_req, _res, next) => next());
    router.get('/items/:id', route(interceptor, (req) => ({ id: req.params.id })));
    const app = express();
    app.use(middleware);
    app.use('/api', router);
    app.use(errorHandler);
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await fetch(`${url}/api/quotes/1`)).status).toBe(500);
      expect((await fetch(`${url}/api/next/1`)).status).toBe(404);
      expect((await fetch(`${url}/api/items/7`)).status).toBe(200);
      expect((await fetch(`${url}/nowhere`)).status).toBe(404);
      for (let i = 0; i < 100 && observed.length < 4; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(observed).toEqual([
        ['GET', '/api/quotes/:id', 500],
        ['GET', '/api/next/:id', 404],
        ['GET', '/api/items/:id', 200],
        ['GET', undefined, 404],
      ]);
      expect(manager.names()).toEqual(['GET:/api/items/:id']);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
