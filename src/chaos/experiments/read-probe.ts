import type { Clock } from '../../core/clock.js';
import { reportCallbackError } from '../../core/report-callback-error.js';
import type { ExperimentContext, ExperimentProbe, ProbeTolerance, ProbeValue } from './experiment-definition.js';
import type { ProbeReading } from './experiment-run.js';

/** Whether `value` is within `tolerance` (booleans default to `true`; a number needs a range or predicate). @internal */
export function withinTolerance(value: ProbeValue, tolerance: ProbeTolerance | undefined, probeName: string): boolean {
  if (typeof tolerance === 'function') {
    try {
      return tolerance(value) === true;
    } catch (error) {
      reportCallbackError(error, `chaos probe "${probeName}" tolerance`);
      return false;
    }
  }
  if (typeof value === 'boolean') return value === (typeof tolerance === 'boolean' ? tolerance : true);
  if (typeof value !== 'number' || Number.isNaN(value)) return false;
  if (tolerance === undefined || typeof tolerance === 'boolean') return false;
  return (tolerance.min === undefined || value >= tolerance.min) && (tolerance.max === undefined || value <= tolerance.max);
}

/**
 * Reads a probe, bounded by `timeoutMs`: a probe that throws, rejects, hangs or returns something other than a
 * boolean or a number reads as out of tolerance with an error. Never rejects.
 * @internal
 */
export async function readProbe(probe: ExperimentProbe, context: ExperimentContext, clock: Clock, timeoutMs: number): Promise<ProbeReading> {
  let timer: { cancel(): void } | undefined;
  try {
    const reading = Promise.resolve().then(() => probe.probe(context));
    const timeout = new Promise<never>((_, reject) => {
      timer = clock.schedule(() => reject(new Error(`probe did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    reading.catch(() => undefined);
    const value: unknown = await Promise.race([reading, timeout]);
    if (typeof value !== 'boolean' && typeof value !== 'number') {
      return { name: probe.name, ok: false, error: `probe returned ${value === null ? 'null' : typeof value}, not a boolean or a number` };
    }
    return { name: probe.name, value, ok: withinTolerance(value, probe.tolerance, probe.name) };
  } catch (error) {
    return { name: probe.name, ok: false, error: messageOf(error) };
  } finally {
    timer?.cancel();
  }
}

/** An error as a short message. @internal */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message === '' ? error.name : `${error.name}: ${error.message}`;
  return String(error);
}
