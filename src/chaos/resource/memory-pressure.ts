import { freemem } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ChaosRefusedError } from '../../core/errors.js';
import { OptionsValidator } from '../../core/options.js';
import type { ResourceFaultHandle } from './resource-fault-handle.js';

/** Options of {@link startMemoryPressure}. */
export interface MemoryPressureOptions {
  /** Megabytes to allocate and keep resident (integer >= 1). Required. */
  mb: number;
  /** Size of each allocation, in megabytes (integer 1..1_024). @default 64 */
  chunkMb?: number;
  /**
   * How long the memory is held at most, in ms (> 0, at most one hour). The thread releases it by itself at
   * this deadline even if {@link MemoryPressure.stop} is never called.
   * @default 60_000
   */
  durationMs?: number;
  /**
   * Safety cap: refuse (ChaosRefusedError) to allocate more than this share of the machine's free memory
   * (`os.freemem()`), 0..1.
   * @default 0.5
   */
  maxShareOfFreeMemory?: number;
}

const MAX_DURATION_MS = 3_600_000;
const MB = 1024 * 1024;

// CommonJS worker (`eval: true`): allocates in chunks, writes every page so it is resident, reports, then
// holds the memory until terminated or until the deadline ends the thread (which frees it).
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const chunks = [];
let allocated = 0;
while (allocated < workerData.mb) {
  const size = Math.min(workerData.chunkMb, workerData.mb - allocated);
  const chunk = new Uint8Array(size * ${MB});
  chunk.fill(1);
  chunks.push(chunk);
  allocated += size;
}
parentPort.postMessage(allocated);
setTimeout(() => process.exit(0), workerData.durationMs);
`;

/**
 * Memory held by a worker thread: `mb` megabytes allocated in bounded chunks and touched so they are resident
 * (they raise the process's RSS), released when stopped or when `durationMs` has passed. The thread never
 * keeps the process alive. Created by {@link startMemoryPressure}.
 */
export class MemoryPressure implements ResourceFaultHandle {
  readonly kind = 'memory-pressure' as const;
  /** Megabytes held. */
  readonly mb: number;
  /** Longest the memory is held, in ms. */
  readonly durationMs: number;
  readonly done: Promise<void>;
  private ended = false;
  private stopping: Promise<void> | undefined;

  /** @internal */
  constructor(
    mb: number,
    durationMs: number,
    private readonly worker: Worker,
    exited: Promise<void>,
  ) {
    this.mb = mb;
    this.durationMs = durationMs;
    this.done = exited.then(() => {
      this.ended = true;
    });
  }

  get stopped(): boolean {
    return this.ended;
  }

  stop(): Promise<void> {
    this.stopping ??= this.worker
      .terminate()
      .catch(() => undefined)
      .then(() => this.done);
    return this.stopping;
  }
}

/**
 * Allocates `mb` megabytes in a worker thread and resolves once they are all held. Use it as an experiment's
 * injection and `stop()` as its rollback.
 *
 * @throws InvalidOptionsError listing every invalid option.
 * @throws ChaosRefusedError when `mb` exceeds `maxShareOfFreeMemory` of the machine's free memory.
 * @example
 * const pressure = await startMemoryPressure({ mb: 256, durationMs: 30_000 });
 * await pressure.stop();
 */
export async function startMemoryPressure(options: MemoryPressureOptions): Promise<MemoryPressure> {
  const v = new OptionsValidator('MemoryPressure');
  if (v.object('options', options)) {
    if (v.required('mb', options.mb, 'an integer >= 1')) v.integer('mb', options.mb, 1);
    v.number('chunkMb', options.chunkMb, { integer: true, min: 1, max: 1_024 });
    v.number('durationMs', options.durationMs, { minExclusive: 0, max: MAX_DURATION_MS });
    v.rate('maxShareOfFreeMemory', options.maxShareOfFreeMemory);
  } else if (options === undefined) {
    v.fail('options', 'an object with mb', options);
  }
  v.throwIfInvalid();
  const share = options.maxShareOfFreeMemory ?? 0.5;
  const capMb = Math.floor((freemem() * share) / MB);
  if (options.mb > capMb) {
    throw new ChaosRefusedError(
      `Memory pressure of ${options.mb} MB refused: above ${Math.round(share * 100)}% of the free memory (${capMb} MB allowed)`,
    );
  }
  const durationMs = options.durationMs ?? 60_000;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { mb: options.mb, chunkMb: Math.min(options.chunkMb ?? 64, options.mb), durationMs },
  });
  worker.unref();
  worker.on('error', () => undefined); // an allocation failure ends the thread; `exit` reports it
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const pressure = new MemoryPressure(options.mb, durationMs, worker, exited);
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('exit', (code) => reject(new Error(`Memory pressure thread exited (code ${code}) before holding ${options.mb} MB`)));
    });
  } catch (error) {
    await pressure.stop();
    throw error;
  }
  return pressure;
}
