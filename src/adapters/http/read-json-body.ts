import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

/**
 * Reads a node:http request body as JSON. Refuses, with an {@link HttpError} that `problemFromError` answers
 * as problem+json: a body over `maxBytes` (413; reading stops at the limit, and a body declared too large by
 * its `Content-Length` is drained unread), a non-JSON `content-type` (415), an empty body or malformed JSON
 * (400 listing the problem under `errors`, path `body`). Nothing is handed to the application in those cases.
 *
 * @param maxBytes largest accepted body in bytes.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, 'Unsupported Media Type', `Expected a JSON body, got ${type}`);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw tooLarge(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw HttpError.invalid([{ path: 'body', expected: 'a JSON body', received: 'an empty body' }]);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw HttpError.invalid([{ path: 'body', expected: 'valid JSON', received: error instanceof Error ? error.message : 'unparsable text' }]);
  }
}

/**
 * {@link readJsonBody} for a body that must be a JSON object (not an array, a string, a number or `null`):
 * anything else is refused with a 400 as well.
 *
 * @param maxBytes largest accepted body in bytes.
 */
export async function readJsonObject(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const value = await readJsonBody(req, maxBytes);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw HttpError.invalid([{ path: 'body', expected: 'a JSON object', received: Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value }]);
  }
  return value as Record<string, unknown>;
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'Content Too Large', `Body larger than ${maxBytes} bytes`);
}
