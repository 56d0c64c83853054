/**
 * Outcome counts of one instance per time bucket, kept until they are written to Redis by a
 * `SharedCircuitBreaker`. Holds at most `buckets` buckets, in a ring keyed by bucket index: a bucket that
 * has left the window is overwritten by the newer one that takes its slot, so memory never grows with
 * traffic or with an outage (counts, never per-call records).
 * @internal
 */
export class SharedBreakerCounts {
  /** Per slot: bucket index, calls, failures, slow calls. */
  private readonly data: Float64Array;
  /** Calls held over every slot. */
  calls = 0;
  /** Failures held over every slot. */
  failures = 0;
  /** Slow calls held over every slot. */
  slowCalls = 0;

  constructor(readonly buckets: number) {
    this.data = new Float64Array(buckets * 4).fill(Number.NaN);
  }

  /** Counts one outcome in bucket `index`. */
  record(index: number, failed: boolean, slow: boolean): void {
    this.add(index, 1, failed ? 1 : 0, slow ? 1 : 0);
  }

  /** Adds counts to bucket `index`; counts of a bucket older than the one holding its slot are dropped. */
  add(index: number, calls: number, failures: number, slowCalls: number): void {
    if (calls <= 0) return;
    const data = this.data;
    const base = (((index % this.buckets) + this.buckets) % this.buckets) * 4;
    const held = data[base] as number;
    if (held !== index) {
      if (held > index) return; // a bucket a whole window older than the slot's: out of any window
      if (!Number.isNaN(held)) {
        this.calls -= data[base + 1] as number;
        this.failures -= data[base + 2] as number;
        this.slowCalls -= data[base + 3] as number;
      }
      data[base] = index;
      data[base + 1] = data[base + 2] = data[base + 3] = 0;
    }
    data[base + 1] = (data[base + 1] as number) + calls;
    data[base + 2] = (data[base + 2] as number) + failures;
    data[base + 3] = (data[base + 3] as number) + slowCalls;
    this.calls += calls;
    this.failures += failures;
    this.slowCalls += slowCalls;
  }

  /** Adds every bucket of `other` to this one. */
  addAll(other: SharedBreakerCounts): void {
    other.forEach((index, calls, failures, slowCalls) => this.add(index, calls, failures, slowCalls));
  }

  /** Calls `visit` for each held bucket with calls, in slot order. */
  forEach(visit: (index: number, calls: number, failures: number, slowCalls: number) => void): void {
    const data = this.data;
    for (let base = 0; base < data.length; base += 4) {
      const calls = data[base + 1] as number;
      if (calls > 0) visit(data[base] as number, calls, data[base + 2] as number, data[base + 3] as number);
    }
  }

  /** Appends `index, calls, failures, slowCalls` of each held bucket newer than `oldestIndex` to `args`. */
  appendTo(args: (string | number)[], oldestIndex: number): void {
    this.forEach((index, calls, failures, slowCalls) => {
      if (index > oldestIndex) args.push(index, calls, failures, slowCalls);
    });
  }

  /** Forgets every count. */
  clear(): void {
    if (this.calls === 0) return;
    this.data.fill(Number.NaN);
    this.calls = this.failures = this.slowCalls = 0;
  }
}
