import { integerAtLeast, nonNegativeNumber, probability, type ToxicDefinition } from '../toxic-definition.js';
import { PacedStage } from '../paced-stage.js';

/** Attributes of the `packet_loss` toxic (not in toxiproxy; named in its style). */
export interface PacketLossAttributes {
  /** Probability that one transmission of a segment is lost, 0..1. Required. */
  probability: number;
  /** Retransmission timeout of the first retransmission, in milliseconds; doubles on each further loss. @default 200 */
  retransmit_ms: number;
  /** Segment size in bytes (the MSS): each segment is lost or not on its own. @default 1460 */
  segment_size: number;
  /** Transmissions of one segment after which the connection is reset, as TCP gives up. @default 15 */
  max_retransmits: number;
}

/** Linux caps the retransmission timeout at 120 s (TCP_RTO_MAX). */
const MAX_RTO_MS = 120_000;

/**
 * Emulates packet loss on a TCP stream. A TCP proxy cannot drop bytes without corrupting the stream, and real
 * TCP never delivers a gap either: a lost segment is retransmitted after a timeout and everything behind it
 * waits (head-of-line blocking). So each `segment_size` slice of the stream is "transmitted" with loss
 * probability `probability`; a lost segment stalls the stream for `retransmit_ms`, doubling on every further
 * loss of the same segment (exponential backoff), and after `max_retransmits` losses in a row the connection is
 * reset. Segments that get through are handed on together, so a stream without losses is not sliced.
 * @internal
 */
export class PacketLossStage extends PacedStage<PacketLossAttributes> {
  /** Losses in a row of the head segment. */
  private losses = 0;

  protected pump(): void {
    while (this.timer === undefined && !this.finished) {
      const head = this.queue.peek();
      if (head === undefined) return;
      if (head === null) {
        this.queue.shift();
        this.next.end();
        continue;
      }
      const { segment_size: segment, probability: p } = this.attributes;
      // Scan the chunk segment by segment until one is lost.
      let passed = 0;
      while (passed < head.length) {
        const lost = p > 0 && (p >= 1 || this.context.random() < p);
        if (lost) break;
        this.losses = 0;
        passed += Math.min(segment, head.length - passed);
      }
      if (passed > 0) {
        if (passed >= head.length) this.queue.shift();
        else this.queue.replaceHead(head.subarray(passed));
        this.next.write(passed >= head.length ? head : head.subarray(0, passed));
        if (passed >= head.length) continue;
        if (this.finished) return;
      }
      // The head segment was lost (again, when its retransmission timer just fired).
      this.losses++;
      if (this.losses > this.attributes.max_retransmits) {
        this.dispose();
        this.context.reset();
        return;
      }
      const rto = Math.min(MAX_RTO_MS, this.attributes.retransmit_ms * 2 ** (this.losses - 1));
      this.timer = this.context.clock.schedule(this.onTimer, rto, { keepAlive: false });
    }
  }
}

/** The `packet_loss` toxic: lost segments stall the stream by a retransmission timeout (see {@link PacketLossStage}). @internal */
export const packetLossToxic: ToxicDefinition<PacketLossAttributes> = {
  type: 'packet_loss',
  streams: ['downstream', 'upstream'],
  attributes: {
    probability: { check: probability },
    retransmit_ms: { default: 200, check: nonNegativeNumber },
    segment_size: { default: 1460, check: integerAtLeast(1) },
    max_retransmits: { default: 15, check: integerAtLeast(0) },
  },
  createStage: (attributes, context) => new PacketLossStage(attributes, context),
};
