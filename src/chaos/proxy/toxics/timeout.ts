import type { TimerHandle } from '../../../core/clock.js';
import { ChunkQueue } from '../chunk-queue.js';
import { nonNegativeNumber, type ToxicDefinition } from '../toxic-definition.js';
import { ToxicStage, type ToxicContext } from '../toxic-stage.js';

/** Attributes of the `timeout` toxic (toxiproxy's names and units). */
export interface TimeoutAttributes {
  /** Milliseconds after which the connection is closed; 0 holds it open forever. @default 0 */
  timeout: number;
}

/**
 * Stops all data: chunks are held (flow control pauses the sender once enough is held). After `timeout` ms
 * (counted from when the toxic started on the connection) the held data is dropped and the connection closed;
 * with `timeout: 0` it stays open. Removing the toxic releases the held data at once.
 * @internal
 */
export class TimeoutStage extends ToxicStage<TimeoutAttributes> {
  private readonly held = new ChunkQueue<Buffer | null>();
  private heldBytes = 0;
  private timer: TimerHandle | undefined;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.closeStream();
  };

  constructor(attributes: TimeoutAttributes, context: ToxicContext) {
    super(attributes, context);
    this.arm();
  }

  protected onData(chunk: Buffer): void {
    this.heldBytes += chunk.length;
    this.held.push(chunk);
  }

  protected override onEnd(): void {
    this.held.push(null);
  }

  /** A new timeout restarts the countdown, as toxiproxy restarts an updated toxic. */
  override reconfigure(attributes: TimeoutAttributes): void {
    this.attributes = attributes;
    this.timer?.cancel();
    this.timer = undefined;
    this.arm();
  }

  protected override onFlush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.heldBytes = 0;
    this.handOn(this.held);
  }

  protected override onDispose(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.context.discard(this.heldBytes);
    this.heldBytes = 0;
    this.held.clear();
  }

  private arm(): void {
    if (this.attributes.timeout > 0) {
      this.timer = this.context.clock.schedule(this.onTimer, this.attributes.timeout, { keepAlive: false });
    }
  }
}

/** The `timeout` toxic: stops all data and closes the connection after `timeout` ms (0: never). @internal */
export const timeoutToxic: ToxicDefinition<TimeoutAttributes> = {
  type: 'timeout',
  streams: ['downstream', 'upstream'],
  attributes: { timeout: { default: 0, check: nonNegativeNumber } },
  createStage: (attributes, context) => new TimeoutStage(attributes, context),
};
