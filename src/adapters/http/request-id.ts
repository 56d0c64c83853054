import { randomUUID } from 'node:crypto';

/** Header carrying the request id, lower case as Node.js presents incoming headers. */
export const DEFAULT_REQUEST_ID_HEADER = 'x-request-id';

/** Longest incoming request id accepted; a longer one is replaced by a generated id. */
export const MAX_REQUEST_ID_LENGTH = 128;

const SAFE_ID = /^[A-Za-z0-9._:@/+=-]+$/;

/**
 * The request id to use for a request: the incoming header value when it is a single, non-empty,
 * printable token of at most {@link MAX_REQUEST_ID_LENGTH} characters (letters, digits and `._:@/+=-`),
 * otherwise a freshly generated one. Rejecting odd values keeps header injection and log forging out.
 *
 * @param incoming the incoming header value as Node.js gives it (`undefined`, a string or, when repeated, an array).
 * @param generate makes a new id. @default crypto.randomUUID
 */
export function resolveRequestId(incoming: string | readonly string[] | undefined, generate: () => string = randomUUID): string {
  const value = typeof incoming === 'string' ? incoming : incoming?.length === 1 ? incoming[0] : undefined;
  if (value !== undefined && value.length > 0 && value.length <= MAX_REQUEST_ID_LENGTH && SAFE_ID.test(value)) return value;
  return generate();
}
