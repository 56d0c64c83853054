/**
 * The shape of a loaded runbook: what {@link parseRunbook} produces from YAML and {@link RunbookEngine} runs.
 * Durations are already parsed to milliseconds and conditions to comparisons.
 */

/** A numeric comparison such as `"< 5"` or `">= 0.9"`, parsed from a runbook. */
export interface RunbookCondition {
  /** The comparison operator. */
  readonly op: '<' | '<=' | '>' | '>=' | '==' | '!=';
  /** The number the value is compared with. */
  readonly value: number;
  /** The condition as written, e.g. `"< 5"`. */
  readonly text: string;
}

/** A trigger: a metric crossing a condition, or a named alert. */
export type RunbookTrigger =
  | { readonly kind: 'metric'; readonly metric: string; readonly condition: RunbookCondition }
  | { readonly kind: 'alert'; readonly alert: string };

/** How a step's success is verified after its action (and its `wait`). */
export type RunbookVerify = (
  | {
      /** A metric (from `registerMetric` or the latest `onMetric` value) that must satisfy `condition`. */
      readonly kind: 'metric';
      readonly metric: string;
      readonly condition: RunbookCondition;
    }
  | {
      /** A registered check (or action) whose result must be truthy. */
      readonly kind: 'check';
      readonly check: string;
      readonly params: Readonly<Record<string, unknown>>;
    }
) & {
  /** Extra attempts after the first failed verification. @default 0 */
  readonly retries: number;
  /** Milliseconds between verification attempts. @default the step's `wait`, else 1_000 */
  readonly intervalMs: number;
};

/** What happens when a step fails (its action threw or timed out, or its verification failed). */
export type RunbookOnFailure =
  | { readonly kind: 'continue' }
  | { readonly kind: 'abort' }
  /** Jump forward to a later step of the same runbook (the steps in between are skipped). */
  | { readonly kind: 'step'; readonly step: string }
  /** Run another runbook, then abort (`then: abort`, the default) or continue this one. */
  | { readonly kind: 'runbook'; readonly runbook: string; readonly then: 'abort' | 'continue' };

/**
 * A step's guard. `all_steps_failed`: runs only if every previous step that ran failed (and at least one
 * ran); `any_step_failed`: runs only if at least one previous step failed. Guarded steps also run after an
 * abort, so an escalation at the end of a runbook is reached.
 */
export type RunbookStepCondition = 'all_steps_failed' | 'any_step_failed';

/** One step of a runbook. */
export interface RunbookStep {
  /** Unique within the runbook. */
  readonly name: string;
  /** Registered action to call, if any. */
  readonly action: string | undefined;
  /** Parameters passed to the action as written in YAML (keys kept as written, e.g. `idle_time`). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Milliseconds to wait after the action, before verifying. */
  readonly waitMs: number;
  /** Milliseconds the action may take before it is aborted and the step fails. */
  readonly timeoutMs: number | undefined;
  /** How success is verified, if at all. */
  readonly verify: RunbookVerify | undefined;
  /**
   * What to do when the step fails (its action threw or timed out, or verification failed).
   * @default continue (as the seed's healing loop moves on to the next step)
   */
  readonly onFailure: RunbookOnFailure;
  /**
   * What to do when the step succeeds: `complete` ends the run as resolved (the remaining steps are
   * skipped), `continue` goes on.
   * @default complete for a step with `verify` (the problem is verified resolved, as the seed's healing loop
   * stops at the first verified resolution), continue otherwise
   */
  readonly onSuccess: 'complete' | 'continue';
  /** Guard deciding whether the step runs. */
  readonly condition: RunbookStepCondition | undefined;
  /** 1-based line of the step in its source. */
  readonly line: number;
}

/** A validated runbook. */
export interface Runbook {
  /** Unique name within an engine. */
  readonly name: string;
  /** Free text. */
  readonly description: string | undefined;
  /** Triggers starting the runbook automatically; empty when it only runs by hand. */
  readonly triggers: readonly RunbookTrigger[];
  /** Steps, in order. */
  readonly steps: readonly RunbookStep[];
  /** Milliseconds after a run ends during which triggers do not start it again; undefined = engine default. */
  readonly cooldownMs: number | undefined;
  /** Where it was loaded from (file name or the name given to `loadString`). */
  readonly source: string;
}
