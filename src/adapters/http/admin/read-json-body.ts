import type { IncomingMessage } from 'node:http';
import { HttpProblem } from './http-problem.js';

/**
 * Reads a request body of at most `maxBytes` and parses it as a JSON object. Rejects with an
 * {@link HttpProblem}: 413 when the body (or its `Content-Length`) is larger, 400 when it is empty, not
 * JSON, or not an object. The body is not read any further once it is too large.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw new HttpProblem(413, 'Content Too Large', `Body larger than ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpProblem(413, 'Content Too Large', `Body larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw HttpProblem.invalid([{ path: 'body', expected: 'a JSON object', received: 'an empty body' }]);
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw HttpProblem.invalid([{ path: 'body', expected: 'valid JSON', received: error instanceof Error ? error.message : 'unparsable text' }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw HttpProblem.invalid([{ path: 'body', expected: 'a JSON object', received: Array.isArray(value) ? 'an array' : typeof value }]);
  }
  return value as Record<string, unknown>;
}
