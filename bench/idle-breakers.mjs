// Memory and timers per idle breaker: run as `node --expose-gc bench/idle-breakers.mjs <library>`.
// Prints one JSON line: { library, bytesPerBreaker, timersPerBreaker }.
import Opossum from 'opossum';
import { circuitBreaker, handleAll, SamplingBreaker } from 'cockatiel';
import { CircuitBreaker } from 'antifragile';

const COUNT = 10_000;
const library = process.argv[2];
const makers = {
  antifragile: () => new CircuitBreaker({ window: { type: 'time', ms: 10_000, buckets: 10 } }),
  opossum: () => new Opossum(async () => 1, { timeout: false, rollingCountTimeout: 10_000, rollingCountBuckets: 10 }),
  cockatiel: () => circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new SamplingBreaker({ threshold: 0.5, duration: 10_000 }) }),
};
const make = makers[library];
if (!make) throw new Error(`unknown library ${library}`);

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const settle = () => {
  for (let i = 0; i < 5; i++) global.gc();
};
make(); // load code paths first
settle();
const timersBefore = timers();
const before = process.memoryUsage().heapUsed;
const keep = new Array(COUNT);
for (let i = 0; i < COUNT; i++) keep[i] = make();
settle();
const after = process.memoryUsage().heapUsed;
const timersAfter = timers();
console.log(
  JSON.stringify({
    library,
    bytesPerBreaker: Math.round((after - before) / COUNT),
    timersPerBreaker: (timersAfter - timersBefore) / COUNT,
  }),
);
for (const b of keep) b.shutdown?.();
process.exit(0);
