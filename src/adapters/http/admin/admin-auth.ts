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

/** A credential that {@link AdminAuth} accepted: who presented it, the token it rests on, and until when. */
export interface AdminCredential {
  /** The token's name. */
  who: string;
  /** Id (within this process) of the token the credential rests on: see {@link AdminAuth.isCurrent}. */
  tokenId: number;
  /** Clock milliseconds from which the credential is refused: a ticket's expiry, `Infinity` for a bearer token. */
  expiresAt: number;
}

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/;

interface Entry {
  name: string;
  digest: Buffer;
  id: number;
}

/**
 * Authentication of the admin API. Bearer tokens are compared in constant time: the presented token and
 * every configured one are hashed (SHA-256) and the fixed-length digests compared with `timingSafeEqual`,
 * all of them every time, so neither the token nor its length nor which token matched leaks through timing.
 *
 * Tickets let a browser's `EventSource` (which cannot send headers) open the event stream without putting
 * the token in a URL: `issueTicket` signs `{ who, expiresAt, tokenId, nonce }` with an HMAC key drawn at
 * random for this process; `verifyTicket` checks the signature in constant time, the expiry on the clock,
 * that the token the ticket was issued under is still accepted, and that the ticket was not used before: a
 * ticket opens one stream only. Used tickets are remembered until they expire (they are refused from then on
 * anyway), so the memory is bounded by the tickets used within one ticket lifetime. A leaked ticket is good
 * for reading the stream only, once, and only until it expires or its token is revoked.
 *
 * Tokens rotate with {@link setTokens}: a token left out is refused from then on, and so is every ticket
 * issued under it; a token kept (same name and secret) keeps its id, so its credentials stay valid.
 */
export class AdminAuth {
  private entries: Entry[] = [];
  private current = new Set<number>();
  private nextId = 0;
  private readonly key = randomBytes(32);
  /**
   * Nonces of the tickets already used, with their expiry, in the order they were used. A ticket expires at
   * most one lifetime after it is used, so dropping expired ones from the front forgets every used ticket
   * within one lifetime of its expiry, without a timer.
   */
  private readonly used = new Map<string, number>();

  constructor(
    tokens: readonly AdminToken[],
    private readonly clock: Clock,
    /** Lifetime of a ticket, ms. */
    private readonly ticketTtlMs: number,
  ) {
    this.setTokens(tokens);
  }

  /** Replaces the accepted tokens (rotation, revocation); expects tokens already validated. */
  setTokens(tokens: readonly AdminToken[]): void {
    const previous = this.entries;
    this.entries = tokens.map(({ name, token }) => {
      const digest = sha256(token);
      const kept = previous.find((e) => e.name === name && e.digest.equals(digest));
      return { name, digest, id: kept?.id ?? this.nextId++ };
    });
    this.current = new Set(this.entries.map((e) => e.id));
  }

  /** Whether the token with this id is still accepted. */
  isCurrent(tokenId: number): boolean {
    return this.current.has(tokenId);
  }

  /** The credential of an `Authorization: Bearer <token>` header, or undefined. */
  identify(header: string | undefined): AdminCredential | undefined {
    if (typeof header !== 'string') return undefined;
    const presented = BEARER.exec(header)?.[1];
    if (presented === undefined) return undefined;
    const digest = sha256(presented);
    let match: Entry | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(digest, entry.digest) && match === undefined) match = entry;
    }
    return match === undefined ? undefined : { who: match.name, tokenId: match.id, expiresAt: Infinity };
  }

  /** The name of the token in an `Authorization: Bearer <token>` header, or undefined. */
  authenticate(header: string | undefined): string | undefined {
    return this.identify(header)?.who;
  }

  /** A ticket for the holder of `credential` (a bearer token's), valid once, for the ticket lifetime. */
  issueTicket(credential: Pick<AdminCredential, 'who' | 'tokenId'>): AdminTicket {
    const now = this.clock.now();
    this.forgetExpired(now);
    const expiresAt = Math.floor(now) + this.ticketTtlMs;
    // The nonce makes every ticket distinct (two issued in the same millisecond included), so each is used once.
    const nonce = randomBytes(12).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ w: credential.who, e: expiresAt, k: credential.tokenId, n: nonce })).toString('base64url');
    return { ticket: `${payload}.${this.sign(payload).toString('base64url')}`, expiresAt };
  }

  /**
   * Redeems a ticket: the credential it carries, or undefined when it is forged, malformed, expired, its token
   * was revoked, or it was redeemed before. A ticket is consumed by the first call that accepts it, unless
   * `consume` is false (a check before deciding whether the ticket will be used at all).
   */
  verifyTicket(ticket: string | null | undefined, options: { consume?: boolean } = {}): AdminCredential | undefined {
    if (typeof ticket !== 'string' || ticket.length > 2048) return undefined;
    const dot = ticket.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = ticket.slice(0, dot);
    const signature = Buffer.from(ticket.slice(dot + 1), 'base64url');
    const expected = this.sign(payload);
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return undefined;
    try {
      const { w, e, k, n } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { w?: unknown; e?: unknown; k?: unknown; n?: unknown };
      if (typeof w !== 'string' || typeof e !== 'number' || typeof k !== 'number' || typeof n !== 'string') return undefined;
      const now = this.clock.now();
      if (now >= e || !this.current.has(k)) return undefined;
      this.forgetExpired(now);
      if (this.used.has(n)) return undefined;
      if (options.consume !== false) this.used.set(n, e);
      return { who: w, tokenId: k, expiresAt: e };
    } catch {
      return undefined;
    }
  }

  /** Number of used tickets remembered (for tests and diagnostics). */
  get usedTickets(): number {
    return this.used.size;
  }

  /** Drops the used tickets that expired, from the oldest used, up to the first still valid. */
  private forgetExpired(now: number): void {
    for (const [nonce, expiresAt] of this.used) {
      if (now < expiresAt) return;
      this.used.delete(nonce);
    }
  }

  private sign(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest();
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
