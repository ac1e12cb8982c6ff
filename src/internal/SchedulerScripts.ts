/**
 * The scheduler's scripts: the leader lock, with node-resque's key (`resque_scheduler_leader_lock`) and
 * semantics (the holder's name, `SET NX EX`, renewed by its holder, released only by it), so a fleet mixing
 * our schedulers and node-resque's elects one leader to promote delayed jobs; the lock of this runtime's own
 * duties (`duties_lock`, same semantics), which only our schedulers take, so those duties run whoever holds
 * the shared lock; and the promotion of due delayed jobs, atomic where
 * node-resque's is not (it pops a job and enqueues it in a second round trip: a leader killed between the two
 * loses the job).
 *
 * @since 0.2.0
 */
import type { Keys } from "../domain/Keys.ts"
import { luaWake, wakeTwin } from "./Enqueue.ts"
import * as Script from "./Script.ts"

/** Which of the two locks a scheduler holds. */
export interface Held {
  /** The shared leader lock (node-resque's): this scheduler promotes delayed jobs. */
  readonly leader: boolean
  /** This runtime's duties lock: this scheduler runs recurring actions, the reclaim, fan-out deadlines. */
  readonly duties: boolean
}

/**
 * Takes each lock (the shared leader lock, the duties lock) if it is free, renews it if this scheduler holds
 * it: one call for both. Answers which it holds.
 *
 * @category scripts
 */
export const lead = Script.make({
  name: "schedulerLead",
  lua: String.raw`
local name, seconds = ARGV[1], ARGV[2]
local held = 0
for i, lock in ipairs(KEYS) do
  if redis.call('set', lock, name, 'NX', 'EX', seconds) then
    held = held + i
  elseif redis.call('get', lock) == name then
    redis.call('expire', lock, seconds)
    held = held + i
  end
end
return held
`,
  encode: (input: { readonly keys: Keys; readonly name: string; readonly seconds: number }) => ({
    keys: [input.keys.leaderLock, input.keys.dutiesLock],
    args: [input.name, input.seconds]
  }),
  decode: (reply): Held => {
    const held = typeof reply === "number" ? reply : 0
    return { leader: (held & 1) === 1, duties: (held & 2) === 2 }
  },
  twin: (redis, locks, [name = "", seconds = ""]) => {
    let held = 0
    locks.forEach((lock, i) => {
      if (redis.call("set", lock, name, "NX", "EX", seconds) !== null) held += i + 1
      else if (redis.call("get", lock) === name) {
        redis.call("expire", lock, seconds)
        held += i + 1
      }
    })
    return held
  }
})

/**
 * Releases each lock (leader, duties) this scheduler holds. Answers how many it released.
 *
 * @category scripts
 */
export const resign = Script.make({
  name: "schedulerResign",
  lua: String.raw`
local released = 0
for _, lock in ipairs(KEYS) do
  if redis.call('get', lock) == ARGV[1] then
    redis.call('del', lock)
    released = released + 1
  end
end
return released
`,
  encode: (input: { readonly keys: Keys; readonly name: string }) => ({ keys: [input.keys.leaderLock, input.keys.dutiesLock], args: [input.name] }),
  decode: Script.toNumber,
  twin: (redis, locks, [name = ""]) => {
    let released = 0
    for (const lock of locks) {
      if (redis.call("get", lock) === name) {
        redis.call("del", lock)
        released++
      }
    }
    return released
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
        wakeTwin(redis, wakeKey, queue)
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
