import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LinkedAbortController, sleep } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import { TimeoutError } from '../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import type { Runbook, RunbookStep, RunbookTrigger, RunbookVerify } from './runbook.js';
import { conditionHolds } from './runbook-expressions.js';
import { parseRunbook, RunbookLoadError, type RunbookIssue } from './runbook-loader.js';

/**
 * A runbook action (or check): receives the step's `params` as written in YAML and the run's context.
 * Its result is kept in `ctx.results` under the step name; for a check it must be truthy.
 */
export type RunbookAction = (params: Readonly<Record<string, unknown>>, ctx: RunbookActionContext) => unknown;

/** Reads the current value of a metric for `verify: { metric, condition }`. */
export type RunbookMetricReader = () => number | Promise<number>;

/** What started a run. */
export type RunbookRunTrigger =
  | { readonly kind: 'manual' }
  | { readonly kind: 'metric'; readonly metric: string; readonly value: number; readonly condition: string }
  | { readonly kind: 'alert'; readonly alert: string; readonly data: unknown }
  | { readonly kind: 'runbook'; readonly parentRunId: string; readonly step: string };

/** The context an action or check receives. */
export interface RunbookActionContext {
  /** Id of the run, e.g. `run-12`. */
  readonly runId: string;
  /** Runbook name. */
  readonly runbook: string;
  /** Step name. */
  readonly step: string;
  /** What started the run. */
  readonly trigger: RunbookRunTrigger;
  /** Aborted when the step times out or the engine stops; honour it. */
  readonly signal: AbortSignal;
  /** The context given to `run(name, ctx)` (or the alert's data for alert triggers, under `alert`). */
  readonly data: Readonly<Record<string, unknown>>;
  /** Results of the actions of the steps that ran before, by step name. */
  readonly results: Readonly<Record<string, unknown>>;
}

/** How one step ended. `skipped` steps did not run (see `reason`). */
export type RunbookStepOutcome = 'succeeded' | 'failed' | 'skipped';

/** The record of one step of a run. */
export interface RunbookStepRecord {
  /** Position in the runbook, from 0. */
  readonly index: number;
  /** Step name. */
  readonly name: string;
  /** Action called, if any. */
  readonly action: string | undefined;
  /** How it ended. */
  readonly outcome: RunbookStepOutcome;
  /** Why it failed or was skipped. */
  readonly reason: string | undefined;
  /** When it started (clock milliseconds). */
  readonly startedAt: number;
  /** How long it took, in milliseconds (0 for skipped steps). */
  readonly durationMs: number;
  /** Verification attempts made (0 without `verify`). */
  readonly verifyAttempts: number;
  /** Id of the runbook run started by `on_failure: { runbook }`, if any. */
  readonly handoffRunId: string | undefined;
}

/**
 * How a run ended: `succeeded` (no step failed), `failed` (a step failed and the run went on to the end),
 * `aborted` (a failure stopped it), `cancelled` (the engine stopped). `running` while in progress. A run
 * ended by a step with `on_success: complete` (the default for a verified step) counts as `succeeded`
 * even if earlier steps failed: the problem was verified resolved.
 */
export type RunbookRunStatus = 'running' | 'succeeded' | 'failed' | 'aborted' | 'cancelled';

/** The record of one run, step by step. */
export interface RunbookRun {
  /** Unique within the engine, e.g. `run-3`. */
  readonly id: string;
  /** Runbook name. */
  readonly runbook: string;
  /** Where the runbook was loaded from. */
  readonly source: string;
  /** What started it. */
  readonly trigger: RunbookRunTrigger;
  /** Current or final status. */
  readonly status: RunbookRunStatus;
  /** Clock milliseconds. */
  readonly startedAt: number;
  /** Clock milliseconds; undefined while running. */
  readonly endedAt: number | undefined;
  /** Steps recorded so far, in the order they were decided. */
  readonly steps: readonly RunbookStepRecord[];
}

/** Events of a {@link RunbookEngine}. */
export interface RunbookEngineEvents {
  runStarted: { readonly runId: string; readonly runbook: string; readonly trigger: RunbookRunTrigger; readonly startedAt: number };
  stepStarted: { readonly runId: string; readonly runbook: string; readonly index: number; readonly step: string; readonly startedAt: number };
  stepCompleted: { readonly runId: string; readonly runbook: string; readonly step: RunbookStepRecord };
  runCompleted: { readonly run: RunbookRun };
  /** A trigger matched but the runbook was not started. */
  triggerSuppressed: { readonly runbook: string; readonly reason: 'running' | 'cooldown'; readonly trigger: RunbookRunTrigger };
}

/** Options of {@link RunbookEngine}. */
export interface RunbookEngineOptions {
  /** Source of time for waits, timeouts and cooldowns. @default systemClock */
  clock?: Clock;
  /** Milliseconds after a run ends during which triggers do not start the same runbook (a runbook's `cooldown` overrides it). @default 300_000 */
  cooldownMs?: number;
  /** Milliseconds an action or check may take when the step has no `timeout`. @default 60_000 */
  stepTimeoutMs?: number;
  /** Milliseconds between verification retries when a step gives neither `interval` nor `wait`. @default 1_000 */
  verifyIntervalMs?: number;
  /** Finished runs kept by {@link RunbookEngine.getRuns}. @default 100 */
  maxHistory?: number;
  /** Runbooks an engine accepts. @default 1_000 */
  maxRunbooks?: number;
  /** Distinct metric names whose latest value is remembered (least recently updated dropped first). @default 1_000 */
  maxMetrics?: number;
}

const RUN_ERROR_BRAND = Symbol.for('antifragile.RunbookRunError');

/** Raised by {@link RunbookEngine.run} for an unknown runbook or one that is already running. */
export class RunbookRunError extends Error {
  override readonly name: string = 'RunbookRunError';
  /** `RUNBOOK_UNKNOWN` or `RUNBOOK_RUNNING`. */
  readonly code: 'RUNBOOK_UNKNOWN' | 'RUNBOOK_RUNNING';
  constructor(code: 'RUNBOOK_UNKNOWN' | 'RUNBOOK_RUNNING', message: string) {
    super(message);
    this.code = code;
  }
}
Object.defineProperty(RunbookRunError.prototype, RUN_ERROR_BRAND, { value: true });

/** Whether `error` is a {@link RunbookRunError} (from any copy of the package). */
export function isRunbookRunError(error: unknown): error is RunbookRunError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[RUN_ERROR_BRAND] === true;
}

interface MutableRun {
  id: string;
  runbook: Runbook;
  trigger: RunbookRunTrigger;
  status: RunbookRunStatus;
  startedAt: number;
  endedAt: number | undefined;
  steps: RunbookStepRecord[];
  controller: AbortController;
  done: Promise<RunbookRun>;
}

class StepFailure extends Error {}

/**
 * Loads YAML runbooks, starts them on metric conditions and alerts, and runs them step by step: each step
 * calls a registered action (with a timeout), waits (`wait: 30s`, on the clock), verifies (a metric
 * condition or a registered check, with `retries`); a verified step ends the run as resolved (unless
 * `on_success: continue`), and a failed step continues (the default, as in the seed's healing loop),
 * aborts, jumps forward to a step or hands over to another runbook. Steps with `condition: all_steps_failed` run only if every
 * previous step that ran failed (they are reached even after an abort). A runbook never runs twice at once,
 * triggers respect a cooldown, and every run is recorded step by step (events and {@link getRuns}).
 *
 * @example
 * ```ts
 * const engine = new RunbookEngine();
 * engine.registerAction('database.killIdleConnections', ({ idle_time }) => pool.killIdle(idle_time));
 * engine.registerAction('pagerduty.alert', (params) => pager.send(params));
 * await engine.loadFile('runbooks/db-connection-pool.yaml');
 * engine.onMetric('db_connections_available', 3); // "< 5": the runbook starts
 * ```
 */
export class RunbookEngine {
  private readonly clock: Clock;
  private readonly cooldownMs: number;
  private readonly stepTimeoutMs: number;
  private readonly verifyIntervalMs: number;
  private readonly maxHistory: number;
  private readonly maxRunbooks: number;
  private readonly maxMetrics: number;
  private readonly events = new EventEmitter<RunbookEngineEvents>('runbook-engine', 'runbooks');
  private readonly actions = new Map<string, RunbookAction>();
  private readonly checks = new Map<string, RunbookAction>();
  private readonly metricReaders = new Map<string, RunbookMetricReader>();
  private readonly metricValues = new Map<string, number>();
  private readonly runbooks = new Map<string, Runbook>();
  private readonly running = new Map<string, MutableRun>();
  private readonly lastEndedAt = new Map<string, number>();
  private readonly history: RunbookRun[] = [];
  private nextRunId = 1;

  constructor(options: RunbookEngineOptions = {}) {
    const v = new OptionsValidator('RunbookEngine');
    if (v.object('options', options)) {
      v.clock('clock', options.clock);
      v.duration('cooldownMs', options.cooldownMs);
      v.duration('stepTimeoutMs', options.stepTimeoutMs, true);
      v.duration('verifyIntervalMs', options.verifyIntervalMs);
      v.integer('maxHistory', options.maxHistory, 0);
      v.integer('maxRunbooks', options.maxRunbooks, 1);
      v.integer('maxMetrics', options.maxMetrics, 0);
    }
    v.throwIfInvalid();
    this.clock = options.clock ?? systemClock;
    this.cooldownMs = options.cooldownMs ?? 300_000;
    this.stepTimeoutMs = options.stepTimeoutMs ?? 60_000;
    this.verifyIntervalMs = options.verifyIntervalMs ?? 1_000;
    this.maxHistory = options.maxHistory ?? 100;
    this.maxRunbooks = options.maxRunbooks ?? 1_000;
    this.maxMetrics = options.maxMetrics ?? 1_000;
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof RunbookEngineEvents>(event: K, listener: Listener<RunbookEngineEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Registers (or replaces) an action runbooks can name in `action:` or `verify.check:`. Register before loading. */
  registerAction(name: string, fn: RunbookAction): this {
    this.checkRegistration('registerAction', name, fn);
    this.actions.set(name, fn);
    return this;
  }

  /** Registers (or replaces) a check for `verify: { check: name }`; its result must be truthy. */
  registerCheck(name: string, fn: RunbookAction): this {
    this.checkRegistration('registerCheck', name, fn);
    this.checks.set(name, fn);
    return this;
  }

  /** Registers a reader for a metric used in `verify: { metric }`; without one, the latest `onMetric` value is used. */
  registerMetric(name: string, reader: RunbookMetricReader): this {
    this.checkRegistration('registerMetric', name, reader);
    this.metricReaders.set(name, reader);
    return this;
  }

  /**
   * Parses, validates and adds a runbook. Loading a runbook with the name of one from the same source
   * replaces it.
   * @param sourceName used in error messages, e.g. the file name.
   * @throws RunbookLoadError listing every problem as `source:line: path: message`.
   */
  loadString(text: string, sourceName = '<string>'): Runbook {
    const runbook = parseRunbook(text, sourceName, {
      actions: [...this.actions.keys()],
      checks: [...this.checks.keys()],
      defaultVerifyIntervalMs: this.verifyIntervalMs,
    });
    const existing = this.runbooks.get(runbook.name);
    if (existing !== undefined && existing.source !== sourceName) {
      throw new RunbookLoadError(sourceName, [
        { source: sourceName, line: 1, path: 'name', message: `runbook "${runbook.name}" is already loaded from ${existing.source}` },
      ]);
    }
    if (existing === undefined && this.runbooks.size >= this.maxRunbooks) {
      throw new RunbookLoadError(sourceName, [
        { source: sourceName, line: 1, path: 'name', message: `the engine holds its maximum of ${this.maxRunbooks} runbooks` },
      ]);
    }
    this.runbooks.set(runbook.name, runbook);
    return runbook;
  }

  /** Reads and loads one YAML file; errors name the path as given. */
  async loadFile(path: string): Promise<Runbook> {
    const text = await readFile(path, 'utf8');
    return this.loadString(text, path);
  }

  /**
   * Loads every `.yaml` / `.yml` file of a directory (sorted by name). Problems in several files are
   * reported together in one {@link RunbookLoadError}; the valid files are loaded.
   */
  async loadDirectory(dir: string): Promise<Runbook[]> {
    const names = (await readdir(dir)).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort();
    const loaded: Runbook[] = [];
    const issues: RunbookIssue[] = [];
    for (const name of names) {
      try {
        loaded.push(await this.loadFile(join(dir, name)));
      } catch (error) {
        if (!(error instanceof RunbookLoadError)) throw error;
        issues.push(...error.issues);
      }
    }
    if (issues.length > 0) throw new RunbookLoadError(dir, issues);
    return loaded;
  }

  /** The loaded runbook called `name`. */
  getRunbook(name: string): Runbook | undefined {
    return this.runbooks.get(name);
  }

  /** Every loaded runbook. */
  listRunbooks(): Runbook[] {
    return [...this.runbooks.values()];
  }

  /** Removes a runbook (a run in progress finishes). Returns whether it was loaded. */
  unload(name: string): boolean {
    this.lastEndedAt.delete(name);
    return this.runbooks.delete(name);
  }

  /**
   * Records a metric value and starts every runbook with a trigger on it whose condition holds (unless it is
   * running or cooling down). Returns the ids of the runs started.
   */
  onMetric(name: string, value: number): string[] {
    this.metricValues.delete(name);
    if (this.maxMetrics > 0) {
      if (this.metricValues.size >= this.maxMetrics) {
        const oldest = this.metricValues.keys().next().value;
        if (oldest !== undefined) this.metricValues.delete(oldest);
      }
      this.metricValues.set(name, value);
    }
    const started: string[] = [];
    for (const runbook of this.runbooks.values()) {
      const trigger = runbook.triggers.find(
        (t): t is Extract<RunbookTrigger, { kind: 'metric' }> => t.kind === 'metric' && t.metric === name && conditionHolds(t.condition, value),
      );
      if (trigger === undefined) continue;
      const id = this.startTriggered(runbook, { kind: 'metric', metric: name, value, condition: trigger.condition.text }, {});
      if (id !== undefined) started.push(id);
    }
    return started;
  }

  /** Starts every runbook triggered by alert `name` (unless running or cooling down); `data` reaches actions as `ctx.data.alert`. Returns the run ids. */
  onAlert(name: string, data?: unknown): string[] {
    const started: string[] = [];
    for (const runbook of this.runbooks.values()) {
      if (!runbook.triggers.some((t) => t.kind === 'alert' && t.alert === name)) continue;
      const id = this.startTriggered(runbook, { kind: 'alert', alert: name, data }, { alert: data });
      if (id !== undefined) started.push(id);
    }
    return started;
  }

  /**
   * Runs a runbook now (cooldown does not apply) and resolves with its record once it ends, whatever its
   * status.
   * @param ctx reaches every action as `ctx.data`.
   * @throws RunbookRunError if the runbook is unknown or already running.
   */
  run(name: string, ctx: Readonly<Record<string, unknown>> = {}): Promise<RunbookRun> {
    const runbook = this.runbooks.get(name);
    if (runbook === undefined) return Promise.reject(new RunbookRunError('RUNBOOK_UNKNOWN', `Unknown runbook "${name}"`));
    if (this.running.has(name)) return Promise.reject(new RunbookRunError('RUNBOOK_RUNNING', `Runbook "${name}" is already running`));
    return this.start(runbook, { kind: 'manual' }, ctx).done;
  }

  /** Whether `name` is running. */
  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  /** Finished runs (oldest first, at most `maxHistory`) followed by the runs in progress. Snapshots. */
  getRuns(): RunbookRun[] {
    return [...this.history, ...[...this.running.values()].map(snapshot)];
  }

  /** Latest value recorded for a metric by {@link onMetric}. */
  getMetric(name: string): number | undefined {
    return this.metricValues.get(name);
  }

  /** Cancels every run in progress (their waits and actions are aborted) and resolves once they have ended. */
  async stop(): Promise<void> {
    const runs = [...this.running.values()];
    for (const run of runs) run.controller.abort(new Error('RunbookEngine stopped'));
    await Promise.all(runs.map((r) => r.done));
  }

  private checkRegistration(method: string, name: string, fn: unknown): void {
    const v = new OptionsValidator(`RunbookEngine.${method}`);
    if (typeof name !== 'string' || name === '') v.fail('name', 'a non-empty string', name);
    if (typeof fn !== 'function') v.fail('fn', 'a function', fn);
    v.throwIfInvalid();
  }

  private startTriggered(runbook: Runbook, trigger: RunbookRunTrigger, data: Record<string, unknown>): string | undefined {
    if (this.running.has(runbook.name)) {
      this.events.emit('triggerSuppressed', { runbook: runbook.name, reason: 'running', trigger });
      return undefined;
    }
    const endedAt = this.lastEndedAt.get(runbook.name);
    const cooldownMs = runbook.cooldownMs ?? this.cooldownMs;
    if (endedAt !== undefined && this.clock.now() - endedAt < cooldownMs) {
      this.events.emit('triggerSuppressed', { runbook: runbook.name, reason: 'cooldown', trigger });
      return undefined;
    }
    return this.start(runbook, trigger, data).id;
  }

  private start(runbook: Runbook, trigger: RunbookRunTrigger, data: Readonly<Record<string, unknown>>): MutableRun {
    const run: MutableRun = {
      id: `run-${this.nextRunId++}`,
      runbook,
      trigger,
      status: 'running',
      startedAt: this.clock.now(),
      endedAt: undefined,
      steps: [],
      controller: new AbortController(),
      done: undefined as unknown as Promise<RunbookRun>,
    };
    this.running.set(runbook.name, run);
    this.events.emit('runStarted', { runId: run.id, runbook: runbook.name, trigger, startedAt: run.startedAt });
    run.done = this.execute(run, data);
    return run;
  }

  private async execute(run: MutableRun, data: Readonly<Record<string, unknown>>): Promise<RunbookRun> {
    const { runbook } = run;
    const signal = run.controller.signal;
    const results: Record<string, unknown> = {};
    let aborted = false;
    let completed = false;
    let jumpTo: number | undefined;
    let anyFailed = false;
    // Let the caller of run()/onMetric() subscribe to the run before its first step starts.
    await Promise.resolve();
    for (let index = 0; index < runbook.steps.length; index++) {
      const step = runbook.steps[index] as RunbookStep;
      const skip = signal.aborted
        ? 'cancelled'
        : completed
          ? 'run completed: an earlier step resolved the problem'
          : jumpTo !== undefined && index < jumpTo
          ? 'jumped over by on_failure'
          : step.condition !== undefined
            ? this.guardSkipReason(step, run.steps)
            : aborted
              ? 'run aborted'
              : undefined;
      if (index === jumpTo) jumpTo = undefined;
      if (skip !== undefined) {
        this.record(run, { index, name: step.name, action: step.action, outcome: 'skipped', reason: skip, startedAt: this.clock.now(), durationMs: 0, verifyAttempts: 0, handoffRunId: undefined });
        continue;
      }
      const ctx: RunbookActionContext = { runId: run.id, runbook: runbook.name, step: step.name, trigger: run.trigger, signal, data, results };
      const outcome = await this.runStep(run, index, step, ctx);
      if (outcome.result !== undefined) results[step.name] = outcome.result;
      let handoffRunId: string | undefined;
      if (!outcome.failed && step.onSuccess === 'complete') completed = true;
      if (outcome.failed && !signal.aborted) {
        anyFailed = true;
        const onFailure = step.onFailure;
        if (onFailure.kind === 'abort') aborted = true;
        else if (onFailure.kind === 'step') jumpTo = runbook.steps.findIndex((s) => s.name === onFailure.step);
        else if (onFailure.kind === 'runbook') {
          handoffRunId = this.handOver(run, step, onFailure.runbook);
          if (handoffRunId !== undefined) {
            const child = this.running.get(onFailure.runbook);
            if (child !== undefined) await child.done;
          }
          if (onFailure.then === 'abort') aborted = true;
        }
      }
      this.record(run, {
        index,
        name: step.name,
        action: step.action,
        outcome: outcome.failed ? 'failed' : 'succeeded',
        reason: outcome.reason,
        startedAt: outcome.startedAt,
        durationMs: outcome.endedAt - outcome.startedAt,
        verifyAttempts: outcome.verifyAttempts,
        handoffRunId,
      });
    }
    run.status = signal.aborted ? 'cancelled' : completed ? 'succeeded' : aborted ? 'aborted' : anyFailed ? 'failed' : 'succeeded';
    run.endedAt = this.clock.now();
    this.running.delete(runbook.name);
    if (this.runbooks.get(runbook.name) === runbook) this.lastEndedAt.set(runbook.name, run.endedAt);
    const final = snapshot(run);
    if (this.maxHistory > 0) {
      if (this.history.length >= this.maxHistory) this.history.shift();
      this.history.push(final);
    }
    this.events.emit('runCompleted', { run: final });
    return final;
  }

  private guardSkipReason(step: RunbookStep, previous: readonly RunbookStepRecord[]): string | undefined {
    const ran = previous.filter((s) => s.outcome !== 'skipped');
    const failed = ran.filter((s) => s.outcome === 'failed').length;
    if (step.condition === 'all_steps_failed') {
      return ran.length > 0 && failed === ran.length ? undefined : 'condition all_steps_failed not met';
    }
    return failed > 0 ? undefined : 'condition any_step_failed not met';
  }

  private handOver(run: MutableRun, step: RunbookStep, name: string): string | undefined {
    const target = this.runbooks.get(name);
    if (target === undefined || this.running.has(name)) return undefined;
    return this.start(target, { kind: 'runbook', parentRunId: run.id, step: step.name }, {}).id;
  }

  private async runStep(
    run: MutableRun,
    index: number,
    step: RunbookStep,
    ctx: RunbookActionContext,
  ): Promise<{ failed: boolean; reason: string | undefined; result: unknown; startedAt: number; endedAt: number; verifyAttempts: number }> {
    const startedAt = this.clock.now();
    this.events.emit('stepStarted', { runId: run.id, runbook: run.runbook.name, index, step: step.name, startedAt });
    let result: unknown;
    let verifyAttempts = 0;
    try {
      if (step.action !== undefined) {
        const action = this.actions.get(step.action);
        if (action === undefined) throw new StepFailure(`action "${step.action}" is not registered`);
        result = await this.call(action, step.params, ctx, step.timeoutMs ?? this.stepTimeoutMs);
      }
      if (step.waitMs > 0) await sleep(this.clock, step.waitMs, ctx.signal);
      if (step.verify !== undefined) {
        const verify = step.verify;
        let failure = '';
        for (let attempt = 0; attempt <= verify.retries; attempt++) {
          if (attempt > 0) await sleep(this.clock, verify.intervalMs, ctx.signal);
          verifyAttempts++;
          failure = await this.verifyOnce(verify, step, ctx);
          if (failure === '') break;
        }
        if (failure !== '') throw new StepFailure(failure);
      }
      return { failed: false, reason: undefined, result, startedAt, endedAt: this.clock.now(), verifyAttempts };
    } catch (error) {
      const reason = error instanceof StepFailure ? error.message : `${step.action === undefined ? 'step' : `action "${step.action}"`} failed: ${message(error)}`;
      return { failed: true, reason, result, startedAt, endedAt: this.clock.now(), verifyAttempts };
    }
  }

  /** '' when verification passed, else why it failed. */
  private async verifyOnce(verify: RunbookVerify, step: RunbookStep, ctx: RunbookActionContext): Promise<string> {
    const timeoutMs = step.timeoutMs ?? this.stepTimeoutMs;
    if (verify.kind === 'check') {
      const check = this.checks.get(verify.check) ?? this.actions.get(verify.check);
      if (check === undefined) return `verification failed: check "${verify.check}" is not registered`;
      try {
        const ok: unknown = await this.call(check, verify.params, ctx, timeoutMs);
        return ok ? '' : `verification failed: check "${verify.check}" returned ${String(ok)}`;
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        return `verification failed: check "${verify.check}" threw: ${message(error)}`;
      }
    }
    let value: number | undefined;
    const reader = this.metricReaders.get(verify.metric);
    if (reader !== undefined) {
      try {
        value = await this.call(() => reader(), {}, ctx, timeoutMs) as number;
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        return `verification failed: reading metric "${verify.metric}" threw: ${message(error)}`;
      }
    } else value = this.metricValues.get(verify.metric);
    if (typeof value !== 'number') return `verification failed: no value for metric "${verify.metric}"`;
    return conditionHolds(verify.condition, value)
      ? ''
      : `verification failed: ${verify.metric} = ${value}, expected ${verify.condition.text}`;
  }

  /** Calls `fn` with a step timeout, aborting `ctx.signal` for it on timeout or engine stop. */
  private async call(fn: RunbookAction, params: Readonly<Record<string, unknown>>, ctx: RunbookActionContext, timeoutMs: number): Promise<unknown> {
    const controller = new LinkedAbortController(ctx.signal);
    const timer = this.clock.schedule(() => controller.abort(new TimeoutError(timeoutMs)), timeoutMs);
    let onAbort: (() => void) | undefined;
    try {
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(controller.signal.reason);
        if (controller.signal.aborted) onAbort();
        else controller.signal.addEventListener('abort', onAbort, { once: true });
      });
      const work = Promise.resolve().then(() => fn(params, { ...ctx, signal: controller.signal }));
      work.catch(() => undefined); // the race below may settle first; never leave it unhandled
      return await Promise.race([work, aborted]);
    } finally {
      timer.cancel();
      if (onAbort !== undefined) controller.signal.removeEventListener('abort', onAbort);
      controller.dispose();
    }
  }

  private record(run: MutableRun, step: RunbookStepRecord): void {
    run.steps.push(step);
    this.events.emit('stepCompleted', { runId: run.id, runbook: run.runbook.name, step });
  }
}

function snapshot(run: MutableRun): RunbookRun {
  return {
    id: run.id,
    runbook: run.runbook.name,
    source: run.runbook.source,
    trigger: run.trigger,
    status: run.status,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    steps: [...run.steps],
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
