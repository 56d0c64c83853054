import { integerAtLeast, nonNegativeNumber, type ToxicDefinition } from '../toxic-definition.js';
import { PacedStage } from '../paced-stage.js';

/** Attributes of the `slicer` toxic (toxiproxy's names and units). */
export interface SlicerAttributes {
  /** Average size of a slice, in bytes. Required. */
  average_size: number;
  /** Slices vary by +/- this many bytes (uniform); must be less than `average_size`. @default 0 */
  size_variation: number;
  /** Pause between slices, in microseconds. @default 0 */
  delay: number;
}

/**
 * Cuts every chunk into slices of `average_size` +/- `size_variation` bytes, each handed on as its own
 * socket write, with `delay` microseconds between slices: the reader sees many small reads.
 * @internal
 */
export class SlicerStage extends PacedStage<SlicerAttributes> {
  protected pump(): void {
    const delayMs = this.attributes.delay / 1000;
    while (this.timer === undefined && !this.finished) {
      const head = this.queue.peek();
      if (head === undefined) return;
      if (head === null) {
        this.queue.shift();
        this.next.end();
        continue;
      }
      const size = this.sliceSize();
      if (size >= head.length) {
        this.queue.shift();
        this.next.write(head);
      } else {
        this.queue.replaceHead(head.subarray(size));
        this.next.write(head.subarray(0, size));
      }
      if (delayMs > 0 && this.queue.size > 0 && !this.finished) {
        this.timer = this.context.clock.schedule(this.onTimer, delayMs, { keepAlive: false });
      }
    }
  }

  private sliceSize(): number {
    const { average_size: average, size_variation: variation } = this.attributes;
    if (variation <= 0) return average;
    return Math.max(1, average + Math.floor(this.context.random() * (2 * variation + 1)) - variation);
  }
}

/** The `slicer` toxic: slices data into small writes, optionally `delay` microseconds apart. @internal */
export const slicerToxic: ToxicDefinition<SlicerAttributes> = {
  type: 'slicer',
  streams: ['downstream', 'upstream'],
  attributes: {
    average_size: { check: integerAtLeast(1) },
    size_variation: { default: 0, check: integerAtLeast(0) },
    delay: { default: 0, check: nonNegativeNumber },
  },
  crossCheck: (a) => (a.size_variation >= a.average_size ? [['size_variation', 'an integer less than average_size']] : []),
  createStage: (attributes, context) => new SlicerStage(attributes, context),
};
