import { PgMessageParser } from '../pg-message-parser.js';
import { integerAtLeast, type ToxicDefinition } from '../toxic-definition.js';
import { ToxicStage, type ToxicContext } from '../toxic-stage.js';

/** Attributes of the `pg_reset` toxic. */
export interface PgResetAttributes {
  /** Queries (Query or Parse messages) let through before the one that triggers the reset. @default 0 */
  after_queries: number;
}

const QUERY = 0x51; // 'Q'
const PARSE = 0x50; // 'P'

/**
 * Lets a PostgreSQL connection's startup and authentication through, then resets the connection (TCP RST on
 * both sides) when the client sends a query: a Query (`Q`, simple protocol) or Parse (`P`, extended protocol)
 * message, after `after_queries` of them went through. The triggering query never reaches the server, so the
 * client sees its connection succeed and the query fail with `ECONNRESET`. Connections that switch to TLS
 * cannot be inspected and are left alone. Started on a live connection, the toxic assumes it starts between
 * two messages.
 * @internal
 */
export class PgResetStage extends ToxicStage<PgResetAttributes> {
  private readonly parser: PgMessageParser;
  private queries = 0;
  private triggered = false;
  private readonly onMessage = (type: number): boolean => {
    if (type !== QUERY && type !== PARSE) return false;
    if (this.queries >= this.attributes.after_queries) {
      this.triggered = true;
      return true;
    }
    this.queries++;
    return false;
  };

  constructor(attributes: PgResetAttributes, context: ToxicContext) {
    super(attributes, context);
    this.parser = new PgMessageParser(context.sourceBytes > 0);
  }

  protected onData(chunk: Buffer): void {
    this.parser.feed(chunk, this.onMessage);
    if (!this.triggered) {
      this.next.write(chunk);
      return;
    }
    this.dispose();
    this.context.reset();
  }
}

/** The `pg_reset` toxic: resets a PostgreSQL connection when the client sends a query. @internal */
export const pgResetToxic: ToxicDefinition<PgResetAttributes> = {
  type: 'pg_reset',
  streams: ['upstream'],
  attributes: { after_queries: { default: 0, check: integerAtLeast(0) } },
  createStage: (attributes, context) => new PgResetStage(attributes, context),
};
