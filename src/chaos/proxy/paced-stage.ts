import type { TimerHandle } from '../../core/clock.js';
import { ChunkQueue } from './chunk-queue.js';
import { ToxicStage } from './toxic-stage.js';

/**
 * A stage that queues what it receives and lets it out at its own pace: `pump()` hands on what may go now
 * and arms {@link timer} (with {@link onTimer}) to continue later. The end of the stream waits behind the
 * queued data; a flush hands everything on at once; a dispose drops it.
 * @internal
 */
export abstract class PacedStage<A> extends ToxicStage<A> {
  protected readonly queue = new ChunkQueue<Buffer | null>();
  protected timer: TimerHandle | undefined;
  protected readonly onTimer = (): void => {
    this.timer = undefined;
    this.pump();
  };

  /** Hands on what may go now; arms {@link timer} to continue. */
  protected abstract pump(): void;

  protected onData(chunk: Buffer): void {
    this.queue.push(chunk);
    this.pump();
  }

  protected override onEnd(): void {
    if (this.queue.size === 0) this.next.end();
    else this.queue.push(null);
  }

  protected override onFlush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.handOn(this.queue);
  }

  protected override onDispose(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.queue.clear();
  }
}
