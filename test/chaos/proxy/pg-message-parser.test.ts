import { describe, expect, it } from 'vitest';
import { PgMessageParser } from '../../../src/chaos/proxy/pg-message-parser.js';

function startup(code: number, body = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(8);
  header.writeInt32BE(8 + body.length, 0);
  header.writeInt32BE(code, 4);
  return Buffer.concat([header, body]);
}

function typed(type: string, body: string): Buffer {
  const payload = Buffer.from(body);
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(4 + payload.length, 1);
  return Buffer.concat([header, payload]);
}

function typesSeen(parser: PgMessageParser, stream: Buffer, size: number): string[] {
  const seen: string[] = [];
  for (let i = 0; i < stream.length; i += size) {
    parser.feed(stream.subarray(i, i + size), (type) => {
      seen.push(String.fromCharCode(type));
      return false;
    });
  }
  return seen;
}

describe('PgMessageParser', () => {
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const session = Buffer.concat([
    startup(80877103), // SSLRequest, refused by the server with 'N'
    startup(196608, params),
    typed('p', 'secret\0'),
    typed('Q', 'SELECT 1\0'),
    typed('P', '\0SELECT $1\0\0\0'),
    typed('B', '\0\0\0\0\0\0\0\0'),
    typed('S', ''),
    typed('X', ''),
  ]);

  it('skips the startup phase and reports each typed message, whatever the chunking', () => {
    for (const size of [1, 3, 5, 8, 64, 4096]) {
      expect(typesSeen(new PgMessageParser(), session, size)).toEqual(['p', 'Q', 'P', 'B', 'S', 'X']);
    }
  });

  it('stops at the message the callback picks', () => {
    const seen: string[] = [];
    new PgMessageParser().feed(session, (type) => {
      seen.push(String.fromCharCode(type));
      return type === 0x51;
    });
    expect(seen).toEqual(['p', 'Q']);
  });

  it('goes opaque once TLS starts', () => {
    const parser = new PgMessageParser();
    const tls = Buffer.concat([startup(80877103), Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05]), typed('Q', 'x\0')]);
    expect(typesSeen(parser, tls, 3)).toEqual([]);
    expect(parser.opaque).toBe(true);
  });

  it('joins a connection past its startup in the typed phase', () => {
    expect(typesSeen(new PgMessageParser(true), typed('Q', 'SELECT 1\0'), 2)).toEqual(['Q']);
  });
});
