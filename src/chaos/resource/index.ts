export type { CpuPressureOptions } from './cpu-pressure.js';
export type { EventLoopBlockOptions } from './event-loop-block.js';
export type { MemoryPressureOptions } from './memory-pressure.js';
export type { ResourceFaultHandle } from './resource-fault-handle.js';
export type { IdentifiedResourceFault, ResourceFaultSpec, StartResourceFaultOptions } from './start-resource-fault.js';
export { CpuPressure, startCpuPressure } from './cpu-pressure.js';
export { EVENT_LOOP_BLOCK_HARD_CAP_MS, EventLoopBlock, blockEventLoop, startEventLoopBlock } from './event-loop-block.js';
export { MemoryPressure, startMemoryPressure } from './memory-pressure.js';
export { startResourceFault } from './start-resource-fault.js';
