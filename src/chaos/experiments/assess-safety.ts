import { reportCallbackError } from '../../core/report-callback-error.js';
import type { HealthSource } from '../../degradation/health-source.js';
import type { ChaosControl } from '../chaos-control.js';
import { EXPERIMENT_SEVERITIES, type ExperimentSeverity } from './experiment-definition.js';
import type { DegradationSource } from './experiment-components.js';

/** Whether chaos may run now, and if not why (every reason found). */
export interface SafetyReport {
  safe: boolean;
  reasons: string[];
}

/** What {@link assessSafety} looks at. @internal */
export interface SafetyInput {
  control: ChaosControl;
  enabled: boolean;
  safeMode: boolean;
  safeModeMaxSeverity: ExperimentSeverity;
  safeModeMaxDurationMs: number;
  allowedFaults: ReadonlySet<string> | undefined;
  health: HealthSource | undefined;
  degradation: DegradationSource | undefined;
  running: number;
  /** Active experiments elsewhere in the fleet (not this runner's). */
  fleetActive: number;
  maxConcurrent: number;
  /** The experiment about to run, when there is one. */
  experiment?: { severity: ExperimentSeverity; kinds: readonly string[]; durationMs: number };
}

/**
 * Every reason chaos must not run now: switched off, a production environment without permission, the kill
 * switch off, the system already unhealthy (or, in safe mode, degraded) or degraded to a lower level, too many
 * experiments running here or in the fleet; and for an experiment, fault kinds not allowed and, in safe mode,
 * a severity or duration above the limits.
 * @internal
 */
export function assessSafety(input: SafetyInput): SafetyReport {
  const reasons: string[] = [];
  const { control } = input;
  if (!input.enabled) reasons.push('chaos engineering is disabled (enabled: false)');
  if (!control.permitted) reasons.push(`environment "${control.environment}" is production and allowInProduction is not set`);
  else if (!control.enabled) reasons.push('the chaos kill switch is off (ChaosControl not enabled)');
  if (input.health !== undefined) {
    try {
      const { overall, score } = input.health.getSystemHealth();
      if (overall === 'unhealthy') reasons.push(`system health is already unhealthy (score ${score})`);
      else if (overall === 'degraded' && input.safeMode) reasons.push(`system health is degraded (score ${score}) and safe mode is on`);
    } catch (error) {
      reportCallbackError(error, 'chaos safety check getSystemHealth()');
      reasons.push('system health could not be read');
    }
  }
  if (input.degradation !== undefined) {
    try {
      const { level, levelIndex } = input.degradation.getCurrentState();
      if (levelIndex > 0) reasons.push(`the system is already degraded (level "${level}")`);
    } catch (error) {
      reportCallbackError(error, 'chaos safety check getCurrentState()');
      reasons.push('the degradation level could not be read');
    }
  }
  if (input.running >= input.maxConcurrent) reasons.push(`maxConcurrentExperiments (${input.maxConcurrent}) reached: ${input.running} running here`);
  else if (input.running + input.fleetActive >= input.maxConcurrent) {
    reasons.push(`maxConcurrentExperiments (${input.maxConcurrent}) reached: ${input.fleetActive} active elsewhere in the fleet`);
  }
  const experiment = input.experiment;
  if (experiment !== undefined) {
    if (input.allowedFaults !== undefined) {
      for (const kind of new Set(experiment.kinds)) {
        if (!input.allowedFaults.has(kind)) reasons.push(`fault kind "${kind}" is not allowed (allowed: ${[...input.allowedFaults].join(', ') || 'none'})`);
      }
    }
    if (input.safeMode) {
      if (EXPERIMENT_SEVERITIES.indexOf(experiment.severity) > EXPERIMENT_SEVERITIES.indexOf(input.safeModeMaxSeverity)) {
        reasons.push(`severity "${experiment.severity}" is above what safe mode allows ("${input.safeModeMaxSeverity}")`);
      }
      if (experiment.durationMs > input.safeModeMaxDurationMs) {
        reasons.push(`duration ${experiment.durationMs} ms is above what safe mode allows (${input.safeModeMaxDurationMs} ms)`);
      }
    }
  }
  return { safe: reasons.length === 0, reasons };
}
