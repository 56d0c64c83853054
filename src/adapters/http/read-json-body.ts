import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

/**
 * Reads a node:http request body as JSON. Refuses, with an {@link HttpError} that `problemFromError` answers
 * as problem+json: a body over `maxBytes` (413, reading stops at the limit), a non-JSON `content-type`
 * (415), an empty body or malformed JSON (400). Nothing is handed to the application in those cases.
 *
 * @param maxBytes largest accepted body in bytes.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, 'Unsupported Media Type', `Expected a JSON body, got ${type}`);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw new HttpError(413, 'Content Too Large', `Body larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, 'Content Too Large', `Body larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'Bad Request', 'Expected a JSON body, got an empty body');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, 'Bad Request', `Malformed JSON: ${error instanceof Error ? error.message : 'unparsable text'}`);
  }
}
