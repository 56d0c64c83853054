// A hello-world server for bench/http-middleware.mjs: `node http-bench-server.mjs <node|express|fastify> <bare|stack>`.
// `stack` adds the antifragile middleware stack: request id, error mapping, degradation headers and gate,
// per-IP adaptive rate limit, and Prometheus request metrics. Prints the port, then serves until killed.
import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { AdaptiveRateLimiter, GracefulDegradation } from 'antifragile';
import {
  DegradationGate, HttpResilience, createRateLimitMiddleware, expressResilience, fastifyResilience, nodeHttpHandler,
} from 'antifragile/http';
import { httpRequestMetrics } from './http-request-metrics.mjs';

const [kind, variant] = process.argv.slice(2);
const stack = variant === 'stack';
const body = JSON.stringify({ hello: 'world' });

const degradation = new GracefulDegradation();
const resilience = new HttpResilience({ degradation: new DegradationGate({ degradation }) });
// A limit far above the benchmark's rate: the cost measured is the check, not refusals.
const rateLimit = createRateLimitMiddleware({ limiter: new AdaptiveRateLimiter({ capacity: 1e9, refillPerSecond: 1e9 }) });
const metrics = httpRequestMetrics();

let port;
if (kind === 'node') {
  const hello = (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  const handler = stack
    ? nodeHttpHandler(resilience, async (req, res) => {
        if (await rateLimit.handle(req, res)) return;
        metrics.node(req, res);
        hello(req, res);
      })
    : hello;
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
} else if (kind === 'express') {
  const app = express();
  if (stack) {
    const x = expressResilience(resilience);
    app.use(x.middleware, rateLimit.express, metrics.express);
    app.get('/', (_req, res) => res.json({ hello: 'world' }));
    app.use(x.errorHandler);
  } else app.get('/', (_req, res) => res.json({ hello: 'world' }));
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  port = server.address().port;
} else {
  const app = Fastify();
  if (stack) {
    await app.register(fastifyResilience, { resilience });
    app.addHook('onRequest', rateLimit.fastify);
    app.addHook('onResponse', metrics.fastify);
  }
  app.get('/', async () => ({ hello: 'world' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = app.server.address().port;
}
// The driver asks for this process's CPU time between rounds (on SIGUSR2, answered on stdout), so the cost
// per request can be told apart from the load generator's own limits on a 2-core machine.
process.on('SIGUSR2', () => {
  const { user, system } = process.cpuUsage();
  process.stdout.write(`cpu ${user + system}\n`);
});
process.stdout.write(`${port}\n`);
