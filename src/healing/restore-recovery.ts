import { neverAbortedSignal } from '../core/abort.js';
import { systemClock, type Clock } from '../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import type { ExecuteOptions, PolicyFunction } from '../policies/policy.js';
import { CheckpointNotFoundError, RecoveryFailedError } from './errors.js';
import type { RecoveryContext, RecoveryRequest, RecoveryStrategy } from './recovery-strategy.js';

/** A stored checkpoint. */
export interface Checkpoint<S = unknown> {
  name: string;
  /** A deep copy of the state given to `createCheckpoint`. */
  state: S;
  /** When it was taken, in clock milliseconds. */
  createdAt: number;
}

/** Options of {@link RestoreRecovery}. */
export interface RestoreRecoveryConfig<S = unknown> {
  name: string;
  /**
   * Applies a restored state to the system (reload a config, reset an in-memory model...). Receives a deep
   * copy, so it may mutate it.
   * @default none (restore only returns the state)
   */
  onRestore?: (state: S, info: { checkpoint: string; context: RecoveryContext }) => void | PromiseLike<void>;
  /**
   * Checkpoint restored when a call names none.
   * @default the checkpoint named after the failing component if there is one, else the latest
   */
  defaultCheckpoint?: string;
  /**
   * Most checkpoints kept; creating one more drops the oldest.
   * @default 100
   */
  maxCheckpoints?: number;
  /** Source of the checkpoints' timestamps. @default systemClock */
  clock?: Clock;
}

/** Events of {@link RestoreRecovery}. */
export interface RestoreRecoveryEvents {
  checkpointCreated: { checkpoint: string };
  restored: { checkpoint: string };
}

/**
 * Restore from named checkpoints as a recovery strategy: the seed's `createRestore`. Take checkpoints of a
 * known-good state with `createCheckpoint(name, state)` (stored as deep copies, `structuredClone`);
 * `restore(name)` hands a copy to `onRestore` and returns it; `execute(operation)` runs `operation` and,
 * when it fails, restores and runs it once more.
 *
 * @example
 * ```ts
 * const restore = RecoveryStrategyFactory.createRestore({ name: 'routing', onRestore: (table) => router.load(table) });
 * restore.createCheckpoint('routing-v1', router.table());
 * await restore.restore('routing-v1');
 * ```
 */
export class RestoreRecovery<S = unknown> implements RecoveryStrategy {
  readonly type = 'restore' as const;
  readonly name: string;
  private readonly checkpoints = new Map<string, Checkpoint<S>>();
  private readonly onRestore: RestoreRecoveryConfig<S>['onRestore'];
  private readonly defaultCheckpoint: string | undefined;
  private readonly maxCheckpoints: number;
  private readonly clock: Clock;
  private readonly events: EventEmitter<RestoreRecoveryEvents>;

  /** @throws InvalidOptionsError listing every bad option. */
  constructor(config: RestoreRecoveryConfig<S>) {
    const v = new OptionsValidator('RestoreRecovery');
    const c: Partial<RestoreRecoveryConfig<S>> | undefined = config;
    if (v.required('config', c, 'an object') && v.object('config', c)) {
      if (v.required('name', c.name, 'a non-empty string')) v.string('name', c.name);
      v.func('onRestore', c.onRestore);
      v.string('defaultCheckpoint', c.defaultCheckpoint);
      v.integer('maxCheckpoints', c.maxCheckpoints, 1);
      v.clock('clock', c.clock);
    }
    v.throwIfInvalid();
    this.name = config.name;
    this.onRestore = config.onRestore;
    this.defaultCheckpoint = config.defaultCheckpoint;
    this.maxCheckpoints = config.maxCheckpoints ?? 100;
    this.clock = config.clock ?? systemClock;
    this.events = new EventEmitter('restore-recovery', this.name);
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof RestoreRecoveryEvents>(event: K, listener: Listener<RestoreRecoveryEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  /**
   * Stores a deep copy of `state` under `name` (replacing a checkpoint of that name), dropping the oldest
   * checkpoint beyond `maxCheckpoints`.
   * @throws DataCloneError when `state` cannot be cloned (functions, sockets...).
   */
  createCheckpoint(name: string, state: S): Checkpoint<S> {
    if (typeof name !== 'string' || name.length === 0) throw new TypeError('RestoreRecovery.createCheckpoint: name must be a non-empty string');
    const checkpoint: Checkpoint<S> = { name, state: structuredClone(state), createdAt: this.clock.now() };
    this.checkpoints.delete(name);
    this.checkpoints.set(name, checkpoint);
    while (this.checkpoints.size > this.maxCheckpoints) {
      const oldest = this.checkpoints.keys().next().value as string;
      this.checkpoints.delete(oldest);
    }
    this.events.emit('checkpointCreated', { checkpoint: name });
    return { ...checkpoint, state: structuredClone(checkpoint.state) };
  }

  /** Whether a checkpoint named `name` exists. */
  hasCheckpoint(name: string): boolean {
    return this.checkpoints.has(name);
  }

  /** Checkpoint names, oldest first. */
  listCheckpoints(): string[] {
    return [...this.checkpoints.keys()];
  }

  /** Deletes a checkpoint; returns whether it existed. */
  deleteCheckpoint(name: string): boolean {
    return this.checkpoints.delete(name);
  }

  /**
   * Restores the checkpoint `name` (default: `defaultCheckpoint`, else the latest): runs `onRestore` with a
   * copy and resolves with another copy.
   * @throws CheckpointNotFoundError when there is no such checkpoint.
   */
  async restore(name?: string, context: RecoveryContext = {}): Promise<S> {
    const checkpoint = this.find(name ?? this.defaultCheckpoint);
    if (checkpoint === undefined) throw new CheckpointNotFoundError(name ?? this.defaultCheckpoint);
    if (this.onRestore !== undefined) await this.onRestore(structuredClone(checkpoint.state), { checkpoint: checkpoint.name, context });
    this.events.emit('restored', { checkpoint: checkpoint.name });
    return structuredClone(checkpoint.state);
  }

  /**
   * Runs `operation`; when it fails, restores `options.checkpoint` (see {@link restore}) and runs it once
   * more. Rejects with a {@link RecoveryFailedError} (the first error as `cause`) if the restore or the
   * second run fails.
   */
  async execute<T>(operation: PolicyFunction<T>, options: ExecuteOptions & { checkpoint?: string } = {}): Promise<T> {
    const signal = options.signal ?? neverAbortedSignal;
    try {
      return await operation({ signal, attempt: 1 });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      return this.restoreAndRerun(error, operation, signal, options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint });
    }
  }

  /**
   * Restores the checkpoint named by `context.checkpoint` (else `defaultCheckpoint`, else one named after
   * the component, else the latest); then runs the failed operation once more if there is one, or resolves
   * with the restored state.
   */
  recover(request: RecoveryRequest): Promise<unknown> {
    const signal = request.signal ?? neverAbortedSignal;
    if (request.operation === undefined) {
      return this.restore(this.pick(request.context), request.context).catch((error: unknown) => {
        throw this.failure(request.error, request.context, error);
      });
    }
    return this.restoreAndRerun(request.error, request.operation, signal, request.context);
  }

  private async restoreAndRerun<T>(first: unknown, operation: PolicyFunction<T>, signal: AbortSignal, context: RecoveryContext): Promise<T> {
    try {
      await this.restore(this.pick(context), context);
      if (signal.aborted) throw signal.reason;
      return await operation({ signal, attempt: 2 });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw this.failure(first, context, error);
    }
  }

  private failure(first: unknown, context: RecoveryContext, error: unknown): RecoveryFailedError {
    return new RecoveryFailedError(`Restore strategy "${this.name}" failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      strategy: this.name,
      errors: [{ name: 'original', error: first }],
      ...(typeof context.component === 'string' ? { component: context.component } : {}),
    });
  }

  private pick(context: RecoveryContext): string | undefined {
    if (typeof context.checkpoint === 'string') return context.checkpoint;
    if (this.defaultCheckpoint !== undefined) return this.defaultCheckpoint;
    if (typeof context.component === 'string' && this.checkpoints.has(context.component)) return context.component;
    return undefined;
  }

  private find(name: string | undefined): Checkpoint<S> | undefined {
    if (name !== undefined) return this.checkpoints.get(name);
    let latest: Checkpoint<S> | undefined;
    for (const c of this.checkpoints.values()) latest = c; // insertion order: the last is the newest
    return latest;
  }
}
