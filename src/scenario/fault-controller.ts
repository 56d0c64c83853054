import { randomUUID } from 'node:crypto';
import type { TargetStatus } from '../adapters/http/chaos-admin-handler.js';
import type { FaultSpec } from '../chaos/fault-spec.js';
import type { Clock } from '../core/clock.js';
import type { ChaosAdminApi } from './chaos-admin-client.js';
import type { FaultWindow } from './journal.js';
import type { ProxyToxicApi } from './proxy-api-client.js';
import type { ScenarioFault } from './scenario.js';
import { SEED_DEFAULT_BASELINE_LATENCY_MS } from './seed-scenario-mapping.js';
import { isTargetRequestError } from './target-request-error.js';

/** Extra time a fault injected through the admin endpoint lives past its phase's planned end, ms. */
export const FAULT_SAFETY_MARGIN_MS = 60_000;
/** Longest `durationMs` given to a resource fault (the built-in CPU and memory pressures accept at most one hour), ms. */
export const MAX_RESOURCE_FAULT_MS = 3_600_000;

/** What applying a fault needs to know about the run. */
export interface FaultApplyContext {
  /** Time left in the phase (scaled), ms: faults expire by themselves this long plus a margin later. */
  phaseRemainingMs: number;
  /** `--time-scale`: a fault's own `durationMs` is divided by it. */
  timeScale: number;
  /** Median latency of the load so far, ms (0 when none finished): the slowdown baseline of last resort. */
  loadMedianMs: number;
}

/** A fault of the scenario as applied to the target: the undo steps of each part. */
export interface AppliedFault {
  readonly fault: ScenarioFault;
  /** Clock time it was applied. */
  readonly startedAt: number;
  /** What was done, for the journal (ids, resolved dependencies, latency). */
  readonly output: Record<string, unknown>;
  /** Warnings (a dependency the target does not list...). */
  readonly warnings: string[];
}

/** One undo step; `faultId` / `resourceId` name what it removes at the target, so that a sweep can settle it. */
interface UndoStep {
  what: string;
  run: (signal?: AbortSignal) => Promise<unknown>;
  faultId?: string;
  resourceId?: string;
}

interface Entry {
  applied: AppliedFault;
  undo: UndoStep[];
  endedAt: number | undefined;
}

/** What a {@link FaultController.sweep} did: the faults it removed and the problems met. */
export interface SweepResult {
  /** What was removed (`fault <id> on <dependency>`, `resource fault <id>`). */
  removed: string[];
  /** What could not be done, and why. */
  problems: { what: string; error: string }[];
}

/** One step of an {@link FaultController.emergencyCleanup}. */
export interface EmergencyCleanupStep {
  what: string;
  ok: boolean;
  /** Why it failed (or `no answer within <n> ms`). */
  error?: string;
}

/**
 * Applies the faults of a scenario to a target (through its chaos admin endpoint, or the fault proxy) and
 * takes them out again: each fault's parts are undone in reverse order, and {@link rollback} undoes every
 * fault still applied, newest first, whatever failed before. Faults injected through the admin endpoint
 * also carry a `durationMs` (the phase's time plus {@link FAULT_SAFETY_MARGIN_MS}; at most
 * {@link MAX_RESOURCE_FAULT_MS} for resource faults), so they expire by themselves even if the runner dies
 * before removing them. A fault's own `durationMs` is divided by the time scale instead.
 *
 * With a `tag`, every fault and resource fault it asks the admin endpoint for carries it, and {@link sweep}
 * removes whatever the target lists with that tag: also a fault whose injection request timed out after the
 * target had accepted it, which no id could reach.
 */
export class FaultController {
  private readonly entries: Entry[] = [];
  /** Entries whose `apply` is under way (their undo steps may already name something to remove). */
  private readonly applying = new Set<Entry>();
  /** Whether anything was asked of the admin endpoint (else a sweep has nothing to look for). */
  private usedAdmin = false;
  private unanswered = false;
  private readonly now: () => number;

  constructor(
    private readonly admin: ChaosAdminApi | undefined,
    private readonly proxy: ProxyToxicApi | undefined,
    private readonly clock: Clock,
    /** Tag carried by every fault injected through the admin endpoint (the run's). */
    readonly tag?: string,
  ) {
    this.now = () => clock.now();
  }

  /**
   * Whether a request to inject a fault went without an answer (timed out, connection lost) since the last
   * complete {@link sweep}: the target may then apply a fault that only the tag can find.
   */
  get uncertain(): boolean {
    return this.unanswered;
  }

  /** Faults applied and not yet removed, oldest first. */
  get active(): AppliedFault[] {
    return this.entries.filter((e) => e.endedAt === undefined).map((e) => e.applied);
  }

  /**
   * Applies `fault`. When a part fails, the parts already applied are undone before the error is thrown.
   * Requests are not cancelled by an interrupt (each is bounded by the client's timeout), so that a fault
   * the target accepted is always known and can be removed.
   * @throws Error (or TargetRequestError) saying what could not be applied.
   */
  async apply(fault: ScenarioFault, context: FaultApplyContext): Promise<AppliedFault> {
    const entry: Entry = { applied: { fault, startedAt: this.now(), output: {}, warnings: [] }, undo: [], endedAt: undefined };
    this.applying.add(entry);
    try {
      await this.applyParts(fault, entry, context);
    } catch (error) {
      await this.undo(entry);
      throw error;
    } finally {
      this.applying.delete(entry);
    }
    this.entries.push(entry);
    return entry.applied;
  }

  /** Removes an applied fault (its parts in reverse order); returns the problems met, if any. */
  async remove(applied: AppliedFault): Promise<string[]> {
    const entry = this.entries.find((e) => e.applied === applied);
    if (entry === undefined || entry.endedAt !== undefined) return [];
    return this.undo(entry);
  }

  /** Removes every fault still applied, newest first; returns per fault the problems met. */
  async rollback(): Promise<{ applied: AppliedFault; problems: string[] }[]> {
    const out: { applied: AppliedFault; problems: string[] }[] = [];
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i] as Entry;
      if (entry.endedAt !== undefined) continue;
      out.push({ applied: entry.applied, problems: await this.undo(entry) });
    }
    return out;
  }

  /**
   * Removes every fault and resource fault the target lists with this controller's {@link tag} (nothing
   * without a tag, or when nothing was injected through the admin endpoint). Undo steps of faults that the
   * target no longer lists are settled, so a fault removed here no longer counts as {@link active}.
   */
  async sweep(signal?: AbortSignal): Promise<SweepResult> {
    const result: SweepResult = { removed: [], problems: [] };
    const admin = this.admin;
    const tag = this.tag;
    if (admin === undefined || tag === undefined || !this.usedAdmin) return result;
    let state: Awaited<ReturnType<ChaosAdminApi['state']>>;
    try {
      state = await admin.state(signal);
    } catch (error) {
      result.problems.push({ what: `list the faults tagged ${tag}`, error: messageOf(error) });
      return result;
    }
    const faults = Array.isArray(state.faults) ? state.faults : [];
    const resources = Array.isArray(state.resources) ? state.resources : [];
    const left = { faults: new Set(faults.map((f) => f.id)), resources: new Set(resources.map((r) => r.id)) };
    for (const fault of faults) {
      if (fault.tag !== tag) continue;
      try {
        await admin.removeFault(fault.id, signal);
        left.faults.delete(fault.id);
        result.removed.push(`fault ${fault.id} on ${fault.dependency}`);
      } catch (error) {
        result.problems.push({ what: `remove fault ${fault.id} on ${fault.dependency}`, error: messageOf(error) });
      }
    }
    for (const resource of resources) {
      if (resource.tag !== tag) continue;
      try {
        await admin.stopResource(resource.id, signal);
        left.resources.delete(resource.id);
        result.removed.push(`resource fault ${resource.id}`);
      } catch (error) {
        result.problems.push({ what: `stop resource fault ${resource.id}`, error: messageOf(error) });
      }
    }
    for (const entry of this.entries) {
      if (entry.endedAt !== undefined) continue;
      entry.undo = entry.undo.filter(
        (step) => !((step.faultId !== undefined && !left.faults.has(step.faultId)) || (step.resourceId !== undefined && !left.resources.has(step.resourceId))),
      );
      if (entry.undo.length === 0) entry.endedAt = this.now();
    }
    if (result.problems.length === 0) this.unanswered = false;
    return result;
  }

  /**
   * Last-resort cleanup for a process about to exit (a second Ctrl-C): runs at once and side by side every
   * undo step still pending, also of faults being applied (a toxic whose addition is under way is removed by
   * its name), and a {@link sweep}; resolves within `timeoutMs` whatever the target does, with what each step
   * did. Requests still running then are aborted. Safe to call while an orderly removal is under way (a fault
   * already gone counts as removed).
   */
  async emergencyCleanup(timeoutMs: number): Promise<{ steps: EmergencyCleanupStep[]; timedOut: boolean }> {
    const deadline = new AbortController();
    const timeoutMessage = `no answer within ${timeoutMs} ms`;
    let timedOut = false;
    let release: () => void = () => undefined;
    const expired = new Promise<void>((resolve) => (release = resolve));
    const timer = this.clock.schedule(() => {
      timedOut = true;
      deadline.abort(new Error(timeoutMessage));
      release();
    }, timeoutMs);
    const steps: EmergencyCleanupStep[] = [];
    const pending = [...this.applying, ...this.entries.filter((e) => e.endedAt === undefined)].flatMap((e) => e.undo);
    const track = async (what: string, run: () => Promise<unknown>): Promise<void> => {
      const step: EmergencyCleanupStep = { what, ok: false, error: timeoutMessage };
      steps.push(step);
      try {
        await run();
        step.ok = true;
        delete step.error;
      } catch (error) {
        step.error = deadline.signal.aborted ? timeoutMessage : messageOf(error);
      }
    };
    const work = Promise.all([
      ...pending.map((step) => track(step.what, () => step.run(deadline.signal))),
      this.admin === undefined || this.tag === undefined || !this.usedAdmin
        ? Promise.resolve()
        : track(`remove every fault tagged ${this.tag}`, async () => {
            const swept = await this.sweep(deadline.signal);
            for (const what of swept.removed) steps.push({ what: `remove ${what} (tagged ${this.tag as string})`, ok: true });
            if (swept.problems.length > 0) throw new Error(swept.problems.map((p) => `${p.what}: ${p.error}`).join('; '));
          }),
    ]);
    try {
      await Promise.race([work, expired]);
    } finally {
      timer.cancel();
      deadline.abort(new Error(timeoutMessage));
    }
    return { steps: steps.map((s) => ({ ...s })), timedOut };
  }

  /** When each fault was active, in clock time (end = now for faults still active). */
  windows(): (Omit<FaultWindow, 'startMs' | 'endMs'> & { startedAt: number; endedAt: number })[] {
    return this.entries.map(({ applied, endedAt }) => ({
      name: applied.fault.name,
      kind: kindOf(applied.fault),
      target: targetOf(applied.fault),
      startedAt: applied.startedAt,
      endedAt: endedAt ?? this.now(),
    }));
  }

  /**
   * Runs the undo steps of `entry` in reverse order. A step that fails stays pending (the fault stays
   * active) so that {@link rollback} tries it again; each attempt's problems are returned.
   */
  private async undo(entry: Entry): Promise<string[]> {
    const problems: string[] = [];
    const failed: UndoStep[] = [];
    for (let i = entry.undo.length - 1; i >= 0; i--) {
      const step = entry.undo[i] as UndoStep;
      try {
        await step.run();
      } catch (error) {
        problems.push(`${step.what}: ${error instanceof Error ? error.message : String(error)}`);
        failed.unshift(step);
      }
    }
    entry.undo = failed;
    if (failed.length === 0) entry.endedAt = this.now();
    return problems;
  }

  private requireAdmin(fault: ScenarioFault): ChaosAdminApi {
    if (this.admin === undefined) throw new Error(`fault ${fault.name} needs the target's chaos admin endpoint (give a token)`);
    return this.admin;
  }

  private async inject(entry: Entry, dependency: string, spec: Exclude<FaultSpec, { kind: 'behavior' }>, context: FaultApplyContext): Promise<string> {
    const admin = this.requireAdmin(entry.applied.fault);
    const durationMs =
      spec.durationMs === undefined
        ? Math.ceil(context.phaseRemainingMs + FAULT_SAFETY_MARGIN_MS)
        : Math.max(1, Math.round(spec.durationMs / context.timeScale));
    this.usedAdmin = true;
    const active = await this.unanswerable(admin.injectFault(dependency, { ...spec, durationMs }, undefined, this.tag));
    entry.undo.push({ what: `remove fault ${active.id} on ${dependency}`, run: (signal) => admin.removeFault(active.id, signal), faultId: active.id });
    return active.id;
  }

  /** `request`, noting when it fails without an answer from the target (see {@link uncertain}). */
  private async unanswerable<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      if (!isTargetRequestError(error) || error.status === 0) this.unanswered = true;
      throw error;
    }
  }

  private async applyParts(fault: ScenarioFault, entry: Entry, context: FaultApplyContext): Promise<void> {
    const output = entry.applied.output;
    switch (fault.type) {
      case 'dependency': {
        const known = await this.dependencies(fault);
        if (!known.includes(fault.dependency)) entry.applied.warnings.push(`the target lists no dependency "${fault.dependency}" (it lists ${known.join(', ') || 'none'}): the fault may reach no call`);
        output.id = await this.inject(entry, fault.dependency, fault.fault, context);
        output.dependency = fault.dependency;
        output.fault = fault.fault;
        return;
      }
      case 'resource': {
        const admin = this.requireAdmin(fault);
        const spec = { ...fault.resource };
        if (typeof spec.durationMs === 'number') spec.durationMs = Math.max(1, Math.round(spec.durationMs / context.timeScale));
        else spec.durationMs = Math.min(MAX_RESOURCE_FAULT_MS, Math.ceil(context.phaseRemainingMs + FAULT_SAFETY_MARGIN_MS));
        this.usedAdmin = true;
        const started = await this.unanswerable(admin.startResource(spec, undefined, this.tag));
        entry.undo.push({ what: `stop resource fault ${started.id}`, run: (signal) => admin.stopResource(started.id, signal), resourceId: started.id });
        output.id = started.id;
        output.resource = spec;
        return;
      }
      case 'proxy': {
        if (this.proxy === undefined) throw new Error(`fault ${fault.name} needs the fault proxy's API (target.proxyApi or --proxy-api)`);
        const proxy = this.proxy;
        const toxicName = `antifragile-${fault.name.replace(/[^\w-]+/g, '-').replace(/^-+|-+$/g, '')}-${randomUUID().slice(0, 8)}`;
        // Undo first: if the answer is lost after the proxy added the toxic, the name still finds it.
        entry.undo.push({ what: `remove toxic ${toxicName} of proxy ${fault.proxy}`, run: (signal) => proxy.removeToxic(fault.proxy, toxicName, signal) });
        await proxy.addToxic(fault.proxy, toxicName, fault.toxic);
        output.proxy = fault.proxy;
        output.toxic = { name: toxicName, ...fault.toxic };
        return;
      }
      case 'region': {
        const admin = this.requireAdmin(fault);
        const status = await admin.status();
        const regions = regionsOf(status);
        let dependencies: string[];
        if (regions === undefined) {
          dependencies = await this.dependencies(fault);
          entry.applied.warnings.push(`the target does not report regions: every dependency is taken down`);
        } else {
          const listed = regions[fault.region];
          if (listed === undefined) throw new Error(`the target knows regions ${Object.keys(regions).join(', ') || '(none)'}, not "${fault.region}"`);
          dependencies = listed;
        }
        if (dependencies.length === 0) throw new Error(`region ${fault.region}: the target lists no dependency to take down`);
        const ids: string[] = [];
        for (const dependency of dependencies) {
          ids.push(await this.inject(entry, dependency, { kind: 'error', rate: 1, message: `antifragile: region ${fault.region} is down` }, context));
        }
        output.region = fault.region;
        output.dependencies = dependencies;
        output.ids = ids;
        return;
      }
      case 'slowdown': {
        const admin = this.requireAdmin(fault);
        const status = await admin.status();
        const reported = status.metrics?.[`${fault.dependency}_latency_ms`];
        let baselineMs: number;
        let source: string;
        if (typeof reported === 'number' && Number.isFinite(reported) && reported > 0) {
          baselineMs = reported;
          source = `metrics.${fault.dependency}_latency_ms`;
        } else if (context.loadMedianMs > 0) {
          baselineMs = context.loadMedianMs;
          source = 'median latency of the load so far';
        } else {
          baselineMs = SEED_DEFAULT_BASELINE_LATENCY_MS;
          source = 'default';
        }
        const latencyMs = Math.max(1, Math.round(fault.factor * baselineMs));
        const known = await this.dependencies(fault);
        if (!known.includes(fault.dependency)) entry.applied.warnings.push(`the target lists no dependency "${fault.dependency}" (it lists ${known.join(', ') || 'none'}): the fault may reach no call`);
        output.id = await this.inject(entry, fault.dependency, { kind: 'latency', latencyMs }, context);
        output.dependency = fault.dependency;
        output.latencyMs = latencyMs;
        output.baseline = { ms: baselineMs, source };
        return;
      }
    }
  }

  private async dependencies(fault: ScenarioFault): Promise<string[]> {
    const state = await this.requireAdmin(fault).state();
    return Array.isArray(state.dependencies) ? state.dependencies : [];
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The `regions` map of a target status (`{ 'us-east-1': ['payment', 'database'] }`), when it has a valid one. */
function regionsOf(status: TargetStatus): Record<string, string[]> | undefined {
  const regions = status.regions;
  if (typeof regions !== 'object' || regions === null || Array.isArray(regions)) return undefined;
  const out: Record<string, string[]> = {};
  for (const [name, deps] of Object.entries(regions)) {
    if (Array.isArray(deps) && deps.every((d) => typeof d === 'string')) out[name] = deps as string[];
  }
  return out;
}

/** The journal's `kind` of a fault. */
export function kindOf(fault: ScenarioFault): string {
  switch (fault.type) {
    case 'dependency':
      return fault.fault.kind;
    case 'resource':
      return `resource:${fault.resource.kind}`;
    case 'proxy':
      return `toxic:${fault.toxic.type}`;
    case 'region':
      return 'region-outage';
    case 'slowdown':
      return 'latency';
  }
}

/** The journal's `target` of a fault: the dependency, resource kind, proxy or region it hits. */
export function targetOf(fault: ScenarioFault): string {
  switch (fault.type) {
    case 'dependency':
    case 'slowdown':
      return fault.dependency;
    case 'resource':
      return fault.resource.kind;
    case 'proxy':
      return fault.proxy;
    case 'region':
      return fault.region;
  }
}
