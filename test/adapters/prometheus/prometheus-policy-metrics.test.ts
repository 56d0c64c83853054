import { describe, expect, it } from 'vitest';
import { createPrometheusMetrics, PrometheusMetrics } from '../../../src/adapters/prometheus/index.js';
import { isConcurrencyLimitError, isTimeoutError } from '../../../src/core/errors.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { AdaptiveConcurrency } from '../../../src/policies/adaptive-concurrency.js';
import { Fallback } from '../../../src/policies/fallback.js';
import { Hedge } from '../../../src/policies/hedge.js';
import type { PolicyContext } from '../../../src/policies/policy.js';
import { Timeout } from '../../../src/policies/timeout.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { errorOf, track } from '../../support/promises.js';
import { find, parseExposition, value, type Exposition } from './parse-exposition.js';

failOnUnhandledRejections();

async function scrape(metrics: PrometheusMetrics): Promise<Exposition> {
  return parseExposition(await metrics.metrics());
}

/** Lets every timer and promise of the virtual clock run until `promise` settles. */
async function settle<T>(clock: VirtualClock, promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  const t = track(promise);
  for (let i = 0; i < 200 && t.state === 'pending'; i++) await clock.runAllAsync();
  if (t.state === 'pending') throw new Error('did not settle');
  return t.state === 'resolved' ? { ok: true, value: t.value as T } : { ok: false, error: t.error };
}

/** Resolves with `result` after `ms` of virtual time. */
function after<T>(clock: VirtualClock, ms: number, result: T): Promise<T> {
  return new Promise((resolve) => clock.schedule(() => resolve(result), ms));
}

/** Rejects with the signal's reason once it aborts (a cooperative function). */
function untilAborted({ signal }: PolicyContext): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

describe('PrometheusMetrics: Timeout', () => {
  it('counts the calls that reach their deadline, under both strategies, and nothing else', async () => {
    const clock = new VirtualClock(1_000);
    const metrics = createPrometheusMetrics({ clock });
    const aggressive = new Timeout({ ms: 100, strategy: 'aggressive', clock });
    const cooperative = new Timeout({ ms: 100, clock });
    metrics.observe(aggressive);
    metrics.observe(cooperative, { name: 'search-timeout' });

    let e = await scrape(metrics);
    expect(e.types.get('antifragile_timeout_calls_total')).toBe('counter');
    expect(value(e, 'antifragile_timeout_calls_total', { name: 'timeout', kind: 'timed_out' })).toBe(0);
    expect(value(e, 'antifragile_timeout_calls_total', { name: 'search-timeout', kind: 'timed_out' })).toBe(0);

    // In time: a value, a failure, a value after 99 ms. None counts.
    expect(await settle(clock, aggressive.execute(() => 'ok'))).toEqual({ ok: true, value: 'ok' });
    expect((await settle(clock, aggressive.execute(() => Promise.reject(new Error('boom'))))).ok).toBe(false);
    expect(await settle(clock, cooperative.execute(() => after(clock, 99, 'late-ish')))).toEqual({ ok: true, value: 'late-ish' });
    // Past the deadline: the aggressive one rejects at 100 ms, twice; the cooperative one once its function gives up.
    for (let i = 0; i < 2; i++) {
      const r = await settle(clock, aggressive.execute(() => after(clock, 500, 'too late')));
      expect(!r.ok && isTimeoutError(r.error)).toBe(true);
    }
    const r = await settle(clock, cooperative.execute(untilAborted));
    expect(!r.ok && isTimeoutError(r.error)).toBe(true);
    // A cooperative call whose value arrives after the deadline is returned, and still counted as timed out.
    expect(await settle(clock, cooperative.execute(() => after(clock, 150, 'used anyway')))).toEqual({ ok: true, value: 'used anyway' });

    e = await scrape(metrics);
    expect(find(e, 'antifragile_timeout_calls_total', { name: 'timeout' })).toEqual([
      { name: 'antifragile_timeout_calls_total', labels: { name: 'timeout', kind: 'timed_out' }, value: 2 },
    ]);
    expect(find(e, 'antifragile_timeout_calls_total', { name: 'search-timeout' })).toEqual([
      { name: 'antifragile_timeout_calls_total', labels: { name: 'search-timeout', kind: 'timed_out' }, value: 2 },
    ]);
    expect(find(e, 'resilience4j_timelimiter_calls_total')).toEqual([]);
  });

  it("publishes resilience4j_timelimiter_calls_total{kind=\"timeout\"} with naming: resilience4j, whatever the prefix", async () => {
    const clock = new VirtualClock();
    const metrics = createPrometheusMetrics({ naming: 'resilience4j', prefix: 'shop_', clock });
    expect(metrics.names.timeoutCalls).toBe('resilience4j_timelimiter_calls_total');
    const timeout = new Timeout({ ms: 50, strategy: 'aggressive', clock });
    metrics.observe(timeout, { name: 'inventory' });
    for (let i = 0; i < 3; i++) expect((await settle(clock, timeout.execute(() => after(clock, 80, 'x')))).ok).toBe(false);
    expect((await settle(clock, timeout.execute(() => after(clock, 10, 'x')))).ok).toBe(true);

    const e = await scrape(metrics);
    expect(e.types.get('resilience4j_timelimiter_calls_total')).toBe('counter');
    expect(find(e, 'resilience4j_timelimiter_calls_total')).toEqual([
      { name: 'resilience4j_timelimiter_calls_total', labels: { name: 'inventory', kind: 'timeout' }, value: 3 },
    ]);
    expect(find(e, 'shop_timeout_calls_total')).toEqual([]);
    // Families with no resilience4j equivalent keep the prefixed antifragile names.
    metrics.observe(new Fallback({ name: 'f', fallback: () => 0 }));
    expect(value(await scrape(metrics), 'shop_fallback_handled_calls_total', { name: 'f', reason: 'error' })).toBe(0);
  });
});

describe('PrometheusMetrics: Fallback', () => {
  it('counts the calls it replaced, by reason, not the ones it let through', async () => {
    const metrics = createPrometheusMetrics();
    const fallback = new Fallback<string>({
      name: 'cached-price',
      fallback: () => 'cached',
      shouldHandle: (error) => !(error instanceof TypeError),
      shouldHandleResult: (result) => result === null,
    });
    metrics.observe(fallback);
    let e = await scrape(metrics);
    expect(find(e, 'antifragile_fallback_handled_calls_total').map((s) => [s.labels['reason'], s.value])).toEqual([
      ['error', 0],
      ['result', 0],
    ]);

    expect(await fallback.execute(() => 'fresh')).toBe('fresh');
    expect(await fallback.execute(() => Promise.reject(new Error('down')))).toBe('cached');
    expect(await fallback.execute(() => Promise.reject(new Error('down again')))).toBe('cached');
    expect(await fallback.execute(() => null)).toBe('cached');
    expect(await errorOf(fallback.execute(() => Promise.reject(new TypeError('bug'))))).toBeInstanceOf(TypeError);

    e = await scrape(metrics);
    expect(e.types.get('antifragile_fallback_handled_calls_total')).toBe('counter');
    expect(value(e, 'antifragile_fallback_handled_calls_total', { name: 'cached-price', reason: 'error' })).toBe(2);
    expect(value(e, 'antifragile_fallback_handled_calls_total', { name: 'cached-price', reason: 'result' })).toBe(1);
  });
});

describe('PrometheusMetrics: Hedge', () => {
  it('counts hedged attempts by reason and publishes the fixed delay in seconds', async () => {
    const clock = new VirtualClock(1_000);
    const metrics = createPrometheusMetrics({ clock });
    const hedge = new Hedge({ delayMs: 50 }, { maxHedges: 2, clock });
    metrics.observe(hedge);

    // Attempts are numbered from the caller's (1). Fast: no hedge.
    expect(await settle(clock, hedge.execute(() => after(clock, 10, 'fast')))).toEqual({ ok: true, value: 'fast' });
    // Slow first attempt: one hedge after 50 ms, which wins.
    expect(
      await settle(clock, hedge.execute(({ attempt }) => (attempt === 1 ? after(clock, 500, 'slow') : after(clock, 10, 'hedged')))),
    ).toEqual({ ok: true, value: 'hedged' });
    // Failing first attempt: a hedge at once, and a slow second one: a third after the delay.
    expect(
      await settle(
        clock,
        hedge.execute(({ attempt }) =>
          attempt === 1 ? Promise.reject(new Error('reset')) : attempt === 2 ? after(clock, 500, 'slow') : after(clock, 5, 'third'),
        ),
      ),
    ).toEqual({ ok: true, value: 'third' });

    const e = await scrape(metrics);
    expect(e.types.get('antifragile_hedge_attempts_total')).toBe('counter');
    expect(value(e, 'antifragile_hedge_attempts_total', { name: 'hedge', reason: 'delay' })).toBe(2);
    expect(value(e, 'antifragile_hedge_attempts_total', { name: 'hedge', reason: 'failure' })).toBe(1);
    expect(e.types.get('antifragile_hedge_delay_seconds')).toBe('gauge');
    expect(value(e, 'antifragile_hedge_delay_seconds', { name: 'hedge' })).toBe(0.05);
  });

  it('reads a percentile delay at scrape time: the initial delay, then the learnt one', async () => {
    const clock = new VirtualClock(1_000);
    const metrics = createPrometheusMetrics({ clock });
    const hedge = new Hedge({ percentile: 0.5, initialDelayMs: 80, minSamples: 3, maxDelayMs: 1_000 }, { clock });
    metrics.observe(hedge, { name: 'replicas' });
    expect(value(await scrape(metrics), 'antifragile_hedge_delay_seconds', { name: 'replicas' })).toBe(0.08);
    for (let i = 0; i < 3; i++) expect((await settle(clock, hedge.execute(() => after(clock, 20, 'ok')))).ok).toBe(true);
    const learnt = hedge.delayMs;
    expect(learnt).not.toBe(80);
    expect(learnt).toBeGreaterThan(0);
    expect(learnt).toBeLessThan(80);
    const e = await scrape(metrics);
    expect(value(e, 'antifragile_hedge_delay_seconds', { name: 'replicas' })).toBe(learnt / 1000);
    expect(value(e, 'antifragile_hedge_attempts_total', { name: 'replicas', reason: 'delay' })).toBe(0);
  });
});

describe('PrometheusMetrics: AdaptiveConcurrency', () => {
  it('publishes the limit and calls in flight at scrape time, shed calls and limit moves', async () => {
    const clock = new VirtualClock(1_000);
    const metrics = createPrometheusMetrics({ clock });
    const limiter = new AdaptiveConcurrency({ algorithm: 'aimd', name: 'search', initialLimit: 2, maxLimit: 10, backoffRatio: 0.5, clock });
    metrics.observe(limiter);

    let e = await scrape(metrics);
    expect(value(e, 'antifragile_adaptive_concurrency_limit', { name: 'search' })).toBe(2);
    expect(value(e, 'antifragile_adaptive_concurrency_in_flight_calls', { name: 'search' })).toBe(0);

    // Two calls hold both places; a third is shed.
    const release: Array<() => void> = [];
    const held = [0, 1].map(() => limiter.execute(() => new Promise<string>((resolve) => release.push(() => resolve('ok')))));
    expect(isConcurrencyLimitError(await errorOf(limiter.execute(() => 'never')))).toBe(true);
    e = await scrape(metrics);
    expect(e.types.get('antifragile_adaptive_concurrency_in_flight_calls')).toBe('gauge');
    expect(value(e, 'antifragile_adaptive_concurrency_in_flight_calls', { name: 'search' })).toBe(2);
    expect(e.types.get('antifragile_adaptive_concurrency_rejected_calls_total')).toBe('counter');
    expect(value(e, 'antifragile_adaptive_concurrency_rejected_calls_total', { name: 'search' })).toBe(1);

    // Two successes with the limit in use: +1 (AIMD). Then a failure: x0.5, floored.
    release.forEach((r) => r());
    expect(await Promise.all(held)).toEqual(['ok', 'ok']);
    expect(limiter.limit).toBe(3);
    await errorOf(limiter.execute(() => Promise.reject(new Error('overloaded'))));
    expect(limiter.limit).toBe(1);

    e = await scrape(metrics);
    expect(value(e, 'antifragile_adaptive_concurrency_limit', { name: 'search' })).toBe(1);
    expect(value(e, 'antifragile_adaptive_concurrency_in_flight_calls', { name: 'search' })).toBe(0);
    expect(value(e, 'antifragile_adaptive_concurrency_limit_changes_total', { name: 'search', direction: 'increase' })).toBe(1);
    expect(value(e, 'antifragile_adaptive_concurrency_limit_changes_total', { name: 'search', direction: 'decrease' })).toBe(1);
    expect(value(e, 'antifragile_adaptive_concurrency_rejected_calls_total', { name: 'search' })).toBe(1);
  });
});

describe('PrometheusMetrics: Timeout, Fallback, Hedge, AdaptiveConcurrency lifecycle and validation', () => {
  function components(clock: VirtualClock) {
    return {
      timeout: new Timeout({ ms: 10, strategy: 'aggressive', clock }),
      fallback: new Fallback({ name: 'fb', fallback: () => 'x' }),
      hedge: new Hedge({ delayMs: 5 }, { clock }),
      limiter: new AdaptiveConcurrency({ algorithm: 'vegas', name: 'ac', initialLimit: 4, clock }),
    };
  }

  it('unsubscribing stops counting and removes the series; observing twice is harmless; dispose removes everything', async () => {
    const clock = new VirtualClock();
    const metrics = createPrometheusMetrics({ clock });
    const { timeout, fallback, hedge, limiter } = components(clock);
    const offs = [timeout, fallback, hedge, limiter].map((c) => metrics.observe(c));
    expect([timeout, fallback, hedge, limiter].map((c) => metrics.observe(c))).toEqual(offs);
    const names = ['timeout', 'fb', 'hedge', 'ac'];
    let e = await scrape(metrics);
    const series = (x: Exposition): string[] =>
      [...new Set(x.samples.filter((s) => names.includes(s.labels['name'] ?? '')).map((s) => s.name))].sort();
    expect(series(e)).toEqual([
      'antifragile_adaptive_concurrency_in_flight_calls',
      'antifragile_adaptive_concurrency_limit',
      'antifragile_adaptive_concurrency_limit_changes_total',
      'antifragile_adaptive_concurrency_rejected_calls_total',
      'antifragile_fallback_handled_calls_total',
      'antifragile_hedge_attempts_total',
      'antifragile_hedge_delay_seconds',
      'antifragile_timeout_calls_total',
    ]);

    for (const off of offs) {
      off();
      off();
    }
    expect((await settle(clock, timeout.execute(() => after(clock, 20, 'x')))).ok).toBe(false);
    expect(await fallback.execute(() => Promise.reject(new Error('e')))).toBe('x');
    expect((await settle(clock, hedge.execute(() => after(clock, 20, 'x')))).ok).toBe(true);
    e = await scrape(metrics);
    expect(series(e)).toEqual([]);

    // Observed again, they count from zero; dispose() removes them all.
    metrics.observe(timeout);
    metrics.observe(fallback);
    metrics.observe(hedge);
    metrics.observe(limiter);
    expect((await settle(clock, timeout.execute(() => after(clock, 20, 'x')))).ok).toBe(false);
    e = await scrape(metrics);
    expect(value(e, 'antifragile_timeout_calls_total', { name: 'timeout', kind: 'timed_out' })).toBe(1);
    expect(value(e, 'antifragile_fallback_handled_calls_total', { name: 'fb', reason: 'error' })).toBe(0);
    metrics.dispose();
    expect(series(await scrape(metrics))).toEqual([]);
  });

  it("labels a Timeout or Hedge with its own name, so two with distinct names are observed without { name }; the same name still throws", async () => {
    const clock = new VirtualClock();
    const metrics = createPrometheusMetrics({ clock });
    const pricing = new Timeout({ ms: 10, strategy: 'aggressive', clock, name: 'pricing' });
    const stock = new Timeout({ ms: 10, strategy: 'aggressive', clock, name: 'stock' });
    expect([pricing.name, stock.name, new Timeout({ ms: 10 }).name]).toEqual(['pricing', 'stock', 'timeout']);
    metrics.observe(pricing);
    expect(() => metrics.observe(stock)).not.toThrow();
    const replicas = new Hedge({ delayMs: 5 }, { clock, name: 'replicas' });
    expect([replicas.name, new Hedge({ delayMs: 5 }).name]).toEqual(['replicas', 'hedge']);
    metrics.observeHedge(replicas);
    expect(() => metrics.observeHedge(new Hedge({ delayMs: 5 }, { clock, name: 'mirrors' }))).not.toThrow();

    expect((await settle(clock, stock.execute(() => after(clock, 20, 'x')))).ok).toBe(false);
    expect((await settle(clock, replicas.execute(() => after(clock, 20, 'x')))).ok).toBe(true);
    const e = await scrape(metrics);
    expect(value(e, 'antifragile_timeout_calls_total', { name: 'pricing', kind: 'timed_out' })).toBe(0);
    expect(value(e, 'antifragile_timeout_calls_total', { name: 'stock', kind: 'timed_out' })).toBe(1);
    expect(value(e, 'antifragile_hedge_attempts_total', { name: 'replicas', reason: 'delay' })).toBe(1);
    expect(value(e, 'antifragile_hedge_attempts_total', { name: 'mirrors', reason: 'delay' })).toBe(0);
    expect(e.samples.some((s) => s.labels['name'] === 'timeout' || s.labels['name'] === 'hedge')).toBe(false);

    // Two components with the same name still need a distinct { name }.
    expect(() => metrics.observe(new Timeout({ ms: 10, clock, name: 'pricing' }))).toThrow(
      /another component is already observed as "pricing"; pass \{ name \}/,
    );
    expect(() => metrics.observe(new Hedge({ delayMs: 5 }, { clock, name: 'replicas' }))).toThrow(RangeError);
    metrics.observe(new Timeout({ ms: 10, clock }));
    expect(() => metrics.observe(new Timeout({ ms: 10, clock }))).toThrow(/already observed as "timeout"/);
    expect(() => metrics.observe(new Timeout({ ms: 10, clock }), { name: 'b' })).not.toThrow();
    expect(() => metrics.observe(new AdaptiveConcurrency({ algorithm: 'aimd', name: 'x', clock }))).not.toThrow();
    expect(() => metrics.observe(new AdaptiveConcurrency({ algorithm: 'gradient2', name: 'x', clock }))).toThrow(RangeError);
  });

  it('rejects what it cannot observe, and empty names, with clear errors', () => {
    const metrics = new PrometheusMetrics();
    expect(() => metrics.observe({} as never)).toThrow(new TypeError('PrometheusMetrics.observe: unsupported component Object'));
    expect(() => metrics.observe(null as never)).toThrow(new TypeError('PrometheusMetrics.observe: unsupported component null'));
    class Lookalike {
      on(): () => void {
        return () => undefined;
      }
    }
    expect(() => metrics.observe(new Lookalike() as never)).toThrow(/unsupported component Lookalike/);
    const timeout = new Timeout({ ms: 10 });
    expect(() => metrics.observe(timeout, { name: '' })).toThrow(/name label must be a non-empty string, received ""/);
    expect(() => metrics.observeHedge(new Hedge({ delayMs: 1 }), { name: 7 as never })).toThrow(TypeError);
    expect(() => metrics.observeFallback(new Fallback({ fallback: () => 1 }), { name: '' })).toThrow(TypeError);
    expect(() => metrics.observeAdaptiveConcurrency(new AdaptiveConcurrency({ algorithm: 'aimd' }), { name: '' })).toThrow(TypeError);
  });

  it('follows the Prometheus naming rules for the new families', async () => {
    const clock = new VirtualClock();
    const metrics = createPrometheusMetrics({ clock });
    const { timeout, fallback, hedge, limiter } = components(clock);
    for (const c of [timeout, fallback, hedge, limiter]) metrics.observe(c);
    const e = await scrape(metrics);
    const mine = [...e.types].filter(([family]) => /timeout|fallback|hedge|adaptive/.test(family));
    expect(mine.length).toBe(8);
    for (const [family, type] of mine) {
      expect(family).toMatch(/^antifragile_[a-z0-9_]+$/);
      if (type === 'counter') expect(family).toMatch(/_total$/);
      else expect(family).not.toMatch(/_total$/);
      expect(e.help.get(family)?.length).toBeGreaterThan(0);
    }
  });
});
