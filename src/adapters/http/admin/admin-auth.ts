import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../../core/clock.js';

/** A named bearer token of the admin API: `name` is recorded as who acted. */
export interface AdminToken {
  /** Who holds the token, recorded in the audit log (e.g. `ops`, `ci`). */
  name: string;
  /** The secret, at least 16 characters. */
  token: string;
}

/** A short-lived ticket for the event stream, from {@link AdminAuth.issueTicket}. */
export interface AdminTicket {
  ticket: string;
  /** Clock milliseconds after which the ticket is refused. */
  expiresAt: number;
}

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/;

/**
 * Authentication of the admin API. Bearer tokens are compared in constant time: the presented token and
 * every configured one are hashed (SHA-256) and the fixed-length digests compared with `timingSafeEqual`,
 * all of them every time, so neither the token nor its length nor which token matched leaks through timing.
 *
 * Tickets let a browser's `EventSource` (which cannot send headers) open the event stream without putting
 * the token in a URL: `issueTicket` signs `{ who, expiresAt }` with an HMAC key drawn at random for this
 * process; `verifyTicket` checks the signature in constant time and the expiry on the clock. A leaked
 * ticket is good for reading the stream only, and only until it expires.
 */
export class AdminAuth {
  private readonly digests: { name: string; digest: Buffer }[];
  private readonly key = randomBytes(32);

  constructor(
    tokens: readonly AdminToken[],
    private readonly clock: Clock,
    /** Lifetime of a ticket, ms. */
    private readonly ticketTtlMs: number,
  ) {
    this.digests = tokens.map(({ name, token }) => ({ name, digest: sha256(token) }));
  }

  /** The name of the token in an `Authorization: Bearer <token>` header, or undefined. */
  authenticate(header: string | undefined): string | undefined {
    if (typeof header !== 'string') return undefined;
    const presented = BEARER.exec(header)?.[1];
    if (presented === undefined) return undefined;
    const digest = sha256(presented);
    let who: string | undefined;
    for (const entry of this.digests) {
      if (timingSafeEqual(digest, entry.digest) && who === undefined) who = entry.name;
    }
    return who;
  }

  /** A ticket naming `who`, valid for the ticket lifetime. */
  issueTicket(who: string): AdminTicket {
    const expiresAt = Math.floor(this.clock.now()) + this.ticketTtlMs;
    const payload = Buffer.from(JSON.stringify({ w: who, e: expiresAt })).toString('base64url');
    return { ticket: `${payload}.${this.sign(payload).toString('base64url')}`, expiresAt };
  }

  /** Who a ticket names, or undefined when it is forged, malformed or expired. */
  verifyTicket(ticket: string | null | undefined): string | undefined {
    if (typeof ticket !== 'string' || ticket.length > 2048) return undefined;
    const dot = ticket.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = ticket.slice(0, dot);
    const signature = Buffer.from(ticket.slice(dot + 1), 'base64url');
    const expected = this.sign(payload);
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return undefined;
    try {
      const { w, e } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { w?: unknown; e?: unknown };
      if (typeof w !== 'string' || typeof e !== 'number' || this.clock.now() >= e) return undefined;
      return w;
    } catch {
      return undefined;
    }
  }

  private sign(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest();
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
