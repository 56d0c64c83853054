import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { fastifyResilience, fastifyRoute } from '../../../src/adapters/http/fastify-resilience.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { describeHttpAdapter } from './http-adapter-scenarios.js';

failOnUnhandledRejections();

describeHttpAdapter('Fastify 5', async (parts) => {
  const app = Fastify({ bodyLimit: parts.maxBodyBytes });
  await app.register(fastifyResilience, { resilience: parts.resilience });
  app.get(
    '/quotes/:id',
    fastifyRoute(parts.quotes, (request) => {
      if (parts.state.quoteFails) throw new Error('pricing down');
      return { id: (request.params as { id: string }).id };
    }),
  );
  app.get(
    '/guarded/:id',
    fastifyRoute(parts.guarded, () => {
      parts.state.guardedCalls++;
      throw new Error('dependency down');
    }),
  );
  app.get('/errors/:kind', async (request) => {
    throw parts.errorFor((request.params as { kind: string }).kind);
  });
  app.post('/orders', async (request, reply) => {
    parts.state.orders.push(request.body);
    return reply.code(201).send({ count: parts.state.orders.length });
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});

describe('fastifyResilience options', () => {
  it('needs an HttpResilience', async () => {
    const app = Fastify();
    await expect(app.register(fastifyResilience, { resilience: {} as never })).rejects.toThrow(InvalidOptionsError);
    await app.close().catch(() => undefined);
  });
});
