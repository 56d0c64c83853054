/**
 * Reports an error thrown by user code the library called back (a predicate such as `isFailure` or
 * `shouldRetry`) without letting it replace the error or result of the call being judged: the caller
 * falls back to a safe answer and the problem is surfaced as a process warning.
 *
 * @param error what the callback threw.
 * @param where which component and option threw, e.g. `CircuitBreaker "pricing" option isFailure`.
 */
export function reportCallbackError(error: unknown, where: string): void {
  const detail = error instanceof Error ? error.message : String(error);
  process.emitWarning(`${where} threw: ${detail}`, { code: 'ANTIFRAGILE_CALLBACK_ERROR' });
}
