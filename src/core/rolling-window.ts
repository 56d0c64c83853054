/** Serializable contents of a rolling window, for state export and restore. */
export interface RollingWindowState {
  kind: 'consecutive' | 'count' | 'time';
  /** Window-specific data (ring contents, bucket counts and their epoch). */
  data: number[];
  /** Position/epoch marker, meaning depends on the kind. */
  mark: number;
}

/**
 * Outcomes of recent calls, readable at constant cost. Implementations: {@link ConsecutiveWindow},
 * {@link CountWindow}, {@link TimeWindow}.
 */
export interface RollingWindow {
  /** Records one call's outcome. */
  record(failed: boolean, slow: boolean): void;
  /** Calls in the window. */
  calls(): number;
  /** Failed calls in the window. */
  failures(): number;
  /** Slow calls in the window. */
  slowCalls(): number;
  /** Failures since the last success (any kind keeps this). */
  consecutiveFailures(): number;
  /** Forgets every outcome. */
  reset(): void;
  /** Exports the contents. */
  toJSON(): RollingWindowState;
  /** Restores contents exported by {@link toJSON} from a window of the same shape; ignores a mismatch. */
  restore(state: RollingWindowState): void;
}

/** Failure rate of a window, 0 when it is empty. */
export function failureRate(window: RollingWindow): number {
  const calls = window.calls();
  return calls === 0 ? 0 : window.failures() / calls;
}

/** Slow-call rate of a window, 0 when it is empty. */
export function slowCallRate(window: RollingWindow): number {
  const calls = window.calls();
  return calls === 0 ? 0 : window.slowCalls() / calls;
}
