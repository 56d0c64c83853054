import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { OptionsValidator } from '../../core/options.js';
import type { HealthCheckFunction, HealthCheckResult } from '../health-check.js';

/** Options of {@link eventLoopDelayCheck}. */
export interface EventLoopDelayCheckOptions {
  /** Delay (milliseconds, >= 0) from which the check is degraded. @default 100 */
  warnMs?: number;
  /** Delay (milliseconds, >= `warnMs`) from which the check is unhealthy. @default 1_000 */
  failMs?: number;
  /** Percentile (0..100] of the delays since the previous run that is compared. @default 99 */
  percentile?: number;
  /** Sampling resolution of the histogram in milliseconds (integer >= 1). @default 10 */
  resolutionMs?: number;
}

/** A check returned by {@link eventLoopDelayCheck}: a check function plus `dispose()` and `enabled`. */
export interface EventLoopDelayCheck extends HealthCheckFunction {
  /** Stops sampling (the monitor calls it when the check is unregistered); the next run re-enables it. */
  dispose: () => void;
  /** Whether the histogram is sampling. */
  readonly enabled: boolean;
}

/**
 * Checks event-loop delay with `perf_hooks.monitorEventLoopDelay`: each run reads the chosen percentile
 * of the delays observed since the previous run (then resets the histogram), degraded from `warnMs`,
 * unhealthy from `failMs`. Sampling starts on the first run (which therefore sees no delay) and stops on
 * `dispose()`. Report measurement `eventLoopDelay` in `ms`. Node's histogram does not measure the first
 * `resolutionMs` after a reset, so a stall that begins in the same tick as a run goes unseen.
 *
 * @example
 * ```ts
 * monitor.registerCheck('event-loop', eventLoopDelayCheck({ warnMs: 50, failMs: 500 }), { component: 'process', liveness: true });
 * ```
 * @throws InvalidOptionsError listing every invalid option.
 */
export function eventLoopDelayCheck(options: EventLoopDelayCheckOptions = {}): EventLoopDelayCheck {
  const v = new OptionsValidator('eventLoopDelayCheck');
  v.duration('warnMs', options.warnMs);
  v.duration('failMs', options.failMs);
  v.number('percentile', options.percentile, { minExclusive: 0, max: 100 });
  v.integer('resolutionMs', options.resolutionMs, 1);
  const warnMs = options.warnMs ?? 100;
  const failMs = options.failMs ?? Math.max(1_000, warnMs);
  if (failMs < warnMs) v.fail('failMs', `a number >= warnMs (${warnMs})`, failMs);
  v.throwIfInvalid();
  const percentile = options.percentile ?? 99;
  const resolution = options.resolutionMs ?? 10;
  let histogram: IntervalHistogram | undefined;

  const run = async (): Promise<Partial<HealthCheckResult>> => {
    if (histogram === undefined) {
      histogram = monitorEventLoopDelay({ resolution });
      histogram.enable();
    }
    const delayMs = histogram.count === 0 ? 0 : histogram.percentile(percentile) / 1e6;
    histogram.reset();
    const observedValue = Math.round(delayMs * 1000) / 1000;
    const status = delayMs >= failMs ? 'unhealthy' : delayMs >= warnMs ? 'degraded' : 'healthy';
    const result: Partial<HealthCheckResult> = {
      status,
      details: { measurement: 'eventLoopDelay', observedValue, observedUnit: 'ms', componentType: 'system', percentile },
    };
    if (status !== 'healthy') result.error = `event-loop delay p${percentile} ${observedValue} ms >= ${status === 'unhealthy' ? failMs : warnMs} ms`;
    return result;
  };
  const dispose = (): void => {
    histogram?.disable();
    histogram = undefined;
  };
  const check = Object.assign(run, { dispose, measurement: 'eventLoopDelay' }) as typeof run & EventLoopDelayCheck;
  return Object.defineProperty(check, 'enabled', { get: () => histogram !== undefined, enumerable: true });
}
