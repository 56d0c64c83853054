// A pipeline surviving a failing dependency.
//
// A local "pricing" service (a real HTTP server on 127.0.0.1) goes through four phases: healthy, failing
// (HTTP 500), hanging (never answers) and recovered. A client calls it every 20 ms through
//   Fallback -> Timeout (whole call) -> Retry -> CircuitBreaker -> Timeout (each attempt)
// and never sees an error: while the dependency is down the breaker opens, calls fail fast and the
// fallback serves the last known price; when it recovers, a half-open probe closes the circuit.
//
// Run: npm run example   (about 4 seconds; exits 0 when no call failed)
import { createServer } from 'node:http';
import { CircuitBreaker, Fallback, Retry, Timeout, backoff, pipeline } from 'antifragile';

const PHASE_MS = 1_000;
const phases = ['healthy', 'failing', 'hanging', 'recovered'];
const started = Date.now();
const phaseNow = () => phases[Math.min(phases.length - 1, Math.floor((Date.now() - started) / PHASE_MS))];

const server = createServer((req, res) => {
  const phase = phaseNow();
  if (phase === 'failing') {
    res.writeHead(500).end('pricing exploded');
  } else if (phase === 'hanging') {
    req.on('close', () => res.destroy()); // never answers; the client gives up
  } else {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ price: 42 }));
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/price`;

let lastKnownPrice = 40;
const breaker = new CircuitBreaker({
  name: 'pricing',
  window: { type: 'count', size: 10 },
  minimumCalls: 5,
  failureRateThreshold: 0.5,
  openMs: 300,
  halfOpen: { maxCalls: 1, successes: 2 },
});
const transitions = [];
breaker.on('stateChange', ({ from, to, reason }) => transitions.push(`${phaseNow()}: ${from} -> ${to} (${reason})`));

const getPrice = pipeline(
  new Fallback({ fallback: () => ({ price: lastKnownPrice, stale: true }) }),
  new Timeout({ ms: 400 }),
  new Retry({ maxAttempts: 2, backoff: backoff.exponential({ initialMs: 20, maxMs: 100, jitter: 'full' }) }),
  breaker,
  new Timeout({ ms: 100 }),
);

async function fetchPrice({ signal }) {
  const response = await fetch(url, { signal });
  if (!response.ok) throw new Error(`pricing answered ${response.status}`);
  const body = await response.json();
  lastKnownPrice = body.price;
  return body;
}

const stats = Object.fromEntries(phases.map((p) => [p, { fresh: 0, fallback: 0, errors: 0 }]));
const inFlight = new Set();
while (Date.now() - started < PHASE_MS * phases.length) {
  const phase = phaseNow();
  const call = getPrice
    .execute(fetchPrice)
    .then((r) => (r.stale ? stats[phase].fallback++ : stats[phase].fresh++))
    .catch(() => stats[phase].errors++)
    .finally(() => inFlight.delete(call));
  inFlight.add(call);
  await new Promise((r) => setTimeout(r, 20));
}
await Promise.all(inFlight);
server.close();

console.log('calls per phase (fresh = answered by the dependency, fallback = served the last known price):');
console.table(stats);
console.log('breaker transitions:');
for (const t of transitions) console.log(`  ${t}`);
const errors = Object.values(stats).reduce((n, s) => n + s.errors, 0);
console.log(errors === 0 ? 'No call failed: the pipeline survived the outage.' : `${errors} calls failed.`);
process.exitCode = errors === 0 ? 0 : 1;
