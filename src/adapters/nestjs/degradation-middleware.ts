import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { DegradationGate } from '../http/degradation-gate.js';
import { sendReply } from '../http/http-reply.js';
import { problemFromError } from '../http/problem-details.js';

/**
 * The seed's `GracefulDegradationMiddleware` as a Nest middleware, on the framework-neutral
 * {@link DegradationGate}: every answer carries `X-Degradation-Level` (level index, 0 = full service) and
 * `X-Service-Status`; from the read-only level on writes are refused, and in the emergency level only
 * allow-listed paths are served, with a 503 `application/problem+json` answer and `Retry-After`.
 * `DegradationModule.forRoot` applies it to every route; apply it yourself with
 * `consumer.apply(DegradationMiddleware).forRoutes(...)` when the module is imported with `routes: false`.
 * It works on Express and on Fastify alike: on Fastify, Nest runs middleware (through `@fastify/middie`) with
 * the raw node:http request and response, which is what it uses.
 */
export class DegradationMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  /** @param gate the gate deciding each request (provided by `DegradationModule.forRoot`). */
  constructor(private readonly gate: DegradationGate) {}

  /** Sets the degradation headers and refuses the request, or passes it on. */
  use(req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: (error?: unknown) => void): void {
    const url = req.originalUrl ?? req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const { headers, refusal } = this.gate.check(req.method ?? 'GET', path);
    for (const name in headers) res.setHeader(name, headers[name] as string);
    if (refusal === undefined) {
      next();
      return;
    }
    sendReply(res, problemFromError(refusal, {}, { instance: path }));
  }
}
Injectable()(DegradationMiddleware);
Inject(DegradationGate)(DegradationMiddleware, undefined, 0);
