/** One request as a {@link LoadTransport} sends it. */
export interface LoadRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Path (and query) relative to the transport's base URL, starting with `/`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly body?: string | undefined;
}

/**
 * How a load generator sends requests. {@link HttpTransport} is the real one (undici); tests and other
 * protocols plug in their own.
 */
export interface LoadTransport {
  /**
   * Sends `request` and resolves with the response status once the whole response was received (the body
   * read and discarded). Rejects on a network error, or with `signal.reason` once `signal` aborts.
   */
  send(request: LoadRequest, signal: AbortSignal): Promise<number>;
  /** Releases connections; requests still running are allowed to finish. */
  close(): Promise<void>;
}
