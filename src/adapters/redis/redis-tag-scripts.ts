import { RedisScript } from './redis-script.js';

// Tag sets of RedisCacheLayer. Every script touches only its declared tag set (KEYS[1]), except the inline
// pruning of `tagScript` (standalone/Sentinel only), which checks sampled members with EXISTS. A server that
// enforces slot rules rejects that EXISTS ("non local key", CROSSSLOT); RedisCacheLayer then switches to the
// client-side pruning of the Cluster path, described next.
//
// On a Cluster a member being pruned is first turned into a *pending marker* owned by one pruning round:
// the byte 0xFF, the round's token (TOKEN_LENGTH characters), then the key. Keys reach Redis as UTF-8 (JS
// strings), which never contains 0xFF, so a marker cannot be mistaken for a key; markers never leave Redis
// as such (0xFF would not survive UTF-8 decoding): scripts return them as [token, key] pairs.
// `popTagScript` expands markers back to keys, so a key is never out of reach of deleteByTag while it is
// being checked. Each round only ever drops its own markers: two rounds racing on one key cannot drop a
// marker that the other one (re)created after its own check.

/** Length of a pruning round's token. */
export const TOKEN_LENGTH = 16;

/**
 * Adds ARGV[1] to the tag set KEYS[1] and keeps the set alive at least as long as that key (ARGV[2] ms,
 * -1: forever). Then samples ARGV[3] random members (SRANDMEMBER: O(ARGV[3]) for a large set):
 * - ARGV[4] == '1' (standalone): removes, in this same atomic step, every sampled member whose key no longer
 *   exists (and settles any sampled pending marker); returns an empty array. ARGV[5] is the client's key
 *   prefix (ioredis `keyPrefix` prefixes KEYS, not members). A server enforcing slot rules aborts the script
 *   at the first EXISTS of a key it does not own; what ran before (SADD, TTL, removals) stays, and running
 *   the script again in the other mode is safe.
 * - otherwise (Cluster, where members live in other slots): returns `[members, markers]` for the client to
 *   check: the sampled members other than ARGV[1], and the sampled pending markers as `[token, key]` pairs.
 */
export const tagScript = new RedisScript(`
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl < 0 then
  redis.call('PERSIST', KEYS[1])
elseif existed == 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  local current = redis.call('PTTL', KEYS[1])
  if current >= 0 and current < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
end
local count = tonumber(ARGV[3])
if count <= 0 then return {} end
local sample = redis.call('SRANDMEMBER', KEYS[1], count)
local inline = ARGV[4] == '1'
local members, markers = {}, {}
for _, member in ipairs(sample) do
  if member ~= ARGV[1] then
    if string.byte(member, 1) == 255 then
      local key = string.sub(member, ${TOKEN_LENGTH + 2})
      if inline then
        if redis.call('EXISTS', ARGV[5] .. key) == 1 then redis.call('SADD', KEYS[1], key) end
        redis.call('SREM', KEYS[1], member)
      else
        markers[#markers + 1] = {string.sub(member, 2, ${TOKEN_LENGTH + 1}), key}
      end
    elseif not inline then
      members[#members + 1] = member
    elseif redis.call('EXISTS', ARGV[5] .. member) == 0 then
      redis.call('SREM', KEYS[1], member)
    end
  end
end
if inline then return {} end
return {members, markers}`);

/**
 * Cluster pruning, step 1: turns each member ARGV[2..] still in KEYS[1] into a pending marker of the round
 * ARGV[1] (added before the member is removed, so the set never empties and keeps its TTL). Returns the
 * members it marked.
 */
export const markTagMembersScript = new RedisScript(`
local marked = {}
for i = 2, #ARGV do
  local member = ARGV[i]
  if redis.call('SISMEMBER', KEYS[1], member) == 1 then
    redis.call('SADD', KEYS[1], '\\255' .. ARGV[1] .. member)
    redis.call('SREM', KEYS[1], member)
    marked[#marked + 1] = member
  end
end
return marked`);

/**
 * Cluster pruning, step 2: ARGV holds triples (token, key, '1' if the key exists now, else '0'), each key
 * checked after its marker was created. A key that exists goes back into the set if its marker is still
 * there (the set was not popped meanwhile); the marker is removed either way. Returns how many markers
 * were removed for keys that are gone.
 */
export const settleTagMarkersScript = new RedisScript(`
local pruned = 0
for i = 1, #ARGV, 3 do
  local marker = '\\255' .. ARGV[i] .. ARGV[i + 1]
  if ARGV[i + 2] == '1' then
    if redis.call('SISMEMBER', KEYS[1], marker) == 1 then redis.call('SADD', KEYS[1], ARGV[i + 1]) end
    redis.call('SREM', KEYS[1], marker)
  else
    pruned = pruned + redis.call('SREM', KEYS[1], marker)
  end
end
return pruned`);

/** Empties a tag set atomically and returns its keys (pending markers expanded, duplicates dropped). */
export const popTagScript = new RedisScript(`
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
local seen, keys = {}, {}
for _, member in ipairs(members) do
  if string.byte(member, 1) == 255 then member = string.sub(member, ${TOKEN_LENGTH + 2}) end
  if not seen[member] then
    seen[member] = true
    keys[#keys + 1] = member
  end
end
return keys`);
