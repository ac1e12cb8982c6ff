/**
 * The scheduler's scripts: the leader lock, with node-resque's key (`resque_scheduler_leader_lock`) and
 * semantics (the holder's name, `SET NX EX`, renewed by its holder, released only by it), so a fleet mixing
 * our schedulers and node-resque's elects one leader; and the promotion of due delayed jobs, atomic where
 * node-resque's is not (it pops a job and enqueues it in a second round trip: a leader killed between the two
 * loses the job).
 *
 * @since 0.2.0
 */
import type { Keys } from "../domain/Keys.ts"
import { luaWake } from "./Enqueue.ts"
import * as Script from "./Script.ts"

/**
 * Takes the leader lock if it is free, renews it if this scheduler holds it. Answers whether it holds it.
 *
 * @category scripts
 */
export const lead = Script.make({
  name: "schedulerLead",
  lua: String.raw`
local lock = KEYS[1]
local name, seconds = ARGV[1], ARGV[2]
if redis.call('set', lock, name, 'NX', 'EX', seconds) then return 1 end
if redis.call('get', lock) == name then
  redis.call('expire', lock, seconds)
  return 1
end
return 0
`,
  encode: (input: { readonly keys: Keys; readonly name: string; readonly seconds: number }) => ({
    keys: [input.keys.leaderLock],
    args: [input.name, input.seconds]
  }),
  decode: (reply) => reply === 1,
  twin: (redis, [lock = ""], [name = "", seconds = ""]) => {
    if (redis.call("set", lock, name, "NX", "EX", seconds) !== null) return 1
    if (redis.call("get", lock) === name) {
      redis.call("expire", lock, seconds)
      return 1
    }
    return 0
  }
})

/**
 * Releases the leader lock if this scheduler holds it. Answers whether it did.
 *
 * @category scripts
 */
export const resign = Script.make({
  name: "schedulerResign",
  lua: String.raw`
local lock = KEYS[1]
if redis.call('get', lock) == ARGV[1] then
  redis.call('del', lock)
  return 1
end
return 0
`,
  encode: (input: { readonly keys: Keys; readonly name: string }) => ({ keys: [input.keys.leaderLock], args: [input.name] }),
  decode: (reply) => reply === 1,
  twin: (redis, [lock = ""], [name = ""]) => {
    if (redis.call("get", lock) !== name) return 0
    redis.call("del", lock)
    return 1
  }
})

/** The queue a delayed job goes to: its `queue` field, or `default` when it has none or is not JSON. */
const queueOfPayload = (payload: string): string => {
  try {
    const job: unknown = JSON.parse(payload)
    const queue = typeof job === "object" && job !== null ? Reflect.get(job, "queue") : undefined
    return typeof queue === "string" && queue.length > 0 ? queue : "default"
  } catch {
    return "default"
  }
}

/**
 * Promotes up to `limit` jobs due at or before `now` (seconds), oldest second first: each job is popped from
 * its second's list, dropped from its timestamps index and appended to its queue unchanged, and an emptied
 * second leaves the schedule, in one step; a leader that dies mid-poll leaves every job either delayed or
 * queued, never neither nor both. A job without a readable queue goes to `default`, where the worker fails it
 * with a typed error instead of it vanishing. Answers how many jobs moved (the caller calls again while it
 * moved `limit`).
 *
 * @category scripts
 */
export const promote = Script.make({
  name: "promoteDelayed",
  lua: String.raw`${luaWake}
local schedule, queues_key, wake_key = KEYS[1], KEYS[2], KEYS[3]
local now, limit = ARGV[1], tonumber(ARGV[2])
local delayed_prefix, queue_prefix, timestamps_prefix = ARGV[3], ARGV[4], ARGV[5]
local moved = 0
local seconds = redis.call('zrangebyscore', schedule, '-inf', now, 'LIMIT', 0, limit)
for _, second in ipairs(seconds) do
  local list = delayed_prefix .. second
  while moved < limit do
    local job = redis.call('lpop', list)
    if not job then break end
    redis.call('srem', timestamps_prefix .. job, 'delayed:' .. second)
    local ok, decoded = pcall(cjson.decode, job)
    local q = 'default'
    if ok and type(decoded) == 'table' and type(decoded.queue) == 'string' and decoded.queue ~= '' then q = decoded.queue end
    redis.call('sadd', queues_key, q)
    redis.call('rpush', queue_prefix .. q, job)
    wake(wake_key, q)
    moved = moved + 1
  end
  if redis.call('llen', list) == 0 then
    redis.call('del', list)
    redis.call('zrem', schedule, second)
  end
  if moved >= limit then break end
end
return moved
`,
  encode: (input: { readonly keys: Keys; readonly nowSeconds: number; readonly limit: number }) => ({
    keys: [input.keys.delayedSchedule, input.keys.queues, input.keys.wake],
    args: [input.nowSeconds, input.limit, input.keys.key("delayed:"), input.keys.queue(""), input.keys.key("timestamps:")]
  }),
  decode: Script.toNumber,
  twin: (redis, [schedule = "", queuesKey = "", wakeKey = ""], [now = "", limitText = "", delayedPrefix = "", queuePrefix = "", timestampsPrefix = ""]) => {
    const limit = Number(limitText)
    let moved = 0
    for (const second of Script.toStrings(redis.call("zrangebyscore", schedule, "-inf", now, "LIMIT", 0, limit))) {
      const list = delayedPrefix + second
      while (moved < limit) {
        const job = redis.call("lpop", list)
        if (typeof job !== "string") break
        redis.call("srem", timestampsPrefix + job, `delayed:${second}`)
        const queue = queueOfPayload(job)
        redis.call("sadd", queuesKey, queue)
        redis.call("rpush", queuePrefix + queue, job)
        redis.call("zadd", wakeKey, 0, queue)
        moved++
      }
      if (redis.call("llen", list) === 0) {
        redis.call("del", list)
        redis.call("zrem", schedule, second)
      }
      if (moved >= limit) break
    }
    return moved
  }
})
