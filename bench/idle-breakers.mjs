// Memory and timers per idle breaker: run as `node --expose-gc bench/idle-breakers.mjs <library>`.
// Prints one JSON line: { library, bytesPerBreaker, timersPerBreaker }.
//
// Timers are counted by wrapping the global timer functions before any library loads: unref'd timers are
// invisible to process.getActiveResourcesInfo(), and a per-breaker unref'd interval still costs a wake-up.
const live = new Set();
const wrap = (create, clear, repeats) => {
  const original = globalThis[create];
  globalThis[create] = (fn, ms, ...args) => {
    const timer = original((...a) => {
      if (!repeats) live.delete(timer);
      return fn(...a);
    }, ms, ...args);
    live.add(timer);
    return timer;
  };
  const originalClear = globalThis[clear];
  globalThis[clear] = (timer) => {
    live.delete(timer);
    return originalClear(timer);
  };
};
wrap('setTimeout', 'clearTimeout', false);
wrap('setInterval', 'clearInterval', true);

const { default: Opossum } = await import('opossum');
const { circuitBreaker, handleAll, SamplingBreaker } = await import('cockatiel');
const { CircuitBreaker } = await import('antifragile');

const COUNT = 10_000;
const library = process.argv[2];
const makers = {
  antifragile: () => new CircuitBreaker({ window: { type: 'time', ms: 10_000, buckets: 10 } }),
  opossum: () => new Opossum(async () => 1, { timeout: false, rollingCountTimeout: 10_000, rollingCountBuckets: 10 }),
  cockatiel: () => circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new SamplingBreaker({ threshold: 0.5, duration: 10_000 }) }),
};
const make = makers[library];
if (!make) throw new Error(`unknown library ${library}`);

const settle = () => {
  for (let i = 0; i < 5; i++) global.gc();
};
// JS heap plus memory outside it (typed array backing stores), so nothing hides off-heap.
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
make().shutdown?.(); // load code paths first
settle();
const timersBefore = live.size;
const before = used();
const keep = new Array(COUNT);
for (let i = 0; i < COUNT; i++) keep[i] = make();
settle();
const after = used();
const timersAfter = live.size;
console.log(
  JSON.stringify({
    library,
    bytesPerBreaker: Math.round((after - before) / COUNT),
    timersPerBreaker: (timersAfter - timersBefore) / COUNT,
  }),
);
for (const b of keep) b.shutdown?.();
process.exit(0);
