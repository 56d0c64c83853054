/**
 * Receives one record per finished HTTP response from the resilience middleware (`HttpResilience`'s
 * `metrics` option), refusals and probes included. `antifragile/prometheus`'s `HttpServerMetrics` implements
 * it; anything else (StatsD, logs) can too. Called on the response's `finish`, so it must be cheap and must
 * not throw (a throw is reported as a process warning).
 */
export interface HttpRequestObserver {
  /**
   * @param method the request method as received (`GET`).
   * @param route the route template (`/quotes/:id`) when the server knows it (Express, Fastify), else `undefined`.
   * @param statusCode the response status.
   * @param durationSeconds time from the middleware's start to the response's finish, in seconds.
   */
  observeRequest(method: string, route: string | undefined, statusCode: number, durationSeconds: number): void;
}
