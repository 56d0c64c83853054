import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { expressResilience } from '../../../src/adapters/http/express-resilience.js';
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
