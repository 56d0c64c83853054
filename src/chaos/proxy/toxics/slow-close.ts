import type { TimerHandle } from '../../../core/clock.js';
import { nonNegativeNumber, type ToxicDefinition } from '../toxic-definition.js';
import { ToxicStage } from '../toxic-stage.js';

/** Attributes of the `slow_close` toxic (toxiproxy's names and units). */
export interface SlowCloseAttributes {
  /** How long the end of the stream (the FIN) is held back, in milliseconds. @default 0 */
  delay: number;
}

/** Passes data through and holds the end of the stream back for `delay` ms. @internal */
export class SlowCloseStage extends ToxicStage<SlowCloseAttributes> {
  private timer: TimerHandle | undefined;

  protected onData(chunk: Buffer): void {
    this.next.write(chunk);
  }

  protected override onEnd(): void {
    if (this.attributes.delay <= 0) {
      this.next.end();
      return;
    }
    this.timer = this.context.clock.schedule(
      () => {
        this.timer = undefined;
        this.finished = true;
        this.next.end();
      },
      this.attributes.delay,
      { keepAlive: false },
    );
  }

  protected override onFlush(): void {
    if (this.timer === undefined) return;
    this.timer.cancel();
    this.timer = undefined;
    this.next.end();
  }

  protected override onDispose(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

/** The `slow_close` toxic: delays the close of the stream by `delay` milliseconds. @internal */
export const slowCloseToxic: ToxicDefinition<SlowCloseAttributes> = {
  type: 'slow_close',
  streams: ['downstream', 'upstream'],
  attributes: { delay: { default: 0, check: nonNegativeNumber } },
  createStage: (attributes, context) => new SlowCloseStage(attributes, context),
};
