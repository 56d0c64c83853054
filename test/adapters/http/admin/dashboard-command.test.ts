import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminServer } from '../../../../src/adapters/http/admin/start-admin-server.js';
import type { CliIo } from '../../../../src/cli/cli-io.js';
import { dashboardCommand } from '../../../../src/cli/dashboard-command.js';
import { main } from '../../../../src/cli/main.js';
import { UsageError } from '../../../../src/cli/usage-error.js';
import { failOnUnhandledRejections } from '../../../support/no-unhandled-rejections.js';
import { TOKEN, eventually, makeComponents } from './admin-test-kit.js';

failOnUnhandledRejections();

// `antifragile dashboard` lives in src/cli; its test sits here with the admin API it drives.
let server: AdminServer;
let target: string;

beforeAll(async () => {
  const kit = makeComponents();
  server = await startAdminServer({ token: TOKEN, components: kit.components, store: kit.store });
  target = server.url.replace(/\/admin$/, '');
});

afterAll(async () => {
  await server.close();
});

function fakeIo(env: Record<string, string> = {}): CliIo & { out: string[]; err: string[]; interrupt(): void } {
  const out: string[] = [];
  const err: string[] = [];
  const listeners = new Set<() => void>();
  return {
    out,
    err,
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    env,
    cwd: process.cwd(),
    packageRoot: process.cwd(),
    onInterrupt(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    interrupt: () => listeners.forEach((l) => l()),
  };
}

describe('antifragile dashboard', () => {
  it('prints the remote page URL when it has no token', async () => {
    const io = fakeIo();
    expect(await dashboardCommand({ target: `${target}/` }, io)).toBe(0);
    expect(io.out).toEqual([`${target}/admin/\n`]);
    expect(io.err.join('')).toMatch(/the page will ask for it/);
  });

  it('is registered in the CLI; --no-proxy puts the token in the fragment only', async () => {
    const io = fakeIo();
    expect(await main(['dashboard', '--target', target, '--token', TOKEN, '--admin-path', 'admin', '--no-proxy'], io)).toBe(0);
    expect(io.out).toEqual([`${target}/admin/#token=${TOKEN}\n`]);
    const bad = fakeIo();
    expect(await main(['dashboard', '--target', 'ftp://example.com'], bad)).toBe(2);
    expect(bad.err.join('')).toMatch(/--target: expected an http\(s\) URL/);
    await expect(dashboardCommand({ target: 'not a url' }, fakeIo())).rejects.toBeInstanceOf(UsageError);
  });

  it('serves the dashboard through a loopback proxy that adds the token, until interrupted', async () => {
    const io = fakeIo({ ANTIFRAGILE_TOKEN: TOKEN });
    const done = dashboardCommand({ target }, io);
    await eventually(() => io.out.length === 1, 'the local URL');
    const local = (io.out[0] as string).trim();
    expect(local).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/admin\/$/);
    expect(await (await fetch(local)).text()).toContain('antifragile dashboard');
    const session = await fetch(`${local}session`, { method: 'POST' });
    expect(session.status).toBe(200);
    expect(await (await fetch(`${local}state`)).json()).toMatchObject({ environment: 'test' });
    expect((await fetch(local.replace('/admin/', '/other'))).status).toBe(404);
    const port = Number(new URL(local).port);
    const rebound = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/admin/state', headers: { host: `evil.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).once('error', reject).end();
    });
    expect(rebound).toBe(403);
    io.interrupt();
    expect(await done).toBe(0);
    await expect(fetch(local)).rejects.toThrow();
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    const io = fakeIo();
    const done = dashboardCommand({ target, token: TOKEN, port: 0 }, io, controller.signal);
    await eventually(() => io.out.length === 1, 'the local URL');
    controller.abort();
    expect(await done).toBe(0);
  });
});
