import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_ID_LENGTH, resolveRequestId } from '../../../src/adapters/http/request-id.js';

describe('resolveRequestId', () => {
  const gen = (): string => 'generated';
  it('keeps a safe incoming id', () => {
    expect(resolveRequestId('abc-123_x.y:z', gen)).toBe('abc-123_x.y:z');
    expect(resolveRequestId(['only-one'], gen)).toBe('only-one');
    expect(resolveRequestId('a'.repeat(MAX_REQUEST_ID_LENGTH), gen)).toHaveLength(MAX_REQUEST_ID_LENGTH);
  });

  it('replaces a missing, empty, repeated, too long or unsafe id', () => {
    for (const bad of [undefined, '', ['a', 'b'], 'a'.repeat(MAX_REQUEST_ID_LENGTH + 1), 'has space', 'crlf\r\nx', '<script>']) {
      expect(resolveRequestId(bad, gen)).toBe('generated');
    }
  });

  it('generates UUIDs by default', () => {
    const a = resolveRequestId(undefined);
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(resolveRequestId(undefined)).not.toBe(a);
  });
});
