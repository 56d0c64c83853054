import { randomUUID } from 'node:crypto';
import type { TargetStatus } from '../adapters/http/chaos-admin-handler.js';
import { sleep } from '../core/abort.js';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import type { ChaosAdminApi } from './chaos-admin-client.js';
import { evaluateCriterion, isLoadMetric, targetMetric, type StatusSample } from './criterion-evaluator.js';
import { FaultController, kindOf, targetOf, type AppliedFault, type EmergencyCleanupStep } from './fault-controller.js';
import type { Activity, CriterionResult, LoadSummary, PhaseJournal, ProbeResult, ScenarioJournal, TimePoint } from './journal.js';
import { readJsonPath } from './json-path.js';
import { LoadGenerator, type LoadSnapshot } from './load/load-generator.js';
import type { LoadTransport } from './load/load-transport.js';
import type { RequestMixEntry } from './load/request-mix.js';
import type { ProxyToxicApi } from './proxy-api-client.js';
import type { HaltCondition, LoadRequestSpec, Scenario, ScenarioPhase, SteadyStateProbe } from './scenario.js';
import { toleranceHolds } from './tolerance.js';

/** Options of {@link ScenarioRunner}. */
export interface ScenarioRunOptions {
  /** URL of the service under test: load requests and steady-state HTTP probes go there. */
  url: string;
  /** The service's chaos admin endpoint: needed for dependency, resource, region and slowdown faults, and for status readings. */
  admin?: ChaosAdminApi;
  /** The fault proxy's API: needed for proxy faults. */
  proxy?: ProxyToxicApi;
  /** Recorded in the journal. @default 'url' */
  targetKind?: 'url' | 'example';
  /** Whether the service runs with its protection off (recorded in the journal). @default false */
  baseline?: boolean;
  /** Every phase duration (and a fault's own `durationMs`) is divided by this. @default 1 */
  timeScale?: number;
  /** Run only these phases, in scenario order. @default every phase */
  phases?: readonly string[];
  /** Base request rate, requests per second, instead of the scenario's. */
  rate?: number;
  /** Request mix used when the scenario has none (e.g. the bundled example's). @default GET of `url` */
  mix?: readonly LoadRequestSpec[];
  /** How often the target's status is read and halt conditions checked, ms. @default 1000 */
  statusIntervalMs?: number;
  /** Sends the load instead of HTTP to `url` (tests). */
  transport?: LoadTransport;
  /** Aborting it interrupts the run: load stops, every fault is removed, status `interrupted`. */
  signal?: AbortSignal;
  /** @default systemClock */
  clock?: Clock;
  /** Random numbers for the request mix. @default Math.random */
  random?: () => number;
  /** For steady-state HTTP probes. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Identifies the run: every fault it injects through the admin endpoint is tagged
   * `antifragile-run:<runId>`, and at each phase end and on rollback every fault carrying that tag is
   * removed, also one whose injection request timed out after the target accepted it.
   * At most 100 characters. @default a random UUID
   */
  runId?: string;
}

/** What {@link ScenarioRunner.emergencyCleanup} did. */
export interface EmergencyCleanupReport {
  /** Each removal tried, with its outcome. */
  steps: EmergencyCleanupStep[];
  /** Whether the time ran out before every step had an answer. */
  timedOut: boolean;
}

/** Prefix of the tag every fault of a run carries (followed by the run's id). */
export const RUN_TAG_PREFIX = 'antifragile-run:';

/** A phase starting, as {@link ScenarioRunnerEvents.phase} reports it. */
export interface PhaseEvent {
  name: string;
  /** 0-based among the phases run. */
  index: number;
  count: number;
  /** Ms since the run started. */
  startMs: number;
  /** Scaled duration, ms. */
  durationMs: number;
  /** Requests per second. */
  rate: number;
  faults: string[];
}

/** Events of {@link ScenarioRunner}. */
export interface ScenarioRunnerEvents {
  /** A phase started. */
  phase: PhaseEvent;
  /** Every status interval: live load figures and the status just read (undefined when it could not be read). */
  tick: { t: number; phase: string; phaseEndsMs: number; load: LoadSnapshot; status: TargetStatus | undefined };
  /** A second of load closed. */
  second: TimePoint;
  /** An action or probe finished (fault on/off, rate change, steady-state probe...). */
  activity: Activity & { warnings?: string[] };
  /** A halt condition triggered; the run is being aborted. */
  halt: { name: string; reason: string; t: number };
}

const MAX_SAMPLES = 20_000;

/**
 * Runs a {@link Scenario} against a service: probes the steady state, drives the load through the phases,
 * applies each phase's faults when it starts and removes them when it ends, reads the service's status
 * every second (breaker and degradation timelines, halt conditions), evaluates the success criteria and
 * returns a {@link ScenarioJournal}. Every fault it applied is removed, newest first, whatever happens: at
 * the end of its phase, and on a halt, an error or an interrupt (`signal`). It switches chaos on at the
 * target when needed and back off afterwards if it was off.
 *
 * @example
 * const { scenarios } = await loadScenarioFile('game-day.yaml');
 * const admin = new ChaosAdminClient({ url: 'http://localhost:3000/admin/chaos', token });
 * const journal = await new ScenarioRunner(scenarios[0]!, { url: 'http://localhost:3000', admin, timeScale: 60 }).run();
 * process.exitCode = journal.verdict === 'pass' ? 0 : 1;
 */
export class ScenarioRunner {
  private readonly events = new EventEmitter<ScenarioRunnerEvents>('scenario-runner', 'scenario');
  private readonly clock: Clock;
  private readonly timeScale: number;
  private readonly phases: ScenarioPhase[];
  private readonly statusIntervalMs: number;
  private readonly baseRate: number;
  private readonly faults: FaultController;
  private readonly stop = new AbortController();
  private outcome: { status: ScenarioJournal['status']; reason: string } | undefined;
  /** Set when the run is over: no status tick may re-arm after it (one may still be awaiting the target). */
  private disposed = false;
  private origin = 0;
  private readonly activities: (Activity & { at: number; endAt: number })[] = [];
  private samples: (StatusSample & { at: number })[] = [];
  private statusFailures = 0;
  private lastStatusError: string | undefined;
  private load: LoadGenerator | undefined;
  private currentPhase: { name: string; endsAt: number } | undefined;
  private tickTimer: TimerHandle | undefined;
  private ticking = false;
  private nextTickAt = 0;
  private readonly counts: { at: number; sent: number; ok: number; failed: number }[] = [];
  private readonly maxWindowMs: number;
  private started = false;
  /** The run's id (see {@link ScenarioRunOptions.runId}). */
  readonly runId: string;

  /** @throws InvalidOptionsError listing every bad option (unknown phases, faults without an admin endpoint...). */
  constructor(
    readonly scenario: Scenario,
    private readonly options: ScenarioRunOptions,
  ) {
    const v = new OptionsValidator('ScenarioRunner');
    if (typeof options.url !== 'string' || !URL.canParse(options.url) || !/^https?:$/.test(new URL(options.url).protocol)) v.fail('url', 'an http(s) URL', options.url);
    v.number('timeScale', options.timeScale, { minExclusive: 0 });
    v.number('rate', options.rate, { min: 0 });
    v.duration('statusIntervalMs', options.statusIntervalMs, true);
    v.clock('clock', options.clock);
    v.func('random', options.random);
    v.func('fetch', options.fetch);
    if (options.runId !== undefined && (typeof options.runId !== 'string' || options.runId === '' || options.runId.length > 100)) {
      v.fail('runId', 'a non-empty string of at most 100 characters', options.runId);
    }
    const names = scenario.phases.map((p) => p.name);
    if (options.phases !== undefined) {
      if (!Array.isArray(options.phases) || options.phases.length === 0) v.fail('phases', `a non-empty list of phase names (${names.join(', ')})`, options.phases);
      else for (const name of options.phases) if (!names.includes(name)) v.fail('phases', `names of phases of "${scenario.name}": ${names.join(', ')}`, name);
    }
    this.phases = options.phases === undefined ? [...scenario.phases] : scenario.phases.filter((p) => options.phases?.includes(p.name));
    const faults = this.phases.flatMap((p) => p.faults);
    if (options.admin === undefined && faults.some((f) => f.type !== 'proxy')) {
      v.fail('admin', `the target's chaos admin endpoint (faults ${faults.filter((f) => f.type !== 'proxy').map((f) => f.name).join(', ')} go through it; give a token)`, undefined);
    }
    if (options.proxy === undefined && faults.some((f) => f.type === 'proxy')) v.fail('proxy', "the fault proxy's API (target.proxyApi or --proxy-api) for the proxy faults", undefined);
    v.throwIfInvalid();
    this.clock = options.clock ?? systemClock;
    this.timeScale = options.timeScale ?? 1;
    this.statusIntervalMs = options.statusIntervalMs ?? 1_000;
    this.baseRate = options.rate ?? scenario.load.rate;
    this.runId = options.runId ?? randomUUID();
    this.faults = new FaultController(options.admin, options.proxy, this.clock, this.faultTag);
    this.maxWindowMs = Math.max(5_000, ...scenario.halts.map((h) => h.windowMs));
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof ScenarioRunnerEvents>(event: K, listener: Listener<ScenarioRunnerEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** The tag every fault this run injects through the admin endpoint carries: `antifragile-run:<runId>`. */
  get faultTag(): string {
    return `${RUN_TAG_PREFIX}${this.runId}`;
  }

  /**
   * Last-resort cleanup for a process about to exit (the CLI's second Ctrl-C): removes at once, side by side,
   * every proxy toxic and fault the run knows of (also those being added) and every fault tagged
   * {@link faultTag}; resolves within `timeoutMs` whatever the targets do, with what was done. The orderly
   * rollback of {@link run} may still be going on; removals are idempotent.
   * @param timeoutMs Time budget, ms. @default 2000
   */
  emergencyCleanup(timeoutMs = 2_000): Promise<EmergencyCleanupReport> {
    return this.faults.emergencyCleanup(timeoutMs);
  }

  /** The phases this run goes through (after `phases` selection). */
  get plannedPhases(): readonly { name: string; durationMs: number; rate: number }[] {
    return this.phases.map((p) => ({ name: p.name, durationMs: this.scaled(p.durationMs), rate: this.rateOf(p) }));
  }

  /**
   * Runs the scenario once. Never rejects for a failure of the target or of a fault: those end the run
   * with status `failed` (or `aborted` for a halt) in the journal, after every fault was removed.
   * @throws Error when called twice.
   */
  async run(): Promise<ScenarioJournal> {
    if (this.started) throw new Error('ScenarioRunner.run() may be called once');
    this.started = true;
    const startedAt = this.clock.now();
    const onUserAbort = (): void => this.end('interrupted', 'interrupted (SIGINT)');
    if (this.options.signal?.aborted === true) onUserAbort();
    this.options.signal?.addEventListener('abort', onUserAbort, { once: true });
    let wasEnabled: boolean | undefined;
    let before: ProbeResult[] = [];
    let after: ProbeResult[] = [];
    const phaseJournals: (Omit<PhaseJournal, 'startMs' | 'endMs' | 'load'> & { startAt: number; endAt: number })[] = [];
    let result: { totals: LoadSummary; phases: Record<string, LoadSummary>; series: TimePoint[] } | undefined;
    this.origin = startedAt;
    try {
      wasEnabled = await this.prepareChaos();
      if (!this.stopped) before = await this.probeSteadyState('before');
      if (!this.stopped && before.some((p) => !p.ok)) {
        this.end('aborted', `steady state not met before the run: ${before.filter((p) => !p.ok).map((p) => `${p.name} (${p.detail ?? String(p.value)})`).join('; ')}`);
      }
      if (!this.stopped) {
        await this.sampleStatus(undefined);
        this.startLoad();
        for (let i = 0; i < this.phases.length && !this.stopped; i++) {
          const phase = this.phases[i] as ScenarioPhase;
          const journal = { name: phase.name, rate: this.rateOf(phase), faults: phase.faults.map((f) => f.name), startAt: this.clock.now(), endAt: 0 };
          phaseJournals.push(journal);
          await this.runPhase(phase, i, (at) => (journal.startAt = at));
          journal.endAt = this.clock.now();
        }
      }
    } catch (error) {
      this.end('failed', `runner error: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.options.signal?.removeEventListener('abort', onUserAbort);
      this.disposed = true;
      this.stopTicker();
      const load = this.load;
      load?.setRate(0);
      await this.rollback();
      await this.sweep('rollback');
      const left = this.faults.active;
      // a sweep that could not finish after an injection went unanswered may leave a fault no id names
      const untracked = this.faults.uncertain;
      if (left.length > 0 || untracked) {
        // A fault the target still applies makes the run's figures meaningless and the target unsafe: say so.
        const what = [...left.map((f) => f.fault.name), ...(untracked ? [`the faults tagged ${this.faultTag}`] : [])];
        this.end('failed', `could not remove ${what.join(', ')}; remove by hand (or wait for their expiry)`);
      }
      await this.restoreChaos(wasEnabled);
      if (load !== undefined) result = await load.stop({ abortInFlight: this.outcome?.status === 'interrupted' });
    }
    const last = phaseJournals[phaseJournals.length - 1];
    if (last !== undefined && last.endAt === 0) last.endAt = this.clock.now();
    await this.sampleStatus(undefined);
    if (before.length > 0 && this.outcome?.status !== 'interrupted') after = await this.probeSteadyState('after');
    for (const sample of this.samples) sample.t = this.rel(sample.at);
    const deviated = before.length > 0 && before.every((p) => p.ok) && after.some((p) => !p.ok);
    const criteria = this.evaluate(result);
    const status = this.outcome?.status ?? 'completed';
    const verdict = status === 'completed' && !deviated && criteria.every((c) => c.passed) ? 'pass' : 'fail';
    const endedAt = this.clock.now();
    if (this.statusFailures > 0) {
      this.record({ type: 'probe', name: 'target status', status: 'failed', error: `${this.statusFailures} status readings failed; last: ${this.lastStatusError ?? ''}` }, endedAt, endedAt);
    }
    const emptyLoad: LoadSummary = { sent: 0, ok: 0, failed: 0, availability: 1, ratePerSec: 0, latency: { mean: 0, p50: 0, p95: 0, p99: 0, max: 0 }, errors: {} };
    return {
      version: 1,
      runId: this.runId,
      scenario: {
        name: this.scenario.name,
        ...(this.scenario.description === undefined ? {} : { description: this.scenario.description }),
        ...(this.scenario.file === undefined ? {} : { file: this.scenario.file }),
        format: this.scenario.format,
      },
      target: { url: this.options.url, kind: this.options.targetKind ?? 'url', baseline: this.options.baseline ?? false },
      status,
      deviated,
      verdict,
      startedAt: new Date(startedAt).toISOString(),
      endedAt: new Date(endedAt).toISOString(),
      durationMs: Math.round(endedAt - startedAt),
      timeScale: this.timeScale,
      ...(this.outcome === undefined ? {} : { reason: this.outcome.reason }),
      steadyStateBefore: before,
      steadyStateAfter: after,
      phases: phaseJournals.map(({ startAt, endAt, ...p }) => ({ ...p, startMs: this.rel(startAt), endMs: this.rel(endAt), load: result?.phases[p.name] ?? emptyLoad })),
      activities: this.activities.map(({ at, endAt, ...a }) => ({ ...a, startMs: this.rel(at), endMs: this.rel(endAt) })),
      criteria,
      series: result?.series ?? [],
      faultWindows: this.faults.windows().map(({ startedAt: s, endedAt: e, ...w }) => ({ ...w, startMs: this.rel(s), endMs: this.rel(e) })),
      timelines: this.timelines(),
      totals: result?.totals ?? emptyLoad,
    };
  }

  private get stopped(): boolean {
    return this.outcome !== undefined;
  }

  /** Ends the run early (the first reason wins). */
  private end(status: Exclude<ScenarioJournal['status'], 'completed'>, reason: string): void {
    if (this.outcome !== undefined) return;
    this.outcome = { status, reason };
    this.stop.abort(new Error(reason));
  }

  private rel(at: number): number {
    return Math.round(at - this.origin);
  }

  private scaled(ms: number): number {
    return ms / this.timeScale;
  }

  private rateOf(phase: ScenarioPhase): number {
    return phase.rate ?? this.baseRate * (phase.multiplier ?? 1);
  }

  private record(activity: Omit<Activity, 'startMs' | 'endMs'> & { warnings?: string[] }, at: number, endAt: number): void {
    const { warnings, ...rest } = activity;
    const entry: Activity & { at: number; endAt: number } = { ...rest, startMs: 0, endMs: 0, at, endAt };
    if (warnings !== undefined && warnings.length > 0) entry.output = { ...(rest.output as object | undefined), warnings };
    this.activities.push(entry);
    if (this.events.wants('activity')) this.events.emit('activity', { ...activity, startMs: this.rel(at), endMs: this.rel(endAt) });
  }

  /** Switches chaos on at the target if this run applies faults through it; returns whether it was on. */
  private async prepareChaos(): Promise<boolean | undefined> {
    const admin = this.options.admin;
    if (admin === undefined) return undefined;
    const needsChaos = this.phases.some((p) => p.faults.some((f) => f.type !== 'proxy'));
    const at = this.clock.now();
    const state = await this.action('read chaos state', () => admin.state(), (s) => ({ enabled: s.enabled, dependencies: s.dependencies }));
    if (state === undefined) {
      if (needsChaos) this.end('failed', "cannot read the target's chaos state");
      return undefined;
    }
    if (!needsChaos || state.enabled) return state.enabled;
    if (!state.permitted) {
      this.record({ type: 'action', name: 'enable chaos', status: 'failed', error: `chaos is not permitted in environment ${state.environment}` }, at, this.clock.now());
      this.end('failed', `the target refuses chaos (environment ${state.environment})`);
      return state.enabled;
    }
    const ok = await this.action('enable chaos', () => admin.enable());
    if (ok === undefined) this.end('failed', 'could not switch chaos on at the target');
    return state.enabled;
  }

  private async restoreChaos(wasEnabled: boolean | undefined): Promise<void> {
    const admin = this.options.admin;
    if (admin === undefined || wasEnabled !== false) return;
    const needsChaos = this.phases.some((p) => p.faults.some((f) => f.type !== 'proxy'));
    if (needsChaos) await this.action('disable chaos', () => admin.disable());
  }

  /** Runs `fn` as a journal action; returns its result, or undefined when it failed (recorded). */
  private async action<T>(name: string, fn: () => Promise<T>, output?: (value: T) => unknown): Promise<T | undefined> {
    const at = this.clock.now();
    try {
      const value = await fn();
      this.record({ type: 'action', name, status: 'succeeded', ...(output === undefined ? {} : { output: output(value) }) }, at, this.clock.now());
      return value === undefined ? (true as T) : value;
    } catch (error) {
      this.record({ type: 'action', name, status: 'failed', error: error instanceof Error ? error.message : String(error) }, at, this.clock.now());
      return undefined;
    }
  }

  private startLoad(): void {
    const mix = this.mixEntries();
    const maxRate = Math.max(1, ...this.phases.map((p) => this.rateOf(p)));
    const first = this.phases[0];
    const load = new LoadGenerator({
      ...(this.options.transport === undefined
        ? { url: mix.url, connections: Math.min(1_024, Math.max(64, Math.ceil(maxRate))) }
        : { transport: this.options.transport }),
      mix: mix.entries,
      rate: 0,
      timeoutMs: this.scenario.load.timeoutMs,
      phase: first?.name ?? 'load',
      recentSeconds: Math.min(600, Math.ceil(this.maxWindowMs / 1_000)),
      clock: this.clock,
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
    });
    load.on('second', (point) => {
      if (this.events.wants('second')) this.events.emit('second', point);
    });
    this.load = load;
    load.start();
    this.origin = load.originMs;
    this.counts.push({ at: this.origin, sent: 0, ok: 0, failed: 0 });
    this.nextTickAt = this.origin + this.statusIntervalMs;
    this.scheduleTick();
  }

  /** The load URL and mix: the scenario's, else the given one, else `GET` of the target URL itself. */
  private mixEntries(): { url: string; entries: RequestMixEntry[] } {
    const specs = this.scenario.load.mix.length > 0 ? this.scenario.load.mix : (this.options.mix ?? []);
    if (specs.length === 0) {
      const url = new URL(this.options.url);
      return { url: url.origin, entries: [{ method: 'GET', path: `${url.pathname}${url.search}` }] };
    }
    return {
      url: this.options.url.replace(/\/+$/, ''),
      entries: specs.map((s) => {
        const headers = { ...s.headers };
        let body: string | undefined;
        if (s.body !== undefined && s.body !== null) {
          body = typeof s.body === 'string' ? s.body : JSON.stringify(s.body);
          if (typeof s.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
        }
        return {
          method: s.method,
          path: s.path.startsWith('/') ? s.path : `/${s.path}`,
          weight: s.weight,
          ...(Object.keys(headers).length > 0 ? { headers } : {}),
          ...(body === undefined ? {} : { body }),
          ...(s.okStatuses === undefined ? {} : { expect: s.okStatuses }),
        };
      }),
    };
  }

  /**
   * Injects the phase's faults, then switches the load to the phase (label and rate) so that every request
   * of the phase meets its faults; waits out the phase; reads the status; removes the faults newest first.
   * Returns the clock time the phase started.
   */
  private async runPhase(phase: ScenarioPhase, index: number, onStart: (at: number) => void): Promise<void> {
    const load = this.load as LoadGenerator;
    const durationMs = this.scaled(phase.durationMs);
    const rate = this.rateOf(phase);
    if (this.events.wants('phase')) {
      this.events.emit('phase', { name: phase.name, index, count: this.phases.length, startMs: this.rel(this.clock.now()), durationMs, rate, faults: phase.faults.map((f) => f.name) });
    }
    const applied: AppliedFault[] = [];
    for (const fault of phase.faults) {
      if (this.stopped) break;
      const at = this.clock.now();
      try {
        const done = await this.faults.apply(fault, { phaseRemainingMs: durationMs, timeScale: this.timeScale, loadMedianMs: load.summary().latency.p50 });
        applied.push(done);
        this.record({ type: 'action', name: `inject ${fault.name}`, status: 'succeeded', output: { kind: kindOf(fault), target: targetOf(fault), ...done.output }, warnings: done.warnings }, at, this.clock.now());
        load.setActiveFaults(this.faults.active.map((f) => f.fault.name));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.record({ type: 'action', name: `inject ${fault.name}`, status: 'failed', error: message }, at, this.clock.now());
        this.end('failed', `could not inject ${fault.name}: ${message}`);
      }
    }
    const start = this.clock.now();
    onStart(start);
    if (!this.stopped) {
      this.currentPhase = { name: phase.name, endsAt: start + durationMs };
      load.setPhase(phase.name);
      load.setRate(rate);
      this.record({ type: 'action', name: `phase ${phase.name}: ${rate} requests/s for ${Math.round(durationMs)} ms`, status: 'succeeded', output: { phase: phase.name, rate, durationMs } }, start, start);
      await this.sampleStatus(phase.name);
      const remaining = start + durationMs - this.clock.now();
      if (remaining > 0) await sleep(this.clock, remaining, this.stop.signal).catch(() => undefined);
    }
    if (!this.stopped) await this.sampleStatus(phase.name);
    for (let i = applied.length - 1; i >= 0; i--) {
      await this.removeFault(applied[i] as AppliedFault);
      load.setActiveFaults(this.faults.active.map((f) => f.fault.name));
    }
    // Faults the runner has no id for (an injection whose answer was lost) carry the run's tag.
    if (phase.faults.length > 0) await this.sweep(`end of phase ${phase.name}`);
    this.currentPhase = undefined;
  }

  /** Removes every fault carrying the run's tag; journals what it removed and what failed (nothing when there was nothing). */
  private async sweep(when: string): Promise<void> {
    const at = this.clock.now();
    const { removed, problems } = await this.faults.sweep();
    if (removed.length > 0 || problems.length > 0) {
      this.record(
        {
          type: 'action',
          name: `remove faults tagged ${this.faultTag} (${when})`,
          status: problems.length === 0 ? 'succeeded' : 'failed',
          output: { removed },
          ...(problems.length === 0 ? {} : { error: problems.map((p) => `${p.what}: ${p.error}`).join('; ') }),
        },
        at,
        this.clock.now(),
      );
      this.load?.setActiveFaults(this.faults.active.map((f) => f.fault.name));
    }
  }

  private async removeFault(done: AppliedFault, why = ''): Promise<void> {
    const at = this.clock.now();
    const problems = await this.faults.remove(done);
    this.record(
      { type: 'action', name: `remove ${done.fault.name}${why}`, status: problems.length === 0 ? 'succeeded' : 'failed', ...(problems.length === 0 ? {} : { error: problems.join('; ') }) },
      at,
      this.clock.now(),
    );
  }

  /** Removes whatever is still applied (after a halt, an error or an interrupt), newest first. */
  private async rollback(): Promise<void> {
    for (const { applied, problems } of await this.faults.rollback()) {
      const at = this.clock.now();
      this.record(
        { type: 'action', name: `remove ${applied.fault.name} (rollback)`, status: problems.length === 0 ? 'succeeded' : 'failed', ...(problems.length === 0 ? {} : { error: problems.join('; ') }) },
        at,
        at,
      );
    }
    this.load?.setActiveFaults([]);
  }

  private scheduleTick(): void {
    if (this.stopped || this.disposed || this.load === undefined) return;
    this.tickTimer = this.clock.schedule(() => void this.tick(), Math.max(0, this.nextTickAt - this.clock.now()), { keepAlive: false });
  }

  private stopTicker(): void {
    this.tickTimer?.cancel();
    this.tickTimer = undefined;
  }

  private async tick(): Promise<void> {
    this.tickTimer = undefined;
    const load = this.load;
    if (this.stopped || this.disposed || load === undefined || this.ticking) return;
    this.ticking = true;
    try {
      const at = this.clock.now();
      const snapshot = load.snapshot();
      this.counts.push({ at, sent: snapshot.sent, ok: snapshot.ok, failed: snapshot.failed });
      while (this.counts.length > 2 && (this.counts[1] as { at: number }).at <= at - this.maxWindowMs) this.counts.shift();
      const phase = this.currentPhase;
      const status = phase === undefined ? undefined : await this.sampleStatus(phase.name);
      if (this.stopped || this.disposed) return;
      if (this.events.wants('tick')) {
        this.events.emit('tick', { t: this.rel(at), phase: phase?.name ?? '', phaseEndsMs: phase === undefined ? 0 : this.rel(phase.endsAt), load: snapshot, status });
      }
      if (phase !== undefined) this.checkHalts(phase.name, at, snapshot);
    } finally {
      this.ticking = false;
      while (this.nextTickAt <= this.clock.now()) this.nextTickAt += this.statusIntervalMs;
      this.scheduleTick();
    }
  }

  private checkHalts(phase: string, at: number, snapshot: LoadSnapshot): void {
    for (const halt of this.scenario.halts) {
      if (halt.phases !== undefined && !halt.phases.includes(phase)) continue;
      const reading = this.haltReading(halt, at, snapshot);
      if (reading === undefined || !toleranceHolds(halt.when, reading.value)) continue;
      const reason = `halt condition "${halt.name}": ${reading.label} = ${format(reading.value)} (${halt.when.text})`;
      this.record({ type: 'probe', name: `halt ${halt.name}`, status: 'failed', output: { value: reading.value }, error: reason }, at, at);
      if (this.events.wants('halt')) this.events.emit('halt', { name: halt.name, reason, t: this.rel(at) });
      this.end('aborted', reason);
      return;
    }
  }

  /** The value a halt condition watches now, or undefined when there is not enough to judge. */
  private haltReading(halt: HaltCondition, at: number, snapshot: LoadSnapshot): { value: unknown; label: string } | undefined {
    const m = halt.measure;
    const windowText = `over the last ${Math.round(halt.windowMs / 1_000)} s`;
    if (m.kind === 'metric' && isLoadMetric(m.name)) {
      const from = [...this.counts].reverse().find((c) => c.at <= at - halt.windowMs) ?? (this.counts[0] as { at: number; sent: number; ok: number; failed: number });
      const sent = snapshot.sent - from.sent;
      const ok = snapshot.ok - from.ok;
      const failed = snapshot.failed - from.failed;
      if (ok + failed < halt.minRequests || ok + failed === 0) return undefined;
      const label = `${m.name} ${windowText}`;
      switch (m.name) {
        case 'availability':
          return { value: ok / (ok + failed), label };
        case 'error_rate':
          return { value: failed / (ok + failed), label };
        case 'requests':
          return { value: sent, label };
        case 'failures':
          return { value: failed, label };
        case 'throughput':
          return { value: (sent * 1_000) / Math.max(1, at - from.at), label };
        default:
          return { value: snapshot.recent[m.name.slice(0, 3) as 'p50' | 'p95' | 'p99'], label: `${m.name} over the last ${Math.round(snapshot.recent.windowMs / 1_000)} s` };
      }
    }
    if (m.kind === 'percentile' && m.of === 'latency') {
      if (snapshot.recent.ok + snapshot.recent.failed < Math.max(1, halt.minRequests)) return undefined;
      return { value: snapshot.recent[`p${m.percentile}` as 'p50' | 'p95' | 'p99'], label: `p${m.percentile} latency over the last ${Math.round(snapshot.recent.windowMs / 1_000)} s` };
    }
    const latest = this.samples[this.samples.length - 1];
    if (latest === undefined) return undefined;
    if (m.kind === 'metric') {
      const value = targetMetric(m.name, latest.status);
      return value === undefined ? undefined : { value, label: `metric ${m.name}` };
    }
    if (m.kind === 'status') {
      const value = readJsonPath(m.path, latest.status);
      return value === undefined ? undefined : { value, label: m.path.text };
    }
    const path = m.of;
    if (path === 'latency') return undefined;
    const values = this.samples
      .filter((s) => s.at >= at - halt.windowMs)
      .map((s) => readJsonPath(path, s.status))
      .filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
      .sort((a, b) => a - b);
    if (values.length === 0) return undefined;
    return { value: values[Math.max(0, Math.ceil((m.percentile / 100) * values.length) - 1)], label: `p${m.percentile} of ${path.text} ${windowText}` };
  }

  /** Reads the target's status (when there is an admin endpoint) and keeps it as a sample. */
  private async sampleStatus(phase: string | undefined): Promise<TargetStatus | undefined> {
    const admin = this.options.admin;
    if (admin === undefined) return undefined;
    try {
      const status = await admin.status();
      const at = this.clock.now();
      this.samples.push({ at, t: this.rel(at), phase, status });
      if (this.samples.length > MAX_SAMPLES) this.samples = this.samples.filter((_, i) => i % 2 === 0 || i === this.samples.length - 1);
      return status;
    } catch (error) {
      this.statusFailures++;
      this.lastStatusError = error instanceof Error ? error.message : String(error);
      return undefined;
    }
  }

  private async probeSteadyState(when: 'before' | 'after'): Promise<ProbeResult[]> {
    const results: ProbeResult[] = [];
    for (const probe of this.scenario.steadyState) {
      const at = this.clock.now();
      const result = await this.probe(probe);
      results.push(result);
      this.record(
        { type: 'probe', name: `steady state ${when}: ${probe.name}`, status: result.ok ? 'succeeded' : 'failed', output: result.value, ...(result.ok ? {} : { error: result.detail ?? 'out of tolerance' }) },
        at,
        this.clock.now(),
      );
    }
    return results;
  }

  private async probe(probe: SteadyStateProbe): Promise<ProbeResult> {
    const m = probe.measure;
    const fail = (detail: string): ProbeResult => ({ name: probe.name, value: null, ok: false, detail });
    if (m.kind === 'http') {
      const url = m.path === '' ? this.options.url : `${this.options.url.replace(/\/+$/, '')}${m.path.startsWith('/') ? '' : '/'}${m.path}`;
      const controller = new AbortController();
      const timer = this.clock.schedule(() => controller.abort(new Error(`no answer within ${m.timeoutMs} ms`)), m.timeoutMs);
      try {
        const response = await (this.options.fetch ?? globalThis.fetch)(url, { method: m.method, signal: controller.signal });
        await response.arrayBuffer();
        const ok = toleranceHolds(probe.tolerance, response.status);
        return { name: probe.name, value: response.status, ok, detail: `${m.method} ${url} answered ${response.status} (expected ${probe.tolerance.text})` };
      } catch (error) {
        const reason = controller.signal.aborted ? controller.signal.reason : error;
        const text = reason instanceof Error ? (reason.cause instanceof Error ? `${reason.message}: ${reason.cause.message}` : reason.message) : String(reason);
        return fail(`${m.method} ${url} failed: ${text}`);
      } finally {
        timer.cancel();
      }
    }
    const admin = this.options.admin;
    if (admin === undefined) return fail("needs the target's status: give the admin endpoint's token");
    let status: TargetStatus;
    try {
      status = await admin.status();
    } catch (error) {
      return fail(`cannot read the target's status: ${error instanceof Error ? error.message : String(error)}`);
    }
    const value = m.kind === 'status' ? readJsonPath(m.path, status) : targetMetric(m.name, status);
    if (value === undefined) return fail(m.kind === 'status' ? `target status has no ${m.path.text}` : `target does not report metric ${m.name}`);
    const ok = toleranceHolds(probe.tolerance, value);
    return { name: probe.name, value, ok, detail: `${format(value)} (expected ${probe.tolerance.text})` };
  }

  private evaluate(result: { totals: LoadSummary; phases: Record<string, LoadSummary> } | undefined): CriterionResult[] {
    const run = new Set(this.phases.map((p) => p.name));
    const evidence = {
      totals: result?.totals ?? { sent: 0, ok: 0, failed: 0, availability: 1, ratePerSec: 0, latency: { mean: 0, p50: 0, p95: 0, p99: 0, max: 0 }, errors: {} },
      phases: result?.phases ?? {},
      samples: this.samples,
      ...(this.options.admin === undefined ? { statusUnavailable: "no admin endpoint token was given, so the target's status was not read" } : {}),
    };
    const out: CriterionResult[] = [];
    for (const criterion of this.scenario.criteria) {
      if (criterion.phases !== undefined && !criterion.phases.some((p) => run.has(p))) {
        const at = this.clock.now();
        this.record({ type: 'probe', name: `criterion ${criterion.name}`, status: 'succeeded', output: `skipped: phase ${criterion.phases.join(', ')} not run` }, at, at);
        continue;
      }
      const scoped = criterion.phases === undefined ? criterion : { ...criterion, phases: criterion.phases.filter((p) => run.has(p)) };
      out.push(evaluateCriterion(scoped, evidence));
    }
    return out;
  }

  private timelines(): ScenarioJournal['timelines'] {
    const breakers: ScenarioJournal['timelines']['breakers'] = [];
    const degradation: ScenarioJournal['timelines']['degradation'] = [];
    const lastBreaker = new Map<string, string>();
    let lastLevel: string | undefined;
    for (const sample of this.samples) {
      for (const [name, state] of Object.entries(sample.status.breakers ?? {})) {
        if (typeof state !== 'string' || lastBreaker.get(name) === state) continue;
        lastBreaker.set(name, state);
        breakers.push({ t: sample.t, name, state });
      }
      const level = sample.status.degradation?.level;
      if (typeof level === 'string' && level !== lastLevel) {
        lastLevel = level;
        degradation.push({ t: sample.t, level });
      }
    }
    return { breakers, degradation };
  }
}

function format(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(4).replace(/0+$/, '');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Runs `scenario` once with `options` (see {@link ScenarioRunner}). */
export function runScenario(scenario: Scenario, options: ScenarioRunOptions): Promise<ScenarioJournal> {
  return new ScenarioRunner(scenario, options).run();
}
