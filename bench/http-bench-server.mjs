// A hello-world server for bench/http-middleware.mjs:
// `node http-bench-server.mjs <node|express|fastify> <bare|headers|stack>`. Prints the port, then serves until killed.
import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { AdaptiveRateLimiter, GracefulDegradation } from 'antifragile';
import { DegradationGate, HttpResilience, createRateLimitMiddleware, expressResilience, fastifyResilience, nodeHttpHandler } from 'antifragile/http';
import { HttpServerMetrics } from 'antifragile/prometheus';

const [kind, variant] = process.argv.slice(2);
const body = JSON.stringify({ hello: 'world' });

// `stack`: one resilience middleware with request id, error mapping, degradation headers and gate, per-IP
// adaptive rate limit (a limit far above the benchmark's rate: the cost measured is the check, not refusals)
// and the Prometheus request histogram.
const resilience = new HttpResilience({
  degradation: new DegradationGate({ degradation: new GracefulDegradation() }),
  rateLimit: createRateLimitMiddleware({ limiter: new AdaptiveRateLimiter({ capacity: 1e9, refillPerSecond: 1e9 }) }),
  metrics: new HttpServerMetrics(),
});
// `headers`: no middleware, but the same six response headers the stack adds, fixed: the floor any
// implementation of the stack pays on this machine (building and parsing the longer response).
const sameHeaders = {
  'x-request-id': '3b241101-e2bb-4255-8caf-4136c566a962',
  'x-degradation-level': '0',
  'x-service-status': 'operational',
  'ratelimit-limit': '1000000000',
  'ratelimit-remaining': '999999999',
  'ratelimit-reset': '0',
};

let port;
if (kind === 'node') {
  const hello = (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  const handlers = {
    bare: hello,
    headers: (req, res) => res.writeHead(200, { ...sameHeaders, 'content-type': 'application/json' }).end(body),
    stack: nodeHttpHandler(resilience, hello),
  };
  const server = createServer(handlers[variant]);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
} else if (kind === 'express') {
  const app = express();
  if (variant === 'stack') {
    const x = expressResilience(resilience);
    app.use(x.middleware);
    app.get('/', (_req, res) => res.json({ hello: 'world' }));
    app.use(x.errorHandler);
  } else if (variant === 'headers') app.get('/', (_req, res) => res.set(sameHeaders).json({ hello: 'world' }));
  else app.get('/', (_req, res) => res.json({ hello: 'world' }));
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  port = server.address().port;
} else {
  const app = Fastify();
  if (variant === 'stack') await app.register(fastifyResilience, { resilience });
  // The same async handler in every variant, so only the headers and the middleware differ.
  if (variant === 'headers') {
    app.get('/', async (_request, reply) => {
      reply.headers(sameHeaders);
      return { hello: 'world' };
    });
  } else app.get('/', async () => ({ hello: 'world' }));
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
// A clean exit on SIGINT lets `node --cpu-prof` write its profile.
process.on('SIGINT', () => process.exit(0));
