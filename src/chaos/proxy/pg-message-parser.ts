/** Startup request codes of the PostgreSQL protocol. */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const TLS_HANDSHAKE = 0x16;

const enum State {
  /** Reading the 8-byte header of an untyped startup-phase message. */
  StartupHeader,
  /** After an SSLRequest or GSSENCRequest: either TLS starts or another startup message follows. */
  AfterEncryptionRequest,
  /** Reading the 5-byte header (type and length) of a typed message. */
  TypedHeader,
  /** Skipping a message body. */
  Body,
  /** Encrypted or unparseable: nothing more is seen. */
  Opaque,
}

/**
 * Frames the messages a PostgreSQL client sends (the frontend side of protocol 3): the untyped startup phase
 * (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest), then typed messages (`Q` Query, `P` Parse, `p`
 * password, `X` Terminate, ...), across any chunk boundaries. It reports each typed message's type as soon as
 * its first byte arrives. Once the client starts TLS, the stream is opaque and nothing more is reported.
 */
export class PgMessageParser {
  private state: State;
  private readonly header = Buffer.alloc(8);
  private headerBytes = 0;
  private bodyRemaining = 0;
  /** State to return to after the body. */
  private afterBody: State = State.TypedHeader;

  /** @param startupDone start in the typed phase (the parser joins a connection that is past its startup). */
  constructor(startupDone = false) {
    this.state = startupDone ? State.TypedHeader : State.StartupHeader;
  }

  /** Whether the stream became unreadable (TLS or a malformed message). */
  get opaque(): boolean {
    return this.state === State.Opaque;
  }

  /**
   * Parses `chunk`, calling `onMessage` with the type byte of each typed message; parsing stops early when
   * `onMessage` returns true.
   */
  feed(chunk: Uint8Array, onMessage: (type: number) => boolean): void {
    let i = 0;
    const length = chunk.length;
    while (i < length) {
      switch (this.state) {
        case State.Opaque:
          return;
        case State.AfterEncryptionRequest:
          this.state = chunk[i] === TLS_HANDSHAKE ? State.Opaque : State.StartupHeader;
          break;
        case State.StartupHeader: {
          i = this.readHeader(chunk, i, 8);
          if (this.headerBytes < 8) return;
          this.headerBytes = 0;
          const size = this.header.readInt32BE(0);
          const code = this.header.readInt32BE(4);
          if (size < 8) {
            this.state = State.Opaque;
            return;
          }
          this.skip(size - 8, code === SSL_REQUEST || code === GSSENC_REQUEST ? State.AfterEncryptionRequest : State.TypedHeader);
          break;
        }
        case State.TypedHeader: {
          if (this.headerBytes === 0 && onMessage(chunk[i] as number)) return;
          i = this.readHeader(chunk, i, 5);
          if (this.headerBytes < 5) return;
          this.headerBytes = 0;
          const size = this.header.readInt32BE(1);
          if (size < 4) {
            this.state = State.Opaque;
            return;
          }
          this.skip(size - 4, State.TypedHeader);
          break;
        }
        case State.Body: {
          const take = Math.min(this.bodyRemaining, length - i);
          i += take;
          this.bodyRemaining -= take;
          if (this.bodyRemaining === 0) this.state = this.afterBody;
          break;
        }
      }
    }
  }

  private readHeader(chunk: Uint8Array, start: number, size: number): number {
    const take = Math.min(size - this.headerBytes, chunk.length - start);
    this.header.set(chunk.subarray(start, start + take), this.headerBytes);
    this.headerBytes += take;
    return start + take;
  }

  private skip(bytes: number, then: State): void {
    if (bytes === 0) {
      this.state = then;
      return;
    }
    this.bodyRemaining = bytes;
    this.afterBody = then;
    this.state = State.Body;
  }
}
