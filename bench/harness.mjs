// Tiny benchmark harness: sequential awaited calls, warm-up, several rounds, median ns per call.

/**
 * Measures `call` (an async function) and returns the median nanoseconds per call over `rounds` rounds.
 * @param {() => Promise<unknown>} call
 */
export async function measure(call, { iterations = 200_000, rounds = 7, warmup = 50_000 } = {}) {
  for (let i = 0; i < warmup; i++) await call();
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await call();
    samples.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/** Formats nanoseconds for a table. */
export const ns = (value) => (value >= 1000 ? `${(value / 1000).toFixed(2)} µs` : `${value.toFixed(0)} ns`);

/** Formats a ratio like `4.2x`. */
export const ratio = (value) => `${value.toFixed(1)}x`;

/** Prints a Markdown table. */
export function table(headers, rows) {
  const lines = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  console.log(lines.join('\n'));
}

/**
 * Measures several calls in alternating rounds (A, B, C, A, B, C...) so that drift in machine load hits
 * them alike; returns the median nanoseconds per call of each. Use it for I/O-bound calls (a Redis round trip).
 * @param {(() => Promise<unknown>)[]} calls
 */
export async function measureInterleaved(calls, { iterations = 2_000, rounds = 9, warmup = 500 } = {}) {
  for (const call of calls) for (let i = 0; i < warmup; i++) await call();
  const samples = calls.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < calls.length; c++) {
      const call = calls[c];
      const start = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) await call();
      samples[c].push(Number(process.hrtime.bigint() - start) / iterations);
    }
  }
  return samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)]);
}
