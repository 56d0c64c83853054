export {
  FaultProxy,
  type FaultProxyEvents,
  type FaultProxyJson,
  type FaultProxyOptions,
  type FaultProxyStats,
  type FaultProxyUpdate,
} from './fault-proxy.js';
export { FaultProxyError, isFaultProxyError, type FaultProxyErrorCode } from './fault-proxy-error.js';
export { ProxyRegistry, type ProxyDefinition, type ProxyRegistryOptions } from './proxy-registry.js';
export { ProxyControlServer, type ProxyControlServerOptions } from './proxy-control-server.js';
export type { Toxic, ToxicAttributesByType, ToxicOf, ToxicPatch, ToxicSpec, ToxicType } from './toxic.js';
export type { ToxicStream } from './toxic-stage.js';
export type { BandwidthAttributes } from './toxics/bandwidth.js';
export type { LatencyAttributes } from './toxics/latency.js';
export type { LimitDataAttributes } from './toxics/limit-data.js';
export type { PacketLossAttributes } from './toxics/packet-loss.js';
export type { PgResetAttributes } from './toxics/pg-reset.js';
export type { RedisErrorAttributes } from './toxics/redis-error.js';
export type { ResetPeerAttributes } from './toxics/reset-peer.js';
export type { SlicerAttributes } from './toxics/slicer.js';
export type { SlowCloseAttributes } from './toxics/slow-close.js';
export type { TimeoutAttributes } from './toxics/timeout.js';
