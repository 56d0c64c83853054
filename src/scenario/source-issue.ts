/** One problem found in a file the CLI reads (a scenario), with where it is. */
export interface SourceIssue {
  /** File name, or the source name given to the parser. */
  readonly source: string;
  /** 1-based line of the offending node (of its parent when a field is missing). */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** Field path, e.g. `phases[1].faults[0].fault.kind`; empty for the whole document. */
  readonly path: string;
  /** What was expected there, e.g. `a duration such as "30s" or "2 hours"`. */
  readonly expected: string;
  /** What was found, rendered for humans. */
  readonly received: string;
}

/** Renders an issue as `source:line:col path: expected ..., received ...`. */
export function formatSourceIssue(issue: SourceIssue): string {
  return `${issue.source}:${issue.line}:${issue.column} ${issue.path === '' ? '(document)' : issue.path}: expected ${issue.expected}, received ${issue.received}`;
}
