import { RedisScript } from './redis-script.js';

/**
 * The Lua scripts behind a `SharedCircuitBreaker`, and the reply they share.
 *
 * Keys (one `{hash tag}`, so they live in one Cluster slot): KEYS[1] the state hash (`st`, `gen`, `until`,
 * `since`, `succ`, `reason`, `epoch`), KEYS[2] the window hash (fields `c<bucket>`, `f<bucket>`, `s<bucket>`:
 * calls, failures and slow calls of each time bucket), KEYS[3] the probe permits (a sorted set scored by
 * expiry time).
 *
 * Common ARGV: [1] now (the caller's clock, integer ms), [2] the caller's instance id (seeds a new epoch),
 * [3] state key time-to-live (ms), [4] openMs, [5] halfOpen.maxWaitMs.
 *
 * `gen` counts transitions within an `epoch`; an epoch starts whenever the state hash is created (first use,
 * or after it expired or Redis lost it), so (epoch, gen) names one period of one state fleet-wide. Every
 * transition clears the window and the permits.
 *
 * Every script replies `{ st, epoch, gen, openUntil, since, reason, probeSuccesses, probesInFlight, changed,
 * granted, calls, failures, slowCalls, ...bucket quads }`.
 * @internal
 */
const PRELUDE = `
local now = tonumber(ARGV[1])
local function load()
  local h = redis.call('HMGET', KEYS[1], 'st', 'gen', 'until', 'since', 'succ', 'reason', 'epoch')
  if h[1] and h[7] then
    return { st = h[1], gen = tonumber(h[2]), openUntil = tonumber(h[3]), since = tonumber(h[4]),
             succ = tonumber(h[5]), reason = h[6], epoch = h[7], dirty = false, changed = 0 }
  end
  return { st = 'closed', gen = 1, openUntil = 0, since = now, succ = 0, reason = '',
           epoch = ARGV[2] .. ':' .. ARGV[1], dirty = true, changed = 0 }
end
local function move(s, to, reason)
  s.st = to
  s.gen = s.gen + 1
  s.since = now
  s.succ = 0
  s.reason = reason
  s.dirty = true
  s.changed = 1
  if to == 'open' then s.openUntil = now + tonumber(ARGV[4]) end
  redis.call('DEL', KEYS[2], KEYS[3])
end
local function expireHalfOpen(s)
  if s.st == 'half-open' and now - s.since >= tonumber(ARGV[5]) then move(s, 'open', 'half-open-timeout') end
end
local function finish(s, granted, wc, wf, ws, flat)
  if s.dirty then
    redis.call('HSET', KEYS[1], 'st', s.st, 'gen', s.gen, 'until', s.openUntil, 'since', s.since,
               'succ', s.succ, 'reason', s.reason, 'epoch', s.epoch)
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  local inflight = 0
  if s.st == 'half-open' then inflight = redis.call('ZCOUNT', KEYS[3], '(' .. now, '+inf') end
  local r = { s.st, s.epoch, s.gen, s.openUntil, s.since, s.reason, s.succ, inflight, s.changed, granted, wc, wf, ws }
  if flat then
    for i = 1, #flat do r[#r + 1] = flat[i] end
  end
  return r
end
`;

/**
 * Adds an instance's counts to the window, sums it, judges the thresholds and returns the shared state.
 * ARGV [6] epoch and [7] generation the counts were observed in (`-1`: any closed period, for counts
 * gathered while Redis was unreachable), [8] current bucket index, [9] buckets, [10] minimumCalls,
 * [11] failureRateThreshold, [12] failureThreshold (0: off), [13] slowCallRateThreshold (-1: off),
 * [14] 1 when the counts hold a failure or a slow call (only then are thresholds judged, as a local breaker
 * judges on a failure), [15] window key time-to-live (ms), [16...] quads: bucket index, calls, failures,
 * slow calls. Counts are added only while the circuit is closed in the period they were observed in.
 */
const SYNC = `${PRELUDE}
local s = load()
expireHalfOpen(s)
local wc, wf, ws = 0, 0, 0
local flat = {}
if s.st == 'closed' then
  local nowIndex = tonumber(ARGV[8])
  local oldest = nowIndex - tonumber(ARGV[9])
  local argGen = tonumber(ARGV[7])
  local accepted = argGen == -1 or (ARGV[6] == s.epoch and argGen == s.gen)
  if accepted then
    for i = 16, #ARGV, 4 do
      local index = ARGV[i]
      if tonumber(index) > oldest then
        redis.call('HINCRBY', KEYS[2], 'c' .. index, ARGV[i + 1])
        if ARGV[i + 2] ~= '0' then redis.call('HINCRBY', KEYS[2], 'f' .. index, ARGV[i + 2]) end
        if ARGV[i + 3] ~= '0' then redis.call('HINCRBY', KEYS[2], 's' .. index, ARGV[i + 3]) end
      end
    end
  end
  local per = {}
  local order = {}
  local all = redis.call('HGETALL', KEYS[2])
  for i = 1, #all, 2 do
    local field = all[i]
    local index = tonumber(string.sub(field, 2))
    if index == nil or index <= oldest then
      redis.call('HDEL', KEYS[2], field)
    else
      local v = tonumber(all[i + 1])
      local b = per[index]
      if not b then
        b = { 0, 0, 0 }
        per[index] = b
        order[#order + 1] = index
      end
      local kind = string.sub(field, 1, 1)
      if kind == 'c' then
        b[1] = b[1] + v
        wc = wc + v
      elseif kind == 'f' then
        b[2] = b[2] + v
        wf = wf + v
      else
        b[3] = b[3] + v
        ws = ws + v
      end
    end
  end
  if accepted and ARGV[14] == '1' and wc > 0 and wc >= tonumber(ARGV[10]) then
    local countThreshold = tonumber(ARGV[12])
    local slowRate = tonumber(ARGV[13])
    if countThreshold > 0 and wf >= countThreshold then
      move(s, 'open', 'failure-count')
    elseif wf / wc >= tonumber(ARGV[11]) then
      move(s, 'open', 'failure-rate')
    elseif slowRate >= 0 and ws / wc >= slowRate then
      move(s, 'open', 'slow-call-rate')
    end
  end
  if s.st == 'closed' then
    if #order > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[15]) end
    for _, index in ipairs(order) do
      local b = per[index]
      flat[#flat + 1] = index
      flat[#flat + 1] = b[1]
      flat[#flat + 1] = b[2]
      flat[#flat + 1] = b[3]
    end
  else
    wc, wf, ws = 0, 0, 0
  end
end
return finish(s, 0, wc, wf, ws, flat)`;

/**
 * Takes a half-open probe permit if one is free fleet-wide: moves an open circuit whose `openUntil` has
 * passed to half-open, re-opens one stuck half-open past `maxWaitMs`, drops expired permits, and grants
 * one while fewer than `maxCalls` are held. ARGV [6] permit id, [7] permit time-to-live (ms), [8]
 * halfOpen.maxCalls, [9] permits key time-to-live (ms).
 */
const ACQUIRE = `${PRELUDE}
local s = load()
if s.st == 'open' and now >= s.openUntil then move(s, 'half-open', 'open-elapsed') end
if s.st == 'half-open' and now - s.since >= tonumber(ARGV[5]) then
  move(s, 'open', 'half-open-timeout')
  if now >= s.openUntil then move(s, 'half-open', 'open-elapsed') end
end
local granted = 0
if s.st == 'half-open' then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) < tonumber(ARGV[8]) then
    redis.call('ZADD', KEYS[3], now + tonumber(ARGV[7]), ARGV[6])
    redis.call('PEXPIRE', KEYS[3], ARGV[9])
    granted = 1
  end
end
return finish(s, granted, 0, 0, 0, nil)`;

/**
 * Reports a probe's outcome and returns its permit. ARGV [6] permit id, [7] epoch and [8] generation the
 * permit was granted in, [9] outcome (`s` success, `f` failure, `r` release without a verdict),
 * [10] halfOpen.successes. An outcome from another period only returns the permit.
 */
const REPORT = `${PRELUDE}
local s = load()
redis.call('ZREM', KEYS[3], ARGV[6])
expireHalfOpen(s)
if s.st == 'half-open' and s.epoch == ARGV[7] and s.gen == tonumber(ARGV[8]) then
  if ARGV[9] == 'f' then
    move(s, 'open', 'probe-failed')
  elseif ARGV[9] == 's' then
    s.succ = s.succ + 1
    s.dirty = true
    if s.succ >= tonumber(ARGV[10]) then move(s, 'closed', 'probes-succeeded') end
  end
end
return finish(s, 0, 0, 0, 0, nil)`;

/** The three scripts of a `SharedCircuitBreaker`. @internal */
export const sharedBreakerScripts = {
  sync: new RedisScript(SYNC),
  acquire: new RedisScript(ACQUIRE),
  report: new RedisScript(REPORT),
} as const;

/** The shared state as a script returns it. @internal */
export interface SharedBreakerReply {
  state: 'closed' | 'open' | 'half-open';
  epoch: string;
  generation: number;
  openUntil: number;
  since: number;
  reason: string;
  probeSuccesses: number;
  probesInFlight: number;
  /** Whether this script moved the state (its caller broadcasts the change). */
  changed: boolean;
  /** Whether a probe permit was granted (acquire only). */
  granted: boolean;
  /** Window sums (closed state after a sync only). */
  calls: number;
  failures: number;
  slowCalls: number;
  /** Window buckets (sync only): bucket index, calls, failures, slow calls, repeated. */
  buckets: number[];
}

const STATES = new Set(['closed', 'open', 'half-open']);

/**
 * Reads a script reply.
 * @throws Error when the reply does not have the expected shape (a foreign script on the same keys, say).
 * @internal
 */
export function parseSharedBreakerReply(raw: unknown): SharedBreakerReply {
  if (!Array.isArray(raw) || raw.length < 13 || !STATES.has(String(raw[0]))) {
    throw new Error('SharedCircuitBreaker: unexpected reply from Redis');
  }
  const n = (i: number): number => Number(raw[i]);
  const buckets: number[] = [];
  for (let i = 13; i < raw.length; i++) buckets.push(n(i));
  return {
    state: String(raw[0]) as SharedBreakerReply['state'],
    epoch: String(raw[1]),
    generation: n(2),
    openUntil: n(3),
    since: n(4),
    reason: String(raw[5]),
    probeSuccesses: n(6),
    probesInFlight: n(7),
    changed: n(8) === 1,
    granted: n(9) === 1,
    calls: n(10),
    failures: n(11),
    slowCalls: n(12),
    buckets,
  };
}
