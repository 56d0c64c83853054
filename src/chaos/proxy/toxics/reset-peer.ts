import type { TimerHandle } from '../../../core/clock.js';
import { ChunkQueue } from '../chunk-queue.js';
import { nonNegativeNumber, type ToxicDefinition } from '../toxic-definition.js';
import { ToxicStage } from '../toxic-stage.js';

/** Attributes of the `reset_peer` toxic (toxiproxy's names and units). */
export interface ResetPeerAttributes {
  /** Milliseconds from the first chunk seen to the reset; 0 resets at once. @default 0 */
  timeout: number;
}

/**
 * On the first chunk of its direction, holds the data and `timeout` ms later resets both sockets with a TCP
 * RST (`socket.resetAndDestroy()`): the peers see `ECONNRESET`. Removing the toxic before the reset releases
 * the held data.
 * @internal
 */
export class ResetPeerStage extends ToxicStage<ResetPeerAttributes> {
  private readonly held = new ChunkQueue<Buffer | null>();
  private triggered = false;
  private timer: TimerHandle | undefined;

  protected onData(chunk: Buffer): void {
    this.held.push(chunk);
    if (this.triggered) return;
    this.triggered = true;
    if (this.attributes.timeout <= 0) {
      this.reset();
      return;
    }
    this.timer = this.context.clock.schedule(() => this.reset(), this.attributes.timeout, { keepAlive: false });
  }

  protected override onEnd(): void {
    this.held.push(null);
  }

  protected override onFlush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.handOn(this.held);
  }

  protected override onDispose(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.held.clear();
  }

  private reset(): void {
    this.timer = undefined;
    this.dispose();
    this.context.reset();
  }
}

/** The `reset_peer` toxic: resets the connection (TCP RST) `timeout` ms after data starts flowing. @internal */
export const resetPeerToxic: ToxicDefinition<ResetPeerAttributes> = {
  type: 'reset_peer',
  streams: ['downstream', 'upstream'],
  attributes: { timeout: { default: 0, check: nonNegativeNumber } },
  createStage: (attributes, context) => new ResetPeerStage(attributes, context),
};
