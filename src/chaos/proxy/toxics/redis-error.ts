import { RespCommandParser } from '../resp-command-parser.js';
import type { ToxicDefinition } from '../toxic-definition.js';
import { ToxicStage, type ToxicContext } from '../toxic-stage.js';

/** Attributes of the `redis_error` toxic. */
export interface RedisErrorAttributes {
  /**
   * The error every command is answered with, without the leading `-`: an error code and a message, e.g.
   * `READONLY You can't write against a read only replica.`
   * @default 'LOADING Redis is loading the dataset in memory'
   */
  message: string;
}

/** A partial command kept for a flush is at most this long; past it the toxic's removal closes the connection. */
const MAX_PARTIAL = 64 * 1024;

/**
 * Answers every Redis command of the connection with `-<message>\r\n` and forwards none of them: to the client
 * the server looks loading, read-only or out of memory. Replies stay in order because every command of the
 * connection is answered by the toxic (a toxic that answered only some commands would have to match the
 * server's replies to the forwarded ones). Commands are framed with {@link RespCommandParser}; a request that
 * is not RESP gets `-ERR Protocol error` and the connection is closed, as Redis does.
 *
 * A client that connects while the toxic is active gets the error for its handshake too (e.g. ioredis's ready
 * check `INFO`, which a real loading server would answer), so add it to a connected client to test command
 * errors, or before connecting to test a failing connection setup. Started on a live connection, the toxic
 * assumes it starts between two commands. Removed in the middle of a
 * command, it forwards the part it swallowed, so the server receives the whole command.
 * @internal
 */
export class RedisErrorStage extends ToxicStage<RedisErrorAttributes> {
  private readonly parser = new RespCommandParser();
  private reply: Buffer;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private overflow = false;

  constructor(attributes: RedisErrorAttributes, context: ToxicContext) {
    super(attributes, context);
    this.reply = Buffer.from(`-${attributes.message}\r\n`);
  }

  override reconfigure(attributes: RedisErrorAttributes): void {
    this.attributes = attributes;
    this.reply = Buffer.from(`-${attributes.message}\r\n`);
  }

  protected onData(chunk: Buffer): void {
    const { commands, lastBoundary } = this.parser.feed(chunk);
    if (commands > 0) this.context.reply(commands === 1 ? this.reply : Buffer.concat(Array<Buffer>(commands).fill(this.reply)));
    if (this.parser.broken) {
      this.context.discard(this.partialBytes + chunk.length);
      this.partial = [];
      this.partialBytes = 0;
      this.context.reply(Buffer.from('-ERR Protocol error: invalid request\r\n'));
      this.closeStream();
      return;
    }
    let tail = chunk;
    if (lastBoundary >= 0) {
      this.context.discard(this.partialBytes + lastBoundary);
      this.partial = [];
      this.partialBytes = 0;
      this.overflow = false;
      tail = chunk.subarray(lastBoundary);
    }
    if (tail.length === 0) return;
    if (!this.overflow && this.partialBytes + tail.length <= MAX_PARTIAL) {
      this.partial.push(tail);
      this.partialBytes += tail.length;
      return;
    }
    this.overflow = true;
    this.context.discard(this.partialBytes + tail.length);
    this.partial = [];
    this.partialBytes = 0;
  }

  protected override onFlush(): void {
    if (this.parser.atBoundary) return;
    if (this.overflow) {
      this.closeStream();
      return;
    }
    const partial = this.partial;
    this.partial = [];
    this.partialBytes = 0;
    if (partial.length > 0) this.next.write(partial.length === 1 ? (partial[0] as Buffer) : Buffer.concat(partial));
  }

  protected override onDispose(): void {
    this.partial = [];
    this.partialBytes = 0;
  }
}

/** The `redis_error` toxic: answers every Redis command with an error reply such as `-LOADING ...`. @internal */
export const redisErrorToxic: ToxicDefinition<RedisErrorAttributes> = {
  type: 'redis_error',
  streams: ['upstream'],
  attributes: {
    message: {
      default: 'LOADING Redis is loading the dataset in memory',
      check: (value) =>
        typeof value === 'string' && value.length > 0 && !/[\r\n]/.test(value) ? undefined : 'a non-empty string without CR or LF',
    },
  },
  createStage: (attributes, context) => new RedisErrorStage(attributes, context),
};
