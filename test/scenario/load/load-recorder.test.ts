import { describe, expect, it } from 'vitest';
import type { TimePoint } from '../../../src/scenario/journal.js';
import { LoadRecorder } from '../../../src/scenario/load/load-recorder.js';

describe('LoadRecorder', () => {
  it('shows a fault that came and went within a second, and labels each second by the phase at its middle', () => {
    const r = new LoadRecorder({ phase: 'a' });
    r.setActiveFaults(['blip'], 200);
    r.setActiveFaults([], 300);
    r.setPhase('b', 1_400);
    r.setPhase('c', 2_400);
    r.end(3_000);
    expect(r.series().map((p) => [p.t, p.phase, p.activeFaults])).toEqual([
      [1_000, 'a', ['blip']],
      [2_000, 'b', []],
      [3_000, 'c', []],
    ]);
    expect(r.phaseNames()).toEqual(['a', 'b', 'c']);
  });

  it('closes seconds in order: an early second still waiting holds back the later ones', () => {
    const r = new LoadRecorder({ phase: 'p' });
    const slow = r.start(100, 100);
    const fast = r.start(1_100, 1_100);
    r.finish(fast, 1_150, undefined, 50);
    const closed: TimePoint[] = [];
    r.flush(2_500, (p) => closed.push(p));
    expect(closed).toHaveLength(0);
    r.finish(slow, 2_600, 'timeout', 2_500);
    r.flush(2_700, (p) => closed.push(p));
    expect(closed.map((p) => [p.t, p.ok, p.failed, p.max])).toEqual([
      [1_000, 0, 1, 2_500],
      [2_000, 1, 0, 50],
    ]);
    expect(r.summary(undefined, 2_700)).toMatchObject({ sent: 2, ok: 1, failed: 1, availability: 0.5, errors: { timeout: 1 } });
  });

  it('keeps its live window to the last seconds, whatever happened before', () => {
    const r = new LoadRecorder({ phase: 'p', recentSeconds: 2 });
    r.finish(r.start(0, 0), 10, '500', 10);
    r.finish(r.start(5_000, 5_000), 5_020, undefined, 20);
    r.finish(r.start(6_100, 6_100), 6_130, undefined, 30);
    expect(r.recent(6_500)).toEqual({ windowMs: 1_500, sent: 2, ok: 2, failed: 0, ratePerSec: 1.33, success: 1, p50: 20.48, p95: 30, p99: 30 });
    expect(r.recent(9_000)).toMatchObject({ sent: 0, success: null, p95: 0 });
  });
});
