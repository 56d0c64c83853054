import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionsError } from '../../../src/core/options.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { formatProgressLine, ProgressView } from '../../../src/scenario/report/progress-view.js';
import type { ProgressStatus } from '../../../src/scenario/report/progress-view.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function status(over: Partial<ProgressStatus> = {}): ProgressStatus {
  return {
    phase: 'spike',
    elapsedMs: 42_000,
    totalMs: 120_000,
    rate: 200,
    inFlight: 12,
    activeFaults: ['redis-latency', 'db-down'],
    recent: { ratePerSec: 198.4, success: 0.9953, p95: 123.4 },
    ...over,
  };
}

function sink(isTTY: boolean, columns?: number): { stream: { write(s: string): boolean; isTTY: boolean; columns?: number }; out: string[] } {
  const out: string[] = [];
  return { out, stream: { write: (s: string) => out.push(s) > 0, isTTY, ...(columns === undefined ? {} : { columns }) } };
}

describe('formatProgressLine', () => {
  it('shows phase, elapsed / total, rate, success, p95, in flight and faults', () => {
    expect(formatProgressLine(status())).toBe('[spike] 0:42 / 2:00 · 198/200 req/s · ok 99.5% · p95 123 ms · in flight 12 · faults: redis-latency, db-down');
    const { totalMs: _total, inFlight: _inFlight, ...bare } = status({ label: 'baseline', activeFaults: [], recent: { ratePerSec: 0, success: null, p95: 0 } });
    expect(formatProgressLine(bare)).toBe(
      'baseline [spike] 0:42 · 0/200 req/s · ok — · p95 0 µs · no fault',
    );
  });

  it('colors the success figure by level and cuts to a width, counting visible characters only', () => {
    expect(formatProgressLine(status(), { color: true })).toContain('\x1b[32mok 99.5%\x1b[0m');
    expect(formatProgressLine(status({ recent: { ratePerSec: 1, success: 0.96, p95: 1 } }), { color: true })).toContain('\x1b[33mok 96.0%\x1b[0m');
    expect(formatProgressLine(status({ recent: { ratePerSec: 1, success: 0.5, p95: 1 } }), { color: true })).toContain('\x1b[31mok 50.0%\x1b[0m');
    const cut = formatProgressLine(status(), { color: true, width: 40 });
    expect(cut.replace(/\p{Cc}\[\d+m/gu, '')).toBe('[spike] 0:42 / 2:00 · 198/200 req/s · o…');
    expect(formatProgressLine(status({ phase: 'a\nb\x1b[2J' }))).toMatch(/^\[a b \[2J\]/); // no control characters reach the terminal
  });
});

describe('ProgressView', () => {
  it('redraws one line in place on a TTY, at most every refreshMs', () => {
    const clock = new VirtualClock();
    const { stream, out } = sink(true, 60);
    const view = new ProgressView({ stream, clock, color: false, refreshMs: 250 });
    view.update(status());
    view.update(status({ elapsedMs: 42_100 }));
    clock.advance(250);
    view.update(status({ elapsedMs: 43_000 }));
    expect(out).toHaveLength(2);
    expect(out[0]).toBe('\r\x1b[2K[spike] 0:42 / 2:00 · 198/200 req/s · ok 99.5% · p95 123 ms'); // cut at 59 columns
    expect(out[1]?.startsWith('\r\x1b[2K[spike] 0:43 / 2:00')).toBe(true);
    view.log('fault redis-latency injected');
    expect(out.slice(2)).toEqual(['\r\x1b[2Kfault redis-latency injected\n', out[1]]);
    view.stop();
    expect(out.slice(4)).toEqual([out[1], '\n']);
  });

  it('prints a plain line at most every plainIntervalMs when not on a TTY', () => {
    const clock = new VirtualClock();
    const { stream, out } = sink(false);
    const view = new ProgressView({ stream, clock, plainIntervalMs: 10_000 });
    view.update(status());
    clock.advance(9_999);
    view.update(status());
    view.log('phase recovery');
    clock.advance(1);
    view.update(status({ phase: 'recovery' }));
    view.stop(status({ phase: 'done' }));
    expect(out).toEqual([
      `${formatProgressLine(status())}\n`,
      'phase recovery\n',
      `${formatProgressLine(status({ phase: 'recovery' }))}\n`,
      `${formatProgressLine(status({ phase: 'done' }))}\n`,
    ]);
    expect(out.join('')).not.toContain('\x1b');
  });

  it('polls a status provider with a timer that does not keep the process alive, until stopped', () => {
    const clock = new VirtualClock();
    const { stream, out } = sink(true);
    const schedule = vi.spyOn(clock, 'schedule');
    const view = new ProgressView({ stream, clock, color: false, refreshMs: 500 });
    let elapsedMs = 0;
    view.start(() => status({ elapsedMs: (elapsedMs += 500) }));
    clock.advance(1_000);
    expect(out.map((s) => s.slice(13, 17))).toEqual(['0:01', '0:01', '0:02']); // 500, 1000, 1500 ms
    expect(schedule.mock.calls.every(([, , options]) => options?.keepAlive === false)).toBe(true);
    view.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports a provider that throws and keeps polling', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const clock = new VirtualClock();
    const { stream, out } = sink(false);
    const view = new ProgressView({ stream, clock, plainIntervalMs: 1_000 });
    let calls = 0;
    view.start(() => {
      if (++calls === 1) throw new Error('no snapshot');
      return status();
    });
    clock.advance(1_000);
    expect(String(warn.mock.calls[0]?.[0])).toContain('ProgressView status provider threw: no snapshot');
    expect(out).toEqual([`${formatProgressLine(status())}\n`]);
    view.stop();
  });

  it('writes nothing when silent, and validates its options', () => {
    const clock = new VirtualClock();
    const { stream, out } = sink(true);
    const view = new ProgressView({ stream, clock, silent: true });
    view.start(() => status());
    view.update(status());
    view.log('x');
    clock.advance(5_000);
    view.stop(status());
    expect(out).toEqual([]);
    expect(() => new ProgressView({ refreshMs: 0, tty: 'yes' as unknown as boolean })).toThrow(InvalidOptionsError);
  });
});
