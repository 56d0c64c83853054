import { describe, expect, it } from 'vitest';
import { RespCommandParser } from '../../../src/chaos/proxy/resp-command-parser.js';

function encode(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** Feeds `input` in pieces of `size` bytes; returns the command count and every boundary offset (absolute). */
function parse(input: string, size: number): { commands: number; boundaries: number[]; parser: RespCommandParser } {
  const parser = new RespCommandParser();
  const bytes = Buffer.from(input);
  let commands = 0;
  const boundaries: number[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    const result = parser.feed(bytes.subarray(offset, offset + size));
    commands += result.commands;
    if (result.commands > 0) boundaries.push(offset + result.lastBoundary);
  }
  return { commands, boundaries, parser };
}

describe('RespCommandParser', () => {
  const pipeline = encode('SET', 'key', 'va\r\nlue') + encode('GET', 'key') + 'PING\r\n' + '\r\n' + encode('ECHO', '*$\r\n');

  it('counts pipelined array and inline commands, ignoring empty lines, whatever the chunking', () => {
    for (const size of [1, 2, 3, 7, 13, 1000]) {
      const { commands, parser } = parse(pipeline, size);
      expect({ size, commands }).toEqual({ size, commands: 4 });
      expect(parser.atBoundary).toBe(true);
    }
  });

  it('reports where the last command of a chunk ended', () => {
    const first = encode('GET', 'a');
    const { boundaries } = parse(first + encode('GET', 'b'), first.length + 3);
    expect(boundaries).toEqual([first.length, first.length * 2]);
  });

  it('knows when it stops in the middle of a command', () => {
    const parser = new RespCommandParser();
    const command = Buffer.from(encode('SET', 'k', 'x'.repeat(100)));
    expect(parser.feed(command.subarray(0, 20)).commands).toBe(0);
    expect(parser.atBoundary).toBe(false);
    expect(parser.feed(command.subarray(20)).commands).toBe(1);
    expect(parser.atBoundary).toBe(true);
  });

  it('ignores *0 and *-1 and treats a missing $ as not RESP', () => {
    expect(parse('*0\r\n*-1\r\n', 1).commands).toBe(0);
    const broken = parse('*1\r\n:5\r\n', 100);
    expect(broken.parser.broken).toBe(true);
  });

  it('treats an inline line over 64 KiB as not RESP', () => {
    expect(parse('x'.repeat(70_000), 4096).parser.broken).toBe(true);
  });
});
