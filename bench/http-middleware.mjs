// `npm run bench` (HTTP part): what the antifragile middleware stack (request id, errors, degradation,
// rate limit, metrics) costs a hello-world route, on node:http, Express 5 and Fastify 5. Each server runs
// in its own process; autocannon drives it from this one; bare and stack rounds alternate so drift in
// machine load hits all alike. Target: the stack keeps at least 95% of the bare throughput.
import { execFileSync, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { table } from './harness.mjs';

const DURATION_S = Number(process.env.BENCH_HTTP_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const serverScript = fileURLToPath(new URL('./http-bench-server.mjs', import.meta.url));

// Servers on CPU 0, this process (autocannon) on CPU 1, when `taskset` can do it: without pinning the
// scheduler moves both around and the per-request figures wander by 20%.
const pinned = (() => {
  if (availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

async function startServer(kind, variant) {
  const [command, args] = pinned ? ['taskset', ['-c', '0', process.execPath, serverScript, kind, variant]] : [process.execPath, [serverScript, kind, variant]];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (data) => resolve(Number(String(data).trim())));
    child.once('exit', (code) => reject(new Error(`${kind}/${variant} server exited with ${code}`)));
  });
  /** The server's CPU time so far, in microseconds. */
  const cpu = () =>
    new Promise((resolve) => {
      const onData = (data) => {
        const match = /cpu (\d+)/.exec(String(data));
        if (match === null) return;
        child.stdout.off('data', onData);
        resolve(Number(match[1]));
      };
      child.stdout.on('data', onData);
      child.kill('SIGUSR2');
    });
  return { url: `http://127.0.0.1:${port}/`, cpu, stop: () => child.kill('SIGKILL') };
}

const run = (url, duration) =>
  new Promise((resolve, reject) =>
    autocannon({ url, connections: 32, duration }, (error, result) => (error ? reject(error) : resolve(result))),
  );

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (ratio) => `${((1 - ratio) * 100).toFixed(1)}%`;
const VARIANTS = ['bare', 'headers', 'stack'];
const rows = [];
const results = [];
for (const kind of (process.env.BENCH_HTTP_SERVERS ?? 'node,express,fastify').split(',')) {
  const servers = {};
  for (const variant of VARIANTS) servers[variant] = await startServer(kind, variant);
  for (const variant of VARIANTS) await run(servers[variant].url, 1);
  const rates = { bare: [], headers: [], stack: [] };
  const cpuPerRequest = { bare: [], headers: [], stack: [] };
  let non2xx = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of VARIANTS) {
      const server = servers[variant];
      const before = await server.cpu();
      const result = await run(server.url, DURATION_S);
      const after = await server.cpu();
      rates[variant].push(result.requests.average);
      cpuPerRequest[variant].push((after - before) / result.requests.total);
      if (variant === 'stack') non2xx += result.non2xx;
    }
  }
  for (const variant of VARIANTS) servers[variant].stop();
  const rate = Object.fromEntries(VARIANTS.map((v) => [v, median(rates[v])]));
  const cpu = Object.fromEntries(VARIANTS.map((v) => [v, median(cpuPerRequest[v])]));
  const ratio = rate.stack / rate.bare;
  const overFloor = rate.stack / rate.headers;
  results.push({ kind, ratio, overFloor, non2xx });
  rows.push([
    kind,
    `${Math.round(rate.bare)} req/s`,
    `${Math.round(rate.headers)} req/s (${pct(rate.headers / rate.bare)})`,
    `${Math.round(rate.stack)} req/s (${pct(ratio)})`,
    pct(overFloor),
    `${cpu.bare.toFixed(1)} / ${cpu.headers.toFixed(1)} / ${cpu.stack.toFixed(1)} µs`,
    String(non2xx),
  ]);
}

console.log(`\n## HTTP middleware stack (autocannon, 32 connections, ${ROUNDS} x ${DURATION_S} s per variant, interleaved${pinned ? '; server on CPU 0, load generator on CPU 1' : ''})\n`);
table(
  ['server', 'bare hello-world', 'bare + the same 6 headers, fixed', 'with the stack (cost vs bare)', 'stack vs same headers', 'server CPU per request: bare / headers / stack', 'non-2xx with the stack'],
  rows,
);
console.log('\nThe stack is one middleware: request id, error mapping, degradation headers and gate, per-IP adaptive rate');
console.log('limit with RateLimit headers, and the Prometheus request histogram. "Same headers" is a bare server writing');
console.log('the six headers the stack adds, fixed: what any implementation pays for them here, because the load');
console.log('generator shares this 2-core machine and parses every byte. "Stack vs same headers" is the middleware\'s');
console.log('own cost beyond its headers.');
console.log('\nTargets:');
for (const { kind, ratio, overFloor, non2xx } of results) {
  const met = ratio >= 0.95 && non2xx === 0;
  console.log(`- ${met ? 'met' : 'NOT MET'}: ${kind}: the stack costs under 5% of throughput (${pct(ratio)}${non2xx ? `, ${non2xx} non-2xx` : ''})`);
  console.log(`- ${overFloor >= 0.95 ? 'met' : 'NOT MET'}: ${kind}: beyond its six headers, the stack costs under 5% of throughput (${pct(overFloor)})`);
}
