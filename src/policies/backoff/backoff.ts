/**
 * A backoff strategy: how long a {@link Retry} waits before each retry. Strategies are stateless, so one
 * instance can be shared by many policies and concurrent calls; the caller carries the previous delay.
 * Implementations: `backoff.constant`, `backoff.linear`, `backoff.exponential`, `backoff.decorrelated`.
 */
export interface Backoff {
  /**
   * The delay before a retry, in milliseconds: finite, >= 0 and never above the strategy's maximum,
   * whatever the arguments.
   * @param retry 1 for the first retry (before attempt 2), 2 for the second, and so on.
   * @param previousDelayMs what this strategy returned before the previous retry; 0 before the first.
   */
  delayMs(retry: number, previousDelayMs: number): number;
}
