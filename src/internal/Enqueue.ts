/**
 * The commands that put a job on a Resque queue, now or at a time, as node-resque and Ruby Resque write them:
 * `SADD queues q` + `RPUSH queue:q payload...`, and for a delayed job `RPUSH delayed:<s>`, `SADD
 * timestamps:<payload> delayed:<s>`, `ZADD delayed_queue_schedule <s> <s>` (node-resque's scheduler and
 * Ruby's resque-scheduler both promote it). Every path that writes a job (enqueue, retry, reclaim, operations)
 * builds its commands here, so the wire format is written in one place. A job pushed onto a queue also wakes
 * the idle workers: `ZADD wake 0 q` and `ZADD wake:q 0 q` (see `Keys.wake`); the scripts that push jobs do the same (`luaWake`).
 *
 * @since 0.2.0
 */
import type { Keys } from "../domain/Keys.ts"
import type { Arg } from "./Connection.ts"
import * as Script from "./Script.ts"

/** A command that writes a job. */
export type JobWrite = readonly [command: "sadd" | "rpush" | "zadd", ...args: ReadonlyArray<Arg>]

/** The commands that append `payloads` to `queue` and wake idle workers (none for no payload). */
export const push = (keys: Keys, queue: string, payloads: ReadonlyArray<string>): ReadonlyArray<JobWrite> =>
  payloads.length === 0 ? [] : [["sadd", keys.queues, queue], ["rpush", keys.queue(queue), ...payloads], ...wake(keys, queue)]

/**
 * The commands that mark `queue` as having jobs: on the marker of the pools that drain every queue
 * (`Keys.wake`) and on the queue's own (`Keys.wakeQueue`), so whichever pool can take the job wakes.
 */
export const wake = (keys: Keys, queue: string): ReadonlyArray<JobWrite> => [
  ["zadd", keys.wake, 0, queue],
  ["zadd", keys.wakeQueue(queue), 0, queue]
]

/** The marker's key of a queue, from the `*` marker's key, as the scripts build it (`Keys.wakeQueue`). */
const queueMarker = (wakeKey: string, queue: string): string => `${wakeKey}:${queue}`

/**
 * Lua: `wake(wake_key, queue)` marks a queue as having jobs on both markers ({@link wake}), for the workers
 * blocked on them. Shared by every script that pushes a job.
 */
export const luaWake = String.raw`
local function wake(wake_key, queue)
  redis.call('zadd', wake_key, 0, queue)
  redis.call('zadd', wake_key .. ':' .. queue, 0, queue)
end
`

/** `wake` of the Lua, for the scripts' JavaScript twins. */
export const wakeTwin = (redis: Script.ScriptRedis, wakeKey: string, queue: string): void => {
  redis.call("zadd", wakeKey, 0, queue)
  redis.call("zadd", queueMarker(wakeKey, queue), 0, queue)
}

/**
 * Appends one job to `queue` and wakes idle workers: the writes of {@link push} for one payload, as one script
 * call instead of a MULTI. A single enqueue is what a request handler does, and ioredis's MULTI (a pipeline
 * object, six commands on the wire, six replies) costs about half again the node CPU of one EVALSHA, which
 * the caller also waits for.
 *
 * @category scripts
 */
export const pushOne = Script.make({
  name: "pushOne",
  lua: luaWake + String.raw`
local queues, queue_key, wake_key = KEYS[1], KEYS[2], KEYS[3]
local queue, payload = ARGV[1], ARGV[2]
redis.call('sadd', queues, queue)
redis.call('rpush', queue_key, payload)
wake(wake_key, queue)
return 1
`,
  encode: (input: { readonly keys: Keys; readonly queue: string; readonly payload: string }) => ({
    keys: [input.keys.queues, input.keys.queue(input.queue), input.keys.wake],
    args: [input.queue, input.payload]
  }),
  decode: () => undefined,
  twin: (redis, [queues = "", queueKey = "", wakeKey = ""], [queue = "", payload = ""]) => {
    redis.call("sadd", queues, queue)
    redis.call("rpush", queueKey, payload)
    wakeTwin(redis, wakeKey, queue)
    return 1
  }
})

/**
 * Lua (after {@link luaWake}): `pushOrSchedule(to, payload)` writes one job as {@link push} does when
 * `to.second` is empty, else as {@link schedule} does for that second. `to` holds `queues_key`, `queue_key`,
 * `wake_key`, `queue`, `second`, `delayed_key`, `timestamps_key` and `schedule_key`. For the scripts that
 * write a job only when a condition holds (a unique claim, a recurring chain's marker).
 */
export const luaPushOrSchedule = String.raw`
local function pushOrSchedule(to, payload)
  if to.second == '' then
    redis.call('sadd', to.queues_key, to.queue)
    redis.call('rpush', to.queue_key, payload)
    wake(to.wake_key, to.queue)
  else
    redis.call('rpush', to.delayed_key, payload)
    redis.call('sadd', to.timestamps_key, 'delayed:' .. to.second)
    redis.call('zadd', to.schedule_key, to.second, to.second)
  end
end
`

/** Where {@link pushOrScheduleTwin} writes a job: the keys of `pushOrSchedule`, and the second (empty: now). */
export interface JobTarget {
  readonly queuesKey: string
  readonly queueKey: string
  readonly wakeKey: string
  readonly queue: string
  readonly second: string
  readonly delayedKey: string
  readonly timestampsKey: string
  readonly scheduleKey: string
}

/** `pushOrSchedule` of the Lua, for the scripts' JavaScript twins. */
export const pushOrScheduleTwin = (redis: Script.ScriptRedis, to: JobTarget, payload: string): void => {
  if (to.second === "") {
    redis.call("sadd", to.queuesKey, to.queue)
    redis.call("rpush", to.queueKey, payload)
    wakeTwin(redis, to.wakeKey, to.queue)
  } else {
    redis.call("rpush", to.delayedKey, payload)
    redis.call("sadd", to.timestampsKey, `delayed:${to.second}`)
    redis.call("zadd", to.scheduleKey, to.second, to.second)
  }
}

/** The second a delayed job is filed under: Resque rounds the time to the nearest second. */
export const delayedSecond = (timestampMs: number): number => Math.round(timestampMs / 1000)

/**
 * The second whose jobs this runtime's job scheduler promotes from `nowMs` on: the whole seconds that have
 * begun (`floor`, as Ruby's resque-scheduler does), so a job filed under second `T` never starts before `T`.
 * node-resque's scheduler promotes `round(now / 1000)`, from half a second earlier.
 */
export const promotedSecond = (nowMs: number): number => Math.floor(nowMs / 1000)

/**
 * The second to file a job under so that it never starts before `timestampMs` (rounded up): a retry or the
 * next run of a schedule. Under this runtime's scheduler it starts within a second after, plus the poll.
 */
export const notBeforeSecond = (timestampMs: number): number => Math.ceil(timestampMs / 1000)

/** The commands that schedule `payload` under a second of the delayed schedule. */
export const pushAtSecond = (keys: Keys, seconds: number, payload: string): ReadonlyArray<JobWrite> => [
  ["rpush", keys.delayed(seconds), payload],
  ["sadd", keys.timestamps(payload), `delayed:${seconds}`],
  ["zadd", keys.delayedSchedule, seconds, String(seconds)]
]

/** The commands that schedule `payload` at `timestampMs`, as node-resque's `enqueueAt` writes it (rounded). */
export const pushAt = (keys: Keys, timestampMs: number, payload: string): ReadonlyArray<JobWrite> =>
  pushAtSecond(keys, delayedSecond(timestampMs), payload)

/** The commands that schedule `payload` to run no earlier than `timestampMs` (see {@link notBeforeSecond}). */
export const pushNotBefore = (keys: Keys, timestampMs: number, payload: string): ReadonlyArray<JobWrite> =>
  pushAtSecond(keys, notBeforeSecond(timestampMs), payload)

/**
 * Schedules `payload` at a second unless the same job is already scheduled at that second: node-resque's
 * `enqueueAt` refuses that second copy; this answers whether it was written, in one atomic step.
 *
 * "The same job" is its payload without its trace headers (`identity`, `Tracing.headerNames`): two sends of
 * one job carry two `traceparent`s, yet are one job, as they are with tracing off. Resque's index
 * (`timestamps:<payload>`) names the exact payload, so it answers for a payload without trace headers; for
 * one with them, `delayed_ids:<second>` maps its identity to the payload written (its own `timestamps:` set
 * says whether that one is still scheduled there: once promoted or removed, the second takes the job again).
 * That map expires a day after its second.
 *
 * @category scripts
 */
export const scheduleOnce = Script.make({
  name: "scheduleOnce",
  lua: String.raw`
local delayed, timestamps, schedule, identities = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local payload, seconds, identity, timestamps_prefix, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local member = 'delayed:' .. seconds
if redis.call('sismember', timestamps_prefix .. identity, member) == 1 then return 0 end
if payload ~= identity and redis.call('sismember', timestamps, member) == 1 then return 0 end
local prior = redis.call('hget', identities, identity)
if prior and redis.call('sismember', timestamps_prefix .. prior, member) == 1 then return 0 end
redis.call('rpush', delayed, payload)
redis.call('sadd', timestamps, member)
redis.call('zadd', schedule, seconds, seconds)
if payload ~= identity then
  redis.call('hset', identities, identity, payload)
  redis.call('pexpire', identities, ttl)
end
return 1
`,
  encode: (input: {
    readonly keys: Keys
    readonly timestampMs: number
    readonly payload: string
    /** The payload without its trace headers; the payload itself when it has none. */
    readonly identity?: string | undefined
    /** Now (epoch ms): the identities of a second expire a day after it. */
    readonly nowMs: number
  }) => {
    const seconds = delayedSecond(input.timestampMs)
    const ttl = Math.max(0, seconds * 1000 - input.nowMs) + 86_400_000
    return {
      keys: [input.keys.delayed(seconds), input.keys.timestamps(input.payload), input.keys.delayedSchedule, input.keys.delayedIds(seconds)],
      args: [input.payload, seconds, input.identity ?? input.payload, input.keys.key("timestamps:"), ttl]
    }
  },
  decode: (reply) => reply === 1,
  twin: (redis, [delayed = "", timestamps = "", schedule = "", identities = ""], [payload = "", seconds = "", identity = "", timestampsPrefix = "", ttl = ""]) => {
    const member = `delayed:${seconds}`
    if (redis.call("sismember", timestampsPrefix + identity, member) === 1) return 0
    if (payload !== identity && redis.call("sismember", timestamps, member) === 1) return 0
    const prior = redis.call("hget", identities, identity)
    if (typeof prior === "string" && redis.call("sismember", timestampsPrefix + prior, member) === 1) return 0
    redis.call("rpush", delayed, payload)
    redis.call("sadd", timestamps, member)
    redis.call("zadd", schedule, seconds, seconds)
    if (payload !== identity) {
      redis.call("hset", identities, identity, payload)
      redis.call("pexpire", identities, ttl)
    }
    return 1
  }
})
