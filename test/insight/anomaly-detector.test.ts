import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import { setListenerErrorHandler } from '../../src/core/events.js';
import { AnomalyDetector, type AnomalyDetectorEvents } from '../../src/insight/anomaly-detector.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { seeded } from './synthetic.js';

failOnUnhandledRejections();

/** 100 ± 1, alternating: mean 100, standard deviation 1, no point further than 1 from the mean. */
const wobble = (i: number, level = 100): number => level + (i % 2 === 0 ? -1 : 1);

function warmed(options: ConstructorParameters<typeof AnomalyDetector>[0] = {}, samples = 200): AnomalyDetector {
  const detector = new AnomalyDetector({ clock: new VirtualClock(), warmUp: 30, ...options });
  for (let i = 0; i < samples; i++) detector.observe('m', wobble(i));
  return detector;
}

describe('AnomalyDetector baseline', () => {
  it('follows the documented EWMA update formulas exactly', () => {
    const detector = new AnomalyDetector({ alpha: 0.5, warmUp: 2, clock: new VirtualClock(), changeDetection: false });
    detector.observe('m', 10); // n = 1, weight max(0.5, 1) = 1: mean 10, var 0
    expect(detector.baseline('m')).toMatchObject({ mean: 10, variance: 0, count: 1, warm: false });
    detector.observe('m', 20); // weight 0.5: mean 10 + 0.5·10 = 15, var 0.5·(0 + 0.5·100) = 25
    expect(detector.baseline('m')).toMatchObject({ mean: 15, variance: 25, stdDev: 5, count: 2, warm: true });
    detector.observe('m', 30); // d = 15 (z = 3 would be a warning, so use learnFromAnomalies below)
    expect(detector.baseline('m')).toMatchObject({ mean: 15, count: 2 });
    const learning = new AnomalyDetector({ alpha: 0.5, warmUp: 2, clock: new VirtualClock(), changeDetection: false, learnFromAnomalies: true });
    for (const x of [10, 20, 30]) learning.observe('m', x);
    // mean 15 + 0.5·15 = 22.5, var 0.5·(25 + 0.5·225) = 68.75
    expect(learning.baseline('m')).toMatchObject({ mean: 22.5, variance: 68.75, count: 3 });
  });

  it('is the exact running mean and population variance while 1/n exceeds alpha', () => {
    const detector = new AnomalyDetector({ span: 199, clock: new VirtualClock(), warmUp: 100 });
    const xs = [3, 9, 4, 7, 1, 8, 8, 2, 6, 5];
    for (const x of xs) detector.observe('m', x);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    const base = detector.baseline('m')!;
    expect(base.mean).toBeCloseTo(mean, 12);
    expect(base.variance).toBeCloseTo(variance, 12);
  });

  it('derives alpha from alpha, halfLife or span', () => {
    expect(new AnomalyDetector({ alpha: 0.2 }).smoothing).toBe(0.2);
    expect(new AnomalyDetector({ halfLife: 1 }).smoothing).toBe(0.5);
    expect(new AnomalyDetector({ halfLife: 10 }).smoothing).toBeCloseTo(1 - 2 ** -0.1, 15);
    expect(new AnomalyDetector({ span: 3 }).smoothing).toBe(0.5);
    expect(new AnomalyDetector().smoothing).toBe(2 / 61);
  });

  it('ignores non-finite values and reports unknown metrics as undefined', () => {
    const detector = warmed();
    const before = detector.baseline('m');
    expect(detector.observe('m', Number.NaN)).toEqual({});
    expect(detector.observe('m', Infinity)).toEqual({});
    expect(detector.observe('m', 100, Number.NaN)).toEqual({});
    expect(detector.baseline('m')).toEqual(before);
    expect(detector.baseline('other')).toBeUndefined();
  });
});

describe('AnomalyDetector anomalies', () => {
  it('grades a spike by |z| with the default thresholds and does not learn it', () => {
    const detector = warmed({ changeDetection: false });
    const before = detector.baseline('m')!;
    expect(detector.observe('m', before.mean + 2.9 * before.stdDev)).toEqual({});
    const base = detector.baseline('m')!;
    const at = (z: number): number => base.mean + z * base.stdDev;
    const cases: Array<[number, string]> = [
      [3.5, 'warning'],
      [-3.2, 'warning'],
      [4.5, 'critical'],
      [-5.9, 'critical'],
      [6, 'fatal'],
      [40, 'fatal'],
    ];
    for (const [z, severity] of cases) {
      const { anomaly } = detector.observe('m', at(z));
      expect(anomaly?.severity).toBe(severity);
      expect(anomaly?.zScore).toBeCloseTo(z, 9);
      expect(anomaly?.expected).toBe(base.mean);
      expect(anomaly?.actual).toBe(at(z));
      expect(detector.baseline('m')).toEqual(base);
    }
  });

  it('uses configured thresholds and emits anomaly events', () => {
    const detector = warmed({ thresholds: { warning: 2, critical: 2.5, fatal: 10 }, changeDetection: false });
    const seen: AnomalyDetectorEvents['anomaly'][] = [];
    detector.on('anomaly', (a) => seen.push(a));
    const base = detector.baseline('m')!;
    detector.observe('m', base.mean + 2.2 * base.stdDev, 5_000);
    detector.observe('m', base.mean + 9 * base.stdDev, 6_000);
    expect(seen.map((a) => [a.metric, a.severity, a.at])).toEqual([
      ['m', 'warning', 5_000],
      ['m', 'critical', 6_000],
    ]);
  });

  it('judges nothing during the warm-up', () => {
    const detector = new AnomalyDetector({ warmUp: 10, clock: new VirtualClock() });
    for (let i = 0; i < 9; i++) expect(detector.observe('m', wobble(i))).toEqual({});
    expect(detector.observe('m', 1_000_000)).toEqual({}); // the 10th sample is still learned
    expect(detector.baseline('m')?.warm).toBe(true);
    const base = detector.baseline('m')!;
    expect(detector.observe('m', base.mean + 10 * base.stdDev).anomaly?.severity).toBe('fatal');
  });

  it('treats any departure from a constant baseline as fatal unless minStdDev gives it room', () => {
    const strict = new AnomalyDetector({ warmUp: 5, clock: new VirtualClock(), changeDetection: false });
    const lenient = new AnomalyDetector({ warmUp: 5, clock: new VirtualClock(), changeDetection: false, minStdDev: 1 });
    for (let i = 0; i < 5; i++) {
      strict.observe('m', 7);
      lenient.observe('m', 7);
    }
    expect(strict.observe('m', 7)).toEqual({});
    expect(strict.observe('m', 7.5).anomaly).toMatchObject({ zScore: Infinity, severity: 'fatal', stdDev: 0 });
    expect(lenient.observe('m', 11.5).anomaly).toMatchObject({ zScore: 4.5, severity: 'critical', stdDev: 1 });
    expect(lenient.observe('m', 7.5)).toEqual({});
  });

  it('a throwing listener does not break observe', () => {
    const detector = warmed({ changeDetection: false });
    const reported: string[] = [];
    setListenerErrorHandler((_error, event) => reported.push(event));
    try {
      detector.on('anomaly', () => {
        throw new Error('listener bug');
      });
      expect(detector.observe('m', 1_000).anomaly?.severity).toBe('fatal');
      expect(reported).toEqual(['anomaly']);
    } finally {
      setListenerErrorHandler((error, event) => process.emitWarning(`${event}: ${String(error)}`));
    }
  });
});

describe('AnomalyDetector change detection (CUSUM)', () => {
  it('catches a step of 1.5σ that never makes a single point anomalous, once, and re-anchors', () => {
    const detector = warmed();
    const changes: AnomalyDetectorEvents['change'][] = [];
    detector.on('change', (c) => changes.push(c));
    const anomalies: unknown[] = [];
    detector.on('anomaly', (a) => anomalies.push(a));

    let foundAt = -1;
    for (let i = 0; i < 300; i++) {
      const result = detector.observe('m', wobble(200 + i, 101.5), i);
      if (result.change !== undefined && foundAt < 0) foundAt = i;
    }
    expect(anomalies).toEqual([]);
    expect(changes).toHaveLength(1);
    // Residuals alternate about +2.5σ and +0.5σ, so S⁺ gains about 2 every second sample, a little less as
    // the baseline learns the new level: it passes h = 8 on the 12th step sample. The run started one
    // sample before the step (S⁺ was 0.5 then).
    expect(foundAt).toBe(11);
    expect(changes[0]).toMatchObject({ metric: 'm', direction: 'up', samples: 13, at: 11 });
    expect(changes[0]!.magnitude).toBeGreaterThan(1);
    expect(changes[0]!.magnitude).toBeLessThan(1.8);
    expect(detector.baseline('m')!.mean).toBeCloseTo(101.5, 0);
  });

  it('reports a downward step and a sustained extreme shift, but not a single spike', () => {
    const down = warmed();
    let change;
    for (let i = 0; i < 20 && change === undefined; i++) change = down.observe('m', wobble(i, 98.5)).change;
    expect(change?.direction).toBe('down');

    const spiky = warmed();
    const spike = spiky.observe('m', 150);
    expect(spike.anomaly?.severity).toBe('fatal');
    expect(spike.change).toBeUndefined(); // clipped to 3σ, it adds 2.5 to S⁺, far from h = 8
    for (let i = 0; i < 50; i++) expect(spiky.observe('m', wobble(i)).change).toBeUndefined();

    // Ends on 99 (z ≈ −1), so S⁺ is 0; each point clipped to 3σ adds 2.5: 2.5, 5, 7.5, then 10 > 8.
    const shifted = warmed({}, 199);
    const results = [150, 150, 150, 150].map((x) => shifted.observe('m', x));
    expect(results.map((r) => r.anomaly?.severity)).toEqual(['fatal', 'fatal', 'fatal', 'fatal']);
    expect(results.slice(0, 3).map((r) => r.change)).toEqual([undefined, undefined, undefined]);
    expect(results[3]?.change).toMatchObject({ direction: 'up', samples: 4, to: 150 });
    expect(results[3]?.change?.magnitude).toBeCloseTo(50, 1);
    // Re-anchored on the new level: values there are no longer anomalous.
    expect(shifted.observe('m', 150)).toEqual({});
  });

  it('can be turned off or tuned', () => {
    const off = warmed({ changeDetection: false });
    for (let i = 0; i < 100; i++) expect(off.observe('m', wobble(i, 101.5)).change).toBeUndefined();
    const sensitive = warmed({ changeDetection: { slack: 0.25, threshold: 2 } });
    let n = 0;
    while (sensitive.observe('m', wobble(n, 101)).change === undefined) n++;
    expect(n).toBeLessThan(5);
  });
});

describe('AnomalyDetector seasonality', () => {
  const TEN_MINUTES = 600_000;
  const DAY = 86_400_000;

  /** Two weeks sampled every 10 minutes: 100 (± uniform noise) all day, except 200 from 12:00 to 13:00 UTC. */
  function run(seasonality: 'none' | 'hourOfDay'): { anomalies: number; changes: number } {
    const clock = new VirtualClock(0);
    const detector = new AnomalyDetector({ clock, seasonality, warmUp: 30 });
    const noise = seeded(7);
    let anomalies = 0;
    let changes = 0;
    for (let t = 0; t < 14 * DAY; t += TEN_MINUTES) {
      const hour = Math.floor((t % DAY) / 3_600_000);
      const result = detector.observe('requests', (hour === 12 ? 200 : 100) + (noise() * 2 - 1));
      if (result.anomaly) anomalies++;
      if (result.change) changes++;
      clock.advance(TEN_MINUTES);
    }
    return { anomalies, changes };
  }

  it('learns a daily pattern per hour instead of flagging it', () => {
    expect(run('hourOfDay')).toEqual({ anomalies: 0, changes: 0 });
    const flat = run('none');
    expect(flat.anomalies).toBeGreaterThanOrEqual(20); // both edges of the noon hour, every day
    expect(flat.changes).toBeGreaterThanOrEqual(18);
  });

  it('keeps one baseline per hour bucket, shifted by utcOffsetMinutes', () => {
    const clock = new VirtualClock(0);
    const detector = new AnomalyDetector({ clock, seasonality: 'hourOfDay', utcOffsetMinutes: 120, warmUp: 2 });
    detector.observe('m', 5, 0); // 02:00 local
    detector.observe('m', 9, 3_600_000); // 03:00 local
    expect(detector.baseline('m', 0)).toMatchObject({ hour: 2, mean: 5, count: 1 });
    expect(detector.baseline('m', 3_600_000)).toMatchObject({ hour: 3, mean: 9, count: 1 });
    clock.advance(3_600_000);
    expect(detector.baseline('m')?.hour).toBe(3);
    expect(detector.baseline('m', -3_600_000)).toMatchObject({ hour: 1, count: 0 });
  });
});

describe('AnomalyDetector memory bounds', () => {
  it('evicts the least recently observed metric beyond maxMetrics', () => {
    const detector = new AnomalyDetector({ maxMetrics: 100, clock: new VirtualClock() });
    const evicted: string[] = [];
    detector.on('evicted', ({ metric }) => evicted.push(metric));
    for (let i = 0; i < 10_000; i++) {
      detector.observe('hot', 1);
      detector.observe(`metric-${i}`, i);
    }
    expect(detector.size).toBe(100);
    expect(evicted).toHaveLength(9_901);
    expect(detector.baseline('hot')?.count).toBe(10_000);
    expect(detector.baseline('metric-0')).toBeUndefined();
    expect(detector.metricNames().at(-1)).toBe('metric-9999');
  });

  it('refuses new metrics beyond maxMetrics when asked to', () => {
    const detector = new AnomalyDetector({ maxMetrics: 2, whenFull: 'refuse', clock: new VirtualClock() });
    const refused: string[] = [];
    detector.on('refused', ({ metric }) => refused.push(metric));
    detector.observe('a', 1);
    detector.observe('b', 1);
    expect(detector.observe('c', 1)).toEqual({ refused: true });
    expect(detector.observe('a', 2)).toEqual({});
    expect(detector.metricNames()).toEqual(['a', 'b']);
    expect(refused).toEqual(['c']);
  });

  it('reset forgets one metric or all', () => {
    const detector = warmed();
    detector.observe('n', 1);
    detector.reset('m');
    expect(detector.baseline('m')).toBeUndefined();
    expect(detector.baseline('n')).toBeDefined();
    detector.reset();
    expect(detector.size).toBe(0);
  });
});

describe('AnomalyDetector options', () => {
  it('names every bad option in one error', () => {
    let error: unknown;
    try {
      new AnomalyDetector({
        alpha: 0,
        span: 10,
        warmUp: 1,
        thresholds: { warning: 5, critical: 4 },
        seasonality: 'weekly' as 'none',
        changeDetection: { threshold: -1 },
        maxMetrics: 0,
        whenFull: 'drop' as 'refuse',
        clock: {} as VirtualClock,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    const paths = (error as InvalidOptionsError).issues.map((i) => i.path);
    expect(paths).toEqual([
      'alpha',
      'span',
      'warmUp',
      'seasonality',
      'changeDetection.threshold',
      'maxMetrics',
      'whenFull',
      'clock',
      'thresholds',
    ]);
  });
});
