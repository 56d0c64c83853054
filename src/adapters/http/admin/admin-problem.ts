import type { ServerResponse } from 'node:http';
import { isChaosRefusedError } from '../../../core/errors.js';
import { InvalidOptionsError } from '../../../core/options.js';
import { HttpError } from '../http-error.js';
import { sendReply } from '../http-reply.js';
import { problemFromError } from '../problem-details.js';

/**
 * The {@link HttpError} an admin route answers `error` with: an invalid request (`InvalidOptionsError` from
 * validating the body or a fault spec) is a 400 listing every field, a chaos refusal a 403 with its code;
 * anything else is left to `problemFromError` (an `HttpError` keeps its status, library errors their usual
 * mapping, the rest is a 500).
 */
function adminHttpError(error: unknown): unknown {
  if (error instanceof InvalidOptionsError) return HttpError.invalid(error.issues);
  if (isChaosRefusedError(error)) return new HttpError(403, 'Forbidden', error.message, { code: error.code, cause: error });
  return error;
}

/**
 * Answers `error` as `application/problem+json` (RFC 9457) the way every admin route does: through
 * {@link problemFromError}, `instance` set to the request path, the message of an unexpected error shown (the
 * API is for operators), never cached, and the connection closed after a 413 (the rest of an oversized body is
 * not worth reading). A 401 carries `WWW-Authenticate: Bearer` ({@link HttpError.unauthorized}).
 */
export function sendAdminProblem(res: ServerResponse, error: unknown, instance: string): void {
  const reply = problemFromError(adminHttpError(error), { exposeInternalErrors: true }, { instance });
  reply.headers['cache-control'] = 'no-store';
  if (reply.status === 413) reply.headers.connection = 'close';
  sendReply(res, reply);
}
