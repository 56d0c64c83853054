export type {
  AuditInput,
  AuditRecord,
  BreakerTransitionInput,
  BreakerTransitionRecord,
  ChaosEventInput,
  ChaosEventRecord,
  ChaosExperimentRecord,
  ComponentSummaryRecord,
  DegradationHistoryRecord,
  DegradationStateRecord,
  FeatureFlagRecord,
  HealthCheckInput,
  HealthCheckRecord,
  HealthSnapshotInput,
  HealthSnapshotRecord,
  QueryFilter,
  RecoveryEventInput,
  RecoveryEventRecord,
  Store,
  StoreEvents,
  StoredRow,
} from './store.js';
export { MemoryStore } from './memory-store.js';
export type { MemoryStoreOptions } from './memory-store.js';
export { StoreError, isStoreError } from './store-error.js';
export type { StoreErrorCode } from './store-error.js';
export type { StoreOptions } from './store-options.js';
