// `npm run bench` (cache part): MultiLayerCache against lru-cache, raw ioredis and bentocache, on a private
// redis-server started here. Prints figures, ratios and whether each target of the cache issue is met.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { MultiLayerCache } from 'antifragile';
import { RedisCacheLayer } from 'antifragile/redis';
import { measure, measureInterleaved, ns, ratio, table } from './harness.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const port = await freePort();
const redisProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
const connection = { host: '127.0.0.1', port, retryStrategy: (times) => Math.min(times * 20, 200) };
const newClient = () => {
  const client = new Redis(connection);
  client.on('error', () => {});
  return client;
};
const redis = newClient();
for (let i = 0; i < 100 && redis.status !== 'ready'; i++) await sleep(20);

const value = { id: 42, name: 'quote', lines: [1, 2, 3], at: '2026-11-24T00:00:00.000Z' };
const fast = { iterations: 200_000 };

// --- L1 hit -------------------------------------------------------------------------------------------
const lru = new LRUCache({ max: 1000 });
lru.set('cache:k', value);
const ours = new MultiLayerCache({ layers: [new RedisCacheLayer({ client: redis })] });
await ours.set('k', value);
const bento = new BentoCache({
  default: 'c',
  stores: { c: bentostore().useL1Layer(memoryDriver({ maxItems: 1000 })).useL2Layer(redisDriver({ connection: newClient() })) },
});
await bento.set({ key: 'k', value });
// bentocache's memory driver serializes by default; also measure it keeping references, as our L1 does.
const bentoRefs = new BentoCache({ default: 'c', stores: { c: bentostore().useL1Layer(memoryDriver({ maxItems: 1000, serialize: false })) } });
await bentoRefs.set({ key: 'k', value });

const l1Lru = await measure(() => lru.get('cache:k'), fast);
const l1Ours = await measure(() => ours.get('k'), fast);
const l1Bento = await measure(() => bento.get({ key: 'k' }), fast);
const l1BentoRefs = await measure(() => bentoRefs.get({ key: 'k' }), fast);

// --- L2 get, L1 empty ---------------------------------------------------------------------------------
const l2Only = new MultiLayerCache({ memory: false, layers: [new RedisCacheLayer({ client: redis })] });
await l2Only.set('k2', value);
const bentoL2 = new BentoCache({ default: 'c', stores: { c: bentostore().useL2Layer(redisDriver({ connection: newClient() })) } });
await bentoL2.set({ key: 'k2', value });
const [l2Raw, l2Ours, l2Bento] = await measureInterleaved([
  () => redis.get('cache:k2'),
  () => l2Only.get('k2'),
  () => bentoL2.get({ key: 'k2' }),
]);

// --- 1,000 concurrent misses on one key ------------------------------------------------------------------
const LOADER_MS = 50;
async function stampede(getOrSet) {
  let calls = 0;
  const loader = async () => {
    calls++;
    await sleep(LOADER_MS);
    return value;
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: 1_000 }, () => getOrSet(loader)));
  return { calls, ms: performance.now() - start };
}
const rttStart = performance.now();
for (let i = 0; i < 100; i++) await redis.get('nothing');
const rttMs = (performance.now() - rttStart) / 100;
const stampedeOurs = [];
const stampedeBento = [];
for (let round = 0; round < 5; round++) {
  stampedeOurs.push(await stampede((loader) => ours.getOrSet(`hot:${round}`, loader)));
  stampedeBento.push(await stampede((loader) => bento.getOrSet({ key: `hot:${round}`, factory: loader })));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sOursMs = median(stampedeOurs.map((s) => s.ms));
const sBentoMs = median(stampedeBento.map((s) => s.ms));
const sOursCalls = Math.max(...stampedeOurs.map((s) => s.calls));
const sBentoCalls = Math.max(...stampedeBento.map((s) => s.calls));

// --- Redis hung (SIGSTOP): added latency per call ----------------------------------------------------------
const SOFT_MS = 20;
const hungCache = new MultiLayerCache({
  layers: [new RedisCacheLayer({ client: newClient() })],
  remote: { softTimeoutMs: SOFT_MS, hardTimeoutMs: 200 },
});
await hungCache.set('warm', 1);
redisProcess.kill('SIGSTOP');
const added = [];
for (let i = 0; i < 300; i++) {
  const start = performance.now();
  await hungCache.getOrSet(`cold:${i}`, () => 1);
  added.push(performance.now() - start);
}
const bentoHung = [];
const CAP_MS = 2_000;
for (let i = 0; i < 3; i++) {
  const start = performance.now();
  await Promise.race([bento.getOrSet({ key: `cold:${i}`, factory: () => 1 }).catch(() => undefined), sleep(CAP_MS)]);
  bentoHung.push(performance.now() - start);
}
redisProcess.kill('SIGCONT');
const p = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const fmtMs = (ms) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;

console.log('\n## Cache (private redis-server, one process run)\n');
table(
  ['scenario', 'antifragile', 'lru-cache / raw ioredis', 'bentocache 1.6', 'vs baseline', 'vs bentocache'],
  [
    ['L1 hit get', ns(l1Ours), `${ns(l1Lru)} (lru-cache get)`, ns(l1Bento), ratio(l1Ours / l1Lru), `${ratio(l1Bento / l1Ours)} faster`],
    ['L1 hit get (bentocache L1 not serializing)', ns(l1Ours), '', ns(l1BentoRefs), '', `${ratio(l1BentoRefs / l1Ours)} faster`],
    ['L2 get, L1 empty', ns(l2Ours), `${ns(l2Raw)} (ioredis GET)`, ns(l2Bento), ratio(l2Ours / l2Raw), `${ratio(l2Bento / l2Ours)} faster`],
    [
      '1,000 concurrent misses, one key (loader 50 ms)',
      `${fmtMs(sOursMs)}, ${sOursCalls} loader call(s)`,
      `loader + RTT = ${fmtMs(LOADER_MS + rttMs)}`,
      `${fmtMs(sBentoMs)}, ${sBentoCalls} loader call(s)`,
      ratio(sOursMs / (LOADER_MS + rttMs)),
      '',
    ],
    [
      `Redis hung, soft timeout ${SOFT_MS} ms: added latency p50 / p99 / max`,
      `${fmtMs(p(added, 0.5))} / ${fmtMs(p(added, 0.99))} / ${fmtMs(Math.max(...added))}`,
      '',
      `${fmtMs(median(bentoHung))} (capped at ${CAP_MS} ms)`,
      '',
      '',
    ],
  ],
);

const targets = [
  ['L1 hit get <= 2x a bare lru-cache get', l1Ours / l1Lru <= 2, ratio(l1Ours / l1Lru)],
  ['L1 hit get >= 5x faster than bentocache L1 hit (default, and without serialization)', Math.min(l1Bento, l1BentoRefs) / l1Ours >= 5, `${ratio(l1Bento / l1Ours)}, ${ratio(l1BentoRefs / l1Ours)}`],
  ['L2 get within 1.2x of a raw ioredis GET', l2Ours / l2Raw <= 1.2, ratio(l2Ours / l2Raw)],
  ['1,000 concurrent misses: exactly one loader call', sOursCalls === 1, String(sOursCalls)],
  [
    '1,000 concurrent misses: time of one load + one round trip (within 20 ms)',
    sOursMs <= LOADER_MS + rttMs + 20,
    `${fmtMs(sOursMs)} vs ${fmtMs(LOADER_MS + rttMs)}`,
  ],
  ['Redis hung: added latency <= soft timeout (+5 ms scheduling)', Math.max(...added) <= SOFT_MS + 5, fmtMs(Math.max(...added))],
];
console.log('\nTargets:');
for (const [name, met, figure] of targets) console.log(`- ${met ? 'met' : 'NOT MET'}: ${name} (${figure})`);

await bento.disconnect().catch(() => {});
await bentoL2.disconnect().catch(() => {});
await bentoRefs.disconnect().catch(() => {});
redisProcess.kill('SIGKILL');
process.exit(0);
