import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { PrivateRedisServer } from '../../support/redis-server.js';

failOnUnhandledRejections();

const fixture = fileURLToPath(new URL('../../fixtures/rate-limit-hammer.mjs', import.meta.url));
const built = fileURLToPath(new URL('../../../dist/adapters/redis/distributed-rate-limiter.js', import.meta.url));

let server: PrivateRedisServer;
beforeAll(async () => {
  server = await PrivateRedisServer.start();
});
afterAll(async () => {
  await server.stop();
});

interface Child {
  proc: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  result: Promise<{ allowed: number; sources: string[] }>;
}

function hammer(args: (string | number)[]): Child {
  const proc = spawn(process.execPath, [fixture, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: proc.stdout });
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<{ allowed: number; sources: string[] }>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') onReady();
      else if (line.startsWith('{')) resolve(JSON.parse(line) as { allowed: number; sources: string[] });
    });
    proc.once('exit', (code) => reject(new Error(`child exited with ${code} before reporting: ${stderr}`)));
  });
  result.catch(() => undefined);
  return { proc, ready, result };
}

it('two processes hammering one key concurrently get exactly the burst in total', async () => {
  expect(existsSync(built), 'run `npm run build` first: the child imports the built package').toBe(true);
  const capacity = 150;
  const children = [hammer([server.port, 'shared', 100, 4, capacity]), hammer([server.port, 'shared', 100, 4, capacity])];
  try {
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.proc.stdin.write('go\n');
    const results = await Promise.all(children.map((c) => c.result));
    for (const r of results) expect(r.sources).toEqual(['redis']);
    expect(results.reduce((sum, r) => sum + r.allowed, 0)).toBe(capacity);
  } finally {
    for (const c of children) c.proc.kill('SIGKILL');
  }
  // The key lives in Redis, shared, until the bucket would be full again.
  const client = new Redis(server.options);
  try {
    expect(await client.exists('antifragile:rate-limit:multi-process:shared')).toBe(1);
  } finally {
    client.disconnect();
  }
});
