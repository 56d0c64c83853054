export type {
  ChaosAdminHandler,
  ChaosAdminHandlerOptions,
  ResourceFaultHandle,
  ResourceFaultStarter,
  TargetStatus,
} from './chaos-admin-handler.js';
export { createChaosAdminHandler } from './chaos-admin-handler.js';
