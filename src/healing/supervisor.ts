import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import type { RestartRequester } from './health-source.js';
import { SupervisorRestartBackoff } from './supervisor-restart-backoff.js';
import { DRAIN_MESSAGE_TYPE, GRACEFUL_SHUTDOWN_MESSAGE_TYPE, ROLLING_RESTART_MESSAGE_TYPE } from './supervisor-worker.js';

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  /** Path of the worker script (what `cluster.setupPrimary({ exec })` takes). Required. */
  exec: string;
  /** Arguments passed to each worker. @default [] */
  args?: readonly string[];
  /** Extra environment variables for each worker (each also gets `ANTIFRAGILE_WORKER_SLOT`). */
  env?: Readonly<Record<string, string>>;
  /** Number of workers, >= 1. @default os.availableParallelism() */
  workers?: number;
  /**
   * Crash restarts: `min(maxMs, initialMs * 2 ** (crashes - 1))` per worker slot, reset once a worker has
   * stayed ready `resetAfterMs`.
   * @default { initialMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 }
   */
  restartBackoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  /** Milliseconds a draining worker has to finish in-flight work before it is killed (SIGKILL). @default 30_000 */
  drainTimeoutMs?: number;
  /**
   * When set, a worker is ready once it sends this message (a string equal to it, or `{ type: it }`; see
   * `signalReady()`); otherwise once it starts listening on a server (its first one: a worker with several
   * servers should use `readyMessage`).
   */
  readyMessage?: string;
  /** Milliseconds a new worker has to become ready before it counts as a failed start and is killed. @default 30_000 */
  readyTimeoutMs?: number;
  /** Source of time for backoffs and deadlines. @default systemClock */
  clock?: Clock;
}

/** Why a worker was started. */
export type WorkerStartReason = 'initial' | 'crash' | 'rolling-restart' | 'graceful-request';

/** A worker as {@link Supervisor.getWorkers} reports it. */
export interface SupervisedWorkerInfo {
  /** Position 0..workers-1; a replacement takes its predecessor's slot. */
  readonly slot: number;
  /** `cluster` worker id. */
  readonly workerId: number;
  /** Operating-system process id. */
  readonly pid: number | undefined;
  /** Whether it has become ready. */
  readonly ready: boolean;
  /** Whether it is being drained (a planned exit). */
  readonly draining: boolean;
}

/** Events of a {@link Supervisor}. */
export interface SupervisorEvents {
  workerStarted: { readonly slot: number; readonly workerId: number; readonly pid: number | undefined; readonly reason: WorkerStartReason };
  workerReady: { readonly slot: number; readonly workerId: number; readonly pid: number | undefined; readonly startupMs: number };
  workerExited: {
    readonly slot: number;
    readonly workerId: number;
    readonly pid: number | undefined;
    readonly code: number | null;
    readonly signal: string | null;
    /** True for a drained worker (rolling restart, graceful request, stop); false for a crash. */
    readonly planned: boolean;
  };
  restartScheduled: { readonly slot: number; readonly delayMs: number; readonly attempt: number };
  rollingRestartCompleted: { readonly reason: string; readonly workers: number; readonly durationMs: number };
  rollingRestartFailed: { readonly reason: string; readonly error: unknown };
  /** A replacement failed (did not become ready), a worker's IPC channel errored, or a worker request failed. */
  workerError: { readonly slot: number; readonly workerId: number | undefined; readonly error: unknown };
}

interface WorkerState {
  readonly worker: Worker;
  readonly slot: number;
  readonly startedAt: number;
  ready: boolean;
  planned: boolean;
  readyTimer: TimerHandle | undefined;
  killTimer: TimerHandle | undefined;
  readonly whenReady: Promise<void>;
  resolveReady: () => void;
  rejectReady: (error: Error) => void;
  readonly exited: Promise<void>;
  resolveExited: () => void;
}

interface Slot {
  readonly index: number;
  current: WorkerState | undefined;
  restartTimer: TimerHandle | undefined;
  replacing: Promise<void> | undefined;
  readyWaiters: (() => void)[];
}

/**
 * A small `node:cluster` supervisor. Keeps `workers` workers running: a crashed worker is restarted after
 * an exponential backoff per slot (reset once a worker stays up). A worker may ask to be replaced by
 * sending `{ type: 'graceful-shutdown' }` (`requestGracefulRestart()` from `supervisor-worker`), and
 * {@link requestRollingRestart} replaces every worker one at a time; either way the replacement starts
 * first and becomes ready (listening, or `readyMessage`), and only then is the old worker drained: the
 * cluster stops routing connections to it, its servers close after their in-flight requests, its
 * `onDrain()` handlers run, and it is killed if it is not gone after `drainTimeoutMs`. So a rolling
 * restart drops no request. `stop()` drains every worker and leaves no process or timer behind.
 *
 * Use it in the cluster primary only; one supervisor per process (cluster settings are process-wide).
 *
 * @example
 * ```ts
 * const supervisor = new Supervisor({ exec: 'server.js', workers: 4, restartBackoff: { initialMs: 500, maxMs: 30_000 }, drainTimeoutMs: 10_000 });
 * await supervisor.start();
 * process.on('SIGHUP', () => void supervisor.requestRollingRestart('SIGHUP'));
 * process.on('SIGTERM', () => void supervisor.stop());
 * ```
 */
export class Supervisor implements RestartRequester {
  private readonly exec: string;
  private readonly args: readonly string[];
  private readonly env: Readonly<Record<string, string>>;
  private readonly workerCount: number;
  private readonly drainTimeoutMs: number;
  private readonly readyMessage: string | undefined;
  private readonly readyTimeoutMs: number;
  private readonly clock: Clock;
  private readonly backoff: SupervisorRestartBackoff;
  private readonly events = new EventEmitter<SupervisorEvents>('supervisor', 'supervisor');
  private readonly states = new Map<number, WorkerState>();
  private slots: Slot[] = [];
  private running = false;
  private stopping: Promise<void> | undefined;
  private rolling: Promise<void> | undefined;

  constructor(options: SupervisorOptions) {
    const v = new OptionsValidator('Supervisor');
    if (v.object('options', options)) {
      if (v.required('exec', options.exec, 'a path to the worker script')) {
        if (typeof options.exec !== 'string' || options.exec === '') v.fail('exec', 'a path to the worker script', options.exec);
      }
      if (options.args !== undefined && (!Array.isArray(options.args) || options.args.some((a) => typeof a !== 'string'))) {
        v.fail('args', 'an array of strings', options.args);
      }
      if (v.object('env', options.env)) {
        for (const [key, value] of Object.entries(options.env ?? {})) v.string(`env.${key}`, value);
      }
      v.integer('workers', options.workers, 1);
      if (v.object('restartBackoff', options.restartBackoff)) {
        const b = options.restartBackoff ?? {};
        v.duration('restartBackoff.initialMs', b.initialMs);
        v.duration('restartBackoff.maxMs', b.maxMs);
        v.duration('restartBackoff.resetAfterMs', b.resetAfterMs);
        if ((b.maxMs ?? 30_000) < (b.initialMs ?? 1_000)) v.fail('restartBackoff.maxMs', '>= restartBackoff.initialMs', b.maxMs);
      }
      v.duration('drainTimeoutMs', options.drainTimeoutMs, true);
      v.duration('readyTimeoutMs', options.readyTimeoutMs, true);
      v.string('readyMessage', options.readyMessage);
      v.clock('clock', options.clock);
    }
    v.throwIfInvalid();
    this.exec = options.exec;
    this.args = [...(options.args ?? [])];
    this.env = { ...(options.env ?? {}) };
    this.workerCount = options.workers ?? availableParallelism();
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.readyMessage = options.readyMessage;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
    this.backoff = new SupervisorRestartBackoff(options.restartBackoff, this.clock);
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof SupervisorEvents>(event: K, listener: Listener<SupervisorEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Forks the workers and resolves once each slot has had a ready worker (a worker that fails to start is
   * restarted with backoff meanwhile).
   * @throws Error when called in a cluster worker or while running.
   */
  async start(): Promise<void> {
    if (!cluster.isPrimary) throw new Error('Supervisor.start(): call it in the cluster primary, not in a worker');
    if (this.running) throw new Error('Supervisor.start(): already running');
    if (this.stopping !== undefined) await this.stopping;
    this.running = true;
    this.backoff.clear();
    cluster.setupPrimary({ exec: this.exec, args: [...this.args] });
    this.slots = Array.from({ length: this.workerCount }, (_, index) => ({
      index,
      current: undefined,
      restartTimer: undefined,
      replacing: undefined,
      readyWaiters: [],
    }));
    for (const slot of this.slots) this.fork(slot, 'initial').whenReady.catch(() => undefined);
    await Promise.all(this.slots.map((slot) => this.waitForSlotReady(slot)));
  }

  /**
   * Replaces every worker, one at a time: start the replacement, wait until it is ready, drain the old one.
   * Concurrent calls share the restart in progress. Rejects (and keeps the old worker serving) if a
   * replacement does not become ready.
   */
  requestRollingRestart(reason = 'requested'): Promise<void> {
    if (!this.running) return Promise.reject(new Error('Supervisor.requestRollingRestart(): not running'));
    if (this.rolling !== undefined) return this.rolling;
    const startedAt = this.clock.now();
    const promise = (async () => {
      let replaced = 0;
      for (const slot of this.slots) {
        if (!this.running) throw new Error('Supervisor stopped during a rolling restart');
        if (slot.current === undefined) continue; // a crash restart is already on its way
        await this.replace(slot, 'rolling-restart');
        replaced++;
      }
      this.events.emit('rollingRestartCompleted', { reason, workers: replaced, durationMs: this.clock.now() - startedAt });
    })();
    this.rolling = promise;
    promise.then(
      () => (this.rolling = undefined),
      (error: unknown) => {
        this.rolling = undefined;
        this.events.emit('rollingRestartFailed', { reason, error });
      },
    );
    return promise;
  }

  /** Drains every worker (killing those still alive after `drainTimeoutMs`), cancels pending restarts, and resolves once every worker has exited. */
  stop(): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    if (!this.running) return Promise.resolve();
    this.running = false;
    for (const slot of this.slots) {
      slot.restartTimer?.cancel();
      slot.restartTimer = undefined;
      for (const resolve of slot.readyWaiters.splice(0)) resolve();
    }
    this.stopping = Promise.all([...this.states.values()].map((state) => this.drain(state))).then(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** The live workers. */
  getWorkers(): SupervisedWorkerInfo[] {
    return [...this.states.values()].map((s) => ({ slot: s.slot, workerId: s.worker.id, pid: s.worker.process.pid, ready: s.ready, draining: s.planned }));
  }

  /** Whether the supervisor is running (between `start()` and `stop()`). */
  get isRunning(): boolean {
    return this.running;
  }

  private fork(slot: Slot, reason: WorkerStartReason): WorkerState {
    const worker = cluster.fork({ ...this.env, ANTIFRAGILE_WORKER_SLOT: String(slot.index) });
    let resolveReady!: () => void;
    let rejectReady!: (error: Error) => void;
    const whenReady = new Promise<void>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    whenReady.catch(() => undefined); // observed by whoever waits; never unhandled
    let resolveExited!: () => void;
    const exited = new Promise<void>((resolve) => (resolveExited = resolve));
    const state: WorkerState = {
      worker,
      slot: slot.index,
      startedAt: this.clock.now(),
      ready: false,
      planned: false,
      readyTimer: undefined,
      killTimer: undefined,
      whenReady,
      resolveReady,
      rejectReady,
      exited,
      resolveExited,
    };
    this.states.set(worker.id, state);
    if (slot.current === undefined) slot.current = state;
    state.readyTimer = this.clock.schedule(() => {
      state.readyTimer = undefined;
      if (state.ready) return;
      state.rejectReady(new Error(`worker ${worker.id} (slot ${slot.index}) was not ready after ${this.readyTimeoutMs} ms`));
      worker.process.kill('SIGKILL');
    }, this.readyTimeoutMs);
    if (this.readyMessage === undefined) worker.once('listening', () => this.markReady(state));
    worker.on('message', (message: unknown) => this.onMessage(state, message));
    worker.on('error', (error: unknown) => this.events.emit('workerError', { slot: slot.index, workerId: worker.id, error }));
    worker.once('exit', (code: number | null, signal: string | null) => this.onExit(state, code, signal));
    this.events.emit('workerStarted', { slot: slot.index, workerId: worker.id, pid: worker.process.pid, reason });
    return state;
  }

  private markReady(state: WorkerState): void {
    if (state.ready || state.planned) return;
    state.ready = true;
    state.readyTimer?.cancel();
    state.readyTimer = undefined;
    this.backoff.started(state.slot);
    this.events.emit('workerReady', { slot: state.slot, workerId: state.worker.id, pid: state.worker.process.pid, startupMs: this.clock.now() - state.startedAt });
    state.resolveReady();
    for (const resolve of this.slots[state.slot]?.readyWaiters.splice(0) ?? []) resolve();
  }

  private onMessage(state: WorkerState, message: unknown): void {
    const type = typeof message === 'string' ? message : typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
    if (this.readyMessage !== undefined && type === this.readyMessage) return this.markReady(state);
    if (!this.running || state.planned) return;
    const reason = typeof message === 'object' && message !== null && typeof (message as { reason?: unknown }).reason === 'string'
      ? (message as { reason: string }).reason
      : 'requested by worker';
    const slot = this.slots[state.slot];
    if (type === GRACEFUL_SHUTDOWN_MESSAGE_TYPE && slot !== undefined && slot.current === state) {
      this.replace(slot, 'graceful-request').catch((error: unknown) => this.events.emit('workerError', { slot: state.slot, workerId: state.worker.id, error }));
    } else if (type === ROLLING_RESTART_MESSAGE_TYPE) {
      this.requestRollingRestart(reason).catch(() => undefined); // reported as rollingRestartFailed
    }
  }

  private onExit(state: WorkerState, code: number | null, signal: string | null): void {
    state.readyTimer?.cancel();
    state.killTimer?.cancel();
    this.states.delete(state.worker.id);
    if (!state.ready) state.rejectReady(new Error(`worker ${state.worker.id} (slot ${state.slot}) exited before it was ready (code ${code}, signal ${signal})`));
    state.resolveExited();
    this.events.emit('workerExited', { slot: state.slot, workerId: state.worker.id, pid: state.worker.process.pid, code, signal, planned: state.planned });
    const slot = this.slots[state.slot];
    if (slot === undefined || slot.current !== state) return; // a replacement that never took over, or a drained worker
    slot.current = undefined;
    // A crash while a replacement is starting: the replacement takes over (or schedules the restart if it fails).
    if (!state.planned && this.running && slot.replacing === undefined) this.scheduleRestart(slot);
  }

  private scheduleRestart(slot: Slot): void {
    if (slot.restartTimer !== undefined) return;
    const { delayMs, attempt } = this.backoff.crashed(slot.index);
    this.events.emit('restartScheduled', { slot: slot.index, delayMs, attempt });
    slot.restartTimer = this.clock.schedule(() => {
      slot.restartTimer = undefined;
      if (!this.running || slot.current !== undefined) return;
      const state = this.fork(slot, 'crash');
      state.whenReady.catch(() => undefined); // a failed start exits and schedules the next restart
    }, delayMs);
  }

  /** Resolves once `slot` has a ready worker (following crash restarts), or the supervisor stops. */
  private waitForSlotReady(slot: Slot): Promise<void> {
    if (slot.current?.ready === true || !this.running) return Promise.resolve();
    return new Promise<void>((resolve) => slot.readyWaiters.push(resolve));
  }

  private replace(slot: Slot, reason: WorkerStartReason): Promise<void> {
    if (slot.replacing !== undefined) return slot.replacing;
    const old = slot.current;
    const promise = (async () => {
      const next = this.fork(slot, reason);
      try {
        await next.whenReady;
      } catch (error) {
        if (this.running && slot.current === undefined) this.scheduleRestart(slot);
        throw error;
      }
      if (!this.running) return;
      slot.current = next;
      if (old !== undefined && this.states.has(old.worker.id)) await this.drain(old);
    })();
    slot.replacing = promise;
    const clear = (): void => {
      if (slot.replacing === promise) slot.replacing = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  /** Stops routing to `state`'s worker, lets it finish, kills it after `drainTimeoutMs`; resolves when it exited. */
  private drain(state: WorkerState): Promise<void> {
    if (!state.planned) {
      state.planned = true;
      state.readyTimer?.cancel();
      state.readyTimer = undefined;
      const { worker } = state;
      state.killTimer = this.clock.schedule(() => {
        state.killTimer = undefined;
        worker.process.kill('SIGKILL');
      }, this.drainTimeoutMs);
      if (worker.isConnected()) {
        try {
          worker.send({ type: DRAIN_MESSAGE_TYPE });
          worker.disconnect();
        } catch (error) {
          this.events.emit('workerError', { slot: state.slot, workerId: worker.id, error });
          worker.process.kill('SIGKILL');
        }
      } else if (worker.process.exitCode === null && worker.process.signalCode === null) {
        worker.process.kill('SIGTERM');
      }
    }
    return state.exited;
  }
}
