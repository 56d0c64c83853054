import { LatencyHistogram } from '../../core/latency-histogram.js';
import type { LoadSummary, TimePoint } from '../journal.js';

/** Load figures over the last few seconds of a run, by completion time (for a live view and halt checks). */
export interface RecentLoad {
  /** Span covered, in milliseconds (up to the recorder's `recentSeconds`). */
  windowMs: number;
  /** Requests that became due in the window. */
  sent: number;
  /** Requests that finished in the window with a success. */
  ok: number;
  /** Requests that finished in the window with a failure. */
  failed: number;
  /** `sent` per second over the window. */
  ratePerSec: number;
  /** ok / (ok + failed), 0..1; `null` when nothing finished in the window. */
  success: number | null;
  /** Latency percentiles (ms from intended start) of the requests that finished in the window; 0 when none. */
  p50: number;
  p95: number;
  p99: number;
}

/**
 * Counts of one span: a phase or the whole run.
 * @internal
 */
export class Tally {
  sent = 0;
  ok = 0;
  failed = 0;
  readonly histogram = new LatencyHistogram();
  readonly errors = new Map<string, number>();
  /** Milliseconds this tally was the current phase (phases only). */
  activeMs = 0;
}

/**
 * One second of the run by intended start; closed into a {@link TimePoint} once all its requests finished.
 * @internal
 */
export class SecondSlot {
  sent = 0;
  ok = 0;
  failed = 0;
  pending = 0;
  constructor(
    readonly index: number,
    readonly histogram: LatencyHistogram,
  ) {}
}

/** One second of the live window, by dispatch (sent) and completion time (the rest). */
class RecentSlot {
  second = -1;
  sent = 0;
  ok = 0;
  failed = 0;
  readonly histogram = new LatencyHistogram();
}

interface Mark {
  t: number;
  phase: string;
  faults: readonly string[];
}

/**
 * A request being recorded, returned by {@link LoadRecorder.start} and given back to {@link LoadRecorder.finish}.
 * @internal
 */
export class LoadTicket {
  constructor(
    /** Intended start, ms since the run's origin. */
    readonly intendedT: number,
    /** @internal */
    readonly slot: SecondSlot,
    /** @internal */
    readonly phase: Tally,
  ) {}
}

/** Options of {@link LoadRecorder}. */
export interface LoadRecorderOptions {
  /** Phase label of the first requests. */
  phase: string;
  /** Faults active at the origin. @default [] */
  activeFaults?: readonly string[];
  /** Seconds covered by {@link LoadRecorder.recent}. @default 5 */
  recentSeconds?: number;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * The accounting behind a load run: per-second {@link TimePoint}s, per-phase and total {@link LoadSummary}s
 * and a live window, from request starts and finishes. Times are milliseconds since the run's origin.
 * Requests land in the second and phase of their intended start, so a stall shows up where it began; a
 * second is closed into the series once every request of it finished (at most a request timeout late).
 * Memory stays bounded: histograms live only for the seconds still open and for each phase.
 *
 * It reads no clock: the caller passes every time, which keeps it exact under test.
 * @internal
 */
export class LoadRecorder {
  private readonly totals = new Tally();
  private readonly phases = new Map<string, Tally>();
  private current: Tally;
  private currentName: string;
  private currentSince = 0;
  private faults: readonly string[];
  private marks: Mark[];
  private readonly slots = new Map<number, SecondSlot>();
  private readonly spare: LatencyHistogram[] = [];
  private nextClose = 0;
  private readonly points: TimePoint[] = [];
  private readonly recentSlots: RecentSlot[];
  private endT: number | undefined;

  constructor(options: LoadRecorderOptions) {
    this.currentName = options.phase;
    this.current = this.phaseTally(options.phase);
    this.faults = [...(options.activeFaults ?? [])];
    this.marks = [{ t: -Infinity, phase: this.currentName, faults: this.faults }];
    this.recentSlots = Array.from({ length: Math.max(1, options.recentSeconds ?? 5) }, () => new RecentSlot());
  }

  /** Phase label new requests get. */
  get phase(): string {
    return this.currentName;
  }

  /** Faults currently active, as last set. */
  get activeFaults(): readonly string[] {
    return this.faults;
  }

  /** Whether {@link end} was called. */
  get ended(): boolean {
    return this.endT !== undefined;
  }

  /** Requests started so far. */
  get sent(): number {
    return this.totals.sent;
  }

  /** Requests finished with a success so far. */
  get ok(): number {
    return this.totals.ok;
  }

  /** Requests finished with a failure so far. */
  get failed(): number {
    return this.totals.failed;
  }

  /** Labels requests intended from `t` on with phase `name`. */
  setPhase(name: string, t: number): void {
    if (name === this.currentName) return;
    this.current.activeMs += Math.max(0, t - this.currentSince);
    this.currentName = name;
    this.current = this.phaseTally(name);
    this.currentSince = t;
    this.mark(t);
  }

  /** Records that, from `t` on, the faults named `names` are active. */
  setActiveFaults(names: readonly string[], t: number): void {
    if (names.length === this.faults.length && names.every((n, i) => n === this.faults[i])) return;
    this.faults = [...names];
    this.mark(t);
  }

  /** A request intended to start at `intendedT` was started (or refused) at `nowT`. */
  start(intendedT: number, nowT: number): LoadTicket {
    const slot = this.slotOf(Math.max(0, Math.floor(intendedT / 1000)));
    slot.sent++;
    slot.pending++;
    this.current.sent++;
    this.totals.sent++;
    this.recentSlot(nowT).sent++;
    return new LoadTicket(intendedT, slot, this.current);
  }

  /**
   * The request of `ticket` finished at `t`: with a success when `error` is undefined, else with the
   * failure cause `error` (`'503'`, `'timeout'`...). `latencyMs` is recorded in the histograms unless undefined.
   */
  finish(ticket: LoadTicket, t: number, error: string | undefined, latencyMs: number | undefined): void {
    const { slot, phase } = ticket;
    const recent = this.recentSlot(t);
    slot.pending--;
    if (error === undefined) {
      slot.ok++;
      phase.ok++;
      this.totals.ok++;
      recent.ok++;
    } else {
      slot.failed++;
      phase.failed++;
      this.totals.failed++;
      recent.failed++;
      phase.errors.set(error, (phase.errors.get(error) ?? 0) + 1);
      this.totals.errors.set(error, (this.totals.errors.get(error) ?? 0) + 1);
    }
    if (latencyMs !== undefined) {
      slot.histogram.record(latencyMs);
      phase.histogram.record(latencyMs);
      this.totals.histogram.record(latencyMs);
      recent.histogram.record(latencyMs);
    }
  }

  /** Closes every second that ended by `t` and whose requests all finished, in order; passes each to `onPoint`. */
  flush(t: number, onPoint?: (point: TimePoint) => void): void {
    const currentSecond = Math.floor(t / 1000);
    while (this.nextClose < currentSecond) {
      const slot = this.slots.get(this.nextClose);
      if (slot !== undefined && slot.pending > 0) return;
      this.close(this.nextClose, slot, Infinity, onPoint);
    }
  }

  /** Ends the run at `t`: closes every remaining second (the last one possibly partial). */
  end(t: number, onPoint?: (point: TimePoint) => void): void {
    if (this.endT !== undefined) return;
    this.current.activeMs += Math.max(0, t - this.currentSince);
    this.currentSince = t;
    this.endT = t;
    let last = Math.ceil(t / 1000) - 1;
    for (const index of this.slots.keys()) last = Math.max(last, index);
    while (this.nextClose <= last) this.close(this.nextClose, this.slots.get(this.nextClose), t, onPoint);
  }

  /** The closed seconds so far; every second of the run once {@link end} was called. */
  series(): readonly TimePoint[] {
    return this.points;
  }

  /** Names of the phases seen, in order of first use. */
  phaseNames(): string[] {
    return [...this.phases.keys()];
  }

  /** Figures of phase `phase` (of the whole run when undefined) as of `t`; all zeros for an unknown phase. */
  summary(phase: string | undefined, t: number): LoadSummary {
    const end = this.endT ?? t;
    if (phase === undefined) return summarize(this.totals, end);
    const tally = this.phases.get(phase);
    if (tally === undefined) return summarize(new Tally(), 0);
    const live = tally === this.current && this.endT === undefined ? Math.max(0, t - this.currentSince) : 0;
    return summarize(tally, tally.activeMs + live);
  }

  /** Figures of the last `recentSeconds` (the current second included) as of `t`. */
  recent(t: number): RecentLoad {
    const second = Math.floor(t / 1000);
    const size = this.recentSlots.length;
    const histograms: LatencyHistogram[] = [];
    let sent = 0;
    let ok = 0;
    let failed = 0;
    for (const slot of this.recentSlots) {
      if (slot.second > second - size && slot.second <= second) {
        sent += slot.sent;
        ok += slot.ok;
        failed += slot.failed;
        histograms.push(slot.histogram);
      }
    }
    const windowMs = Math.max(0, Math.min(t, (size - 1) * 1000 + (t - second * 1000)));
    return {
      windowMs: round3(windowMs),
      sent,
      ok,
      failed,
      ratePerSec: windowMs > 0 ? round2((sent * 1000) / windowMs) : 0,
      success: ok + failed > 0 ? ok / (ok + failed) : null,
      p50: round3(LatencyHistogram.percentileOf(histograms, 0.5)),
      p95: round3(LatencyHistogram.percentileOf(histograms, 0.95)),
      p99: round3(LatencyHistogram.percentileOf(histograms, 0.99)),
    };
  }

  private phaseTally(name: string): Tally {
    let tally = this.phases.get(name);
    if (tally === undefined) {
      tally = new Tally();
      this.phases.set(name, tally);
    }
    return tally;
  }

  private mark(t: number): void {
    const last = this.marks[this.marks.length - 1] as Mark;
    const mark = { t, phase: this.currentName, faults: this.faults };
    if (last.t >= t) this.marks[this.marks.length - 1] = { ...mark, t: last.t };
    else this.marks.push(mark);
  }

  private slotOf(index: number): SecondSlot {
    let slot = this.slots.get(index);
    if (slot === undefined) {
      // A request due in a second already closed (it cannot be, as intended starts only move forward) would
      // reopen it; count it in the oldest open second instead.
      if (index < this.nextClose) return this.slotOf(this.nextClose);
      slot = new SecondSlot(index, this.spare.pop() ?? new LatencyHistogram());
      this.slots.set(index, slot);
    }
    return slot;
  }

  private recentSlot(t: number): RecentSlot {
    const second = Math.max(0, Math.floor(t / 1000));
    const slot = this.recentSlots[second % this.recentSlots.length] as RecentSlot;
    if (slot.second !== second) {
      slot.second = second;
      slot.sent = 0;
      slot.ok = 0;
      slot.failed = 0;
      slot.histogram.reset();
    }
    return slot;
  }

  private close(index: number, slot: SecondSlot | undefined, endT: number, onPoint: ((point: TimePoint) => void) | undefined): void {
    const from = index * 1000;
    const to = Math.min(from + 1000, Math.max(Math.ceil(endT), from + 1));
    const h = slot?.histogram;
    const point: TimePoint = {
      t: to,
      phase: this.phaseAt((from + to) / 2),
      sent: slot?.sent ?? 0,
      ok: slot?.ok ?? 0,
      failed: slot?.failed ?? 0,
      p50: h === undefined ? 0 : round3(h.percentile(0.5)),
      p95: h === undefined ? 0 : round3(h.percentile(0.95)),
      p99: h === undefined ? 0 : round3(h.percentile(0.99)),
      max: h === undefined ? 0 : round3(h.max()),
      activeFaults: this.faultsDuring(from, to),
    };
    if (slot !== undefined) {
      this.slots.delete(index);
      slot.histogram.reset();
      this.spare.push(slot.histogram);
    }
    this.points.push(point);
    this.nextClose = index + 1;
    this.pruneMarks(this.nextClose * 1000);
    onPoint?.(point);
  }

  private phaseAt(t: number): string {
    for (let i = this.marks.length - 1; i >= 0; i--) {
      const mark = this.marks[i] as Mark;
      if (mark.t <= t) return mark.phase;
    }
    return (this.marks[0] as Mark).phase;
  }

  private faultsDuring(from: number, to: number): string[] {
    const names = new Set<string>();
    for (let i = this.marks.length - 1; i >= 0; i--) {
      const mark = this.marks[i] as Mark;
      if (mark.t >= to) continue;
      for (const name of mark.faults) names.add(name);
      if (mark.t <= from) break;
    }
    return [...names];
  }

  /** Drops the marks no longer needed to label seconds from `t` on (keeps the one in effect at `t`). */
  private pruneMarks(t: number): void {
    let keepFrom = 0;
    for (let i = this.marks.length - 1; i >= 0; i--) {
      if ((this.marks[i] as Mark).t <= t) {
        keepFrom = i;
        break;
      }
    }
    if (keepFrom > 0) this.marks = this.marks.slice(keepFrom);
  }
}

function summarize(tally: Tally, durationMs: number): LoadSummary {
  const h = tally.histogram;
  return {
    sent: tally.sent,
    ok: tally.ok,
    failed: tally.failed,
    availability: tally.sent === 0 ? 1 : tally.ok / tally.sent,
    ratePerSec: durationMs > 0 ? round2((tally.sent * 1000) / durationMs) : 0,
    latency: {
      mean: round3(h.mean()),
      p50: round3(h.percentile(0.5)),
      p95: round3(h.percentile(0.95)),
      p99: round3(h.percentile(0.99)),
      max: round3(h.max()),
    },
    errors: Object.fromEntries(tally.errors),
  };
}
