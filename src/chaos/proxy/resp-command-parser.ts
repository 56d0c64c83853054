const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const MINUS = 45;

/** Redis refuses inline commands longer than this (PROTO_INLINE_MAX_SIZE). */
const MAX_INLINE = 64 * 1024;

const enum State {
  /** At a command boundary. */
  Start,
  /** Reading an inline command line up to its `\n`. */
  Inline,
  /** Reading the element count after `*`. */
  ArrayLength,
  /** Expecting `$` of the next bulk string. */
  BulkMarker,
  /** Reading a bulk length after `$`. */
  BulkLength,
  /** Skipping a bulk string's bytes and its CRLF. */
  BulkBody,
  /** The stream is not RESP: nothing more is parsed. */
  Broken,
}

/** What {@link RespCommandParser.feed} found in one chunk. */
export interface RespFeedResult {
  /** Commands that ended in this chunk. */
  commands: number;
  /** Offset just past the last command that ended in this chunk, or -1 when none did. */
  lastBoundary: number;
}

/**
 * Finds command boundaries in a stream of Redis requests (RESP arrays of bulk strings, as every client library
 * sends them, and inline commands, as `redis-cli` or a raw socket may), across any chunk boundaries and
 * pipelines, without copying: bulk bodies are skipped by length. Empty inline lines are ignored, as Redis
 * ignores them. A stream that is not RESP (`*` without `$` bulks, an overlong inline line) marks the parser
 * {@link broken}.
 */
export class RespCommandParser {
  private state = State.Start;
  private number = 0;
  private negative = false;
  private digits = 0;
  private elements = 0;
  private bulkRemaining = 0;
  private inlineLength = 0;
  private inlineHasContent = false;
  private readonly result: RespFeedResult = { commands: 0, lastBoundary: -1 };

  /** Whether the parser sits between two commands. */
  get atBoundary(): boolean {
    return this.state === State.Start;
  }

  /** Whether the stream turned out not to be RESP. */
  get broken(): boolean {
    return this.state === State.Broken;
  }

  /** Parses `chunk`; the returned object is reused by the next call. */
  feed(chunk: Uint8Array): RespFeedResult {
    const result = this.result;
    result.commands = 0;
    result.lastBoundary = -1;
    let i = 0;
    const length = chunk.length;
    while (i < length) {
      switch (this.state) {
        case State.Start: {
          const byte = chunk[i] as number;
          if (byte === STAR) {
            this.startNumber();
            this.state = State.ArrayLength;
            i++;
          } else {
            this.state = State.Inline;
            this.inlineLength = 0;
            this.inlineHasContent = false;
          }
          break;
        }
        case State.Inline: {
          const newline = chunk.indexOf(LF, i);
          const end = newline < 0 ? length : newline;
          for (let j = i; j < end && !this.inlineHasContent; j++) {
            const byte = chunk[j] as number;
            if (byte !== CR && byte !== 32 && byte !== 9) this.inlineHasContent = true;
          }
          this.inlineLength += end - i;
          if (this.inlineLength > MAX_INLINE) {
            this.state = State.Broken;
            return result;
          }
          if (newline < 0) {
            i = length;
            break;
          }
          i = newline + 1;
          this.state = State.Start;
          if (this.inlineHasContent) this.commandEnded(i);
          else result.lastBoundary = i;
          break;
        }
        case State.ArrayLength:
        case State.BulkLength: {
          const byte = chunk[i] as number;
          i++;
          if (byte === LF) {
            this.lineEnded(i);
          } else if (byte === CR) {
            // the LF follows
          } else if (byte === MINUS && this.digits === 0 && !this.negative) {
            this.negative = true;
          } else if (byte >= 48 && byte <= 57 && this.digits < 15) {
            this.number = this.number * 10 + (byte - 48);
            this.digits++;
          } else {
            this.state = State.Broken;
            return result;
          }
          break;
        }
        case State.BulkMarker: {
          if (chunk[i] !== DOLLAR) {
            this.state = State.Broken;
            return result;
          }
          i++;
          this.startNumber();
          this.state = State.BulkLength;
          break;
        }
        case State.BulkBody: {
          const take = Math.min(this.bulkRemaining, length - i);
          i += take;
          this.bulkRemaining -= take;
          if (this.bulkRemaining === 0) {
            this.elements--;
            if (this.elements > 0) this.state = State.BulkMarker;
            else {
              this.state = State.Start;
              this.commandEnded(i);
            }
          }
          break;
        }
        case State.Broken:
          return result;
      }
    }
    return result;
  }

  private startNumber(): void {
    this.number = 0;
    this.digits = 0;
    this.negative = false;
  }

  private lineEnded(offset: number): void {
    const value = this.negative ? -this.number : this.number;
    if (this.state === State.ArrayLength) {
      if (value <= 0) {
        // `*0` and `*-1` are no command: Redis ignores them.
        this.state = State.Start;
        this.result.lastBoundary = offset;
        return;
      }
      this.elements = value;
      this.state = State.BulkMarker;
      return;
    }
    if (value < 0) {
      this.state = State.Broken;
      return;
    }
    this.bulkRemaining = value + 2;
    this.state = State.BulkBody;
  }

  private commandEnded(offset: number): void {
    this.result.commands++;
    this.result.lastBoundary = offset;
  }
}
