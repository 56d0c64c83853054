// Sustained event write rate of SqliteStore (batched, WAL, synchronous=NORMAL) against MemoryStore.
// Not part of npm test. Run after a build: `npx tsc -p tsconfig.build.json && node bench/store-write-rate.mjs`.
// Each round appends EVENTS recovery events and health checks (half each) and then closes the store, so the
// time includes committing every row to disk. Prints the median of ROUNDS rounds and the ratio.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../dist/adapters/sqlite/index.js';
import { MemoryStore } from '../dist/store/memory-store.js';

const EVENTS = Number(process.env.EVENTS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const TARGET = 50_000;
const dir = mkdtempSync(join(tmpdir(), 'antifragile-bench-store-'));

function write(store, n) {
  for (let i = 0; i < n; i += 2) {
    store.recordRecoveryEvent({
      component: i % 10 === 0 ? 'database' : 'api',
      category: 'network',
      severity: 'high',
      strategy: 'retry',
      outcome: i % 7 === 0 ? 'failure' : 'success',
      durationMs: i % 250,
      attempts: 2,
      error: i % 7 === 0 ? 'ECONNRESET' : undefined,
    });
    store.recordHealthCheck({ component: 'cache', status: 'healthy', responseTimeMs: (i % 50) / 10 });
  }
}

async function round(make) {
  const store = make();
  const started = performance.now();
  write(store, EVENTS);
  await store.close();
  return EVENTS / ((performance.now() - started) / 1_000);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (rate) => `${Math.round(rate).toLocaleString('en-US')} events/s`;

let file = 0;
const results = {};
const makers = {
  'SqliteStore (batchSize 500, flush 1 s)': () => new SqliteStore({ path: join(dir, `bench-${file++}.db`) }),
  'SqliteStore (batchSize 100, seed config)': () => new SqliteStore({ path: join(dir, `bench-${file++}.db`), batchSize: 100, flushIntervalMs: 5_000 }),
  'MemoryStore (maxRows 10,000)': () => new MemoryStore(),
};
try {
  for (const make of Object.values(makers)) await round(make); // warm-up
  for (const [name, make] of Object.entries(makers)) {
    const rates = [];
    for (let r = 0; r < ROUNDS; r++) rates.push(await round(make));
    results[name] = median(rates);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`Store write rate, ${EVENTS.toLocaleString('en-US')} events per round, median of ${ROUNDS} (Node ${process.versions.node})`);
for (const [name, rate] of Object.entries(results)) console.log(`  ${name.padEnd(42)} ${fmt(rate).padStart(22)}`);
const sqlite = results['SqliteStore (batchSize 500, flush 1 s)'];
const memory = results['MemoryStore (maxRows 10,000)'];
console.log(`Ratio: MemoryStore is ${(memory / sqlite).toFixed(1)}x SqliteStore (default batch)`);
console.log(`Target >= ${TARGET.toLocaleString('en-US')} events/s batched: ${sqlite >= TARGET ? 'met' : 'NOT met'}`);
