import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeHttpHandler, nodeHttpRoute } from '../../../src/adapters/http/node-http-handler.js';
import { sendReply } from '../../../src/adapters/http/http-reply.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { describeHttpAdapter } from './http-adapter-scenarios.js';

failOnUnhandledRejections();

describeHttpAdapter('node:http', async (parts) => {
  const quote = nodeHttpRoute(parts.quotes, 'GET:/quotes/:id', (req) => {
    if (parts.state.quoteFails) throw new Error('pricing down');
    return { id: (req.url ?? '').split('/')[2] };
  });
  const guarded = nodeHttpRoute(parts.guarded, 'GET:/guarded/:id', () => {
    parts.state.guardedCalls++;
    throw new Error('dependency down');
  });
  const server = createServer(
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}, false);
