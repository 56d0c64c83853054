import { LinkedAbortController, neverAbortedSignal } from '../core/abort.js';
import type { PolicyContext } from './policy.js';

/**
 * A {@link PolicyContext} whose abort signal is created only when someone reads it. Creating an
 * `AbortController` costs about 1.5 µs in Node 20 (more than a whole protected call), and most protected
 * functions never look at their signal, so a policy that may abort a call (a timeout) keeps its intent in a
 * {@link SignalCell} and the signal is materialised on demand. An abort requested before anyone read the
 * signal is remembered and applied when it is created.
 * @internal
 */
export abstract class LazyContext implements PolicyContext {
  /** The cell holding the (possibly not yet created) signal. */
  abstract readonly cell: SignalCell;
  abstract readonly attempt: number;

  get signal(): AbortSignal {
    return this.cell.materialise();
  }
}

/** The cell of a lazy signal; it is also the context of the attempt it was made for. @internal */
export class SignalCell extends LazyContext {
  private controller: LinkedAbortController | undefined;
  private disposed = false;
  private abortedFlag = false;
  private reason: unknown;

  /**
   * @param parent the context whose signal this one follows (its signal is read only when this one is).
   * @param attempt the attempt number of the context this cell stands for.
   */
  constructor(
    private readonly parent: PolicyContext | undefined,
    readonly attempt: number,
  ) {
    super();
  }

  get cell(): SignalCell {
    return this;
  }

  /** The signal, created (and linked to the parent's) on first call. */
  materialise(): AbortSignal {
    if (this.controller === undefined) {
      // Read after its call settled: a standalone signal (aborted if the call was), never linked again.
      const controller = new LinkedAbortController(this.disposed ? undefined : this.parent?.signal);
      if (this.disposed && !this.abortedFlag && this.parent !== undefined && isContextAborted(this.parent)) {
        controller.abort(this.parent.signal.reason);
      }
      if (this.abortedFlag && !controller.signal.aborted) controller.abort(this.reason);
      this.controller = controller;
    }
    return this.controller.signal;
  }

  /** Whether the signal exists yet. */
  get created(): boolean {
    return this.controller !== undefined;
  }

  /** Whether this cell or its parent was aborted, without creating any signal. */
  get aborted(): boolean {
    if (this.abortedFlag) return true;
    if (this.controller !== undefined) return this.controller.signal.aborted;
    return this.parent !== undefined && isContextAborted(this.parent);
  }

  /** Aborts the signal now if it exists, or as soon as it is created. */
  abort(reason: unknown): void {
    if (this.abortedFlag) return;
    this.abortedFlag = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  /** Detaches from the parent's signal, now and for a signal first read later. */
  dispose(): void {
    this.disposed = true;
    this.controller?.dispose();
  }
}

/** Another attempt's view of a {@link SignalCell}. @internal */
export class AttemptContext extends LazyContext {
  constructor(
    readonly cell: SignalCell,
    readonly attempt: number,
  ) {
    super();
  }
}

/**
 * The context's signal if it can abort and already exists; `undefined` for a lazy signal nobody has read
 * and nobody has aborted. Never creates a signal that does not need to exist.
 * @internal
 */
export function peekSignal(context: PolicyContext): AbortSignal | undefined {
  if (context instanceof LazyContext) {
    const cell = context.cell;
    return cell.created || cell.aborted ? cell.materialise() : undefined;
  }
  return context.signal;
}

/** Whether the context is aborted, without creating a lazy signal. @internal */
export function isContextAborted(context: PolicyContext): boolean {
  if (context instanceof LazyContext) return context.cell.aborted;
  const signal = context.signal;
  return signal !== neverAbortedSignal && signal.aborted;
}
