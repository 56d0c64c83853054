/**
 * What {@link GracefulDegradation} reads the `health_score` metric from: anything with a
 * `getSystemHealth()` returning a 0..100 score and an overall status. `HealthMonitor` satisfies it.
 */
export interface HealthSource {
  /** The current system health; `score` is 0..100 (100 is fully healthy). */
  getSystemHealth(): { score: number; overall: string };
}

/** The metric name a rule uses for the health source's score. */
export const HEALTH_SCORE_METRIC = 'health_score';
