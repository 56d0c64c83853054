import type { ServerResponse } from 'node:http';
import { isChaosRefusedError } from '../../../core/errors.js';
import { InvalidOptionsError } from '../../../core/options.js';

/** One invalid field of a request, as listed in a 400 problem's `errors`. */
export interface ProblemIssue {
  path: string;
  expected: string;
  received: string;
}

/**
 * An HTTP error answered as `application/problem+json` (RFC 9457): `status`, a short `title`, the
 * message as `detail`, and `extra` members merged into the body.
 */
export class HttpProblem extends Error {
  override readonly name: string = 'HttpProblem';

  constructor(
    /** HTTP status code. */
    readonly status: number,
    /** Short summary, e.g. `Not Found`. */
    readonly title: string,
    detail: string,
    /** Extra members of the problem body. @default {} */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  /** A 400 listing every invalid field. */
  static invalid(issues: readonly ProblemIssue[]): HttpProblem {
    return new HttpProblem(400, 'Bad Request', issues.map((i) => `${i.path}: expected ${i.expected}, received ${i.received}`).join('; '), {
      errors: issues.map((i) => ({ ...i })),
    });
  }

  /** A 405 for `method` on `path`. */
  static methodNotAllowed(method: string, path: string): HttpProblem {
    return new HttpProblem(405, 'Method Not Allowed', `${method} is not allowed on ${path === '' ? '/' : path}`);
  }

  /**
   * The problem for any error: itself for an {@link HttpProblem}, 400 for an `InvalidOptionsError`, 403 for a
   * `ChaosRefusedError`, 500 otherwise.
   */
  static from(error: unknown): HttpProblem {
    if (error instanceof HttpProblem) return error;
    if (error instanceof InvalidOptionsError) return HttpProblem.invalid(error.issues.map((i) => ({ path: i.path, expected: i.expected, received: i.received })));
    if (isChaosRefusedError(error)) return new HttpProblem(403, 'Forbidden', error.message, { code: error.code });
    return new HttpProblem(500, 'Internal Server Error', error instanceof Error ? error.message : String(error));
  }

  /** Writes the problem to `res` (a 401 also gets `WWW-Authenticate: Bearer`); `instance` is the request path. */
  send(res: ServerResponse, instance: string): void {
    const body = JSON.stringify({ type: 'about:blank', title: this.title, status: this.status, detail: this.message, instance, ...this.extra });
    const headers: Record<string, string | number> = {
      'content-type': 'application/problem+json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    };
    if (this.status === 401) headers['www-authenticate'] = 'Bearer';
    // The rest of an oversized body is not worth reading: close the connection once answered.
    if (this.status === 413) headers.connection = 'close';
    if (!res.headersSent) res.writeHead(this.status, headers);
    res.end(body);
  }
}
