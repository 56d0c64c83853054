import type { ServerResponse } from 'node:http';
import { Controller, Get, Inject, Res } from '@nestjs/common';
import { HEALTH_JSON_CONTENT_TYPE, healthReportHttpStatus, type HealthReportView } from '../../health/health-report.js';
import { HealthEndpoints } from '../http/health-endpoints.js';
import { sendReply } from '../http/http-reply.js';

/** A Nest response: Express's (a node:http response) or Fastify's reply (with `raw` and `hijack`). */
type NestResponse = ServerResponse | { raw: ServerResponse; hijack(): void };

/**
 * The seed's `HealthController`: `GET /health` (every check, plus the `antifragility` block: breaker metrics,
 * cache metrics, recent chaos history), `GET /health/live`, `GET /health/ready` and `GET /health/startup`, in
 * `application/health+json`, 200 for `pass`/`warn` and 503 for `fail`, never cached. Registered by
 * `HealthModule.forRoot`, answering from its {@link HealthEndpoints}.
 */
export class HealthController {
  /** @param endpoints the framework-neutral health endpoints (provided by `HealthModule.forRoot`). */
  constructor(private readonly endpoints: HealthEndpoints) {}

  /** `GET /health`: the full report with the antifragility block. */
  check(res: NestResponse): void {
    this.answer('health', res);
  }

  /** `GET /health/live`: liveness (checks registered with `liveness: true`). */
  live(res: NestResponse): void {
    this.answer('live', res);
  }

  /** `GET /health/ready`: readiness (every critical check ran and is not unhealthy; not draining). */
  ready(res: NestResponse): void {
    this.answer('ready', res);
  }

  /** `GET /health/startup`: every check has passed at least once. */
  startup(res: NestResponse): void {
    this.answer('startup', res);
  }

  private answer(view: HealthReportView, res: NestResponse): void {
    const report = this.endpoints.report(view);
    const reply = {
      status: healthReportHttpStatus(report),
      headers: { 'content-type': HEALTH_JSON_CONTENT_TYPE, 'cache-control': 'no-store' },
      body: JSON.stringify(report),
    };
    if ('raw' in res && typeof res.hijack === 'function') {
      // Fastify: take the response over from the framework, then write it like Express's.
      res.hijack();
      sendReply(res.raw, reply);
    } else sendReply(res as ServerResponse, reply);
  }
}

Controller('health')(HealthController);
Inject(HealthEndpoints)(HealthController, undefined, 0);
for (const [method, path] of [
  ['check', ''],
  ['live', 'live'],
  ['ready', 'ready'],
  ['startup', 'startup'],
] as const) {
  const descriptor = Object.getOwnPropertyDescriptor(HealthController.prototype, method) as PropertyDescriptor;
  Get(path)(HealthController.prototype, method, descriptor);
  Res()(HealthController.prototype, method, 0);
}
