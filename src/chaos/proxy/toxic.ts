import type { BandwidthAttributes } from './toxics/bandwidth.js';
import type { LatencyAttributes } from './toxics/latency.js';
import type { LimitDataAttributes } from './toxics/limit-data.js';
import type { PacketLossAttributes } from './toxics/packet-loss.js';
import type { PgResetAttributes } from './toxics/pg-reset.js';
import type { RedisErrorAttributes } from './toxics/redis-error.js';
import type { ResetPeerAttributes } from './toxics/reset-peer.js';
import type { SlicerAttributes } from './toxics/slicer.js';
import type { SlowCloseAttributes } from './toxics/slow-close.js';
import type { TimeoutAttributes } from './toxics/timeout.js';
import type { ToxicStream } from './toxic-stage.js';

/** The attributes of each built-in toxic type, by the type's name in toxiproxy's JSON. */
export interface ToxicAttributesByType {
  latency: LatencyAttributes;
  bandwidth: BandwidthAttributes;
  slow_close: SlowCloseAttributes;
  timeout: TimeoutAttributes;
  reset_peer: ResetPeerAttributes;
  slicer: SlicerAttributes;
  limit_data: LimitDataAttributes;
  packet_loss: PacketLossAttributes;
  redis_error: RedisErrorAttributes;
  pg_reset: PgResetAttributes;
}

/** Name of a built-in toxic type. */
export type ToxicType = keyof ToxicAttributesByType;

/** A toxic of type `K` as toxiproxy's JSON shows it: every field set, every attribute default applied. */
export interface ToxicOf<K extends ToxicType> {
  /** Unique within its proxy; defaults to `<type>_<stream>`. */
  readonly name: string;
  readonly type: K;
  /** The direction it acts on: `upstream` (client to server) or `downstream` (server to client). */
  readonly stream: ToxicStream;
  /** Probability, 0..1, that the toxic acts on a given connection (drawn when it starts on the connection). */
  readonly toxicity: number;
  readonly attributes: Readonly<ToxicAttributesByType[K]>;
}

/** A toxic of a proxy (a discriminated union on `type`). Frozen: change it with `updateToxic`. */
export type Toxic = { [K in ToxicType]: ToxicOf<K> }[ToxicType];

/**
 * A toxic to add, in toxiproxy's JSON shape. Only `type` is required.
 *
 * @example
 * ```ts
 * proxy.addToxic({ type: 'latency', stream: 'downstream', attributes: { latency: 100, jitter: 10 } });
 * ```
 */
export type ToxicSpec = {
  [K in ToxicType]: {
    /** @default `<type>_<stream>` */
    name?: string;
    type: K;
    /** @default 'downstream' (`upstream` for `redis_error` and `pg_reset`, which only act on requests) */
    stream?: ToxicStream;
    /** @default 1 */
    toxicity?: number;
    attributes?: Partial<ToxicAttributesByType[K]>;
  };
}[ToxicType];

/** A change to an existing toxic: a new toxicity and/or attributes merged over the current ones. */
export interface ToxicPatch {
  /** New toxicity, 0..1; when it changes, each connection draws again whether the toxic acts on it. */
  toxicity?: number;
  /** Attributes to change; the others keep their values. */
  attributes?: Readonly<Record<string, number | string>>;
}
