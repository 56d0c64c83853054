// `npm run bench`: antifragile against opossum 10, cockatiel 4 and a bare `await fn()`, in one process run.
// Prints the figures, the ratios and whether each target of the foundation issue is met.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Opossum from 'opossum';
import * as cockatiel from 'cockatiel';
import { CircuitBreaker, Timeout, Retry, Bulkhead, pipeline, backoff } from 'antifragile';
import { measure, ns, ratio, table } from './harness.mjs';

const action = () => Promise.resolve(1);
const iterations = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const opts = { iterations };

// --- closed breaker -----------------------------------------------------------------------------------
const ours = new CircuitBreaker({ window: { type: 'time', ms: 10_000, buckets: 10 } });
const opossumNoTimeout = new Opossum(action, { timeout: false });
const cockatielBreaker = cockatiel.circuitBreaker(cockatiel.handleAll, {
  halfOpenAfter: 30_000,
  breaker: new cockatiel.SamplingBreaker({ threshold: 0.5, duration: 10_000 }),
});

const bare = await measure(() => action(), opts);
const closedOurs = await measure(() => ours.execute(action), opts);
const closedOpossum = await measure(() => opossumNoTimeout.fire(), opts);
const closedCockatiel = await measure(() => cockatielBreaker.execute(action), opts);

// --- four-policy pipeline: timeout + retry + breaker + bulkhead ----------------------------------------
const ourPipeline = pipeline(
  new Timeout({ ms: 1_000 }),
  new Retry({ maxAttempts: 3, backoff: backoff.exponential({ initialMs: 100, maxMs: 2_000, jitter: 'full' }) }),
  new CircuitBreaker({ window: { type: 'time', ms: 10_000, buckets: 10 } }),
  new Bulkhead({ maxConcurrent: 100, maxQueued: 100 }),
);
const cockatielPipeline = cockatiel.wrap(
  cockatiel.timeout(1_000, cockatiel.TimeoutStrategy.Cooperative),
  cockatiel.retry(cockatiel.handleAll, { maxAttempts: 2, backoff: new cockatiel.ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 }) }),
  cockatiel.circuitBreaker(cockatiel.handleAll, {
    halfOpenAfter: 30_000,
    breaker: new cockatiel.SamplingBreaker({ threshold: 0.5, duration: 10_000 }),
  }),
  cockatiel.bulkhead(100, 100),
);
const opossumWithTimeout = new Opossum(action, { timeout: 1_000, capacity: 100 });

const pipeOurs = await measure(() => ourPipeline.execute(action), opts);
const pipeCockatiel = await measure(() => cockatielPipeline.execute(action), opts);
const pipeOpossum = await measure(() => opossumWithTimeout.fire(), opts);

// --- open breaker rejecting -------------------------------------------------------------------------
const openOurs = new CircuitBreaker({ openMs: 3_600_000 });
openOurs.open();
const openOpossum = new Opossum(action, { timeout: false, resetTimeout: 3_600_000 });
openOpossum.open();
const openCockatiel = cockatiel.circuitBreaker(cockatiel.handleAll, {
  halfOpenAfter: 3_600_000,
  breaker: new cockatiel.ConsecutiveBreaker(1),
});
openCockatiel.isolate();
const swallow = () => undefined;
const rejectOpts = { iterations: Math.max(1, Math.floor(iterations / 4)) };
const rejectOurs = await measure(() => openOurs.execute(action).catch(swallow), rejectOpts);
const rejectOpossum = await measure(() => openOpossum.fire().catch(swallow), rejectOpts);
const rejectCockatiel = await measure(() => openCockatiel.execute(action).catch(swallow), rejectOpts);

// --- idle breakers: memory and timers, each library in its own process ---------------------------------
const idleScript = fileURLToPath(new URL('./idle-breakers.mjs', import.meta.url));
const idle = Object.fromEntries(
  ['antifragile', 'opossum', 'cockatiel'].map((lib) => {
    const out = execFileSync(process.execPath, ['--expose-gc', idleScript, lib], { encoding: 'utf8' });
    return [lib, JSON.parse(out.trim().split('\n').at(-1))];
  }),
);

opossumNoTimeout.shutdown();
opossumWithTimeout.shutdown();
openOpossum.shutdown();

console.log(`\nNode ${process.version}, ${iterations} sequential awaited calls per round, median of 7 rounds\n`);
table(
  ['scenario', 'antifragile', 'opossum 10', 'cockatiel 4', 'bare await', 'ratios'],
  [
    [
      'closed breaker',
      ns(closedOurs),
      ns(closedOpossum),
      ns(closedCockatiel),
      ns(bare),
      `${ratio(closedOurs / bare)} of bare; opossum ${ratio(closedOpossum / closedOurs)} slower; cockatiel ${ratio(closedCockatiel / closedOurs)} slower`,
    ],
    [
      'timeout+retry+breaker+bulkhead',
      ns(pipeOurs),
      `${ns(pipeOpossum)} (timeout+capacity)`,
      ns(pipeCockatiel),
      ns(bare),
      `cockatiel ${ratio(pipeCockatiel / pipeOurs)} slower; opossum ${ratio(pipeOpossum / pipeOurs)} slower`,
    ],
    [
      'open breaker rejecting',
      ns(rejectOurs),
      ns(rejectOpossum),
      ns(rejectCockatiel),
      '',
      `opossum ${ratio(rejectOpossum / rejectOurs)}; cockatiel ${ratio(rejectCockatiel / rejectOurs)}`,
    ],
    [
      '10,000 idle breakers: bytes / timers per breaker',
      `${idle.antifragile.bytesPerBreaker} B / ${idle.antifragile.timersPerBreaker}`,
      `${idle.opossum.bytesPerBreaker} B / ${idle.opossum.timersPerBreaker}`,
      `${idle.cockatiel.bytesPerBreaker} B / ${idle.cockatiel.timersPerBreaker}`,
      '',
      '',
    ],
  ],
);

const targets = [
  ['closed breaker <= 2x bare await', closedOurs <= 2 * bare],
  ['closed breaker >= 4x faster than opossum (no timeout)', closedOpossum >= 4 * closedOurs],
  ['pipeline >= 20x faster than cockatiel wrap', pipeCockatiel >= 20 * pipeOurs],
  ['pipeline >= 3x faster than opossum with timeout', pipeOpossum >= 3 * pipeOurs],
  ['idle time-window breaker < 1 KB', idle.antifragile.bytesPerBreaker < 1024],
  ['zero timers per idle breaker', idle.antifragile.timersPerBreaker === 0],
];
console.log('\nTargets:');
for (const [name, met] of targets) console.log(`  ${met ? 'met ' : 'MISSED'}  ${name}`);
