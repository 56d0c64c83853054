import { neverAbortedSignal, onAbort } from '../../core/abort.js';
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';
import { RateLimitedError } from '../../core/errors.js';
import { EventEmitter, type Listener, type Unsubscribe } from '../../core/events.js';
import { OptionsValidator } from '../../core/options.js';
import { contextOf } from '../../policies/context.js';
import { isContextAborted } from '../../policies/lazy-context.js';
import type { ExecuteOptions, Policy, PolicyFunction } from '../../policies/policy.js';
import { TIME_SLACK_MS } from '../../policies/rate-limit/rate-limit-algorithm.js';
import type { RedisClient } from './redis-client.js';
import { RedisScript } from './redis-script.js';

/**
 * GCRA (the exact, timer-free form of a token bucket) in one atomic script. The key holds the theoretical
 * arrival time `tat` (ms); with `T` ms per permit and a bucket of `capacity`, a request for `n` permits at
 * `now` is allowed iff `max(tat, now) + n * T - capacity * T <= now`, and then `tat` becomes
 * `max(tat, now) + n * T`. The key expires when the bucket is full again (`tat - now` ms), so idle keys
 * vanish. Replies `{ allowed (0|1), tat - now after the decision (a string, full precision) }`.
 * ARGV: T, capacity, n, now ('' = read Redis TIME, which needs effect replication: Redis >= 5).
 */
const gcraScript = new RedisScript(`
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local permits = tonumber(ARGV[3])
local now
if ARGV[4] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
else
  now = tonumber(ARGV[4])
end
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then
  local t = tonumber(stored)
  if t and t > now then tat = t end
end
local nextTat = tat + permits * interval
if nextTat - capacity * interval - now > ${TIME_SLACK_MS} then
  return {0, string.format('%.17g', tat - now)}
end
redis.call('SET', KEYS[1], string.format('%.17g', nextTat), 'PX', math.max(1, math.ceil(nextTat - now)))
return {1, string.format('%.17g', nextTat - now)}`);

/** What a {@link DistributedRateLimiter} does when Redis is unreachable or slower than `redisTimeoutMs`. */
export type RedisUnavailableMode = 'local' | 'allow' | 'deny';

/** Who decided a {@link RateLimitDecision}. */
export type RateLimitDecisionSource = 'redis' | RedisUnavailableMode;

/** The answer of {@link DistributedRateLimiter.tryAcquire}. */
export interface RateLimitDecision {
  /** Whether the permits were taken. */
  readonly allowed: boolean;
  /** Permits still free right after this decision (0 when unknown: `'allow'`/`'deny'` fallback). */
  readonly remaining: number;
  /** 0 when allowed; else milliseconds until the same request would be allowed (0 when unknown). */
  readonly retryAfterMs: number;
  /** Milliseconds until the bucket is full again (0 when unknown). */
  readonly resetAfterMs: number;
  /** `'redis'` for a fleet-wide decision; otherwise the `onRedisUnavailable` mode that decided it. */
  readonly source: RateLimitDecisionSource;
}

/** Options of {@link DistributedRateLimiter}. */
export interface DistributedRateLimiterOptions {
  /** The connection the script runs on. */
  client: RedisClient;
  /** Most permits available at once (the burst size), an integer >= 1. A new or idle key starts full. */
  capacity: number;
  /** Permits added per second, continuously, > 0 (`0.5` is one permit every 2 s). */
  refillPerSecond: number;
  /** Name used in events, errors and Redis keys. @default 'rate-limiter' */
  name?: string;
  /** Prefix of the Redis keys: a key `k` is stored at `<prefix><name>:<k>`. @default 'antifragile:rate-limit:' */
  prefix?: string;
  /** The key used when a call names none. @default 'default' */
  defaultKey?: string;
  /**
   * Longest a decision waits for Redis, in ms (> 0); past it the `onRedisUnavailable` mode decides. Timed on
   * `clock` by one timer for all calls in flight.
   * @default 250
   */
  redisTimeoutMs?: number;
  /**
   * What to do when Redis is unreachable, fails, or does not answer within `redisTimeoutMs`:
   * `'local'` limits with an in-process bucket of the same capacity and rate per key (each instance then
   * limits on its own, so the fleet admits up to instances × the limit); `'allow'` lets every call through;
   * `'deny'` refuses every call.
   * @default 'local'
   */
  onRedisUnavailable?: RedisUnavailableMode;
  /** Most keys the `'local'` fallback tracks (least recently used forgotten first), an integer >= 1. @default 10_000 */
  maxLocalKeys?: number;
  /**
   * Time source. When given, its `now()` is sent to the script as the current time (deterministic tests,
   * or a fleet whose clocks are synchronised); when omitted the script reads Redis `TIME`, one clock for the
   * whole fleet (this needs script effect replication: the default since Redis 5, the only mode in 7).
   * Also times `redisTimeoutMs` and the `'local'` fallback.
   * @default systemClock, with the decision time read from Redis `TIME`
   */
  clock?: Clock;
}

/** Options of {@link DistributedRateLimiter.execute}. */
export interface DistributedRateLimitExecuteOptions extends ExecuteOptions {
  /** The limit's key (a user, a tenant, an API key). @default options.defaultKey */
  key?: string;
  /** Permits the call costs (> 0, at most `capacity`). @default 1 */
  permits?: number;
}

/** Events of a {@link DistributedRateLimiter}. */
export interface DistributedRateLimiterEvents {
  /** A request was refused; `retryAfterMs` is when it would be allowed (0 when unknown). */
  rejected: { name: string; key: string; permits: number; retryAfterMs: number; source: RateLimitDecisionSource };
  /** Redis stopped answering (unreachable, failing or too slow); decisions are now made by `mode`. */
  fallback: { name: string; mode: RedisUnavailableMode; error: unknown };
  /** Redis answered again after a fallback that lasted `downMs`. */
  recovered: { name: string; downMs: number };
}

const MODES = ['local', 'allow', 'deny'] as const;

/** A call waiting for Redis, timed out by the limiter's one timer. */
interface InFlight {
  readonly deadline: number;
  settled: boolean;
  readonly fail: (error: Error) => void;
}

/** Raised (internally) when Redis did not answer within `redisTimeoutMs`. */
class RedisTimeout extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
  }
}

/**
 * A rate limit shared by every instance of a fleet: a token bucket kept in Redis as GCRA by one atomic Lua
 * script, per key (a user, a tenant), with a cost per request. However many processes call at once, at most
 * `capacity` permits are taken in a burst and `refillPerSecond` on average, fleet-wide.
 *
 * When Redis is unreachable, fails or answers later than `redisTimeoutMs`, `onRedisUnavailable` decides
 * (`'local'` by default: an in-process bucket per key, so each instance still limits) and `fallback` is
 * emitted; `recovered` follows when Redis answers again. While the connection is reconnecting or closed,
 * calls do not wait for it; while Redis is known to be down but the connection looks ready (a hung server),
 * only one call at a time probes it and the others are decided at once. A request that timed out may still take its
 * permits in Redis when the server wakes up: a fleet-wide limit errs towards refusing, never towards
 * admitting more than the limit.
 *
 * @example
 * ```ts
 * const perUser = new DistributedRateLimiter({ client: redis, name: 'api', capacity: 20, refillPerSecond: 5 });
 * const decision = await perUser.tryAcquire(`user:${userId}`);
 * if (!decision.allowed) res.status(429).set('Retry-After', String(Math.ceil(decision.retryAfterMs / 1000)));
 *
 * // as a policy, in a pipeline: one key per policy
 * const callPartner = pipeline(new Timeout({ ms: 2_000 }), perUser.forKey('partner-api'));
 * ```
 */
export class DistributedRateLimiter implements Policy {
  /** Name used in events, errors and Redis keys. */
  readonly name: string;
  /** Most permits available at once. */
  readonly capacity: number;
  /** Permits added per second. */
  readonly refillPerSecond: number;
  /** What decides while Redis is unavailable. */
  readonly onRedisUnavailable: RedisUnavailableMode;
  private readonly client: RedisClient;
  private readonly clock: Clock;
  private readonly useRedisTime: boolean;
  private readonly keyPrefix: string;
  private readonly defaultKey: string;
  private readonly intervalMs: number;
  private readonly redisTimeoutMs: number;
  private readonly maxLocalKeys: number;
  private readonly events: EventEmitter<DistributedRateLimiterEvents>;
  /** `tat` per key of the `'local'` fallback, least recently used first. */
  private readonly local = new Map<string, number>();
  /** Calls waiting for Redis, oldest (earliest deadline) first, from index `inFlightHead`. */
  private inFlight: InFlight[] = [];
  private inFlightHead = 0;
  private timer: TimerHandle | undefined;
  /** Since when Redis is considered unavailable (clock ms), or undefined while it answers. */
  private downSince: number | undefined;
  private probing = false;
  private readonly onTimer = (): void => this.expire();

  /** @throws InvalidOptionsError listing every invalid field. */
  constructor(options: DistributedRateLimiterOptions) {
    validate(options);
    this.client = options.client;
    this.capacity = options.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.name = options.name ?? 'rate-limiter';
    this.keyPrefix = `${options.prefix ?? 'antifragile:rate-limit:'}${this.name}:`;
    this.defaultKey = options.defaultKey ?? 'default';
    this.redisTimeoutMs = options.redisTimeoutMs ?? 250;
    this.onRedisUnavailable = options.onRedisUnavailable ?? 'local';
    this.maxLocalKeys = options.maxLocalKeys ?? 10_000;
    this.clock = options.clock ?? systemClock;
    this.useRedisTime = options.clock === undefined;
    this.intervalMs = 1000 / options.refillPerSecond;
    this.events = new EventEmitter('distributed-rate-limiter', this.name);
  }

  /** Whether decisions are currently made by the `onRedisUnavailable` mode rather than Redis. */
  get usingFallback(): boolean {
    return this.downSince !== undefined;
  }

  /**
   * Takes `permits` from the bucket of `key` if they are all free now (never partly). Resolves the decision;
   * never rejects for a Redis problem (the `onRedisUnavailable` mode decides then).
   * @param key the limit's key. @default options.defaultKey
   * @param permits the request's cost, > 0. @default 1
   * @throws RangeError (as a rejection) when `permits` is not a number > 0, or exceeds `capacity`: such a
   *   request could never be allowed.
   */
  tryAcquire(key: string = this.defaultKey, permits = 1): Promise<RateLimitDecision> {
    try {
      this.check(key, permits);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.decide(key, permits);
  }

  /**
   * Runs `fn` once `options.permits` (default 1) of `options.key` (default `defaultKey`) are taken; refuses
   * with {@link RateLimitedError} (code `RATE_LIMITED`, with `retryAfterMs` when known) when they are not free.
   * Rejects with `signal.reason` when the caller aborts while the decision is pending. Inside a pipeline,
   * where options are the outer policy's context, use {@link forKey}.
   * @throws RangeError when `permits` is invalid or exceeds `capacity`.
   */
  async execute<T>(fn: PolicyFunction<T>, options?: DistributedRateLimitExecuteOptions): Promise<T> {
    return this.run(fn, options, options?.key ?? this.defaultKey, options?.permits ?? 1);
  }

  /**
   * A policy limiting on `key` with this limiter, for pipelines (whose options carry no key).
   * @param permits each call's cost, > 0 and at most `capacity`. @default 1
   * @throws RangeError when `key` or `permits` is invalid.
   */
  forKey(key: string, permits = 1): Policy {
    this.check(key, permits);
    return { execute: (fn, options) => this.run(fn, options, key, permits) };
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof DistributedRateLimiterEvents>(event: K, listener: Listener<DistributedRateLimiterEvents[K]>): Unsubscribe {
    return this.events.on(event, listener);
  }

  private async run<T>(fn: PolicyFunction<T>, options: ExecuteOptions | undefined, key: string, permits: number): Promise<T> {
    this.check(key, permits);
    const context = contextOf(options);
    if (isContextAborted(context)) throw context.signal.reason;
    // The decision may wait for Redis (up to redisTimeoutMs): a waiting call must hear an abort.
    const signal = context.signal;
    const decision = await abortable(this.decide(key, permits), signal);
    if (!decision.allowed) {
      const retry = decision.retryAfterMs > 0 ? { retryAfterMs: decision.retryAfterMs } : {};
      const when = decision.retryAfterMs > 0 ? `; permits free in ${decision.retryAfterMs} ms` : ' (Redis unavailable)';
      throw new RateLimitedError(`Rate limit "${this.name}" exceeded for key "${key}"${when}`, retry);
    }
    return await fn(context);
  }

  private check(key: string, permits: number): void {
    if (typeof key !== 'string' || key === '') {
      throw new RangeError(`DistributedRateLimiter "${this.name}": key must be a non-empty string, got ${String(key)}`);
    }
    if (typeof permits !== 'number' || !(permits > 0) || !Number.isFinite(permits)) {
      throw new RangeError(`DistributedRateLimiter "${this.name}": permits must be a number > 0, got ${String(permits)}`);
    }
    if (permits > this.capacity) {
      throw new RangeError(
        `DistributedRateLimiter "${this.name}": ${permits} permits can never be taken at once: capacity is ${this.capacity}`,
      );
    }
  }

  private async decide(key: string, permits: number): Promise<RateLimitDecision> {
    if (!this.mayCallRedis()) return this.fallback(key, permits);
    const probe = this.downSince !== undefined;
    if (probe) this.probing = true;
    let reply: unknown;
    try {
      reply = await this.callRedis(key, permits);
    } catch (error) {
      if (probe) this.probing = false;
      this.markDown(error);
      return this.fallback(key, permits);
    }
    if (probe) this.probing = false;
    const parsed = parseReply(reply);
    if (parsed === undefined) {
      this.markDown(new Error(`unexpected script reply ${JSON.stringify(reply)}`));
      return this.fallback(key, permits);
    }
    this.markUp();
    return this.result(parsed.allowed, parsed.tatAfter, key, permits, 'redis');
  }

  /** Whether to send this call to Redis: the connection is usable, and while Redis is down, no probe is out. */
  private mayCallRedis(): boolean {
    const status = this.client.status;
    if (status === 'reconnecting' || status === 'close' || status === 'end') {
      if (this.downSince === undefined) this.markDown(new Error(`Redis connection is ${status}`));
      return false;
    }
    return this.downSince === undefined || !this.probing;
  }

  private callRedis(key: string, permits: number): Promise<unknown> {
    const now = this.useRedisTime ? '' : this.clock.now();
    return new Promise((resolve, reject) => {
      const entry: InFlight = { deadline: this.clock.now() + this.redisTimeoutMs, settled: false, fail: reject };
      this.inFlight.push(entry);
      this.timer ??= this.clock.schedule(this.onTimer, this.redisTimeoutMs, { keepAlive: false });
      gcraScript.run(this.client, [this.keyPrefix + key], [this.intervalMs, this.capacity, permits, now]).then(
        (reply) => {
          if (entry.settled) return;
          entry.settled = true;
          this.dropSettled();
          resolve(reply);
        },
        (error: unknown) => {
          if (entry.settled) return;
          entry.settled = true;
          this.dropSettled();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /** Timer: fails every call past its deadline, then re-arms for the oldest one still waiting. */
  private expire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    while (this.inFlightHead < this.inFlight.length) {
      const entry = this.inFlight[this.inFlightHead] as InFlight;
      if (!entry.settled) {
        if (entry.deadline - now > TIME_SLACK_MS) break;
        entry.settled = true;
        entry.fail(new RedisTimeout(this.redisTimeoutMs));
      }
      this.inFlightHead++;
    }
    this.compact();
    const head = this.inFlight[this.inFlightHead];
    if (head !== undefined) this.timer = this.clock.schedule(this.onTimer, head.deadline - now, { keepAlive: false });
  }

  /** Forgets answered calls at the head of the queue (answers mostly come back in order). */
  private dropSettled(): void {
    while (this.inFlightHead < this.inFlight.length && (this.inFlight[this.inFlightHead] as InFlight).settled) this.inFlightHead++;
    this.compact();
  }

  private compact(): void {
    if (this.inFlightHead === this.inFlight.length) {
      this.inFlight.length = 0;
      this.inFlightHead = 0;
    } else if (this.inFlightHead > 1_024 && this.inFlightHead * 2 > this.inFlight.length) {
      this.inFlight = this.inFlight.slice(this.inFlightHead);
      this.inFlightHead = 0;
    }
  }

  private markDown(error: unknown): void {
    if (this.downSince !== undefined) return;
    this.downSince = this.clock.now();
    if (this.events.wants('fallback')) this.events.emit('fallback', { name: this.name, mode: this.onRedisUnavailable, error });
  }

  private markUp(): void {
    if (this.downSince === undefined) return;
    const downMs = this.clock.now() - this.downSince;
    this.downSince = undefined;
    // The next outage starts from full local buckets rather than from what this one left.
    this.local.clear();
    if (this.events.wants('recovered')) this.events.emit('recovered', { name: this.name, downMs });
  }

  private fallback(key: string, permits: number): RateLimitDecision {
    const mode = this.onRedisUnavailable;
    if (mode === 'allow') return { allowed: true, remaining: 0, retryAfterMs: 0, resetAfterMs: 0, source: mode };
    if (mode === 'deny') return this.result(false, undefined, key, permits, mode);
    const now = this.clock.now();
    const stored = this.local.get(key);
    const tat = stored !== undefined && stored > now ? stored : now;
    const nextTat = tat + permits * this.intervalMs;
    const allowed = nextTat - this.capacity * this.intervalMs - now <= TIME_SLACK_MS;
    if (stored !== undefined) this.local.delete(key);
    if (allowed || stored !== undefined) {
      this.local.set(key, allowed ? nextTat : tat);
      if (this.local.size > this.maxLocalKeys) this.local.delete(this.local.keys().next().value as string);
    }
    return this.result(allowed, (allowed ? nextTat : tat) - now, key, permits, mode);
  }

  /** The decision for `tatAfter` (`tat - now` after the decision; undefined when unknown). */
  private result(allowed: boolean, tatAfter: number | undefined, key: string, permits: number, source: RateLimitDecisionSource): RateLimitDecision {
    let remaining = 0;
    let retryAfterMs = 0;
    let resetAfterMs = 0;
    if (tatAfter !== undefined) {
      resetAfterMs = tatAfter > 0 ? tatAfter : 0;
      const tokens = this.capacity - resetAfterMs / this.intervalMs;
      remaining = tokens > 0 ? Math.min(this.capacity, Math.floor(tokens + TIME_SLACK_MS / this.intervalMs)) : 0;
      if (!allowed) {
        const wait = resetAfterMs + (permits - this.capacity) * this.intervalMs;
        retryAfterMs = wait > TIME_SLACK_MS ? wait : 0;
      }
    }
    if (!allowed && this.events.wants('rejected')) this.events.emit('rejected', { name: this.name, key, permits, retryAfterMs, source });
    return { allowed, remaining, retryAfterMs, resetAfterMs, source };
  }
}

function parseReply(reply: unknown): { allowed: boolean; tatAfter: number } | undefined {
  if (!Array.isArray(reply) || reply.length !== 2) return undefined;
  const tatAfter = Number(reply[1]);
  if (!Number.isFinite(tatAfter)) return undefined;
  return { allowed: Number(reply[0]) === 1, tatAfter };
}

/** `promise`, or a rejection with `signal.reason` as soon as `signal` aborts (`promise` never rejects). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal === neverAbortedSignal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const unsubscribe = onAbort(signal, () => reject(signal.reason));
    promise.then((value) => {
      unsubscribe();
      resolve(value);
    });
  });
}

function validate(options: DistributedRateLimiterOptions): void {
  const v = new OptionsValidator('DistributedRateLimiter');
  if (!v.required('options', options, 'an object') || !v.object('options', options)) return v.throwIfInvalid();
  const o = options as unknown as Partial<Record<string, unknown>>;
  if (v.required('client', o.client, 'an ioredis client') && typeof (o.client as { evalsha?: unknown }).evalsha !== 'function') {
    v.fail('client', 'an ioredis client', o.client);
  }
  v.required('capacity', o.capacity, 'an integer >= 1');
  v.integer('capacity', o.capacity, 1);
  v.required('refillPerSecond', o.refillPerSecond, 'a number > 0');
  v.number('refillPerSecond', o.refillPerSecond, { minExclusive: 0 });
  v.string('name', o.name);
  v.string('prefix', o.prefix);
  v.string('defaultKey', o.defaultKey);
  if (o.defaultKey === '') v.fail('defaultKey', 'a non-empty string', o.defaultKey);
  v.duration('redisTimeoutMs', o.redisTimeoutMs, true);
  v.oneOf('onRedisUnavailable', o.onRedisUnavailable, MODES);
  v.integer('maxLocalKeys', o.maxLocalKeys, 1);
  v.clock('clock', o.clock);
  v.throwIfInvalid();
}
