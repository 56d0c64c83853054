import type { ChunkQueue } from './chunk-queue.js';
import type { Clock } from '../../core/clock.js';

/** Direction of a proxied byte stream: `upstream` is client to server, `downstream` server to client. */
export type ToxicStream = 'upstream' | 'downstream';

/** Where a stage hands its output: the next stage of the chain, or the destination socket. */
export interface StageSink {
  /** Hands on a chunk of the stream. */
  write(chunk: Buffer): void;
  /** Hands on the end of the stream (the source half-closed). */
  end(): void;
}

/**
 * What a running toxic may do to its connection. One per direction of each proxied connection.
 */
export interface ToxicContext {
  /** The proxy's clock: every delay goes through `clock.schedule`. */
  readonly clock: Clock;
  /** The proxy's random source, in [0, 1). */
  readonly random: () => number;
  /** The direction this stage acts on. */
  readonly stream: ToxicStream;
  /** Bytes that entered this direction so far (0 when the stage sees the stream from its first byte). */
  readonly sourceBytes: number;
  /**
   * Asks for the whole connection to close once the end of this direction (which the stage sends next with
   * `next.end()`) reaches the destination: both sockets are then ended and destroyed.
   */
  closeAfterEnd(): void;
  /** Resets both sockets of the connection at once (TCP RST): the peers see `ECONNRESET`. */
  reset(): void;
  /** Writes `data` back to the peer this direction reads from (e.g. an error reply to the client). */
  reply(data: Buffer): void;
  /** Accounts `bytes` the stage consumed without handing them on (for flow control). */
  discard(bytes: number): void;
}

/** Sink of a stage not yet wired: drops everything. */
const UNWIRED: StageSink = { write: () => undefined, end: () => undefined };

/**
 * One toxic running on one direction of one connection. Stages form a chain from the source socket to the
 * destination socket; each receives chunks in order and hands them (or what it makes of them) to `next`.
 *
 * Contract: a stage never reorders the stream; {@link flush} (the toxic was removed, or replaced after a change
 * of toxicity) hands on at once, in order, everything the stage holds and cancels its timers, so removing a
 * toxic never hangs a connection; {@link dispose} (the connection closed) drops everything.
 *
 * @typeParam A the toxic's attributes.
 * @internal
 */
export abstract class ToxicStage<A = unknown> implements StageSink {
  /** Where output goes; set by the link when the chain is (re)wired. */
  next: StageSink = UNWIRED;
  /** Whether the stage was flushed or disposed and must do nothing more. */
  protected finished = false;

  constructor(
    protected attributes: A,
    protected readonly context: ToxicContext,
  ) {}

  /** Receives the next chunk of the stream (dropped, and accounted as consumed, once the stage finished). */
  write(chunk: Buffer): void {
    if (this.finished) {
      this.context.discard(chunk.length);
      return;
    }
    this.onData(chunk);
  }

  /** Receives the end of the stream. */
  end(): void {
    if (!this.finished) this.onEnd();
  }

  /** Applies changed attributes to the running stage (the default keeps every held byte and takes the new values). */
  reconfigure(attributes: A): void {
    this.attributes = attributes;
  }

  /** Hands on everything held, at once and in order, cancels timers; the stage is out of the chain after this. */
  flush(): void {
    if (this.finished) return;
    this.finished = true;
    this.onFlush();
  }

  /** The connection closed: cancels timers and drops what is held. */
  dispose(): void {
    if (this.finished) return;
    this.finished = true;
    this.onDispose();
  }

  /** A chunk arrived. */
  protected abstract onData(chunk: Buffer): void;

  /** The stream ended; the default hands the end on. */
  protected onEnd(): void {
    this.next.end();
  }

  /** See {@link flush}; the default holds nothing. */
  protected onFlush(): void {}

  /** See {@link dispose}; the default holds nothing. */
  protected onDispose(): void {}

  /** Hands on everything `held` keeps, in order (`null` is the end of the stream), and empties it. */
  protected handOn(held: ChunkQueue<Buffer | null>): void {
    for (let item = held.shift(); item !== undefined; item = held.shift()) {
      if (item === null) this.next.end();
      else this.next.write(item);
    }
  }

  /** Ends this direction here and closes the connection when the end reaches the destination. */
  protected closeStream(): void {
    this.finished = true;
    this.onDispose();
    this.context.closeAfterEnd();
    this.next.end();
  }
}

/** A stage that hands everything on unchanged: what a toxic does on a connection its toxicity did not pick. @internal */
export class PassthroughStage extends ToxicStage<undefined> {
  protected onData(chunk: Buffer): void {
    this.next.write(chunk);
  }
}
