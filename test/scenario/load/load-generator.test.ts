import { afterEach, describe, expect, it, vi } from 'vitest';
import { isTimeoutError } from '../../../src/core/errors.js';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import type { TimePoint } from '../../../src/scenario/journal.js';
import { LoadGenerator } from '../../../src/scenario/load/load-generator.js';
import type { LoadGeneratorOptions, LoadResult } from '../../../src/scenario/load/load-generator.js';
import type { LoadRequest } from '../../../src/scenario/load/load-transport.js';
import { failOnUnhandledRejections } from '../../support/no-unhandled-rejections.js';
import { FakeTransport } from './fake-transport.js';
import type { FakeAnswer } from './fake-transport.js';

failOnUnhandledRejections();

afterEach(() => {
  vi.restoreAllMocks();
});

function setup(
  respond: (request: LoadRequest, at: number) => FakeAnswer,
  options: Partial<LoadGeneratorOptions> = {},
): { clock: VirtualClock; transport: FakeTransport; load: LoadGenerator } {
  const clock = new VirtualClock();
  const transport = new FakeTransport(clock, respond);
  const load = new LoadGenerator({ transport, clock, rate: 100, mix: [{ path: '/a' }], ...options });
  return { clock, transport, load };
}

async function stopAll(clock: VirtualClock, load: LoadGenerator): Promise<LoadResult> {
  const stopping = load.stop();
  await clock.runAllAsync();
  return stopping;
}

describe('LoadGenerator (open model, virtual time)', () => {
  it('starts requests at t0 + i / rate exactly, whatever the target does', async () => {
    const { clock, transport, load } = setup(() => ({ afterMs: 10, status: 200 }));
    load.start();
    await clock.advanceAsync(995);
    const result = await stopAll(clock, load);
    expect(transport.sent.map((s) => s.at)).toEqual(Array.from({ length: 100 }, (_, i) => i * 10));
    expect(result.durationMs).toBe(995);
    expect(result.totals).toMatchObject({ sent: 100, ok: 100, failed: 0, availability: 1, ratePerSec: 100.5, errors: {} });
    expect(result.totals.latency).toEqual({ mean: 10, p50: 10, p95: 10, p99: 10, max: 10 });
    expect(result.series).toEqual([
      { t: 995, phase: 'load', sent: 100, ok: 100, failed: 0, p50: 10, p95: 10, p99: 10, max: 10, activeFaults: [] },
    ]);
    expect(clock.pendingTimers).toBe(0);
    expect(transport.closed).toBe(false); // a transport given by the caller stays open
  });

  it('measures latency from the intended start, so a stall shows as latency, not as missing samples', async () => {
    // The target stalls from 300 to 600 ms: everything arriving then is answered at 601.
    const { clock, transport, load } = setup((_, at) => ({ afterMs: at >= 300 && at < 600 ? 601 - at : 1, status: 200 }));
    load.start();
    await clock.advanceAsync(995);
    const { totals, series } = await stopAll(clock, load);
    expect(transport.sent.filter((s) => s.at >= 300 && s.at < 600)).toHaveLength(30); // kept sending during the stall
    expect(totals.sent).toBe(100);
    expect(totals.latency.max).toBe(301);
    expect(totals.latency.p99).toBeGreaterThanOrEqual(291); // the second largest of 100 samples
    expect(totals.latency.p50).toBeLessThan(2);
    expect(series[0]).toMatchObject({ sent: 100, ok: 100, max: 301 });
  });

  it('counts a stall of its own event loop too: late requests start in a burst and carry the delay', async () => {
    // Timers due from 300 to 600 ms fire at 600, as when the event loop is blocked for 300 ms.
    class BlockedClock extends VirtualClock {
      override schedule(callback: () => void, delayMs: number, options?: { keepAlive?: boolean }): { cancel(): void } {
        const at = this.now() + delayMs;
        return super.schedule(callback, at >= 300 && at < 600 ? 600 - this.now() : delayMs, options);
      }
    }
    const clock = new BlockedClock();
    const transport = new FakeTransport(clock, () => ({ afterMs: 1, status: 200 }));
    const load = new LoadGenerator({ transport, clock, rate: 100, mix: [{ path: '/a' }] });
    load.start();
    await clock.advanceAsync(995);
    const { totals } = await stopAll(clock, load);
    expect(transport.sent.filter((s) => s.at === 600)).toHaveLength(31); // 300..600 all went out at 600
    expect(totals.sent).toBe(100);
    expect(totals.latency.max).toBe(301); // the one due at 300, from its intended start
  });

  it('starts the requests already due under the old phase and rate before changing them', async () => {
    class BlockedClock extends VirtualClock {
      override schedule(callback: () => void, delayMs: number, options?: { keepAlive?: boolean }): { cancel(): void } {
        const at = this.now() + delayMs;
        return super.schedule(callback, at >= 300 && at < 600 ? 600 - this.now() : delayMs, options);
      }
    }
    const clock = new BlockedClock();
    const transport = new FakeTransport(clock, () => ({ afterMs: 1, status: 200 }));
    const load = new LoadGenerator({ transport, clock, rate: 100, phase: 'a', mix: [{ path: '/a' }] });
    load.start();
    await clock.advanceAsync(500); // the timer is late: requests due from 300 on are not started yet
    load.setPhase('b');
    load.setRate(50);
    load.setMix([{ path: '/b' }]);
    await clock.advanceAsync(495);
    const { phases } = await stopAll(clock, load);
    expect(transport.sent.filter((s) => s.at === 500).map((s) => s.request.path)).toEqual(Array(20).fill('/a'));
    expect(phases['a']?.sent).toBe(50); // 0..490
    expect(phases['b']?.sent).toBe(25); // 510..990 at 50/s
  });

  it('applies a rate change at once: no gap, no burst', async () => {
    const { clock, transport, load } = setup(() => ({ afterMs: 1, status: 200 }), { rate: 10 });
    load.start();
    await clock.advanceAsync(1_005);
    load.setRate(100); // due 10 ms after the last one (at 1000)
    await clock.advanceAsync(1_000);
    load.setRate(1); // due 1 s after the last one (at 2000)
    await clock.advanceAsync(2_000);
    load.setRate(0);
    await clock.advanceAsync(1_000);
    load.setRate(2); // the last one was long ago: due at once
    await clock.advanceAsync(990);
    const { series } = await stopAll(clock, load);
    expect(series.map((p) => p.sent)).toEqual([10, 100, 1, 1, 1, 2]);
    expect(series.map((p) => p.t)).toEqual([1_000, 2_000, 3_000, 4_000, 5_000, 5_995]);
    const at = transport.sent.map((s) => s.at);
    expect(at.slice(9, 13)).toEqual([900, 1_000, 1_010, 1_020]);
    expect(at.slice(110)).toEqual([2_000, 3_000, 4_000, 5_005, 5_505]);
  });

  it('labels requests with the phase and the seconds with the phase and the faults active in them', async () => {
    const { clock, load } = setup(() => ({ afterMs: 5, status: 200 }), { rate: 10, phase: 'warm-up' });
    const events: TimePoint[] = [];
    load.on('second', (p) => events.push(p));
    load.start();
    await clock.advanceAsync(1_250);
    load.setPhase('spike');
    load.setRate(20);
    load.setActiveFaults(['db-latency']);
    await clock.advanceAsync(1_300);
    load.setActiveFaults([]);
    await clock.advanceAsync(975);
    expect(events.map((p) => p.t)).toEqual([1_000, 2_000, 3_000]); // closed while running
    const result = await stopAll(clock, load);
    expect(result.phases['warm-up']).toMatchObject({ sent: 13, ok: 13, ratePerSec: 10.4 }); // 13 in 1.25 s
    expect(result.phases['spike']).toMatchObject({ sent: 46, ok: 46, ratePerSec: 20.22 }); // 46 in 2.275 s
    expect(Object.keys(result.phases)).toEqual(['warm-up', 'spike']);
    expect(result.series.map(({ t, phase, sent, activeFaults }) => ({ t, phase, sent, activeFaults }))).toEqual([
      { t: 1_000, phase: 'warm-up', sent: 10, activeFaults: [] },
      { t: 2_000, phase: 'spike', sent: 18, activeFaults: ['db-latency'] },
      { t: 3_000, phase: 'spike', sent: 20, activeFaults: ['db-latency'] },
      { t: 3_525, phase: 'spike', sent: 11, activeFaults: [] },
    ]);
    expect(events).toEqual(result.series);
    expect(load.summary('nope')).toMatchObject({ sent: 0, availability: 1 });
  });

  it('closes a second only once all its requests finished', async () => {
    const { clock, load } = setup(() => ({ afterMs: 2_500, status: 200 }), { rate: 1 });
    const events: TimePoint[] = [];
    load.on('second', (p) => events.push(p));
    load.start();
    await clock.advanceAsync(2_999);
    expect(events).toHaveLength(0);
    await clock.advanceAsync(2);
    expect(events.map((p) => [p.t, p.p50])).toEqual([[1_000, 2_500]]);
    const { series } = await stopAll(clock, load);
    expect(series.map((p) => [p.t, p.ok])).toEqual([[1_000, 1], [2_000, 1], [3_000, 1], [3_001, 1]]);
  });

  it('aborts a request after timeoutMs and counts it as a timeout, with its full latency', async () => {
    const { clock, transport, load } = setup(() => 'hang', { rate: 10, timeoutMs: 500 });
    load.start();
    await clock.advanceAsync(995);
    expect(load.inFlight).toBe(5);
    const result = await stopAll(clock, load);
    expect(clock.now()).toBe(1_400); // stop() waited for the last one (sent at 900)
    expect(result.totals).toMatchObject({ sent: 10, ok: 0, failed: 10, availability: 0, errors: { timeout: 10 } });
    expect(result.totals.latency.max).toBe(500);
    expect(transport.sent.every((s) => s.signal.aborted && isTimeoutError(s.signal.reason))).toBe(true);
    expect(load.inFlight).toBe(0);
  });

  it('refuses requests beyond maxInFlight as overload instead of queueing them', async () => {
    const { clock, transport, load } = setup(() => 'hang', { rate: 10, maxInFlight: 3, timeoutMs: 60_000 });
    load.start();
    await clock.advanceAsync(995);
    expect(transport.sent).toHaveLength(3);
    expect(load.summary().errors).toEqual({ overload: 7 });
    const stopping = load.stop({ abortInFlight: true });
    const result = await stopping;
    expect(result.totals).toMatchObject({ sent: 10, failed: 10, errors: { overload: 7, aborted: 3 } });
    expect(result.totals.latency.max).toBe(0); // neither overload nor aborted requests have a latency
    expect(transport.sent.every((s) => s.signal.aborted)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('counts statuses by the mix entry expectations and classifies network errors', async () => {
    const answers: Record<string, FakeAnswer> = {
      '/ok': { afterMs: 1, status: 204 },
      '/missing': { afterMs: 1, status: 404 },
      '/fail': { afterMs: 1, status: 503 },
      '/refused': Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      '/odd': new Error('no code'),
    };
    const cycle = [0.1, 0.3, 0.5, 0.7, 0.9];
    let i = 0;
    const { clock, load } = setup((r) => answers[r.path] as FakeAnswer, {
      rate: 50,
      random: () => cycle[i++ % cycle.length] as number,
      mix: [{ path: '/ok' }, { path: '/missing', expect: [404] }, { path: '/fail' }, { path: '/refused' }, { path: '/odd' }],
    });
    load.start();
    await clock.advanceAsync(995);
    const { totals } = await stopAll(clock, load);
    expect(totals).toMatchObject({ sent: 50, ok: 20, failed: 30, availability: 0.4, errors: { '503': 10, connection: 10, error: 10 } });
  });

  it('picks from the mix by weight and switches mix at run time', async () => {
    let n = 0;
    const { clock, transport, load } = setup(() => ({ afterMs: 1, status: 200 }), {
      rate: 1_000,
      random: () => (n++ % 100) / 100,
      mix: [
        { path: '/a', weight: 1 },
        { method: 'post', path: '/b', weight: 3, body: '{}', headers: { 'content-type': 'application/json' } },
      ],
    });
    load.start();
    await clock.advanceAsync(999.5);
    load.setMix([{ path: '/c' }]);
    await clock.advanceAsync(100);
    await stopAll(clock, load);
    const count = (path: string): number => transport.sent.filter((s) => s.request.path === path).length;
    expect([count('/a'), count('/b'), count('/c')]).toEqual([250, 750, 100]);
    expect(transport.sent.find((s) => s.request.path === '/b')?.request).toMatchObject({ method: 'POST', body: '{}' });
  });

  it('reports a throwing random callback and keeps going', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { clock, load } = setup(() => ({ afterMs: 1, status: 200 }), {
      rate: 10,
      random: () => {
        throw new Error('boom');
      },
    });
    load.start();
    await clock.advanceAsync(995);
    const { totals } = await stopAll(clock, load);
    expect(totals.ok).toBe(10);
    expect(String(warn.mock.calls[0]?.[0])).toContain('LoadGenerator option random threw: boom');
  });

  it('gives live figures over the last seconds', async () => {
    const { clock, load } = setup((_, at) => (at < 2_000 ? { afterMs: 20, status: 200 } : { afterMs: 20, status: 500 }), {
      rate: 100,
      activeFaults: ['x'],
    });
    load.start();
    await clock.advanceAsync(2_495);
    const s = load.snapshot();
    expect(s).toMatchObject({ running: true, phase: 'load', elapsedMs: 2_495, rate: 100, inFlight: 2, activeFaults: ['x'], sent: 250 });
    expect(s.recent).toMatchObject({ windowMs: 2_495, sent: 250, ok: 200, failed: 48, ratePerSec: 100.2, p95: 20 });
    expect(s.recent.success).toBeCloseTo(200 / 248, 6);
    await stopAll(clock, load);
    expect(load.snapshot()).toMatchObject({ running: false, elapsedMs: 2_495, inFlight: 0 });
  });

  it('stop() is idempotent, and works before start()', async () => {
    const { clock, load } = setup(() => ({ afterMs: 1, status: 200 }));
    const first = load.stop();
    expect(load.stop()).toBe(first);
    const result = await first;
    expect(result).toEqual({
      durationMs: 0,
      totals: { sent: 0, ok: 0, failed: 0, availability: 1, ratePerSec: 0, latency: { mean: 0, p50: 0, p95: 0, p99: 0, max: 0 }, errors: {} },
      phases: { load: { sent: 0, ok: 0, failed: 0, availability: 1, ratePerSec: 0, latency: { mean: 0, p50: 0, p95: 0, p99: 0, max: 0 }, errors: {} } },
      series: [],
    });
    expect(() => load.start()).toThrow(/already/);
    expect(clock.pendingTimers).toBe(0);
  });

  it('validates its options, listing every bad field', async () => {
    const clock = new VirtualClock();
    let error: unknown;
    try {
      new LoadGenerator({
        clock,
        rate: -1,
        timeoutMs: 0,
        mix: [{ path: 'no-slash', weight: 0 }, { path: '/x', expect: { min: 500, max: 200 } }, { path: '/y', expect: [99] }],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).issues.map((i) => i.path)).toEqual([
      'url',
      'mix[0].path',
      'mix[0].weight',
      'mix[1].expect.max',
      'mix[2].expect[0]',
      'rate',
      'timeoutMs',
    ]);
    const load = new LoadGenerator({ clock, url: 'http://127.0.0.1:1', rate: 1, mix: [{ path: '/' }] });
    expect(() => load.setRate(Number.NaN)).toThrow(InvalidOptionsError);
    expect(() => load.setMix([])).toThrow(/mix: expected a non-empty array/);
    await load.stop();
    expect(() => new LoadGenerator({ clock, url: 'ftp://x', rate: 1, mix: [{ path: '/' }] })).toThrow(/url: expected an http/);
  });
});
