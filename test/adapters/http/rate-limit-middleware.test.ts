import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRateLimitMiddleware, keyByHeader, keyByIp, type RateLimitMiddleware } from '../../../src/adapters/http/rate-limit-middleware.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { AbuseDetector } from '../../../src/protection/abuse-detector.js';
import { AdaptiveRateLimiter } from '../../../src/protection/adaptive-rate-limiter.js';
import { LocalRateLimitStore } from '../../../src/protection/local-rate-limit-store.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';

failOnUnhandledRejections();

interface Setup {
  clock: VirtualClock;
  limiter: AdaptiveRateLimiter;
  abuse: AbuseDetector;
  middleware: RateLimitMiddleware;
}

function setup(): Setup {
  const clock = new VirtualClock(1_000);
  const limiter = new AdaptiveRateLimiter({ capacity: 2, refillPerSecond: 0.5, clock, behavior: { tolerance: 1, halfLifeMs: 60_000 } });
  const abuse = new AbuseDetector({ clock, blockMs: 30_000, maxPayloadBytes: 1_000 });
  const middleware = createRateLimitMiddleware({ limiter, abuse, key: keyByHeader('x-api-key') });
  return { clock, limiter, abuse, middleware };
}

/** Answers 404 on /missing, else 200 "ok". */
function respond(url: string | undefined, res: ServerResponse): void {
  res.statusCode = url === '/missing' ? 404 : 200;
  res.end(url === '/missing' ? 'missing' : 'ok');
}

type Started = { url: string; close: () => Promise<void> };

async function listenNode(server: Server): Promise<Started> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

const servers: Record<string, (m: RateLimitMiddleware) => Promise<Started>> = {
  'node:http': (m) =>
    listenNode(
      createServer((req: IncomingMessage, res: ServerResponse) => {
        m.handle(req, res).then(
          (answered) => {
            if (!answered) respond(req.url, res);
          },
          () => {
            res.statusCode = 500;
            res.end();
          },
        );
      }),
    ),
  'express 5': (m) => {
    const app = express();
    app.use(m.express);
    app.use((req, res) => respond(req.url, res));
    return listenNode(createServer(app));
  },
  'fastify 5': async (m) => {
    const app: FastifyInstance = Fastify();
    app.addHook('onRequest', m.fastify);
    app.all('/*', async (request, reply) => {
      const missing = request.url === '/missing';
      return reply.code(missing ? 404 : 200).send(missing ? 'missing' : 'ok');
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
};

let started: Started | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
  vi.restoreAllMocks();
});

async function get(path: string, key?: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (key !== undefined) headers.set('x-api-key', key);
  return fetch(`${(started as Started).url}${path}`, { ...init, headers });
}

for (const [kind, start] of Object.entries(servers)) {
  describe(`rate limit middleware on ${kind}`, () => {
    it('answers 429 problem+json with Retry-After and RateLimit headers past the limit', async () => {
      const { middleware } = setup();
      started = await start(middleware);
      const first = await get('/items', 'alice');
      expect(first.status).toBe(200);
      expect(await first.text()).toBe('ok');
      expect([first.headers.get('ratelimit-limit'), first.headers.get('ratelimit-remaining'), first.headers.get('ratelimit-reset')]).toEqual(['2', '1', '2']);
      const second = await get('/items', 'alice');
      expect([second.status, second.headers.get('ratelimit-remaining'), second.headers.get('ratelimit-reset')]).toEqual([200, '0', '4']);
      const third = await get('/items', 'alice');
      expect(third.status).toBe(429);
      expect(third.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(third.headers.get('retry-after')).toBe('2');
      expect([third.headers.get('ratelimit-limit'), third.headers.get('ratelimit-remaining'), third.headers.get('ratelimit-reset')]).toEqual(['2', '0', '4']);
      expect(await third.json()).toEqual({
        type: 'about:blank',
        title: 'Too Many Requests',
        status: 429,
        detail: 'Rate limit of 2 requests exceeded; retry in 2 s.',
        code: 'RATE_LIMITED',
        retryAfter: 2,
        retryAfterMs: 2_000,
      });
      expect((await get('/items', 'bob')).status).toBe(200); // another key
      for (let i = 0; i < 5; i++) expect((await get('/items')).status).toBe(200); // no key: not limited
    });

    it('answers 403 to a key the abuse detector blocks, until the block ends', async () => {
      const { middleware, clock } = setup();
      started = await start(middleware);
      expect((await get('/.env', 'mallory')).status).toBe(200); // 0.5 points: suspicious only
      const blocked = await get('/.git/config', 'mallory');
      expect(blocked.status).toBe(403);
      expect(blocked.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(blocked.headers.get('retry-after')).toBe('30');
      expect(await blocked.json()).toMatchObject({ title: 'Forbidden', status: 403, retryAfterMs: 30_000 });
      clock.advance(29_999);
      expect((await get('/items', 'mallory')).status).toBe(403);
      clock.advance(1);
      expect((await get('/items', 'mallory')).status).toBe(200);
    });

    it('counts a large Content-Length against the key', async () => {
      const { middleware, abuse } = setup();
      started = await start(middleware);
      const body = 'x'.repeat(1_001);
      const response = await get('/upload', 'carol', { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
      expect(response.status).toBe(200);
      expect(abuse.inspect('carol').score).toBeCloseTo(0.5 + 2 / 1_000, 9);
    });

    it("shrinks the limit of a key whose requests keep failing with 4xx", async () => {
      const { middleware, limiter, clock } = setup();
      started = await start(middleware);
      expect((await get('/missing', 'dave')).status).toBe(404);
      for (let i = 0; i < 100 && (limiter.behavior?.points('dave') ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(limiter.behavior?.points('dave')).toBe(1);
      expect(limiter.limitFor('dave').capacity).toBe(1); // tolerance 1: one error halves the limit
      clock.advance(60_000 * 20);
      expect(limiter.limitFor('dave').capacity).toBe(2);
    });
  });
}

describe('rate limit middleware: keys and options', () => {
  it('keys by the socket address by default, and lets a request through when the key function throws', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const clock = new VirtualClock();
    const limiter = new AdaptiveRateLimiter({ capacity: 1, refillPerSecond: 1, clock });
    const byIp = createRateLimitMiddleware({ limiter });
    const failing = createRateLimitMiddleware({
      limiter,
      key: () => {
        throw new Error('no session');
      },
    });
    started = await servers['node:http']!({
      ...byIp,
      handle: (req, res) => (req.url === '/failing' ? failing : byIp).handle(req, res),
    });
    expect((await get('/a')).status).toBe(200);
    const second = await get('/a');
    expect(second.status).toBe(429);
    expect(limiter.limitFor('127.0.0.1').capacity).toBe(1);
    expect((await get('/failing')).status).toBe(200);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('no session'), { code: 'ANTIFRAGILE_CALLBACK_ERROR' });
  });

  it('works with abuse protection alone, sending no RateLimit headers', async () => {
    const clock = new VirtualClock();
    const abuse = new AbuseDetector({ clock, windowMs: 1_000, maxRequestsPerWindow: 3, blockMs: 1_000 });
    const middleware = createRateLimitMiddleware({ abuse });
    started = await servers['express 5']!(middleware);
    const answers: Array<[number, string | null]> = [];
    for (let i = 0; i < 4; i++) {
      const response = await get('/');
      answers.push([response.status, response.headers.get('ratelimit-limit')]);
    }
    expect(answers).toEqual([
      [200, null],
      [200, null],
      [403, null],
      [403, null],
    ]);
  });

  it('lets requests through when the store fails (warning once per outage), or answers 503 with onStoreFailure: refuse', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const clock = new VirtualClock();
    const state = { down: true, sync: false };
    const local = new LocalRateLimitStore({ clock });
    const store = {
      consume: (key: string, limit: { capacity: number; refillPerSecond: number }) => {
        if (state.down && state.sync) throw new Error('store down (sync)');
        if (state.down) return Promise.reject(new Error('store down'));
        return local.consume(key, limit);
      },
    };
    const allowing = createRateLimitMiddleware({ limiter: new AdaptiveRateLimiter({ capacity: 1, refillPerSecond: 1, clock, store }) });
    const refusing = createRateLimitMiddleware({ limiter: new AdaptiveRateLimiter({ capacity: 1, refillPerSecond: 1, clock, store }), onStoreFailure: 'refuse' });
    const app = express();
    app.use((req, res, next) => (req.url.startsWith('/refusing') ? refusing : allowing).express(req, res, next));
    app.use((_req, res) => void res.send('ok'));
    started = await listenNode(createServer(app));
    expect((await get('/a')).status).toBe(200);
    expect((await get('/a')).status).toBe(200);
    state.sync = true;
    expect((await get('/a')).status).toBe(200);
    expect(warn.mock.calls.map((c) => c[0])).toEqual(['createRateLimitMiddleware limiter store threw: store down']);
    const refused = await get('/refusing');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ status: 503, code: 'RATE_LIMIT_UNAVAILABLE' });
    state.down = false;
    expect((await get('/a')).status).toBe(200);
    expect((await get('/a')).status).toBe(429); // the limit applies again once the store answers
    state.down = true;
    expect((await get('/a')).status).toBe(200);
    expect(warn).toHaveBeenCalledTimes(3); // once per outage per middleware
  });

  it('takes any thenable from a custom store, not only a native promise', async () => {
    const clock = new VirtualClock();
    const local = new LocalRateLimitStore({ clock });
    const store = {
      consume: (key: string, limit: { capacity: number; refillPerSecond: number }) => {
        const result = local.consume(key, limit);
        return { then: (resolve: (value: typeof result) => void) => resolve(result) } as unknown as Promise<typeof result>;
      },
    };
    const middleware = createRateLimitMiddleware({ limiter: new AdaptiveRateLimiter({ capacity: 1, refillPerSecond: 1, clock, store }) });
    const req = { headers: {}, socket: { remoteAddress: '10.0.0.9' } } as unknown as IncomingMessage;
    expect(await middleware.check(req)).toMatchObject({ refusal: undefined, key: '10.0.0.9' });
    expect((await middleware.check(req)).refusal).toMatchObject({ status: 429 });
  });

  it('reads keys from headers', () => {
    const req = (headers: Record<string, string | string[]>): IncomingMessage => ({ headers, socket: { remoteAddress: '10.0.0.1' } }) as unknown as IncomingMessage;
    expect(keyByIp(req({}))).toBe('10.0.0.1');
    const mapped = { headers: {}, socket: { remoteAddress: '::ffff:192.0.2.5' } } as unknown as IncomingMessage;
    expect(keyByIp(mapped)).toBe('192.0.2.5');
    const v6 = { headers: {}, socket: { remoteAddress: '2001:db8::1' } } as unknown as IncomingMessage;
    expect(keyByIp(v6)).toBe('2001:db8::1');
    expect(keyByHeader('X-Api-Key')(req({ 'x-api-key': 'k1' }))).toBe('k1');
    expect(keyByHeader('x-api-key')(req({}))).toBeUndefined();
    const forwarded = keyByHeader('x-forwarded-for', { firstOfList: true });
    expect(forwarded(req({ 'x-forwarded-for': ' 203.0.113.7 , 10.0.0.2' }))).toBe('203.0.113.7');
    expect(forwarded(req({ 'x-forwarded-for': ['198.51.100.1', '10.0.0.3'] }))).toBe('198.51.100.1');
  });

  it('reports every bad option with its path', () => {
    let error: unknown;
    try {
      createRateLimitMiddleware({ limiter: {} as never, abuse: 1 as never, key: 'ip' as never, isClientError: 2 as never, headers: 'yes' as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual(['limiter', 'abuse', 'key', 'isClientError', 'headers']);
    expect(() => createRateLimitMiddleware({})).toThrow(/limiter/);
  });
});
