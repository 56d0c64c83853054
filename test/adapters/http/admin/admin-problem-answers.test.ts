import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../../../../src/adapters/http/admin/start-admin-server.js';
import { failOnUnhandledRejections } from '../../../support/no-unhandled-rejections.js';
import { TOKEN, makeComponents } from './admin-test-kit.js';

failOnUnhandledRejections();

// The exact problem answers of the admin API: status, headers and body, member for member.

const kit = makeComponents();
let server: AdminServer;

beforeAll(async () => {
  server = await startAdminServer({ token: TOKEN, components: kit.components, store: kit.store, maxBodyBytes: 64 });
});

afterAll(async () => {
  await server.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** One request on its own connection, answered as status, headers and parsed body. */
function send(method: string, path: string, headers: Record<string, string> = {}, body?: string | string[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers: { connection: 'close', ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
      res.on('error', reject);
    });
    // The server may answer (and close) before the whole of an oversized body is written.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    for (const part of typeof body === 'string' ? [body] : (body ?? [])) req.write(part);
    req.end();
  });
}

const auth = { authorization: `Bearer ${TOKEN}` };
const jsonHeaders = { ...auth, 'content-type': 'application/json' };

function expectProblem(answer: Answer, body: Record<string, unknown>): void {
  expect(answer.status).toBe(body.status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(answer.headers['cache-control']).toBe('no-store');
  expect(answer.body).toEqual({ type: 'about:blank', ...body });
}

function jsonParseMessage(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} parses`);
}

describe('admin API problem answers (real node:http server)', () => {
  it('answers 401 with WWW-Authenticate: Bearer, on the API and on the chaos routes', async () => {
    for (const path of ['/state', '/chaos/faults']) {
      const answer = await send('GET', `/admin${path}`);
      expectProblem(answer, { title: 'Unauthorized', status: 401, detail: 'A valid bearer token is required', instance: `/admin${path}` });
      expect(answer.headers['www-authenticate']).toBe('Bearer');
    }
    const stream = await send('GET', '/admin/events');
    expectProblem(stream, { title: 'Unauthorized', status: 401, detail: 'A valid bearer token or ticket (POST /session) is required', instance: '/admin/events' });
    expect(stream.headers['www-authenticate']).toBe('Bearer');
  });

  it('answers 404 and 405 with what was asked, and a path outside the API with the server 404', async () => {
    expectProblem(await send('GET', '/admin/nothing', auth), { title: 'Not Found', status: 404, detail: 'No admin route GET /admin/nothing', instance: '/admin/nothing' });
    expectProblem(await send('DELETE', '/admin/breakers/pricing/reset', auth), {
      title: 'Method Not Allowed',
      status: 405,
      detail: 'DELETE is not allowed on /breakers/pricing/reset',
      instance: '/admin/breakers/pricing/reset',
    });
    expectProblem(await send('PUT', '/admin/chaos/enable', auth), { title: 'Method Not Allowed', status: 405, detail: 'PUT is not allowed on /enable', instance: '/admin/chaos/enable' });
    const outside = await send('GET', '/elsewhere?x=1');
    expectProblem(outside, { title: 'Not Found', status: 404, detail: 'No route GET /elsewhere?x=1', instance: '/elsewhere?x=1' });
  });

  it('answers a body that is not a JSON object with 400 listing the problem under errors', async () => {
    const malformed = '{"level":';
    const cases: [path: string, body: string, expected: string, received: string][] = [
      ['/degradation', malformed, 'valid JSON', jsonParseMessage(malformed)],
      ['/degradation', '["minimal"]', 'a JSON object', 'an array'],
      ['/chaos/faults', 'null', 'a JSON object', 'null'],
      ['/degradation', ' ', 'a JSON body', 'an empty body'],
    ];
    for (const [path, body, expected, received] of cases) {
      expectProblem(await send('POST', `/admin${path}`, jsonHeaders, body), {
        title: 'Bad Request',
        status: 400,
        detail: `body: expected ${expected}, received ${received}`,
        instance: `/admin${path}`,
        errors: [{ path: 'body', expected, received }],
      });
    }
  });

  it('answers invalid fields with 400 listing each, as the validator found them', async () => {
    const answer = await send('POST', '/admin/degradation', jsonHeaders, JSON.stringify({ level: 'gone', pin: 'yes' }));
    expect(answer.status).toBe(400);
    const body = answer.body as { errors: { path: string; expected: string; received: string }[]; detail: string };
    expect(body.errors.map((e) => e.path)).toEqual(['level', 'pin']);
    expect(body.detail).toBe(body.errors.map((e) => `${e.path}: expected ${e.expected}, received ${e.received}`).join('; '));
    expect(kit.components.degradation.getCurrentState().level).toBe('full');
  });

  it('answers an oversized body with 413 and closes the connection, declared or streamed', async () => {
    const expected = { title: 'Content Too Large', status: 413, detail: 'Body larger than 64 bytes', instance: '/admin/degradation' };
    const declared = await send('POST', '/admin/degradation', jsonHeaders, JSON.stringify({ level: 'minimal', padding: 'x'.repeat(200) }));
    expectProblem(declared, expected);
    expect(declared.headers.connection).toBe('close');
    const streamed = await send('POST', '/admin/degradation', { ...jsonHeaders, 'transfer-encoding': 'chunked' }, ['{"level":"minimal",', `"padding":"${'x'.repeat(200)}"}`]);
    expectProblem(streamed, expected);
    expect(streamed.headers.connection).toBe('close');
    expect(kit.components.degradation.getCurrentState().level).toBe('full');
  });

  it('answers a body that is not JSON by its content-type with 415, as every JSON route of the adapter does', async () => {
    expectProblem(await send('POST', '/admin/degradation', { ...auth, 'content-type': 'text/plain' }, JSON.stringify({ level: 'minimal' })), {
      title: 'Unsupported Media Type',
      status: 415,
      detail: 'Expected a JSON body, got text/plain',
      instance: '/admin/degradation',
    });
    expect(kit.components.degradation.getCurrentState().level).toBe('full');
  });
});
