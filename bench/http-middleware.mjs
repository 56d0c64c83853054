// `npm run bench` (HTTP part): what the antifragile middleware stack (request id, errors, degradation,
// rate limit, metrics) costs a hello-world route, on node:http, Express 5 and Fastify 5. Each server runs
// in its own process; autocannon drives it from this one; bare and stack rounds alternate so drift in
// machine load hits both alike. Target: the stack keeps at least 95% of the bare throughput.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { table } from './harness.mjs';

const DURATION_S = Number(process.env.BENCH_HTTP_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
const serverScript = fileURLToPath(new URL('./http-bench-server.mjs', import.meta.url));

async function startServer(kind, variant) {
  const child = spawn(process.execPath, [serverScript, kind, variant], { stdio: ['ignore', 'pipe', 'inherit'] });
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
const rows = [];
const results = [];
for (const kind of ['node', 'express', 'fastify']) {
  const bare = await startServer(kind, 'bare');
  const stack = await startServer(kind, 'stack');
  await run(bare.url, 1);
  await run(stack.url, 1);
  const rates = { bare: [], stack: [] };
  const cpuPerRequest = { bare: [], stack: [] };
  let non2xx = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, server] of [['bare', bare], ['stack', stack]]) {
      const before = await server.cpu();
      const result = await run(server.url, DURATION_S);
      const after = await server.cpu();
      rates[name].push(result.requests.average);
      cpuPerRequest[name].push((after - before) / result.requests.total);
      if (name === 'stack') non2xx += result.non2xx;
    }
  }
  bare.stop();
  stack.stop();
  const ratio = median(rates.stack) / median(rates.bare);
  const cpuBare = median(cpuPerRequest.bare);
  const cpuStack = median(cpuPerRequest.stack);
  results.push({ kind, ratio, non2xx, cpuRatio: cpuStack / cpuBare });
  rows.push([
    kind,
    `${Math.round(median(rates.bare))} req/s`,
    `${Math.round(median(rates.stack))} req/s`,
    `${((1 - ratio) * 100).toFixed(1)}%`,
    `${cpuBare.toFixed(1)} µs`,
    `${cpuStack.toFixed(1)} µs (+${((cpuStack / cpuBare - 1) * 100).toFixed(0)}%)`,
    String(non2xx),
  ]);
}

console.log(`\n## HTTP middleware stack (autocannon, 32 connections, ${ROUNDS} x ${DURATION_S} s per variant, alternating)\n`);
table(['server', 'bare hello-world', 'with the stack', 'throughput cost', 'server CPU per request, bare', 'with the stack', 'non-2xx with the stack'], rows);
console.log('\nThe load generator shares this 2-core machine, so throughput also reflects its cost of parsing the');
console.log('extra response headers; server CPU per request is the server-side cost alone.');
console.log('\nTargets:');
for (const { kind, ratio, non2xx } of results) {
  const met = ratio >= 0.95 && non2xx === 0;
  console.log(`- ${met ? 'met' : 'NOT MET'}: ${kind}: the stack costs under 5% of throughput (${((1 - ratio) * 100).toFixed(1)}%${non2xx ? `, ${non2xx} non-2xx` : ''})`);
}
