import { getHeapStatistics } from 'node:v8';
import { OptionsValidator } from '../../core/options.js';
import type { HealthCheckFunction, HealthCheckResult } from '../health-check.js';

/** Options of {@link heapUsageCheck}. */
export interface HeapUsageCheckOptions {
  /** Used share (0..1) of the V8 heap limit from which the check is degraded. @default 0.85 */
  warnRatio?: number;
  /** Used share (0..1, >= `warnRatio`) from which the check is unhealthy. @default 0.95 */
  failRatio?: number;
}

/**
 * Checks heap usage: `used_heap_size / heap_size_limit` from `v8.getHeapStatistics()` (the limit, not
 * the current heap size, which V8 grows on demand). Degraded from `warnRatio`, unhealthy from `failRatio`.
 * Report measurement `utilization` in `percent`.
 *
 * @example
 * ```ts
 * monitor.registerCheck('heap', heapUsageCheck({ warnRatio: 0.8, failRatio: 0.95 }), { component: 'process' });
 * ```
 * @throws InvalidOptionsError listing every invalid option.
 */
export function heapUsageCheck(options: HeapUsageCheckOptions = {}): HealthCheckFunction {
  const v = new OptionsValidator('heapUsageCheck');
  v.rate('warnRatio', options.warnRatio);
  v.rate('failRatio', options.failRatio);
  const warnRatio = options.warnRatio ?? 0.85;
  const failRatio = options.failRatio ?? Math.max(0.95, warnRatio);
  if (failRatio < warnRatio) v.fail('failRatio', `a number >= warnRatio (${warnRatio})`, failRatio);
  v.throwIfInvalid();
  const check = (): Partial<HealthCheckResult> => {
    const heap = getHeapStatistics();
    const ratio = heap.used_heap_size / heap.heap_size_limit;
    const status = ratio >= failRatio ? 'unhealthy' : ratio >= warnRatio ? 'degraded' : 'healthy';
    const percent = Math.round(ratio * 10_000) / 100;
    const result: Partial<HealthCheckResult> = {
      status,
      details: {
        measurement: 'utilization',
        observedValue: percent,
        observedUnit: 'percent',
        componentType: 'system',
        usedBytes: heap.used_heap_size,
        limitBytes: heap.heap_size_limit,
      },
    };
    if (status !== 'healthy') result.error = `heap usage ${percent}% >= ${(status === 'unhealthy' ? failRatio : warnRatio) * 100}%`;
    return result;
  };
  return Object.assign(check, { measurement: 'utilization' });
}
