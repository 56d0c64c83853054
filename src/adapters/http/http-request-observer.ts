/**
 * Receives one record per HTTP request from the resilience middleware (`HttpResilience`'s `metrics` option),
 * refusals and probes included, when the response closes: with its status when the answer was sent in
 * full, or 499 when the client went away first. `antifragile/prometheus`'s `HttpServerMetrics` implements
 * it; anything else (StatsD, logs) can too. It must be cheap and must not throw (a throw is reported as a
 * process warning).
 */
export interface HttpRequestObserver {
  /**
   * @param method the request method as received (`GET`).
   * @param route the route template (`/quotes/:id`) when the server knows it (Express, Fastify), else `undefined`.
   * @param statusCode the response status, or 499 when the client disconnected before the answer was complete.
   * @param durationSeconds time from the middleware's start to the response's close, in seconds.
   */
  observeRequest(method: string, route: string | undefined, statusCode: number, durationSeconds: number): void;
}
