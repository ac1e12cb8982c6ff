/**
 * The scripts of the operations API: each does in one atomic round trip what node-resque does in one round
 * trip per item or in racy steps. Key names come from `Keys` (as KEYS, or as prefixes in ARGV), never spelled
 * here.
 *
 * @since 0.2.0
 */
import type { Keys } from "../domain/Keys.ts"
import * as Resque from "../domain/Resque.ts"
import { luaWake, wakeTwin } from "./Enqueue.ts"
import type { Reply } from "./MemoryStore.ts"
import * as Script from "./Script.ts"

/** A set's members in Lua's `table.sort` order (byte order), as the scripts list them. */
const sorted = (members: Reply): ReadonlyArray<string> => [...Script.toStrings(members)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))

/**
 * The overview in one round trip: `{ leader or '', processed, failed, #queues, (queue, length, paused 0/1)..., #workers,
 * (member, working-on or '', processed, failed)... }` (decoded by `Operations.overview`). A worker's
 * counters are those under its full id (Ruby Resque, this runtime) plus those under its name (node-resque).
 *
 * @category scripts
 */
export const overview = Script.make({
  name: "overview",
  lua: String.raw`
local leader_key, processed_key, failed_key, queues_key, workers_key, paused_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local queue_prefix, worker_prefix, processed_prefix, failed_prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local function workerName(m)
  local a = string.find(m, ':', 1, true)
  if not a then return m end
  local b = string.find(m, ':', a + 1, true)
  if not b then return string.sub(m, 1, a - 1) end
  return string.sub(m, 1, b - 1)
end
-- a worker's counter: by full id (Ruby Resque, this runtime) plus by name (node-resque)
local function count(prefix, id, name)
  return (tonumber(redis.call('get', prefix .. id)) or 0) + (tonumber(redis.call('get', prefix .. name)) or 0)
end
local out = {}
out[#out + 1] = redis.call('get', leader_key) or ''
out[#out + 1] = redis.call('get', processed_key) or '0'
out[#out + 1] = redis.call('get', failed_key) or '0'
-- sets come out in no particular order: sorted, the reply is the same on every backend
local queues = redis.call('smembers', queues_key)
table.sort(queues)
out[#out + 1] = #queues
for _, q in ipairs(queues) do
  out[#out + 1] = q
  out[#out + 1] = redis.call('llen', queue_prefix .. q)
  out[#out + 1] = redis.call('hexists', paused_key, q)
end
local workers = redis.call('smembers', workers_key)
table.sort(workers)
out[#out + 1] = #workers
for _, m in ipairs(workers) do
  local name = workerName(m)
  out[#out + 1] = m
  out[#out + 1] = redis.call('get', worker_prefix .. m) or ''
  out[#out + 1] = count(processed_prefix, m, name)
  out[#out + 1] = count(failed_prefix, m, name)
end
return out
`,
  encode: (keys: Keys) => ({
    keys: [keys.leaderLock, keys.stat("processed"), keys.stat("failed"), keys.queues, keys.workers, keys.paused],
    args: [keys.queue(""), keys.key("worker", ""), keys.stat("processed", ""), keys.stat("failed", "")]
  }),
  decode: Script.toArray,
  twin: (redis, [leaderKey = "", processedKey = "", failedKey = "", queuesKey = "", workersKey = "", pausedKey = ""], [queuePrefix = "", workerPrefix = "", processedPrefix = "", failedPrefix = ""]) => {
    const get = (key: string, fallback: string): Reply => redis.call("get", key) ?? fallback
    const out: Array<Reply> = [get(leaderKey, ""), get(processedKey, "0"), get(failedKey, "0")]
    const queues = sorted(redis.call("smembers", queuesKey))
    out.push(queues.length)
    for (const queue of queues) out.push(queue, redis.call("llen", queuePrefix + queue), redis.call("hexists", pausedKey, queue))
    const workers = sorted(redis.call("smembers", workersKey))
    out.push(workers.length)
    for (const member of workers) {
      const { name } = Resque.workerMember(member)
      const count = (prefix: string) => Resque.count(redis.call("get", prefix + member)) + Resque.count(redis.call("get", prefix + name))
      out.push(member, get(workerPrefix + member, ""), count(processedPrefix), count(failedPrefix))
    }
    return out
  }
})

/** One failed record to retry: the record as stored, and the queue and payload it re-enqueues. */
export interface Retry {
  readonly record: string
  readonly queue: string
  readonly payload: string
}

/**
 * Retries failed records: each is removed (matched by its exact string) and, only if it was there, its
 * payload is enqueued, atomically; a record retried twice at once is enqueued once. Answers, per record,
 * whether it was retried.
 *
 * @category scripts
 */
export const retryFailed = Script.make({
  name: "retryFailed",
  lua: String.raw`${luaWake}
local failed_key, queues_key, wake_key = KEYS[1], KEYS[2], KEYS[3]
local queue_prefix = ARGV[1]
local done = {}
for i = 2, #ARGV, 3 do
  local record, queue, payload = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local result = 0
  if redis.call('lrem', failed_key, 1, record) == 1 then
    redis.call('sadd', queues_key, queue)
    redis.call('rpush', queue_prefix .. queue, payload)
    wake(wake_key, queue)
    result = 1
  end
  done[#done + 1] = result
end
return done
`,
  encode: (input: { readonly keys: Keys; readonly retries: ReadonlyArray<Retry> }) => ({
    keys: [input.keys.failed, input.keys.queues, input.keys.wake],
    args: [input.keys.queue(""), ...input.retries.flatMap((r) => [r.record, r.queue, r.payload])]
  }),
  decode: (reply): ReadonlyArray<boolean> => Script.toArray(reply).map((done) => done === 1),
  twin: (redis, [failedKey = "", queuesKey = "", wakeKey = ""], [queuePrefix = "", ...rest]) => {
    const done: Array<number> = []
    for (let i = 0; i + 3 <= rest.length; i += 3) {
      const [record = "", queue = "", payload = ""] = rest.slice(i, i + 3)
      let result = 0
      if (redis.call("lrem", failedKey, 1, record) === 1) {
        redis.call("sadd", queuesKey, queue)
        redis.call("rpush", queuePrefix + queue, payload)
        wakeTwin(redis, wakeKey, queue)
        result = 1
      }
      done.push(result)
    }
    return done
  }
})

/** Lua: removes `payload` from every delayed list its timestamps set names; returns the removed seconds. */
export const luaRemoveDelayed = String.raw`
local function removeDelayed(timestamps_key, schedule, key_prefix, payload)
  local removed = {}
  local members = redis.call('smembers', timestamps_key)
  table.sort(members)
  for _, member in ipairs(members) do
    local seconds = string.sub(member, 9)
    local key = key_prefix .. member
    if redis.call('lrem', key, 0, payload) > 0 then removed[#removed + 1] = seconds end
    if redis.call('llen', key) == 0 then redis.call('zrem', schedule, seconds) end
  end
  redis.call('del', timestamps_key)
  return removed
end
`

/** `removeDelayed` of the Lua. */
export const removeDelayed = (redis: Script.ScriptRedis, timestampsKey: string, schedule: string, keyPrefix: string, payload: string) => {
  const removed: Array<string> = []
  for (const member of sorted(redis.call("smembers", timestampsKey))) {
    const seconds = member.slice(8)
    const key = keyPrefix + member
    if (Script.toNumber(redis.call("lrem", key, 0, payload)) > 0) removed.push(seconds)
    if (redis.call("llen", key) === 0) redis.call("zrem", schedule, seconds)
  }
  redis.call("del", timestampsKey)
  return removed
}

/**
 * Removes a delayed job from every second it is scheduled at; answers those seconds.
 *
 * @category scripts
 */
export const delDelayed = Script.make({
  name: "delDelayed",
  lua: String.raw`${luaRemoveDelayed}
return removeDelayed(KEYS[1], KEYS[2], ARGV[2], ARGV[1])
`,
  encode: (input: { readonly keys: Keys; readonly payload: string }) => ({
    keys: [input.keys.timestamps(input.payload), input.keys.delayedSchedule],
    args: [input.payload, input.keys.key("")]
  }),
  decode: (reply): ReadonlyArray<number> => Script.toStrings(reply).map(Number).sort((a, b) => a - b),
  twin: (redis, [timestampsKey = "", schedule = ""], [payload = "", keyPrefix = ""]) =>
    removeDelayed(redis, timestampsKey, schedule, keyPrefix, payload)
})

/**
 * Stops a recurring action: sets the stopped flag, deletes the chain's marker (so the running copy does not
 * re-enqueue itself) and removes the queued and delayed copies. The copy's payload is the marker's token
 * between a prefix and a suffix (the payload is deterministic given the token). Answers `{ was live (0/1),
 * queued copies removed, delayed copies removed }`.
 *
 * @category scripts
 */
export const stopRecurring = Script.make({
  name: "stopRecurring",
  lua: String.raw`${luaRemoveDelayed}
local marker, stopped, queue_key, schedule = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local prefix, suffix, key_prefix, timestamps_prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('set', stopped, '1')
local token = redis.call('get', marker)
if not token then return {0, 0, 0} end
redis.call('del', marker)
local payload = prefix .. token .. suffix
local queued = redis.call('lrem', queue_key, 0, payload)
local delayed = removeDelayed(timestamps_prefix .. payload, schedule, key_prefix, payload)
return {1, queued, #delayed}
`,
  encode: (input: {
    readonly keys: Keys
    readonly action: string
    readonly queue: string
    readonly payloadPrefix: string
    readonly payloadSuffix: string
  }) => ({
    keys: [
      input.keys.recurring(input.action),
      input.keys.recurringStopped(input.action),
      input.keys.queue(input.queue),
      input.keys.delayedSchedule
    ],
    args: [input.payloadPrefix, input.payloadSuffix, input.keys.key(""), input.keys.timestamps("")]
  }),
  decode: (reply) => {
    const [live, queued, delayed] = Script.toArray(reply).map(Script.toNumber)
    return { wasLive: live === 1, queued: queued ?? 0, delayed: delayed ?? 0 }
  },
  twin: (redis, [marker = "", stopped = "", queueKey = "", schedule = ""], [prefix = "", suffix = "", keyPrefix = "", timestampsPrefix = ""]) => {
    redis.call("set", stopped, "1")
    const token = redis.call("get", marker)
    if (typeof token !== "string") return [0, 0, 0]
    redis.call("del", marker)
    const payload = prefix + token + suffix
    const queued = redis.call("lrem", queueKey, 0, payload)
    const delayed = removeDelayed(redis, timestampsPrefix + payload, schedule, keyPrefix, payload)
    return [1, Script.toNumber(queued), delayed.length]
  }
})
