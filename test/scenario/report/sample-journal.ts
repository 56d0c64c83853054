import type { LoadSummary, ScenarioJournal, TimePoint } from '../../../src/scenario/journal.js';

function summary(sent: number, ok: number, p95: number, errors: Record<string, number> = {}): LoadSummary {
  return {
    sent,
    ok,
    failed: sent - ok,
    availability: sent === 0 ? 1 : ok / sent,
    ratePerSec: 50,
    latency: { mean: p95 / 3, p50: p95 / 4, p95, p99: p95 * 1.5, max: p95 * 2 },
    errors,
  };
}

/** A 60-second run with a fault from 20 s to 40 s; `bad` makes it the unprotected kind. */
export function sampleJournal(options: { name?: string; bad?: boolean; baseline?: ScenarioJournal } = {}): ScenarioJournal {
  const bad = options.bad ?? false;
  const series: TimePoint[] = Array.from({ length: 60 }, (_, i) => {
    const faulty = i >= 20 && i < 40;
    const ok = faulty ? (bad ? 20 : 48) : 50;
    const p = faulty ? (bad ? 2_000 : 80) : 12;
    return { t: (i + 1) * 1000, phase: faulty ? 'outage' : i < 20 ? 'warm-up' : 'recovery', sent: 50, ok, failed: 50 - ok, p50: p / 2, p95: p, p99: p * 1.2, max: p * 1.5, activeFaults: faulty ? ['redis <down>'] : [] };
  });
  const sent = 3_000;
  const ok = series.reduce((n, p) => n + p.ok, 0);
  return {
    version: 1,
    scenario: { name: options.name ?? 'Black <Friday> & "friends"', description: 'Traffic spike with <b>payment</b> issues', file: 'scenarios/bf.yaml', format: 'native' },
    target: { url: 'http://localhost:3000', kind: 'url', baseline: bad },
    status: 'completed',
    deviated: bad,
    verdict: bad ? 'fail' : 'pass',
    startedAt: '2025-01-01T10:00:00.000Z',
    endedAt: '2025-01-01T10:01:00.000Z',
    durationMs: 60_000,
    timeScale: 1,
    steadyStateBefore: [{ name: 'health <ok>', value: { status: 'pass' }, ok: true }],
    steadyStateAfter: [{ name: 'health <ok>', value: { status: bad ? 'fail' : 'pass' }, ok: !bad, detail: bad ? 'still failing' : 'back to normal' }],
    phases: [
      { name: 'warm-up', startMs: 0, endMs: 20_000, rate: 50, load: summary(1_000, 1_000, 12), faults: [] },
      { name: 'outage', startMs: 20_000, endMs: 40_000, rate: 50, load: summary(1_000, bad ? 400 : 960, bad ? 2_000 : 80, bad ? { '503': 600 } : { '503': 40 }), faults: ['redis <down>'] },
      { name: 'recovery', startMs: 40_000, endMs: 60_000, rate: 50, load: summary(1_000, 1_000, 12), faults: [] },
    ],
    activities: [
      { type: 'probe', name: 'steady-state <before>', startMs: -50, endMs: -10, status: 'succeeded', output: { status: 'pass' } },
      { type: 'action', name: 'inject redis <down>', startMs: 20_000, endMs: 20_012, status: 'succeeded' },
      { type: 'action', name: 'remove redis <down>', startMs: 40_000, endMs: 40_015, status: bad ? 'failed' : 'succeeded', ...(bad ? { error: 'proxy said <no>' } : {}) },
    ],
    criteria: [
      { name: 'availability', expected: '> 99%', observed: ok / sent, passed: !bad },
      { name: 'p95_latency', expected: '< 2000ms', observed: bad ? 2_100 : 80, passed: !bad, detail: 'p95 over the <whole> run' },
    ],
    series,
    faultWindows: [{ name: 'redis <down>', kind: 'service_failure', target: 'redis', startMs: 20_000, endMs: 40_000 }],
    timelines: {
      breakers: bad ? [] : [
        { t: 0, name: 'redis', state: 'closed' },
        { t: 21_000, name: 'redis', state: 'open' },
        { t: 41_000, name: 'redis', state: 'half-open' },
        { t: 42_000, name: 'redis', state: 'closed' },
      ],
      degradation: bad ? [] : [
        { t: 0, level: 'normal' },
        { t: 22_000, level: 'degraded' },
        { t: 45_000, level: 'normal' },
      ],
    },
    totals: summary(sent, ok, bad ? 2_100 : 80, bad ? { '503': 600 } : { '503': 40 }),
    ...(options.baseline !== undefined ? { baseline: options.baseline } : {}),
  };
}
