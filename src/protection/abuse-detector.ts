import { systemClock, type Clock } from '../core/clock.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../core/events.js';
import { OptionsValidator } from '../core/options.js';
import { BoundedMap } from './bounded-map.js';

/** A request path pattern that counts towards a key's abuse score. */
export interface AbusePattern {
  /** Name reported in reasons, e.g. `'path-traversal'`. */
  name: string;
  /** Tested against the request path (with its query string). Must not be global or sticky (`g`/`y`). */
  pattern: RegExp;
  /** Points a match adds, > 0. @default 0.5 */
  weight?: number;
}

/**
 * Paths that probe for weaknesses: traversal, dotfiles and VCS folders, admin tools of other stacks,
 * SQL and script injection. Each adds 0.5 points: two probes within a few seconds block a key by default.
 */
export const DEFAULT_ABUSE_PATTERNS: readonly AbusePattern[] = Object.freeze([
  { name: 'path-traversal', pattern: /(?:\.\.[/\\])|(?:%2e%2e(?:%2f|%5c|[/\\]))/i },
  { name: 'dotfile', pattern: /\/\.(?:env|git|svn|hg|htaccess|htpasswd|aws|ssh|DS_Store)(?:[/?#]|$)/i },
  { name: 'admin-probe', pattern: /\/(?:wp-admin|wp-login\.php|xmlrpc\.php|phpmyadmin|cgi-bin|\.well-known\/security\.txt\.php)(?:[/?#]|$)/i },
  { name: 'sql-injection', pattern: /(?:union(?:\s|\+|%20)+select|'\s*or\s*'?1'?\s*=\s*'?1|;\s*drop\s+table)/i },
  { name: 'script-injection', pattern: /(?:<script|%3cscript|javascript:)/i },
]);

/** Options of {@link AbuseDetector}. */
export interface AbuseDetectorOptions {
  /** Length of the request-rate window in ms (> 0); the rate is estimated as a sliding window. @default 10_000 */
  windowMs?: number;
  /** Requests per window that alone bring the score to 1 (the rate part is `requests / this`), > 0. @default 1_000 */
  maxRequestsPerWindow?: number;
  /** A request body larger than this (bytes, >= 0) adds `payloadWeight` points. @default 1_048_576 (1 MiB) */
  maxPayloadBytes?: number;
  /** Points an oversized payload adds, >= 0. @default 0.5 */
  payloadWeight?: number;
  /** Path patterns that add points. @default DEFAULT_ABUSE_PATTERNS */
  patterns?: readonly AbusePattern[];
  /** Half-life in ms (> 0) of the points from payloads and patterns. @default 60_000 */
  pointsHalfLifeMs?: number;
  /** Score (> 0) at which a key is blocked. @default 1 */
  blockThreshold?: number;
  /** Score (> 0, <= `blockThreshold`) from which a request is reported `suspicious`. @default 0.6 */
  suspiciousThreshold?: number;
  /** First block's length in ms (> 0); each further block of the same key doubles it, up to `maxBlockMs`. @default 60_000 */
  blockMs?: number;
  /** Longest block in ms (>= `blockMs`). @default blockMs (no escalation) */
  maxBlockMs?: number;
  /** Most keys scored at once (least recently seen forgotten first), an integer >= 1. @default 10_000 */
  maxKeys?: number;
  /** Most keys blocked at once (the oldest block is dropped first), an integer >= 1. @default 10_000 */
  maxBlocked?: number;
  /** Name used in events (diagnostics channel messages). @default 'abuse-detector' */
  name?: string;
  /** Time source. @default systemClock */
  clock?: Clock;
}

/** What a request looks like to an {@link AbuseDetector}. */
export interface AbuseRequest {
  /** The request target (path and query). */
  path?: string;
  /** The body size in bytes, when known (e.g. from `Content-Length`). */
  payloadBytes?: number;
}

/** The verdict on one request. */
export interface AbuseVerdict {
  /** Whether the key is blocked (by this request or an earlier one). */
  readonly blocked: boolean;
  /** Whether the score reached `suspiciousThreshold` (always true when blocked by this request). */
  readonly suspicious: boolean;
  /** The key's score after this request (0 for a request refused by an existing block, which is not scored). */
  readonly score: number;
  /** When blocked: ms until the block ends; else 0. */
  readonly retryAfterMs: number;
  /** Why the score is high: `'rate'`, `'payload'`, pattern names, or `'blocked'` for an existing block. Empty when not suspicious. */
  readonly reasons: readonly string[];
}

/** Events of an {@link AbuseDetector}. */
export interface AbuseDetectorEvents {
  /** `key` was blocked until `untilMs` (clock time) with `score`; `offence` counts its blocks. */
  blocked: { name: string; key: string; score: number; reasons: readonly string[]; untilMs: number; offence: number };
}

interface KeyState {
  windowStart: number;
  current: number;
  previous: number;
  points: number;
  pointsAt: number;
  offences: number;
}

const NOT_BLOCKED: AbuseVerdict = Object.freeze({ blocked: false, suspicious: false, score: 0, retryAfterMs: 0, reasons: Object.freeze([]) as readonly string[] });

/**
 * Abuse protection (the seed's DDoS service, without geo lookups): scores each key (an IP, an API key) from
 * its request rate, oversized payloads and probing path patterns, and blocks it temporarily once the score
 * reaches `blockThreshold`. The score is `requests in the sliding window / maxRequestsPerWindow` plus points
 * from payloads and patterns, which decay with a half-life. A block ends at exactly `blockMs` after it began
 * (doubling for repeat offenders up to `maxBlockMs`); a request refused by a block is not scored, and the key
 * starts afresh when the block ends. No timer: expiry is checked on read. Memory is bounded by `maxKeys`
 * and `maxBlocked`.
 *
 * @example
 * ```ts
 * const abuse = new AbuseDetector({ windowMs: 10_000, maxRequestsPerWindow: 500, blockMs: 60_000, maxBlockMs: 3_600_000 });
 * const verdict = abuse.inspect(ip, { path: req.url, payloadBytes: Number(req.headers['content-length'] ?? 0) });
 * if (verdict.blocked) reply403(verdict.retryAfterMs);
 * ```
 */
export class AbuseDetector {
  /** Name used in events. */
  readonly name: string;
  private readonly windowMs: number;
  private readonly maxRequests: number;
  private readonly maxPayloadBytes: number;
  private readonly payloadWeight: number;
  private readonly patterns: readonly Required<AbusePattern>[];
  private readonly decayPerMs: number;
  private readonly blockThreshold: number;
  private readonly suspiciousThreshold: number;
  private readonly blockMs: number;
  private readonly maxBlockMs: number;
  private readonly clock: Clock;
  private readonly states: BoundedMap<string, KeyState>;
  /** Block end (clock ms) per blocked key. */
  private readonly blocks: BoundedMap<string, number>;
  private readonly events: EventEmitter<AbuseDetectorEvents>;

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: AbuseDetectorOptions = {}) {
    validate(options);
    this.name = options.name ?? 'abuse-detector';
    this.events = new EventEmitter('abuse-detector', this.name);
    this.windowMs = options.windowMs ?? 10_000;
    this.maxRequests = options.maxRequestsPerWindow ?? 1_000;
    this.maxPayloadBytes = options.maxPayloadBytes ?? 1_048_576;
    this.payloadWeight = options.payloadWeight ?? 0.5;
    this.patterns = (options.patterns ?? DEFAULT_ABUSE_PATTERNS).map((p) => ({ name: p.name, pattern: p.pattern, weight: p.weight ?? 0.5 }));
    this.decayPerMs = Math.LN2 / (options.pointsHalfLifeMs ?? 60_000);
    this.blockThreshold = options.blockThreshold ?? 1;
    this.suspiciousThreshold = options.suspiciousThreshold ?? Math.min(0.6, this.blockThreshold);
    this.blockMs = options.blockMs ?? 60_000;
    this.maxBlockMs = options.maxBlockMs ?? this.blockMs;
    this.clock = options.clock ?? systemClock;
    this.states = new BoundedMap(options.maxKeys ?? 10_000);
    this.blocks = new BoundedMap(options.maxBlocked ?? 10_000);
  }

  /** Keys being scored now (at most `maxKeys`). */
  get trackedKeys(): number {
    return this.states.size;
  }

  /** Block entries held now, including expired ones not yet read (at most `maxBlocked`). */
  get blockedKeys(): number {
    return this.blocks.size;
  }

  /** Scores one request of `key`; blocks the key when its score reaches `blockThreshold`. */
  inspect(key: string, request: AbuseRequest = {}): AbuseVerdict {
    const now = this.clock.now();
    const remaining = this.blockRemaining(key, now);
    if (remaining > 0) return { blocked: true, suspicious: true, score: 0, retryAfterMs: remaining, reasons: ['blocked'] };
    let state = this.states.get(key);
    if (state === undefined) {
      state = { windowStart: now, current: 0, previous: 0, points: 0, pointsAt: now, offences: 0 };
      this.states.set(key, state);
    }
    const elapsed = now - state.windowStart;
    if (elapsed >= this.windowMs) {
      const windows = Math.floor(elapsed / this.windowMs);
      state.previous = windows === 1 ? state.current : 0;
      state.current = 0;
      state.windowStart += windows * this.windowMs;
    }
    state.current++;
    const rate = state.previous * (1 - (now - state.windowStart) / this.windowMs) + state.current;
    const rateScore = rate / this.maxRequests;

    let added = 0;
    const oversized = request.payloadBytes !== undefined && request.payloadBytes > this.maxPayloadBytes;
    if (oversized) added += this.payloadWeight;
    const path = request.path;
    if (path !== undefined) {
      for (const p of this.patterns) if (p.pattern.test(path)) added += p.weight;
    }
    const sinceMs = now - state.pointsAt;
    state.points = (sinceMs > 0 ? state.points * Math.exp(-this.decayPerMs * sinceMs) : state.points) + added;
    state.pointsAt = now;
    const score = rateScore + state.points;
    if (score < this.suspiciousThreshold) return score === 0 ? NOT_BLOCKED : { ...NOT_BLOCKED, score };

    const reasons: string[] = [];
    if (rateScore >= this.suspiciousThreshold / 2) reasons.push('rate');
    if (oversized) reasons.push('payload');
    if (path !== undefined) for (const p of this.patterns) if (p.pattern.test(path)) reasons.push(p.name);
    if (score < this.blockThreshold) return { blocked: false, suspicious: true, score, retryAfterMs: 0, reasons };
    const blockMs = this.startBlock(key, state, now);
    if (this.events.wants('blocked')) this.events.emit('blocked', { name: this.name, key, score, reasons, untilMs: now + blockMs, offence: state.offences });
    return { blocked: true, suspicious: true, score, retryAfterMs: blockMs, reasons };
  }

  /** Whether `key` is blocked now. */
  isBlocked(key: string): boolean {
    return this.blockRemaining(key, this.clock.now()) > 0;
  }

  /** Ms until `key`'s block ends (0 when not blocked). */
  blockRemainingMs(key: string): number {
    return this.blockRemaining(key, this.clock.now());
  }

  /** Blocks `key` by hand for `ms` (> 0, default `blockMs`), replacing any current block. */
  block(key: string, ms: number = this.blockMs): void {
    if (!(ms > 0) || !Number.isFinite(ms)) throw new RangeError(`AbuseDetector.block: ms must be a finite number > 0, got ${String(ms)}`);
    this.blocks.set(key, this.clock.now() + ms);
  }

  /** Lifts `key`'s block and forgets its score (its offence count too). */
  unblock(key: string): void {
    this.blocks.delete(key);
    this.states.delete(key);
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof AbuseDetectorEvents>(event: K, listener: Listener<AbuseDetectorEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  private blockRemaining(key: string, now: number): number {
    const until = this.blocks.peek(key);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    this.blocks.delete(key);
    return 0;
  }

  /** Blocks `key` from `now`; returns the block's length. The key's score starts afresh when it ends. */
  private startBlock(key: string, state: KeyState, now: number): number {
    state.offences++;
    const escalated = this.blockMs * 2 ** (state.offences - 1);
    const blockMs = escalated < this.maxBlockMs ? escalated : this.maxBlockMs;
    state.current = 0;
    state.previous = 0;
    state.points = 0;
    state.windowStart = now + blockMs;
    state.pointsAt = now + blockMs;
    this.blocks.set(key, now + blockMs);
    return blockMs;
  }
}

function validate(options: AbuseDetectorOptions): void {
  const v = new OptionsValidator('AbuseDetector');
  if (!v.object('options', options)) return v.throwIfInvalid();
  const o = options as unknown as Partial<Record<string, unknown>>;
  v.duration('windowMs', o.windowMs, true);
  v.number('maxRequestsPerWindow', o.maxRequestsPerWindow, { minExclusive: 0 });
  v.number('maxPayloadBytes', o.maxPayloadBytes, { min: 0 });
  v.number('payloadWeight', o.payloadWeight, { min: 0 });
  if (o.patterns !== undefined) {
    if (!Array.isArray(o.patterns)) v.fail('patterns', 'an array of { name, pattern, weight? }', o.patterns);
    else {
      o.patterns.forEach((p: unknown, i) => {
        const entry = p as Partial<Record<string, unknown>> | null;
        if (typeof entry !== 'object' || entry === null) return v.fail(`patterns.${i}`, 'an object { name, pattern, weight? }', p);
        v.required(`patterns.${i}.name`, entry.name, 'a string');
        v.string(`patterns.${i}.name`, entry.name);
        if (!(entry.pattern instanceof RegExp) || entry.pattern.global || entry.pattern.sticky) {
          v.fail(`patterns.${i}.pattern`, 'a RegExp without the g or y flag', entry.pattern);
        }
        v.number(`patterns.${i}.weight`, entry.weight, { minExclusive: 0 });
      });
    }
  }
  v.duration('pointsHalfLifeMs', o.pointsHalfLifeMs, true);
  v.number('blockThreshold', o.blockThreshold, { minExclusive: 0 });
  v.number('suspiciousThreshold', o.suspiciousThreshold, typeof o.blockThreshold === 'number' ? { minExclusive: 0, max: o.blockThreshold } : { minExclusive: 0, max: 1 });
  v.duration('blockMs', o.blockMs, true);
  v.number('maxBlockMs', o.maxBlockMs, { min: typeof o.blockMs === 'number' ? o.blockMs : 60_000 });
  v.integer('maxKeys', o.maxKeys, 1);
  v.integer('maxBlocked', o.maxBlocked, 1);
  v.string('name', o.name);
  v.clock('clock', o.clock);
  v.throwIfInvalid();
}
