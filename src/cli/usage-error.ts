/**
 * A command line the CLI cannot act on (a bad flag value, an unknown phase, a missing token): printed
 * without a stack trace, exit code 2.
 */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
  /** Stable machine-readable code. */
  readonly code = 'USAGE' as const;
}
