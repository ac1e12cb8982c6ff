/**
 * Lua scripts of the operations API (`Tasks`): each does in one atomic round trip what node-resque does in one
 * round trip per item or in racy steps. No cjson (ioredis-mock lacks it); no nil inside returned tables. Key
 * names come from `Keys` (passed as KEYS or as prefixes in ARGV), never spelled here.
 *
 * A table built by appending (`t[#t + 1] = v`) is returned through `asArray`: ioredis-mock reads a returned
 * table as an array only when its keys come out of `next` last-to-first, which holds for table constructors
 * and for tables filled from the end, not for appended ones (it returns an opaque proxy instead).
 */
import * as Script from "./script.ts"

/** Lua: copies an appended array into a table filled from the end (see the module note). */
const asArray = `
local function asArray(t)
  local r = {}
  for i = #t, 1, -1 do r[i] = t[i] end
  return r
end
`

/**
 * The overview in one round trip.
 * KEYS: leader lock, stat:processed, stat:failed, queues set, workers set.
 * ARGV: queue key prefix, worker key prefix, per-worker processed prefix, per-worker failed prefix.
 * Returns { leader or '', processed, failed, #queues, (queue, length)..., #workers,
 *   (member, working-on or '', processed, failed)... }.
 */
export const overview = Script.make(
  "overview",
  5,
  `${asArray}
local function workerName(m)
  local a = string.find(m, ':', 1, true)
  if not a then return m end
  local b = string.find(m, ':', a + 1, true)
  if not b then return string.sub(m, 1, a - 1) end
  return string.sub(m, 1, b - 1)
end
local out = {}
out[#out + 1] = redis.call('get', KEYS[1]) or ''
out[#out + 1] = redis.call('get', KEYS[2]) or '0'
out[#out + 1] = redis.call('get', KEYS[3]) or '0'
local queues = redis.call('smembers', KEYS[4])
out[#out + 1] = #queues
for _, q in ipairs(queues) do
  out[#out + 1] = q
  out[#out + 1] = redis.call('llen', ARGV[1] .. q)
end
local workers = redis.call('smembers', KEYS[5])
out[#out + 1] = #workers
for _, m in ipairs(workers) do
  local name = workerName(m)
  out[#out + 1] = m
  out[#out + 1] = redis.call('get', ARGV[2] .. m) or ''
  out[#out + 1] = redis.call('get', ARGV[3] .. name) or '0'
  out[#out + 1] = redis.call('get', ARGV[4] .. name) or '0'
end
return asArray(out)
`
)

/**
 * Retries one failed record: removes it (exact string) and, only if it was there, enqueues its payload.
 * KEYS: failed list, queues set, queue list. ARGV: record, queue name, payload. Returns 1, or 0 if absent.
 */
export const retryFailed = Script.make(
  "retryFailed",
  3,
  `
if redis.call('lrem', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('sadd', KEYS[2], ARGV[2])
  redis.call('rpush', KEYS[3], ARGV[3])
  return 1
end
return 0
`
)

/** Lua: removes `payload` from every delayed list its timestamps set names; returns the removed seconds. */
const removeDelayed = `
local function removeDelayed(timestampsKey, schedule, keyPrefix, payload)
  local removed = {}
  for _, member in ipairs(redis.call('smembers', timestampsKey)) do
    local seconds = string.sub(member, 9)
    local key = keyPrefix .. member
    if redis.call('lrem', key, 0, payload) > 0 then removed[#removed + 1] = seconds end
    if redis.call('llen', key) == 0 then redis.call('zrem', schedule, seconds) end
  end
  redis.call('del', timestampsKey)
  return removed
end
`

/**
 * Removes a delayed job from every timestamp it is scheduled at.
 * KEYS: timestamps set of the payload, delayed schedule. ARGV: payload, key prefix (`ns:`).
 * Returns the timestamps (seconds) it was removed from.
 */
export const delDelayed = Script.make(
  "delDelayed",
  2,
  `${asArray}${removeDelayed}
return asArray(removeDelayed(KEYS[1], KEYS[2], ARGV[2], ARGV[1]))
`
)

/**
 * Stops a recurring action: sets the stopped flag, deletes the chain's marker (so the running copy does not
 * re-enqueue itself) and removes the queued and delayed copies. The copy's payload is the marker's token
 * between a prefix and a suffix (the payload is deterministic given the token).
 * KEYS: marker, stopped flag, queue list, delayed schedule.
 * ARGV: payload prefix, payload suffix, key prefix (`ns:`), timestamps key prefix.
 * Returns { was live (0/1), queued copies removed, delayed copies removed }.
 */
export const stopRecurring = Script.make(
  "stopRecurring",
  4,
  `${removeDelayed}
redis.call('set', KEYS[2], '1')
local token = redis.call('get', KEYS[1])
if not token then return {0, 0, 0} end
redis.call('del', KEYS[1])
local payload = ARGV[1] .. token .. ARGV[2]
local queued = redis.call('lrem', KEYS[3], 0, payload)
local delayed = removeDelayed(ARGV[4] .. payload, KEYS[4], ARGV[3], payload)
return {1, queued, #delayed}
`
)
