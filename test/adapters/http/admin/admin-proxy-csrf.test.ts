import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { startAdminProxy } from '../../../../src/adapters/http/admin/admin-proxy.js';

it('the dashboard proxy refuses a cross-site POST (it would carry the token) and forwards same-origin ones', async () => {
  const seen: { method: string | undefined; url: string | undefined; auth: string | undefined }[] = [];
  const upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const proxy = await startAdminProxy({ target: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, token: 'secret-token-0123456789' });
  // What a <form method=POST enctype=text/plain action="http://127.0.0.1:PORT/admin/degradation"> on evil.example sends:
  const forged = await fetch(`http://127.0.0.1:${proxy.port}/admin/degradation`, {
    method: 'POST',
    headers: { origin: 'https://evil.example', 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' },
    body: '{"level":"minimal","x":"=1"}',
  });
  expect(forged.status).toBe(403);
  expect(forged.headers.get('content-type')).toBe('application/problem+json');
  expect(seen).toEqual([]);
  const own = await fetch(`http://127.0.0.1:${proxy.port}/admin/degradation`, {
    method: 'POST',
    headers: { origin: `http://127.0.0.1:${proxy.port}`, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
    body: '{"level":"minimal"}',
  });
  expect(own.status).toBe(200);
  expect(seen).toEqual([{ method: 'POST', url: '/admin/degradation', auth: 'Bearer secret-token-0123456789' }]);
  await proxy.close();
  await new Promise((resolve) => upstream.close(resolve));
});
