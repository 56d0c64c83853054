import type { TimerHandle } from '../../../core/clock.js';
import { ChunkQueue } from '../chunk-queue.js';
import { nonNegativeNumber, type ToxicDefinition } from '../toxic-definition.js';
import { ToxicStage } from '../toxic-stage.js';

/** Attributes of the `latency` toxic (toxiproxy's names and units). */
export interface LatencyAttributes {
  /** Delay added to every chunk, in milliseconds. @default 0 */
  latency: number;
  /** Random variation of the delay, +/- milliseconds (uniform). @default 0 */
  jitter: number;
}

interface Held {
  /** The chunk, or `null` for the end of the stream. */
  data: Buffer | null;
  /** When it is released, on the proxy's clock. */
  at: number;
}

/**
 * Delays every chunk by `latency` +/- `jitter` ms from its arrival. Chunks never overtake each other: a chunk
 * whose jittered delay ends before its predecessor's is released right after it. One timer per connection
 * direction, armed for the oldest held chunk.
 * @internal
 */
export class LatencyStage extends ToxicStage<LatencyAttributes> {
  private readonly queue = new ChunkQueue<Held>();
  private lastAt = -Infinity;
  private timer: TimerHandle | undefined;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.release();
  };

  protected onData(chunk: Buffer): void {
    const delay = this.delay();
    if (delay <= 0 && this.queue.size === 0) {
      this.next.write(chunk);
      return;
    }
    const at = Math.max(this.context.clock.now() + delay, this.lastAt);
    this.lastAt = at;
    this.queue.push({ data: chunk, at });
    this.arm();
  }

  protected override onEnd(): void {
    if (this.queue.size === 0) this.next.end();
    else this.queue.push({ data: null, at: this.lastAt });
  }

  protected override onFlush(): void {
    this.cancel();
    for (let held = this.queue.shift(); held !== undefined; held = this.queue.shift()) {
      if (held.data === null) this.next.end();
      else this.next.write(held.data);
    }
  }

  protected override onDispose(): void {
    this.cancel();
    this.queue.clear();
  }

  private delay(): number {
    const { latency, jitter } = this.attributes;
    if (jitter <= 0) return latency;
    return Math.max(0, latency + (this.context.random() * 2 - 1) * jitter);
  }

  private release(): void {
    const now = this.context.clock.now();
    for (let held = this.queue.peek(); held !== undefined && held.at <= now; held = this.queue.peek()) {
      this.queue.shift();
      if (held.data === null) this.next.end();
      else this.next.write(held.data);
      if (this.finished) return;
    }
    this.arm();
  }

  private arm(): void {
    const head = this.queue.peek();
    if (this.timer !== undefined || head === undefined) return;
    this.timer = this.context.clock.schedule(this.onTimer, head.at - this.context.clock.now(), { keepAlive: false });
  }

  private cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

/** The `latency` toxic: delays all data by `latency` +/- `jitter` milliseconds. @internal */
export const latencyToxic: ToxicDefinition<LatencyAttributes> = {
  type: 'latency',
  streams: ['downstream', 'upstream'],
  attributes: {
    latency: { default: 0, check: nonNegativeNumber },
    jitter: { default: 0, check: nonNegativeNumber },
  },
  createStage: (attributes, context) => new LatencyStage(attributes, context),
};
