import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/core/options.js';
import type { Backoff } from '../../src/policies/backoff/backoff.js';
import { backoff } from '../../src/policies/backoff/index.js';
import type { Jitter } from '../../src/policies/backoff/jitter.js';

/** The delays before retries 1..n, each fed the previous one as a Retry does. */
function sequence(strategy: Backoff, n: number): number[] {
  const out: number[] = [];
  let previous = 0;
  for (let retry = 1; retry <= n; retry++) {
    previous = strategy.delayMs(retry, previous);
    out.push(previous);
  }
  return out;
}

function issuesOf(create: () => unknown): string[] {
  try {
    create();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    return (error as InvalidOptionsError).issues.map((i) => i.path);
  }
  throw new Error('expected an InvalidOptionsError');
}

const fixed = (value: number) => () => value;

describe('backoff.constant', () => {
  it('returns the same delay before every retry', () => {
    expect(sequence(backoff.constant({ delayMs: 250 }), 4)).toEqual([250, 250, 250, 250]);
    expect(sequence(backoff.constant(), 2)).toEqual([100, 100]);
  });

  it('rejects a negative or non-finite delay', () => {
    expect(issuesOf(() => backoff.constant({ delayMs: -1 }))).toEqual(['delayMs']);
    expect(issuesOf(() => backoff.constant({ delayMs: Infinity }))).toEqual(['delayMs']);
    expect(issuesOf(() => backoff.constant({ delayMs: Number.NaN }))).toEqual(['delayMs']);
  });
});

describe('backoff.linear', () => {
  it('grows by stepMs and saturates at maxMs', () => {
    expect(sequence(backoff.linear({ initialMs: 100, stepMs: 50, maxMs: 260 }), 6)).toEqual([100, 150, 200, 250, 260, 260]);
  });

  it('applies full and equal jitter to the capped delay', () => {
    expect(sequence(backoff.linear({ initialMs: 100, stepMs: 100, maxMs: 1_000, jitter: 'full', random: fixed(0.5) }), 3)).toEqual([
      50, 100, 150,
    ]);
    expect(sequence(backoff.linear({ initialMs: 100, stepMs: 100, maxMs: 1_000, jitter: 'equal', random: fixed(0) }), 3)).toEqual([
      50, 100, 150,
    ]);
  });

  it('lists every bad field at once', () => {
    const bad = { initialMs: -1, stepMs: Number.NaN, maxMs: 'x', jitter: 'half', random: 3 } as never;
    expect(issuesOf(() => backoff.linear(bad))).toEqual(['initialMs', 'stepMs', 'maxMs', 'jitter', 'random']);
  });
});

describe('backoff.exponential', () => {
  it('doubles from initialMs up to maxMs without jitter', () => {
    expect(sequence(backoff.exponential({ initialMs: 100, maxMs: 1_000, jitter: 'none' }), 6)).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('grows by factor', () => {
    expect(sequence(backoff.exponential({ initialMs: 10, maxMs: 10_000, factor: 3, jitter: 'none' }), 4)).toEqual([10, 30, 90, 270]);
  });

  it('uses full jitter by default: random_between(0, capped)', () => {
    expect(sequence(backoff.exponential({ initialMs: 100, maxMs: 1_000, random: fixed(0.25) }), 3)).toEqual([25, 50, 100]);
  });

  it('equal jitter keeps half of the capped delay and randomises the other half', () => {
    expect(sequence(backoff.exponential({ initialMs: 100, maxMs: 1_000, jitter: 'equal', random: fixed(0.5) }), 3)).toEqual([
      75, 150, 300,
    ]);
  });

  it('saturates at maxMs for huge, infinite or nonsense retry numbers', () => {
    const b = backoff.exponential({ initialMs: 100, maxMs: 5_000, jitter: 'none' });
    expect(b.delayMs(1_000_000, 0)).toBe(5_000);
    expect(b.delayMs(Infinity, 0)).toBe(5_000);
    expect(b.delayMs(Number.NaN, 0)).toBe(100);
    expect(b.delayMs(-3, 0)).toBe(100);
  });

  it('never returns NaN for initialMs 0 or factor 1 at an infinite retry number (no 0 * Infinity, no 1 ** Infinity)', () => {
    expect(backoff.exponential({ initialMs: 0, maxMs: 10, jitter: 'none' }).delayMs(Infinity, 0)).toBe(0);
    expect(backoff.exponential({ initialMs: 7, maxMs: 10, factor: 1, jitter: 'none' }).delayMs(Infinity, 0)).toBe(7);
  });

  it('lists every bad field at once', () => {
    const bad = { initialMs: Infinity, maxMs: -5, factor: 0.5, jitter: 'all', random: 'x' } as never;
    expect(issuesOf(() => backoff.exponential(bad))).toEqual(['initialMs', 'maxMs', 'factor', 'jitter', 'random']);
  });

  it('rejects maxMs below initialMs, including the default initialMs', () => {
    expect(issuesOf(() => backoff.exponential({ initialMs: 500, maxMs: 100 }))).toEqual(['maxMs']);
    expect(issuesOf(() => backoff.exponential({ maxMs: 50 }))).toEqual(['maxMs']);
    expect(issuesOf(() => backoff.exponential(null as never))).toEqual(['options']);
  });
});

describe('backoff.decorrelated', () => {
  it('is random_between(initialMs, previous * 3), capped at maxMs', () => {
    // random 1 - 2^-53 ~ the top of the range: 100 -> 300 -> 900 -> 1000 (capped)
    const top = fixed(1 - Number.EPSILON / 2);
    const delays = sequence(backoff.decorrelated({ initialMs: 100, maxMs: 1_000, random: top }), 4);
    expect(delays.map(Math.round)).toEqual([300, 900, 1_000, 1_000]);
    expect(sequence(backoff.decorrelated({ initialMs: 100, maxMs: 1_000, random: fixed(0) }), 3)).toEqual([100, 100, 100]);
    expect(sequence(backoff.decorrelated({ initialMs: 100, maxMs: 1_000, random: fixed(0.5) }), 3)).toEqual([200, 350, 575]);
  });

  it('is what jitter "decorrelated" means for exponential and linear', () => {
    const expected = sequence(backoff.decorrelated({ initialMs: 100, maxMs: 1_000, random: fixed(0.5) }), 4);
    const exp = backoff.exponential({ initialMs: 100, maxMs: 1_000, jitter: 'decorrelated', random: fixed(0.5) });
    const lin = backoff.linear({ initialMs: 100, maxMs: 1_000, jitter: 'decorrelated', random: fixed(0.5) });
    expect(sequence(exp, 4)).toEqual(expected);
    expect(sequence(lin, 4)).toEqual(expected);
  });

  it('takes a multiplier >= 1', () => {
    expect(sequence(backoff.decorrelated({ initialMs: 100, maxMs: 1_000, multiplier: 2, random: fixed(0.5) }), 2)).toEqual([150, 200]);
    expect(issuesOf(() => backoff.decorrelated({ multiplier: 0.9 }))).toEqual(['multiplier']);
  });

  it('stays within initialMs..maxMs when the random source returns NaN or leaves 0..1 (NaN gave 0)', () => {
    for (const strategy of [
      (random: () => number) => backoff.decorrelated({ initialMs: 100, maxMs: 1_000, random }),
      (random: () => number) => backoff.exponential({ initialMs: 100, maxMs: 1_000, jitter: 'decorrelated', random }),
      (random: () => number) => backoff.linear({ initialMs: 100, maxMs: 1_000, jitter: 'decorrelated', random }),
    ]) {
      expect(strategy(fixed(Number.NaN)).delayMs(1, 0)).toBe(100);
      expect(strategy(fixed(-3)).delayMs(1, 0)).toBe(100);
      expect(strategy(fixed(7)).delayMs(1, 0)).toBe(300);
      expect(strategy(fixed(Infinity)).delayMs(3, 900)).toBe(1_000);
      expect(strategy(fixed(-Infinity)).delayMs(3, 900)).toBe(100);
    }
  });

  it('never returns NaN when previous * multiplier overflows', () => {
    const b = backoff.decorrelated({ initialMs: 1, maxMs: Number.MAX_VALUE, multiplier: 10, random: fixed(0) });
    expect(b.delayMs(2, Number.MAX_VALUE)).toBe(1);
    const top = backoff.decorrelated({ initialMs: 1, maxMs: Number.MAX_VALUE, multiplier: 10, random: fixed(0.5) });
    expect(top.delayMs(2, Number.MAX_VALUE)).toBe(Number.MAX_VALUE);
  });

  it('survives previous delays that are NaN, negative, infinite or above maxMs', () => {
    const b = backoff.decorrelated({ initialMs: 100, maxMs: 1_000, random: fixed(0.5) });
    for (const previous of [Number.NaN, -1, Infinity, 1e300]) {
      const d = b.delayMs(2, previous);
      expect(Number.isFinite(d) && d >= 100 && d <= 1_000).toBe(true);
    }
  });
});

describe('backoff bounds (properties)', () => {
  const retryArb = fc.oneof(
    fc.integer({ min: 1, max: 64 }),
    fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    fc.constantFrom(1_000_000, 1e308, Number.MAX_VALUE, Infinity, 0, -1, Number.NaN),
  );
  const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
  const boundsArb = fc
    .tuple(fc.double({ min: 0, max: 1e12, noNaN: true }), fc.double({ min: 0, max: 1e12, noNaN: true }))
    .map(([a, b]) => ({ initialMs: Math.min(a, b), maxMs: Math.max(a, b) }));
  const previousArb = fc.oneof(fc.double({ min: 0, max: 1e13, noNaN: true }), fc.constantFrom(0, Infinity, Number.NaN, -5));
  const jitterArb = fc.constantFrom<Jitter>('none', 'full', 'equal', 'decorrelated');

  it('every exponential delay is finite, >= 0 and <= maxMs', () => {
    fc.assert(
      fc.property(
        boundsArb,
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        jitterArb,
        retryArb,
        previousArb,
        randomArb,
        ({ initialMs, maxMs }, factor, jitter, retry, previous, r) => {
          const d = backoff.exponential({ initialMs, maxMs, factor, jitter, random: () => r }).delayMs(retry, previous);
          return Number.isFinite(d) && d >= 0 && d <= maxMs;
        },
      ),
    );
  });

  it('every linear delay is finite, >= 0 and <= maxMs', () => {
    fc.assert(
      fc.property(
        boundsArb,
        fc.double({ min: 0, max: 1e12, noNaN: true }),
        jitterArb,
        retryArb,
        previousArb,
        randomArb,
        ({ initialMs, maxMs }, stepMs, jitter, retry, previous, r) => {
          const d = backoff.linear({ initialMs, maxMs, stepMs, jitter, random: () => r }).delayMs(retry, previous);
          return Number.isFinite(d) && d >= 0 && d <= maxMs;
        },
      ),
    );
  });

  it('every decorrelated delay is finite and within initialMs..maxMs', () => {
    fc.assert(
      fc.property(boundsArb, fc.double({ min: 1, max: 1e6, noNaN: true }), retryArb, previousArb, randomArb, (bounds, multiplier, retry, previous, r) => {
        const d = backoff.decorrelated({ ...bounds, multiplier, random: () => r }).delayMs(retry, previous);
        return Number.isFinite(d) && d >= bounds.initialMs && d <= bounds.maxMs;
      }),
    );
  });

  it('full jitter stays within 0..capped and equal jitter within capped/2..capped', () => {
    fc.assert(
      fc.property(boundsArb, fc.integer({ min: 1, max: 2_000 }), randomArb, ({ initialMs, maxMs }, retry, r) => {
        const capped = backoff.exponential({ initialMs, maxMs, jitter: 'none' }).delayMs(retry, 0);
        expect(capped).toBe(initialMs === 0 ? 0 : Math.min(maxMs, initialMs * 2 ** (retry - 1)));
        const full = backoff.exponential({ initialMs, maxMs, jitter: 'full', random: () => r }).delayMs(retry, 0);
        const equal = backoff.exponential({ initialMs, maxMs, jitter: 'equal', random: () => r }).delayMs(retry, 0);
        return full >= 0 && full <= capped && equal >= capped / 2 && equal <= capped;
      }),
    );
  });

  it('stays within bounds even when the random source misbehaves', () => {
    fc.assert(
      fc.property(boundsArb, jitterArb, retryArb, fc.double(), ({ initialMs, maxMs }, jitter, retry, r) => {
        const d = backoff.exponential({ initialMs, maxMs, jitter, random: () => r }).delayMs(retry, 0);
        const low = jitter === 'decorrelated' ? initialMs : 0;
        return Number.isFinite(d) && d >= low && d <= maxMs;
      }),
    );
  });

  it('decorrelated stays within initialMs..maxMs even when the random source misbehaves', () => {
    fc.assert(
      fc.property(
        boundsArb,
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        retryArb,
        previousArb,
        fc.double(),
        (bounds, multiplier, retry, previous, r) => {
          const d = backoff.decorrelated({ ...bounds, multiplier, random: () => r }).delayMs(retry, previous);
          return Number.isFinite(d) && d >= bounds.initialMs && d <= bounds.maxMs;
        },
      ),
    );
  });

  it('equal jitter keeps at least half the capped delay when the random source returns NaN or a negative', () => {
    for (const r of [Number.NaN, -1, -Infinity]) {
      expect(backoff.exponential({ initialMs: 100, maxMs: 1_000, jitter: 'equal', random: fixed(r) }).delayMs(2, 0)).toBe(100);
      expect(backoff.exponential({ initialMs: 100, maxMs: 1_000, jitter: 'full', random: fixed(r) }).delayMs(2, 0)).toBe(0);
    }
    expect(backoff.exponential({ initialMs: 100, maxMs: 1_000, jitter: 'equal', random: fixed(5) }).delayMs(2, 0)).toBe(200);
  });
});
