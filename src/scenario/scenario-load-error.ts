import { formatSourceIssue, type SourceIssue } from './source-issue.js';

const BRAND = Symbol.for('antifragile.ScenarioLoadError');

/**
 * Raised when a scenario file is refused: unreadable, invalid YAML, a missing field, a wrong type, an
 * unknown field, a bad duration or tolerance. The message lists every problem, one per line, as
 * `file:line:col path: expected ..., received ...` (the `antifragile` CLI prints it and exits with code 2).
 */
export class ScenarioLoadError extends Error {
  override readonly name: string = 'ScenarioLoadError';
  /** Stable machine-readable code. */
  readonly code = 'SCENARIO_INVALID' as const;
  /** Every problem found, in document order. */
  readonly issues: readonly SourceIssue[];
  constructor(source: string, issues: readonly SourceIssue[], options?: { cause?: unknown }) {
    super(`Invalid scenario ${source} (${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}):\n` + issues.map((i) => `  ${formatSourceIssue(i)}`).join('\n'), options);
    this.issues = issues;
  }
}
Object.defineProperty(ScenarioLoadError.prototype, BRAND, { value: true });

/** Whether `error` is a {@link ScenarioLoadError} (from any copy of the package). */
export function isScenarioLoadError(error: unknown): error is ScenarioLoadError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}
