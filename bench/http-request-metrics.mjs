// Per-request Prometheus metrics for the middleware benchmark: a counter by method and status and a latency
// histogram, observed when the response finishes (what a metrics middleware does on every request).
import { Counter, Histogram, Registry } from 'prom-client';

export function httpRequestMetrics() {
  const registry = new Registry();
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests', labelNames: ['method', 'status'], registers: [registry] });
  const duration = new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['method'], registers: [registry] });
  const observe = (method, status, startedAt) => {
    requests.inc({ method, status: String(status) });
    duration.observe({ method }, (performance.now() - startedAt) / 1000);
  };
  return {
    registry,
    node(req, res) {
      const startedAt = performance.now();
      res.once('finish', () => observe(req.method, res.statusCode, startedAt));
    },
    express(req, res, next) {
      const startedAt = performance.now();
      res.once('finish', () => observe(req.method, res.statusCode, startedAt));
      next();
    },
    fastify(request, reply, done) {
      observe(request.method, reply.statusCode, performance.now() - reply.elapsedTime);
      done();
    },
  };
}
