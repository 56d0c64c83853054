import type { ServerResponse } from 'node:http';

/** A complete HTTP answer built by the framework-neutral core, for any server to send. */
export interface HttpReply {
  /** HTTP status code. */
  status: number;
  /** Response headers, lower-case names (content-type included). */
  headers: Record<string, string>;
  /** The body, serialised. */
  body: string;
}

/** A JSON reply: `body` serialised, `content-type` set to `contentType`. */
export function jsonReply(status: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}): HttpReply {
  return { status, headers: { ...headers, 'content-type': contentType }, body: JSON.stringify(body) };
}

/**
 * Sends `reply` on a node:http response (headers already set on `res` are kept unless the reply overrides
 * them). When an answer has already started (headers sent, e.g. a handler failed mid-stream), it cannot be
 * replaced: the response is destroyed, so the client sees a failed exchange rather than a truncated answer
 * that looks complete.
 */
export function sendReply(res: ServerResponse, reply: HttpReply): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  res.setHeader('content-length', Buffer.byteLength(reply.body));
  res.end(reply.body);
}
