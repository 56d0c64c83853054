import { Worker } from 'node:worker_threads';
import { OptionsValidator } from '../../core/options.js';
import type { ResourceFaultHandle } from './resource-fault-handle.js';

/** Options of {@link startCpuPressure}. */
export interface CpuPressureOptions {
  /** Share of one core each thread burns, in percent (1..100), as a busy/idle duty cycle. @default 80 */
  percent?: number;
  /** Worker threads burning CPU (integer 1..64). @default 1 */
  threads?: number;
  /**
   * How long the pressure lasts at most, in ms (> 0, at most one hour). Each thread stops by itself at this
   * deadline even if {@link CpuPressure.stop} is never called.
   * @default 60_000
   */
  durationMs?: number;
  /** Length of one busy/idle cycle, in ms (10..1_000). @default 100 */
  periodMs?: number;
}

/** Longest CPU pressure accepted, in ms. */
const MAX_DURATION_MS = 3_600_000;

// The worker runs as a CommonJS script (`eval: true`): busy for `busyMs`, then idle on Atomics.wait (which
// also wakes it at once when the parent raises the stop flag), until the flag or the deadline.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const flag = new Int32Array(workerData.flag);
const busyMs = workerData.periodMs * workerData.percent / 100;
const idleMs = workerData.periodMs - busyMs;
const deadline = performance.now() + workerData.durationMs;
parentPort.postMessage('running');
let x = 1;
while (Atomics.load(flag, 0) === 0 && performance.now() < deadline) {
  const until = Math.min(performance.now() + busyMs, deadline);
  while (performance.now() < until) x = (Math.imul(x, 1103515245) + 12345) | 0;
  if (idleMs > 0) Atomics.wait(flag, 0, 0, idleMs);
}
if (x === 42) parentPort.postMessage('unlikely');
`;

/**
 * Burns CPU in worker threads: each thread keeps one core `percent` busy through a busy/idle duty cycle, for
 * at most `durationMs`. The threads never keep the process alive and end with it. Created by
 * {@link startCpuPressure}.
 */
export class CpuPressure implements ResourceFaultHandle {
  readonly kind = 'cpu-pressure' as const;
  /** Percent of a core per thread. */
  readonly percent: number;
  /** Number of threads. */
  readonly threads: number;
  /** Longest the pressure lasts, in ms. */
  readonly durationMs: number;
  readonly done: Promise<void>;
  private ended = false;
  private stopping: Promise<void> | undefined;

  /** @internal */
  constructor(
    options: Required<CpuPressureOptions>,
    private readonly workers: readonly Worker[],
    private readonly flag: Int32Array,
    exits: readonly Promise<void>[],
  ) {
    this.percent = options.percent;
    this.threads = options.threads;
    this.durationMs = options.durationMs;
    this.done = Promise.all(exits).then(() => {
      this.ended = true;
    });
  }

  get stopped(): boolean {
    return this.ended;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      Atomics.store(this.flag, 0, 1);
      Atomics.notify(this.flag, 0);
      await Promise.all(this.workers.map((w) => w.terminate().catch(() => undefined)));
      await this.done;
    })();
    return this.stopping;
  }
}

/**
 * Starts CPU pressure and resolves once every thread is burning. Use it as an experiment's injection and
 * `stop()` as its rollback.
 *
 * @throws InvalidOptionsError listing every invalid option.
 * @example
 * const pressure = await startCpuPressure({ percent: 80, threads: 2, durationMs: 30_000 });
 * // ... observe latency, the health monitor, the degradation level ...
 * await pressure.stop();
 */
export async function startCpuPressure(options: CpuPressureOptions = {}): Promise<CpuPressure> {
  const v = new OptionsValidator('CpuPressure');
  if (v.object('options', options)) {
    v.number('percent', options.percent, { min: 1, max: 100 });
    v.number('threads', options.threads, { integer: true, min: 1, max: 64 });
    v.number('durationMs', options.durationMs, { minExclusive: 0, max: MAX_DURATION_MS });
    v.number('periodMs', options.periodMs, { min: 10, max: 1_000 });
  }
  v.throwIfInvalid();
  const settings: Required<CpuPressureOptions> = {
    percent: options.percent ?? 80,
    threads: options.threads ?? 1,
    durationMs: options.durationMs ?? 60_000,
    periodMs: options.periodMs ?? 100,
  };
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const workers: Worker[] = [];
  const exits: Promise<void>[] = [];
  const running: Promise<void>[] = [];
  for (let i = 0; i < settings.threads; i++) {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...settings, flag: flag.buffer } });
    worker.unref();
    // A thread that fails just ends (its exit resolves `done`); the error must not crash the process.
    worker.on('error', () => undefined);
    workers.push(worker);
    exits.push(new Promise<void>((resolve) => worker.once('exit', () => resolve())));
    running.push(
      new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`CPU pressure thread exited (code ${code}) before it started`)));
      }),
    );
  }
  const pressure = new CpuPressure(settings, workers, flag, exits);
  try {
    await Promise.all(running);
  } catch (error) {
    await pressure.stop();
    throw error;
  }
  return pressure;
}
