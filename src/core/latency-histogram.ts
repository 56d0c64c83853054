/** Sub-buckets per power of two: relative error of a reported percentile is at most 1/8 (12.5%). */
const SUB_BITS = 3;
const SUB = 1 << SUB_BITS;
/** Values below this (in microseconds) get one exact bucket each. */
const LINEAR = SUB * 2;
/** Largest exponent kept: 2^32 µs is about 71 minutes; anything longer lands in the last bucket. */
const MAX_EXP = 32;
const BUCKETS = LINEAR + (MAX_EXP - SUB_BITS - 1) * SUB;

function bucketOf(micros: number): number {
  if (micros < LINEAR) return micros < 0 ? 0 : micros | 0;
  if (micros >= 2 ** MAX_EXP) return BUCKETS - 1;
  const u = micros >>> 0;
  const exp = 31 - Math.clz32(u);
  const sub = (u >>> (exp - SUB_BITS)) & (SUB - 1);
  return LINEAR + (exp - SUB_BITS - 1) * SUB + sub;
}

/** Upper bound, in milliseconds, of the values a bucket holds. */
function upperMsOf(bucket: number): number {
  if (bucket < LINEAR) return (bucket + 1) / 1000;
  const rel = bucket - LINEAR;
  const exp = Math.floor(rel / SUB) + SUB_BITS + 1;
  const sub = rel % SUB;
  return ((SUB + sub + 1) * 2 ** (exp - SUB_BITS)) / 1000;
}

/**
 * A fixed-size log-linear latency histogram (like HdrHistogram, coarser): microsecond resolution below
 * 16 µs, then 8 buckets per power of two up to about 71 minutes. Recording and percentile reads cost the
 * same whatever the number of samples; memory is fixed (about 1 KB).
 */
export class LatencyHistogram {
  /** @internal */
  readonly bucketCounts = new Uint32Array(BUCKETS);
  private n = 0;
  private sum = 0;
  private maxMs = 0;

  /** Records one duration in milliseconds. */
  record(ms: number): void {
    const b = bucketOf(Math.round(ms * 1000));
    this.bucketCounts[b] = (this.bucketCounts[b] as number) + 1;
    this.n++;
    this.sum += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Number of recorded samples. */
  get count(): number {
    return this.n;
  }

  /** Mean of recorded samples in milliseconds, 0 when empty. */
  mean(): number {
    return this.n === 0 ? 0 : this.sum / this.n;
  }

  /** Largest recorded sample in milliseconds. */
  max(): number {
    return this.maxMs;
  }

  /**
   * The `q` quantile (0..1) in milliseconds: an upper bound within 12.5% of the true value, never above
   * the largest sample. 0 when empty.
   */
  percentile(q: number): number {
    return percentileOf([this], q);
  }

  /** Forgets every sample. */
  reset(): void {
    this.bucketCounts.fill(0);
    this.n = 0;
    this.sum = 0;
    this.maxMs = 0;
  }

  /** @internal */
  static percentileOf(histograms: readonly LatencyHistogram[], q: number): number {
    return percentileOf(histograms, q);
  }
}

function percentileOf(histograms: readonly LatencyHistogram[], q: number): number {
  let total = 0;
  let max = 0;
  for (const h of histograms) {
    total += h.count;
    max = Math.max(max, h.max());
  }
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * total));
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    for (const h of histograms) seen += h.bucketCounts[b] as number;
    if (seen >= rank) return Math.min(upperMsOf(b), max);
  }
  return max;
}
