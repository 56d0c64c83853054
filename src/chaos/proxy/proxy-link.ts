import type { Socket } from 'node:net';
import type { Clock } from '../../core/clock.js';
import type { Toxic } from './toxic.js';
import { createToxicStage } from './toxic-catalog.js';
import { PassthroughStage, type StageSink, type ToxicContext, type ToxicStage, type ToxicStream } from './toxic-stage.js';

/** Bytes held inside a link's toxics (and not yet written) above which the source socket is paused. */
const HIGH_WATER = 1024 * 1024;
/** ...and at or below which it resumes. */
const LOW_WATER = 256 * 1024;

/** What a link needs from its connection. @internal */
export interface LinkOwner {
  readonly clock: Clock;
  readonly random: () => number;
  /** Ends both sockets once written out, then destroys them. */
  close(): void;
  /** Resets both sockets (TCP RST). */
  reset(): void;
  /** Counts bytes that entered the link. */
  received(stream: ToxicStream, bytes: number): void;
}

interface Entry {
  toxic: Toxic;
  /** Whether the toxic acts on this connection (drawn from its toxicity). */
  active: boolean;
  stage: ToxicStage<unknown>;
}

/**
 * One direction of a proxied connection: bytes read from `source` go through the chain of toxic stages for
 * that direction, in the order the toxics were added, and are written to `sink`. The link applies flow
 * control: while more than 1 MiB is held by its toxics or the sink's buffer is full, the source is paused,
 * so a toxic that holds data (latency, timeout, bandwidth) slows the sender down as a slow network would,
 * with bounded memory.
 * @internal
 */
export class ProxyLink implements ToxicContext {
  readonly clock: Clock;
  readonly random: () => number;
  sourceBytes = 0;
  private entries: Entry[] = [];
  private head: StageSink;
  private inFlight = 0;
  private sinkBlocked = false;
  private sourcePaused = false;
  private closeRequested = false;
  private dead = false;
  private readonly sinkEnd: StageSink = {
    write: (chunk) => this.toSink(chunk),
    end: () => this.endSink(),
  };

  constructor(
    private readonly owner: LinkOwner,
    readonly stream: ToxicStream,
    private readonly source: Socket,
    private readonly sink: Socket,
    toxics: readonly Toxic[],
  ) {
    this.clock = owner.clock;
    this.random = owner.random;
    this.head = this.sinkEnd;
    for (const toxic of toxics) if (toxic.stream === stream) this.entries.push(this.entryFor(toxic));
    this.rewire();
    sink.on('drain', () => {
      this.sinkBlocked = false;
      this.updateFlow();
    });
  }

  /** Data read from the source. */
  receive(chunk: Buffer): void {
    if (this.dead) return;
    this.sourceBytes += chunk.length;
    this.inFlight += chunk.length;
    this.owner.received(this.stream, chunk.length);
    this.head.write(chunk);
    this.updateFlow();
  }

  /** The source half-closed. */
  receiveEnd(): void {
    if (!this.dead) this.head.end();
  }

  /** Starts `toxic` on this link (it goes last in the chain). */
  addToxic(toxic: Toxic): void {
    if (this.dead) return;
    this.entries.push(this.entryFor(toxic));
    this.rewire();
  }

  /** Takes `name` out of the chain; what it held is handed on at once. */
  removeToxic(name: string): void {
    const index = this.entries.findIndex((e) => e.toxic.name === name);
    if (index < 0 || this.dead) return;
    const [entry] = this.entries.splice(index, 1) as [Entry];
    this.rewire();
    entry.stage.flush();
  }

  /**
   * Applies a changed toxic. Attributes change in place (held data and counters kept); a changed toxicity is
   * drawn again, and when the outcome flips the stage is replaced, handing what it held to its successor.
   */
  updateToxic(toxic: Toxic): void {
    const index = this.entries.findIndex((e) => e.toxic.name === toxic.name);
    const entry = this.entries[index];
    if (entry === undefined || this.dead) return;
    const active = toxic.toxicity === entry.toxic.toxicity ? entry.active : this.draw(toxic.toxicity);
    if (active === entry.active) {
      entry.toxic = toxic;
      if (active) entry.stage.reconfigure(toxic.attributes);
      return;
    }
    const replacement: Entry = {
      toxic,
      active,
      stage: active ? createToxicStage(toxic, this) : new PassthroughStage(undefined, this),
    };
    this.entries[index] = replacement;
    this.rewire();
    entry.stage.next = replacement.stage;
    entry.stage.flush();
  }

  /** The connection is gone: every stage drops what it holds and cancels its timers. */
  dispose(): void {
    if (this.dead) return;
    this.dead = true;
    for (const entry of this.entries) entry.stage.dispose();
    this.entries = [];
  }

  // ToxicContext

  closeAfterEnd(): void {
    this.closeRequested = true;
  }

  reset(): void {
    this.owner.reset();
  }

  reply(data: Buffer): void {
    if (!this.dead && !this.source.destroyed && this.source.writable) this.source.write(data);
  }

  discard(bytes: number): void {
    this.inFlight -= bytes;
    this.updateFlow();
  }

  private entryFor(toxic: Toxic): Entry {
    const active = this.draw(toxic.toxicity);
    return { toxic, active, stage: active ? createToxicStage(toxic, this) : new PassthroughStage(undefined, this) };
  }

  private draw(toxicity: number): boolean {
    return toxicity >= 1 || (toxicity > 0 && this.random() < toxicity);
  }

  private rewire(): void {
    let next: StageSink = this.sinkEnd;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const stage = (this.entries[i] as Entry).stage;
      stage.next = next;
      next = stage;
    }
    this.head = next;
  }

  private toSink(chunk: Buffer): void {
    this.inFlight -= chunk.length;
    if (this.dead || this.sink.destroyed) return;
    if (!this.sink.write(chunk)) this.sinkBlocked = true;
    this.updateFlow();
  }

  private endSink(): void {
    if (this.dead) return;
    if (this.closeRequested) {
      this.owner.close();
      return;
    }
    if (!this.sink.destroyed) this.sink.end();
  }

  private updateFlow(): void {
    if (this.dead) return;
    if (this.sinkBlocked || this.inFlight > HIGH_WATER) {
      if (!this.sourcePaused) {
        this.sourcePaused = true;
        this.source.pause();
      }
    } else if (this.sourcePaused && this.inFlight <= LOW_WATER) {
      this.sourcePaused = false;
      this.source.resume();
    }
  }
}
