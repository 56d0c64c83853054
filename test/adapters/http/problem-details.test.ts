import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/adapters/http/http-error.js';
import { HttpResilience } from '../../../src/adapters/http/http-resilience.js';
import { problemFromError, retryAfterSeconds } from '../../../src/adapters/http/problem-details.js';
import { BrokenCircuitError, ConcurrencyLimitError, InjectedFaultError, RetryBudgetExhaustedError, ThrottledError } from '../../../src/core/errors.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';

describe('problemFromError', () => {
  it('rounds Retry-After up to whole seconds and never below 0', () => {
    expect([0, 1, 999, 1_000, 1_001, 29_998, -5].map(retryAfterSeconds)).toEqual([0, 1, 1, 1, 2, 30, 0]);
    const reply = problemFromError(new BrokenCircuitError('open', { retryAfterMs: 1 }));
    expect(reply.headers['retry-after']).toBe('1');
    expect(problemFromError(new BrokenCircuitError('isolated', { isolated: true })).headers['retry-after']).toBeUndefined();
  });

  it('maps every local refusal to 503 and other library errors to 500 with their code', () => {
    for (const error of [new ConcurrencyLimitError(4), new ThrottledError(0.5), new RetryBudgetExhaustedError()]) {
      expect(problemFromError(error).status).toBe(503);
    }
    const injected = problemFromError(new InjectedFaultError('chaos'));
    expect(injected.status).toBe(500);
    expect(JSON.parse(injected.body)).toMatchObject({ code: 'INJECTED_FAULT', detail: 'chaos' });
  });

  it('builds type URIs from typeBaseUri and the code or status', () => {
    const open = JSON.parse(problemFromError(new BrokenCircuitError(), { typeBaseUri: 'https://errors.example/' }).body) as { type: string };
    expect(open.type).toBe('https://errors.example/circuit-open');
    const plain = JSON.parse(problemFromError(new Error('x'), { typeBaseUri: 'https://errors.example/' }).body) as { type: string };
    expect(plain.type).toBe('https://errors.example/500');
  });

  it('keeps 4xx statuses chosen by frameworks, shows internal messages only when asked, and never lets extensions override core members', () => {
    const parse = Object.assign(new SyntaxError('Unexpected end of JSON input'), { status: 400, type: 'entity.parse.failed' });
    expect(problemFromError(parse).status).toBe(400);
    const fastify = Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(JSON.parse(problemFromError(fastify).body)).toMatchObject({ status: 413, title: 'Payload Too Large', code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    const upstream = Object.assign(new Error('db password wrong'), { statusCode: 502 });
    expect(problemFromError(upstream).status).toBe(500);
    expect(problemFromError(upstream).body).not.toContain('password');
    expect(JSON.parse(problemFromError(upstream, { exposeInternalErrors: true }).body)).toMatchObject({ detail: 'db password wrong' });
    const sneaky = new HttpError(409, 'Conflict', 'taken', { extensions: { status: 200, title: 'OK' } });
    expect(JSON.parse(problemFromError(sneaky).body)).toMatchObject({ status: 409, title: 'Conflict' });
    expect(problemFromError('a string').status).toBe(500);
  });

  it('answers an HttpError with its headers, which cannot replace the content-type, Retry-After or request id', () => {
    const unauthorized = problemFromError(HttpError.unauthorized('token please'), {}, { instance: '/admin/state' });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers).toEqual({ 'www-authenticate': 'Bearer', 'content-type': 'application/problem+json' });
    expect(JSON.parse(unauthorized.body)).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'token please', instance: '/admin/state' });
    const pushy = new HttpError(503, 'Service Unavailable', 'later', {
      retryAfterMs: 2_000,
      headers: { 'content-type': 'text/html', 'retry-after': '999', 'x-request-id': 'forged', allow: 'GET' },
    });
    expect(problemFromError(pushy, { mode: 'seed' }, { requestId: 'r1' }).headers).toEqual({ 'content-type': 'application/json', 'retry-after': '2', 'x-request-id': 'r1', allow: 'GET' });
    expect(problemFromError(pushy, {}, { requestId: 'r1' }).headers).toEqual({ 'content-type': 'application/problem+json', 'retry-after': '2', 'x-request-id': 'r1', allow: 'GET' });
  });

  it('builds a 400 listing every invalid field, and a 405 naming the method and path', () => {
    const invalid = HttpError.invalid([
      { path: 'level', expected: 'one of full, minimal', received: '"max"' },
      { path: 'pin', expected: 'a boolean', received: '"yes"' },
    ]);
    expect(JSON.parse(problemFromError(invalid).body)).toEqual({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: 'level: expected one of full, minimal, received "max"; pin: expected a boolean, received "yes"',
      errors: [
        { path: 'level', expected: 'one of full, minimal', received: '"max"' },
        { path: 'pin', expected: 'a boolean', received: '"yes"' },
      ],
    });
    expect(JSON.parse(problemFromError(HttpError.methodNotAllowed('PUT', '')).body)).toMatchObject({ status: 405, title: 'Method Not Allowed', detail: 'PUT is not allowed on /' });
  });

  it('writes the seed ErrorResponse with the clock time and the configured request id header', () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    const reply = problemFromError(new HttpError(400, 'Bad Request', 'bad'), { mode: 'seed', clock }, { requestId: 'r1', requestIdHeader: 'x-correlation-id' });
    expect(reply.headers).toEqual({ 'content-type': 'application/json', 'x-correlation-id': 'r1' });
    expect(JSON.parse(reply.body)).toEqual({
      success: false,
      error: 'BAD_REQUEST',
      message: 'bad',
      code: 400,
      timestamp: '2026-01-02T03:04:05.006Z',
      request_id: 'r1',
      retryable: false,
    });
  });
});

describe('HttpResilience options', () => {
  it('reports every bad field with its path', () => {
    let error: unknown;
    try {
      new HttpResilience({ errors: { mode: 'xml' as never, clock: 3 as never }, requestIdHeader: 'bad header', maxBodyBytes: 0, degradation: {} as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['errors.mode', 'errors.clock', 'requestIdHeader', 'degradation', 'maxBodyBytes']);
  });

  it('uses a custom request id header and generator, and ignores the query string', () => {
    const r = new HttpResilience({ requestIdHeader: 'X-Correlation-Id', generateRequestId: () => 'gen-1' });
    expect(r.requestIdHeader).toBe('x-correlation-id');
    const start = r.begin({ method: 'GET', url: '/a?b=c', headers: {} } as IncomingMessage);
    expect(start).toEqual({ requestId: 'gen-1', path: '/a', headers: ['x-correlation-id', 'gen-1'], reply: undefined, rateLimitKey: undefined, startedAt: 0 });
    expect(JSON.parse(r.errorReply(new Error('x'), 'gen-1', '/a').body)).toMatchObject({ instance: '/a', requestId: 'gen-1' });
  });
});
