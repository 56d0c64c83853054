import type { TimerHandle } from '../../../core/clock.js';
import { ChunkQueue } from '../chunk-queue.js';
import { nonNegativeNumber, type ToxicDefinition } from '../toxic-definition.js';
import { ToxicStage } from '../toxic-stage.js';

/** Attributes of the `bandwidth` toxic (toxiproxy's names and units). */
export interface BandwidthAttributes {
  /** Maximum throughput in KB/s (1 KB = 1000 bytes, as toxiproxy); 0 means unlimited. @default 0 */
  rate: number;
}

/** Longest slice sent at once, in milliseconds of transfer at the configured rate (as toxiproxy). */
const SLICE_MS = 100;

/**
 * Paces the stream to `rate` KB/s: each slice of at most 100 ms worth of bytes is released when the previous
 * one plus its own transfer time (`bytes / rate` ms) is over, so N bytes take N / rate ms end to end.
 * @internal
 */
export class BandwidthStage extends ToxicStage<BandwidthAttributes> {
  private readonly queue = new ChunkQueue<Buffer | null>();
  /** When the last slice was released (the link is busy until then). */
  private busyUntil = -Infinity;
  /** Release time and size of the head slice, once computed. */
  private sliceAt: number | undefined;
  private sliceLength = 0;
  private timer: TimerHandle | undefined;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.pump();
  };

  protected onData(chunk: Buffer): void {
    if (this.attributes.rate <= 0 && this.queue.size === 0) {
      this.next.write(chunk);
      return;
    }
    this.queue.push(chunk);
    this.pump();
  }

  protected override onEnd(): void {
    if (this.queue.size === 0) this.next.end();
    else this.queue.push(null);
  }

  override reconfigure(attributes: BandwidthAttributes): void {
    this.attributes = attributes;
    this.cancel();
    this.pump();
  }

  protected override onFlush(): void {
    this.cancel();
    this.handOn(this.queue);
  }

  protected override onDispose(): void {
    this.cancel();
    this.queue.clear();
  }

  private pump(): void {
    while (this.timer === undefined && !this.finished) {
      const head = this.queue.peek();
      if (head === undefined) return;
      if (head === null) {
        this.queue.shift();
        this.next.end();
        continue;
      }
      const rate = this.attributes.rate; // bytes per millisecond
      if (rate <= 0) {
        this.queue.shift();
        this.sliceAt = undefined;
        this.next.write(head);
        continue;
      }
      const now = this.context.clock.now();
      if (this.sliceAt === undefined) {
        this.sliceLength = Math.min(head.length, Math.max(1, Math.floor(rate * SLICE_MS)));
        this.sliceAt = Math.max(now, this.busyUntil) + this.sliceLength / rate;
      }
      if (this.sliceAt > now) {
        this.timer = this.context.clock.schedule(this.onTimer, this.sliceAt - now, { keepAlive: false });
        return;
      }
      this.busyUntil = this.sliceAt;
      this.sliceAt = undefined;
      if (this.sliceLength >= head.length) {
        this.queue.shift();
        this.next.write(head);
      } else {
        this.queue.replaceHead(head.subarray(this.sliceLength));
        this.next.write(head.subarray(0, this.sliceLength));
      }
    }
  }

  private cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.sliceAt = undefined;
  }
}

/** The `bandwidth` toxic: limits the stream to `rate` KB/s. @internal */
export const bandwidthToxic: ToxicDefinition<BandwidthAttributes> = {
  type: 'bandwidth',
  streams: ['downstream', 'upstream'],
  attributes: { rate: { default: 0, check: nonNegativeNumber } },
  createStage: (attributes, context) => new BandwidthStage(attributes, context),
};
