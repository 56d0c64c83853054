// Starts the example quote service for `antifragile run` (when no --target is given) and for tests:
// its dependencies in one process, a private redis-server when one is installed (the cache's L2; memory
// only otherwise), and the service in another process.
//
//   const { url, token, stop } = await start({ baseline: false });
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));

/** The service's traffic, for scenarios that bring none of their own (the seed format). */
const TRAFFIC = [
  ...['acme/bracket.stl', 'acme/housing.step', 'globex/gear.stl', 'globex/shaft.iges', 'initech/panel.dxf', 'initech/clip.stl'].map((path) => ({
    path: `/quotes/${path}`,
    weight: 2,
    expect: [200],
  })),
  { path: '/materials', weight: 2, expect: [200] },
  { method: 'POST', path: '/orders', body: '{"items":1}', weight: 3, expect: [201] },
];

/** Resolves the first stdout line of `child`, parsed as JSON. */
function firstLine(child, what) {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk) => {
      buffer += chunk.toString();
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      try {
        resolve(JSON.parse(buffer.slice(0, newline)));
      } catch (error) {
        reject(new Error(`${what} printed ${buffer.slice(0, newline)}: ${error.message}`));
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited with code ${code} before it was ready`)));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  if (spawnSync('redis-server', ['--version']).status !== 0) return undefined;
  // ioredis is an optional peer of antifragile: without it the example caches in memory only.
  const ioredis = await import('ioredis').catch(() => undefined);
  if (ioredis === undefined) return undefined;
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const { Redis } = ioredis;
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => 20, maxRetriesPerRequest: 1 });
  probe.on('error', () => {});
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  }
  probe.disconnect();
  return { url: `redis://127.0.0.1:${port}`, child };
}

/**
 * Starts the example. `baseline: true` runs the service with its protection off (no retry, breaker, timeout,
 * fallback or cache), for the side-by-side report.
 * @param {{ baseline?: boolean }} [options]
 * @returns {Promise<{ url: string, token: string, baseline: boolean, stop: () => Promise<void> }>}
 */
export async function start(options = {}) {
  const baseline = options.baseline === true;
  const token = randomBytes(24).toString('hex');
  const children = [];
  const stop = async () => {
    await Promise.all(
      children.reverse().map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', resolve);
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
          }),
      ),
    );
  };
  try {
    const dependencies = spawn(process.execPath, [here('./dependencies.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(dependencies);
    const urls = await firstLine(dependencies, 'the example dependencies');
    const redis = baseline ? undefined : await startRedis();
    if (redis !== undefined) children.push(redis.child);
    const service = spawn(process.execPath, [here('./service-main.mjs')], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {
        ...process.env,
        QUOTE_BASELINE: baseline ? '1' : '0',
        QUOTE_ADMIN_TOKEN: token,
        QUOTE_DEPENDENCIES: JSON.stringify(urls),
        ...(redis === undefined ? {} : { QUOTE_REDIS_URL: redis.url }),
      },
    });
    children.push(service);
    const { url } = await firstLine(service, 'the quote service');
    return { url, token, baseline, mix: TRAFFIC, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
