import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { InvalidOptionsError } from '../../src/core/options.js';
import {
  FailurePredictor,
  type FailurePredictorEvents,
  type FailurePredictorOptions,
  type Prediction,
  type PreventiveActionRequest,
  type PreventiveActionSink,
} from '../../src/insight/failure-predictor.js';
import { failOnUnhandledRejections } from '../support/no-unhandled-rejections.js';
import { gaussian } from './synthetic.js';

failOnUnhandledRejections();

afterEach(() => vi.restoreAllMocks());

/** A sink that records every request and resolves (or rejects with `fail`). */
function recordingSink(fail?: unknown): PreventiveActionSink & { requests: Array<PreventiveActionRequest & { at: number }> } {
  const sink = {
    requests: [] as Array<PreventiveActionRequest & { at: number }>,
    requestPreventiveAction(request: PreventiveActionRequest): Promise<unknown> {
      sink.requests.push({ ...request, at: request.prediction.at });
      return fail === undefined ? Promise.resolve('done') : Promise.reject(fail);
    },
  };
  return sink;
}

/** Feeds `value(i)` once a second for `count` seconds, advancing the clock; returns every prediction made. */
function feed(predictor: FailurePredictor, clock: VirtualClock, resource: string, count: number, value: (i: number) => number): Prediction[] {
  const out: Prediction[] = [];
  for (let i = 0; i < count; i++) {
    const p = predictor.observe(resource, value(i));
    if (p !== undefined) out.push(p);
    if (i < count - 1) clock.advance(1_000);
  }
  return out;
}

function make(options: FailurePredictorOptions = {}): { clock: VirtualClock; predictor: FailurePredictor } {
  const clock = new VirtualClock(0);
  return { clock, predictor: new FailurePredictor({ clock, ...options }) };
}

describe('FailurePredictor trend', () => {
  it('gives the exact time to the limit on a linear ramp', () => {
    const { clock, predictor } = make({ limits: { heap: { limit: 100, horizonMs: 60_000 } } });
    // 10, 12, ..., 30 at t = 0..10 s: 2 units per second, 70 units below the limit.
    const predictions = feed(predictor, clock, 'heap', 11, (i) => 10 + 2 * i);
    expect(predictions).toHaveLength(7); // from the 5th sample (minSamples) on
    const last = predictions.at(-1)!;
    expect(last.at).toBe(10_000);
    expect(last.slopePerMs).toBeCloseTo(0.002, 15);
    expect(last.current).toBeCloseTo(30, 10);
    expect(last.timeToLimitMs).toBeCloseTo(35_000, 6);
    expect(last).toMatchObject({ samples: 11, rSquared: 1, probability: 1, withinHorizon: true, direction: 'above', limit: 100 });
    expect(last.confidence).toBeCloseTo(9 / 28, 15); // R² · (n − 2) / (30 − 2)

    clock.advance(5_000);
    expect(predictor.predict('heap')?.timeToLimitMs).toBeCloseTo(30_000, 6);
    clock.advance(40_000);
    expect(predictor.predict('heap')?.timeToLimitMs).toBe(0);
  });

  it('derives the probability from the prediction interval (Student t, n − 2 degrees of freedom)', () => {
    const { clock, predictor } = make({ limits: { r: { limit: 7, horizonMs: 1_000 } } });
    clock.advance(1_000);
    // Textbook data: x = 1..5 s, y = 2, 4, 5, 4, 5 → ŷ = 2.2 + 0.6·x, s² = 0.8, Sxx = 10 s².
    feed(predictor, clock, 'r', 5, (i) => [2, 4, 5, 4, 5][i]!);
    const p = predictor.predict('r')!;
    // At the horizon's end (6 s): ŷ = 5.8, se = √0.8·√(1 + 1/5 + 9/10), t = (7 − 5.8) / se, P = 1 − T₃(t).
    const t = (7 - 5.8) / (Math.sqrt(0.8) * Math.sqrt(2.1));
    const t3 = 0.5 + (t / (Math.sqrt(3) * (1 + (t * t) / 3)) + Math.atan(t / Math.sqrt(3))) / Math.PI;
    expect(p.probability).toBeCloseTo(1 - t3, 10);
    expect(p.rSquared).toBeCloseTo(0.6, 12);
    expect(p.confidence).toBeCloseTo(0.6 * (3 / 28), 12);
    expect(p.timeToLimitMs).toBeCloseTo((7 - 5.2) / 0.0006, 6);
    expect(p.withinHorizon).toBe(false);
  });

  it('has lower confidence on a noisy ramp than on a clean one', () => {
    const clean = make({ limits: { pool: { limit: 200, horizonMs: 60_000 } } });
    const noisy = make({ limits: { pool: { limit: 200, horizonMs: 60_000 } } });
    const noise = gaussian(42);
    const a = feed(clean.predictor, clean.clock, 'pool', 40, (i) => 10 + 2 * i).at(-1)!;
    const b = feed(noisy.predictor, noisy.clock, 'pool', 40, (i) => 10 + 2 * i + 8 * noise()).at(-1)!;
    expect(a.confidence).toBe(1);
    expect(b.rSquared).toBeLessThan(0.95);
    expect(b.confidence).toBeLessThan(a.confidence);
    expect(b.confidence).toBeGreaterThan(0.5);
    expect(b.slopePerMs).toBeCloseTo(0.002, 3);
    // Same trend, passing the limit 3 units before the horizon's end: sure when clean, only likely when noisy.
    const cleanFar = make({ limits: { pool: { limit: 205, horizonMs: 60_000 } } });
    const noisyFar = make({ limits: { pool: { limit: 205, horizonMs: 60_000 } } });
    const n2 = gaussian(42);
    const c = feed(cleanFar.predictor, cleanFar.clock, 'pool', 40, (i) => 10 + 2 * i).at(-1)!;
    const d = feed(noisyFar.predictor, noisyFar.clock, 'pool', 40, (i) => 10 + 2 * i + 8 * n2()).at(-1)!;
    expect(c.probability).toBe(1);
    expect(d.probability).toBeGreaterThan(0.5);
    expect(d.probability).toBeLessThan(1);
  });

  it('predicts no breach for a flat or receding series', () => {
    const sink = recordingSink();
    const { clock, predictor } = make({
      limits: { delay: { limit: 100, horizonMs: 3_600_000, action: 'shed-load' } },
      actionSink: sink,
    });
    for (const p of feed(predictor, clock, 'delay', 30, () => 50)) {
      expect(p.timeToLimitMs).toBeUndefined();
      expect(p).toMatchObject({ probability: 0, withinHorizon: false, slopePerMs: 0, current: 50 });
    }
    predictor.reset('delay');
    for (const p of feed(predictor, clock, 'delay', 30, (i) => 90 - i)) {
      expect(p.timeToLimitMs).toBeUndefined();
      expect(p.probability).toBe(0);
    }
    expect(sink.requests).toEqual([]);
  });

  it('handles a limit approached from above (direction below)', () => {
    const { clock, predictor } = make({ limits: { freeMemory: { limit: 100, horizonMs: 60_000, direction: 'below' } } });
    const p = feed(predictor, clock, 'freeMemory', 10, (i) => 1_000 - 20 * i).at(-1)!;
    expect(p.current).toBeCloseTo(820, 9);
    expect(p.timeToLimitMs).toBeCloseTo(36_000, 6);
    expect(p).toMatchObject({ direction: 'below', probability: 1, withinHorizon: true });
  });

  it('fits only the last windowSize samples and those younger than windowMs', () => {
    const { clock, predictor } = make({ limits: { r: { limit: 1_000, horizonMs: 1_000 } }, windowSize: 10 });
    // Falls for 20 s then rises for 10 s: only the rise is in the window.
    const p = feed(predictor, clock, 'r', 30, (i) => (i < 20 ? 500 - 10 * i : 300 + 5 * (i - 20))).at(-1)!;
    expect(p.samples).toBe(10);
    expect(p.slopePerMs).toBeCloseTo(0.005, 12);

    const aged = make({ limits: { r: { limit: 1_000, horizonMs: 1_000 } }, windowMs: 5_500 });
    const q = feed(aged.predictor, aged.clock, 'r', 30, (i) => (i < 20 ? 500 - 10 * i : 300 + 5 * (i - 20))).at(-1)!;
    expect(q.samples).toBe(6);
    expect(q.slopePerMs).toBeCloseTo(0.005, 12);
    aged.clock.advance(60_000); // everything is older than windowMs now
    expect(aged.predictor.predict('r')).toBeUndefined();
  });

  it('predicts nothing without a limit or before minSamples, and ignores non-finite values', () => {
    const { clock, predictor } = make({ minSamples: 4 });
    expect(feed(predictor, clock, 'untracked', 10, (i) => i)).toEqual([]);
    expect(predictor.predict('untracked')).toBeUndefined();
    predictor.setLimit('untracked', { limit: 100, horizonMs: 1_000 });
    expect(predictor.predict('untracked')?.samples).toBe(10);
    expect(predictor.observe('untracked', Number.NaN)).toBeUndefined();
    expect(predictor.predict('unknown')).toBeUndefined();
  });
});

describe('FailurePredictor preventive actions', () => {
  const ramp = (i: number): number => 10 + 2 * i;

  it('calls the sink once per cooldown while a breach stays predicted', async () => {
    const sink = recordingSink();
    const { clock, predictor } = make({
      limits: { heap: { limit: 100, horizonMs: 60_000, action: 'clear-caches', component: 'api' } },
      cooldownMs: 10_000,
      actionSink: sink,
    });
    const events: FailurePredictorEvents['preventiveAction'][] = [];
    predictor.on('preventiveAction', (e) => events.push(e));
    feed(predictor, clock, 'heap', 30, ramp);
    await clock.runAllAsync();
    // First due at the 5th sample (t = 4 s), then every 10 s: 14 s and 24 s.
    expect(sink.requests.map((r) => r.at)).toEqual([4_000, 14_000, 24_000]);
    expect(events.map((e) => [e.resource, e.delivered])).toEqual([
      ['heap', true],
      ['heap', true],
      ['heap', true],
    ]);
    const first = sink.requests[0]!;
    expect(first).toMatchObject({ component: 'api', action: 'clear-caches' });
    expect(first.prediction).toMatchObject({ resource: 'heap', probability: 1, withinHorizon: true });
    expect(first.prediction.timeToLimitMs).toBeCloseTo(41_000, 6);
    expect(first.reason).toBe('heap predicted to reach 100 in 41000 ms (probability 1.00, confidence 0.11)');
  });

  it('never calls the sink at or below the probability threshold, nor beyond the horizon', () => {
    const sink = recordingSink();
    const noise = gaussian(3);
    const { clock, predictor } = make({
      limits: { errors: { limit: 100, horizonMs: 30_000, action: 'open-breaker' } },
      triggerProbability: 0.99,
      cooldownMs: 0,
      actionSink: sink,
    });
    // A noisy ramp that reaches the limit a little before the horizon: likely, but not 99% sure.
    const predictions = feed(predictor, clock, 'errors', 40, (i) => 2 * i + 6 * noise());
    const borderline = predictions.filter((p) => p.withinHorizon && p.probability > 0.5 && p.probability <= 0.99);
    expect(borderline.length).toBeGreaterThan(5);
    const calledAt = new Set(sink.requests.map((r) => r.at));
    for (const p of predictions) {
      expect(calledAt.has(p.at)).toBe(p.withinHorizon && p.probability > 0.99);
    }
    expect(sink.requests.length).toBeGreaterThan(0);
    for (const r of sink.requests) expect(r.prediction.probability).toBeGreaterThan(0.99);

    // A sure breach beyond the horizon is not acted on either.
    const far = make({
      limits: { heap: { limit: 10_000, horizonMs: 1_000, action: 'clear-caches' } },
      triggerProbability: 0,
      actionSink: sink,
    });
    const before = sink.requests.length;
    feed(far.predictor, far.clock, 'heap', 20, ramp);
    expect(sink.requests.length).toBe(before);
  });

  it('reports a sink that rejects or throws without breaking observe', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const rejecting = recordingSink(new Error('healer busy'));
    const { clock, predictor } = make({
      name: 'p1',
      limits: { heap: { limit: 100, horizonMs: 60_000, action: 'clear-caches' } },
      actionSink: rejecting,
    });
    const failures: unknown[] = [];
    predictor.on('preventiveActionFailed', (e) => failures.push(e.error));
    feed(predictor, clock, 'heap', 6, ramp);
    await clock.runAllAsync();
    expect(rejecting.requests).toHaveLength(1);
    expect(failures).toEqual([new Error('healer busy')]);
    expect(warn).toHaveBeenCalledWith(
      'FailurePredictor "p1" action sink (clear-caches for heap) threw: healer busy',
      { code: 'ANTIFRAGILE_CALLBACK_ERROR' },
    );

    predictor.setActionSink({
      requestPreventiveAction: () => {
        throw new Error('sync bug');
      },
    });
    predictor.reset();
    expect(feed(predictor, clock, 'heap', 6, ramp)).toHaveLength(2);
    expect(failures).toEqual([new Error('healer busy'), new Error('sync bug')]);
  });

  it('without a sink emits the action undelivered, and uses a sink set later', async () => {
    const { clock, predictor } = make({
      limits: { pool: { limit: 100, horizonMs: 60_000, action: 'reset-pool' } },
      cooldownMs: 5_000,
    });
    const events: FailurePredictorEvents['preventiveAction'][] = [];
    predictor.on('preventiveAction', (e) => events.push(e));
    feed(predictor, clock, 'pool', 6, ramp);
    expect(events.map((e) => [e.component, e.action, e.delivered])).toEqual([['pool', 'reset-pool', false]]);
    const sink = recordingSink();
    predictor.setActionSink(sink);
    clock.advance(1_000);
    feed(predictor, clock, 'pool', 5, (i) => 22 + 2 * i);
    await clock.runAllAsync();
    // The cooldown started at 4 s even though nobody received that request.
    expect(sink.requests.map((r) => r.at)).toEqual([9_000]);
    expect(events.at(-1)?.delivered).toBe(true);
  });

  it('emits a prediction event after each sample once minSamples are held', () => {
    const { clock, predictor } = make({ limits: { heap: { limit: 100, horizonMs: 1_000 } }, minSamples: 3 });
    const seen: number[] = [];
    const off = predictor.on('prediction', (p) => seen.push(p.at));
    feed(predictor, clock, 'heap', 5, ramp);
    off();
    feed(predictor, clock, 'heap', 2, ramp);
    expect(seen).toEqual([2_000, 3_000, 4_000]);
  });
});

describe('FailurePredictor bounds and options', () => {
  it('refuses resources beyond maxResources and holds windowSize samples each', () => {
    const { predictor } = make({ maxResources: 50, windowSize: 8 });
    const refused: string[] = [];
    predictor.on('refused', ({ resource }) => refused.push(resource));
    for (let i = 0; i < 1_000; i++) for (let j = 0; j < 20; j++) predictor.observe(`r${i}`, j, j * 1_000);
    expect(predictor.size).toBe(50);
    expect(refused).toHaveLength(950 * 20);
    predictor.setLimit('r0', { limit: 100, horizonMs: 1_000 });
    expect(predictor.predict('r0')?.samples).toBe(8);
  });

  it('names every bad option in one error, limits included', () => {
    let error: unknown;
    try {
      new FailurePredictor({
        limits: { heap: { limit: Number.NaN, horizonMs: 0 }, pool: { horizonMs: 5, direction: 'up' } as never },
        windowSize: 2,
        minSamples: 2,
        triggerProbability: 1.5,
        cooldownMs: -1,
        actionSink: {} as PreventiveActionSink,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
      'limits.heap.limit',
      'limits.heap.horizonMs',
      'limits.pool.limit',
      'limits.pool.direction',
      'windowSize',
      'minSamples',
      'triggerProbability',
      'cooldownMs',
      'actionSink',
    ]);
    expect(() => new FailurePredictor({ windowSize: 10, minSamples: 11 })).toThrow(/minSamples/);
    expect(() => new FailurePredictor().setLimit('x', { limit: 1, horizonMs: -5 })).toThrow(InvalidOptionsError);
  });
});
