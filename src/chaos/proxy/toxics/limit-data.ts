import { integerAtLeast, type ToxicDefinition } from '../toxic-definition.js';
import { ToxicStage } from '../toxic-stage.js';

/** Attributes of the `limit_data` toxic (toxiproxy's names and units). */
export interface LimitDataAttributes {
  /** Bytes let through in this direction before the connection is closed. @default 0 */
  bytes: number;
}

/**
 * Lets `bytes` bytes through (counted from when the toxic started on the connection), then ends the stream
 * and closes the connection. The count survives an update of the attributes.
 * @internal
 */
export class LimitDataStage extends ToxicStage<LimitDataAttributes> {
  private transmitted = 0;

  protected onData(chunk: Buffer): void {
    const remaining = this.attributes.bytes - this.transmitted;
    if (chunk.length < remaining) {
      this.transmitted += chunk.length;
      this.next.write(chunk);
      return;
    }
    const allowed = Math.max(0, remaining);
    if (allowed > 0) this.next.write(chunk.subarray(0, allowed));
    this.transmitted += allowed;
    this.context.discard(chunk.length - allowed);
    this.closeStream();
  }

  override reconfigure(attributes: LimitDataAttributes): void {
    this.attributes = attributes;
    if (this.transmitted >= attributes.bytes && this.transmitted > 0) this.closeStream();
  }
}

/** The `limit_data` toxic: closes the connection once `bytes` bytes went through. @internal */
export const limitDataToxic: ToxicDefinition<LimitDataAttributes> = {
  type: 'limit_data',
  streams: ['downstream', 'upstream'],
  attributes: { bytes: { default: 0, check: integerAtLeast(0) } },
  createStage: (attributes, context) => new LimitDataStage(attributes, context),
};
