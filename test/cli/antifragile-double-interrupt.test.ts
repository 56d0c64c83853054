import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createChaosAdminHandler } from '../../src/adapters/http/chaos-admin-handler.js';
import { ChaosControl } from '../../src/chaos/chaos-control.js';
import { ChaosRegistry } from '../../src/chaos/chaos-registry.js';
import { ProxyControlServer } from '../../src/chaos/proxy/index.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { spawnCli } from './support/run-cli.js';

failOnUnhandledRejections();

const TOKEN = 'double-interrupt-token-0123456789';

/** A real service with the chaos admin endpoint whose `DELETE <admin>/faults/:id` never answers (held until close). */
async function startStuckTarget(): Promise<{ base: string; registry: ChaosRegistry; held: ServerResponse[]; close(): Promise<void> }> {
  const registry = new ChaosRegistry({ control: new ChaosControl({ environment: 'test' }) });
  registry.injector('payment');
  const handler = createChaosAdminHandler({ registry, token: TOKEN });
  const held: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'DELETE' && req.url?.startsWith('/admin/chaos/faults/') === true) {
      held.push(res);
      return;
    }
    void handler(req, res).then((handled) => {
      if (!handled) res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    registry,
    held,
    close: () =>
      new Promise<void>((resolve) => {
        registry.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('antifragile run interrupted twice (regression: the second Ctrl-C exited at once, leaving proxy toxics)', () => {
  it('removes the proxy toxics it knows within the short budget, says what it did, and exits 130', async () => {
    const target = await startStuckTarget();
    cleanups.push(() => target.close());
    const control = await new ProxyControlServer({ port: 0 }).start();
    cleanups.push(() => control.stop());
    const proxy = await control.registry.create({ name: 'redis', listen: '127.0.0.1:0', upstream: new URL(target.base).host });

    const dir = mkdtempSync(join(tmpdir(), 'af-sigint2-'));
    const file = join(dir, 'scenario.yaml');
    // removal goes newest first: the payment fault (whose DELETE never answers) before the toxic
    writeFileSync(
      file,
      [
        'name: double interrupt',
        'load: { rate: 5, timeout: 1s }',
        'phases:',
        '  - name: outage',
        '    duration: 60s',
        '    faults:',
        '      - proxy: redis',
        '        toxic: { type: latency, attributes: { latency: 100 } }',
        '      - dependency: payment',
        '        fault: { kind: error }',
        '',
      ].join('\n'),
    );
    const child = spawnCli(['run', file, '--target', target.base, '--proxy-api', control.url, '--journal', join(dir, 'j.json'), '--report', join(dir, 'r.html')], {
      env: { ANTIFRAGILE_TOKEN: TOKEN },
    });
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await child.exited;
    });

    // wait (bounded) until both faults are in place
    for (let i = 0; i < 1_000 && !(proxy.toxics.length === 1 && target.registry.active().length === 1); i++) await delay(10);
    expect(proxy.toxics.map((t) => t.name)).toEqual([expect.stringMatching(/^antifragile-latency-redis-/)]);
    expect(target.registry.active()).toHaveLength(1);

    child.kill('SIGINT');
    // the orderly removal is now stuck on the payment fault's DELETE, the toxic still on
    for (let i = 0; i < 1_000 && target.held.length === 0; i++) await delay(10);
    expect(target.held).toHaveLength(1);
    expect(proxy.toxics).toHaveLength(1);
    expect(child.exitCode).toBeNull();

    const second = performance.now();
    child.kill('SIGINT');
    const code = await child.exited;
    const took = performance.now() - second;

    expect(code).toBe(130);
    expect(proxy.toxics).toEqual([]);
    // bounded by the 2 s budget (the held DELETEs never answer), plus process overhead
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(4_000);
    const stderr = child.output.stderr;
    expect(stderr).toContain('Interrupted again: removing the proxy toxics and faults this run knows of (at most 2000 ms), then quitting');
    expect(stderr).toMatch(/ {2}done: remove toxic antifragile-latency-redis-\w+ of proxy redis\n/);
    expect(stderr).toMatch(/ {2}FAILED: remove fault [\w-]+ on payment \(no answer within 2000 ms\)\n/);
    expect(stderr).toContain('removal(s) did not finish');
    expect(stderr).toContain('Exiting (130)');
  }, 30_000);
});
