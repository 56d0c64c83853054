export type { AbuseDetectorEvents, AbuseDetectorOptions, AbusePattern, AbuseRequest, AbuseVerdict } from './abuse-detector.js';
export { AbuseDetector, DEFAULT_ABUSE_PATTERNS } from './abuse-detector.js';
export type {
  AdaptiveRateLimitDecision,
  AdaptiveRateLimiterEvents,
  AdaptiveRateLimiterOptions,
  AdaptiveRateLimitExecuteOptions,
  LoadScalingOptions,
} from './adaptive-rate-limiter.js';
export { AdaptiveRateLimiter } from './adaptive-rate-limiter.js';
export type { BehaviorEvent, BehaviorTrackerOptions } from './behavior-tracker.js';
export { BehaviorTracker } from './behavior-tracker.js';
export { BoundedMap } from './bounded-map.js';
export type { ConcurrencyLoadSignalOptions, ConcurrencyReading } from './concurrency-load-signal.js';
export { ConcurrencyLoadSignal } from './concurrency-load-signal.js';
export type { EventLoopDelayHistogram, EventLoopDelaySignalOptions } from './event-loop-delay-signal.js';
export { EventLoopDelaySignal } from './event-loop-delay-signal.js';
export type { KeyedLimit, KeyedRateLimitResult, KeyedRateLimitStore } from './keyed-rate-limit-store.js';
export type { LoadSignal } from './load-signal.js';
export type { LocalRateLimitStoreOptions } from './local-rate-limit-store.js';
export { LocalRateLimitStore } from './local-rate-limit-store.js';
