/**
 * The scripts of job control: reading where a job stands, and (further down) the unique enqueue and the
 * cancel. Each reads a tracked job's record and, where the record alone cannot tell (a worker took the job
 * from its queue: the pick does not touch the record, so the hot path stays as it is), finds the worker
 * running it by its id in the working-on records (`UniqueClaim.findRunning`: one `GET` per registered worker).
 *
 * @since 0.3.0
 */
import type { Keys } from "../domain/Keys.ts"
import * as Enqueue from "./Enqueue.ts"
import * as FanOutScripts from "./FanOutScripts.ts"
import * as OperationsScripts from "./OperationsScripts.ts"
import * as Script from "./Script.ts"
import { claimHolder, findRunning, hashField, luaClaimHolder, luaFindRunning, needlePrefix } from "./UniqueClaim.ts"

/** A job's record and, while it is waiting (or has none), the worker running it or whether it is delayed. */
export interface ReadReply {
  /** The record's fields, `{}` without one. */
  readonly record: Readonly<Record<string, string>>
  /** The working-on record of the worker running it. */
  readonly running: string | undefined
  /** Whether its payload is on the delayed schedule. */
  readonly delayed: boolean
}

/** The fields of a job's record that `readJob` reads, in its reply's order (`state` and `payload` first and fourth). */
export const recordFields = [
  "state", "action", "queue", "payload", "attempt", "enqueuedAt", "finishedAt", "worker", "result", "exception", "error", "data", "progress"
] as const

const toRecord = (values: ReadonlyArray<unknown>): Record<string, string> => {
  const record: Record<string, string> = {}
  recordFields.forEach((field, i) => {
    const value = Script.toStringOrNull(values[i])
    if (value !== null) record[field] = value
  })
  return record
}

const waiting = (state: string | undefined) => state === undefined || state === "queued" || state === "delayed"

/**
 * Reads a job: its record, then (when the record is missing or says it waits) the worker running it, else
 * whether its payload waits on the delayed schedule.
 *
 * KEYS: record, workers set. ARGV: id needle, working-on key prefix, timestamps key prefix. Answers the
 * record's {@link recordFields} (nil where absent), the running worker's record (or nil), 1 if delayed.
 *
 * @category scripts
 */
export const readJob = Script.make({
  name: "readJob",
  lua: String.raw`${luaFindRunning}
local job_key, workers_key = KEYS[1], KEYS[2]
local needle, worker_prefix, timestamps_prefix = ARGV[1], ARGV[2], ARGV[3]
local record = redis.call('hmget', job_key, ${recordFields.map((f) => `'${f}'`).join(", ")})
local state, payload = record[1], record[4]
local running, delayed = false, 0
if not state or state == 'queued' or state == 'delayed' then
  running = findRunning(workers_key, worker_prefix, needle)
  if not running and payload then delayed = redis.call('exists', timestamps_prefix .. payload) end
end
return { record, running, delayed }
`,
  encode: (input: { readonly keys: Keys; readonly id: string; readonly needle: string }) => ({
    keys: [input.keys.job(input.id), input.keys.workers],
    args: [input.needle, input.keys.key("worker", ""), input.keys.key("timestamps:")]
  }),
  decode: (reply): ReadReply => {
    const [record, running, delayed] = Script.toArray(reply)
    return { record: toRecord(Script.toArray(record)), running: Script.toStringOrNull(running) ?? undefined, delayed: Number(delayed) === 1 }
  },
  twin: (redis, [jobKey = "", workersKey = ""], [needle = "", workerPrefix = "", timestampsPrefix = ""]) => {
    const record = Script.toArray(redis.call("hmget", jobKey, ...recordFields)).map(Script.toStringOrNull)
    const state = record[0] ?? undefined
    const payload = record[3] ?? undefined
    let running: string | null = null
    let delayed = 0
    if (waiting(state)) {
      running = findRunning(redis, workersKey, workerPrefix, needle)
      if (running === null && payload !== undefined) delayed = Script.toNumber(redis.call("exists", timestampsPrefix + payload))
    }
    return [record, running, delayed]
  }
})

/** The worker name at the end of a working-on record (`,"worker":"NAME"}`), as the Lua reads it. */
const recordWorker = (record: string): string | undefined => /,"worker":"([^"\\]*)"\}$/.exec(record)?.[1]

/** How long a cancel request waits to be read before it expires (ms). */
export const cancelRequestMillis = 60_000

/**
 * The end of a cancelled fan-out child's stored outcome, after its `outcomeHead`: what
 * `FanOut.encodeFailure(action, inputs, { error: "cancelled before it ran", exception: "JobCancelled" })` writes.
 */
const cancelledTail = `"cancelled before it ran","JobCancelled"]`

/** What `cancel` did (see `JobControl.CancelResult`). */
export type CancelReply = "removed" | "interrupting" | "finished" | "unknown"

/**
 * Cancels a tracked job. Waiting (queued, delayed, or waiting for its retry): its payload is taken off its
 * queue and the delayed schedule, its record says `cancelled`, its `until-done` uniqueness claim is released;
 * a unique fan-out child (its record names its fan-out) is recorded there as failed with `JobCancelled`
 * (`onComplete` fired if it was the last), in the same step.
 * Running (with a record or without: a tracked fan-out child has none until it ends): its id is pushed onto
 * the cancel list of the worker running it (which interrupts it; its completion records `cancelled`). Ended:
 * nothing. No record and not running: `unknown`.
 *
 * KEYS: record, workers set, delayed schedule, queues set, wake-up marker. ARGV: id, id needle, working-on key
 * prefix, timestamps key prefix, key prefix, queue key prefix, cancel key prefix, now (ms), fan-out key prefix.
 *
 * @category scripts
 */
export const cancel = Script.make({
  name: "cancelJob",
  lua: String.raw`${luaFindRunning}${OperationsScripts.luaRemoveDelayed}${FanOutScripts.luaRecordChild}
local job_key, workers_key, schedule, queues_key, wake_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, needle, worker_prefix, timestamps_prefix, key_prefix, queue_prefix, cancel_prefix, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local fan_out_prefix = ARGV[9]
local record = redis.call('hgetall', job_key)
local state = hashField(record, 'state')
if state ~= nil and state ~= 'queued' and state ~= 'delayed' then return 'finished' end
local running = findRunning(workers_key, worker_prefix, needle)
if running then
  local worker = string.match(running, ',"worker":"([^"\\]*)"}$')
  if not worker then return 'unknown' end
  redis.call('rpush', cancel_prefix .. worker, id)
  redis.call('pexpire', cancel_prefix .. worker, ${cancelRequestMillis})
  return 'interrupting'
end
if state == nil then return 'unknown' end
local payload, queue = hashField(record, 'payload') or '', hashField(record, 'queue') or ''
local removed = redis.call('lrem', queue_prefix .. queue, 0, payload)
local delayed = removeDelayed(timestamps_prefix .. payload, schedule, key_prefix, payload)
if removed == 0 and #delayed == 0 then return 'unknown' end
redis.call('hset', job_key, 'state', 'cancelled', 'exception', 'JobCancelled', 'error', 'cancelled before it ran', 'finishedAt', now)
local unique = hashField(record, 'unique')
if unique then redis.call('del', unique) end
local fan_out, head = hashField(record, 'fanOut'), hashField(record, 'outcomeHead')
if fan_out and head then
  local groups = newGroups()
  noteChild(groups, fan_out_prefix .. fan_out, fan_out, hashField(record, 'index') or '', 'e' .. head .. '${cancelledTail}', now, 'nx')
  recordGroups(groups, queues_key, wake_key, queue_prefix)
end
return 'removed'
`,
  encode: (input: { readonly keys: Keys; readonly id: string; readonly needle: string; readonly now: number }) => ({
    keys: [input.keys.job(input.id), input.keys.workers, input.keys.delayedSchedule, input.keys.queues, input.keys.wake],
    args: [
      input.id,
      input.needle,
      input.keys.key("worker", ""),
      input.keys.key("timestamps:"),
      input.keys.key(""),
      input.keys.queue(""),
      input.keys.cancel(""),
      Math.round(input.now),
      input.keys.fanOut("")
    ]
  }),
  decode: (reply): CancelReply => {
    const text = Script.toStringOrNull(reply)
    return text === "removed" || text === "interrupting" || text === "finished" ? text : "unknown"
  },
  twin: (redis, [jobKey = "", workersKey = "", schedule = "", queuesKey = "", wakeKey = ""], args) => {
    const [id = "", needle = "", workerPrefix = "", timestampsPrefix = "", keyPrefix = "", queuePrefix = "", cancelPrefix = "", now = "", fanOutPrefix = ""] = args
    const record = Script.toStrings(redis.call("hgetall", jobKey))
    const state = hashField(record, "state")
    if (state !== undefined && !waiting(state)) return "finished"
    const running = findRunning(redis, workersKey, workerPrefix, needle)
    if (running !== null) {
      const worker = recordWorker(running)
      if (worker === undefined) return "unknown"
      redis.call("rpush", cancelPrefix + worker, id)
      redis.call("pexpire", cancelPrefix + worker, cancelRequestMillis)
      return "interrupting"
    }
    if (state === undefined) return "unknown"
    const payload = hashField(record, "payload") ?? ""
    const queue = hashField(record, "queue") ?? ""
    const removed = Script.toNumber(redis.call("lrem", queuePrefix + queue, 0, payload))
    const delayed = OperationsScripts.removeDelayed(redis, timestampsPrefix + payload, schedule, keyPrefix, payload)
    if (removed === 0 && delayed.length === 0) return "unknown"
    redis.call("hset", jobKey, "state", "cancelled", "exception", "JobCancelled", "error", "cancelled before it ran", "finishedAt", now)
    const unique = hashField(record, "unique")
    if (unique !== undefined) redis.call("del", unique)
    const fanOut = hashField(record, "fanOut")
    const head = hashField(record, "outcomeHead")
    if (fanOut !== undefined && head !== undefined) {
      const groups = new FanOutScripts.ChildGroups()
      groups.note([fanOutPrefix + fanOut, fanOut, hashField(record, "index") ?? "", `e${head}${cancelledTail}`, now, "nx"])
      groups.record(redis, { queuesKey, wakeKey, prefix: queuePrefix })
    }
    return "removed"
  }
})

/** A unique job to enqueue: its claim, its record, and where it goes. */
export interface UniqueEnqueue {
  readonly keys: Keys
  readonly claim: string
  readonly mode: "until-done" | "until-started" | "window"
  readonly windowMillis: number
  readonly id: string
  readonly queue: string
  readonly payload: string
  /** The second of the delayed schedule it waits for; undefined: on its queue now. */
  readonly atSecond: number | undefined
  /** Its record's fields (`JobControl.enqueuedFields`) and TTL. */
  readonly fields: ReadonlyArray<string>
  readonly ttlMillis: number
}

/** What a unique enqueue did: the id of the job holding the claim, and whether that is the new job. */
export interface UniqueReply {
  readonly id: string
  readonly enqueued: boolean
}

/**
 * Enqueues a unique job: claims its key (`SET NX`-like, with the window as TTL) and writes the job and its
 * record in the same step, or answers the id of the job holding the claim and writes nothing. The claim is
 * taken over when its holder's record says it ended (or it expired), and in mode `until-started` also when
 * its holder is running (a worker's record holds it).
 *
 * KEYS: claim, record, queues set, queue, wake-up marker, delayed schedule. ARGV: id, mode, window (ms),
 * record key prefix, id needle prefix, working-on key prefix, payload, queue name, delayed second ('' for
 * now), delayed key, timestamps key, record TTL (ms), then the record's fields and values.
 *
 * @category scripts
 */
export const enqueueUnique = Script.make({
  name: "enqueueUnique",
  lua: String.raw`${luaFindRunning}${luaClaimHolder}${Enqueue.luaWake}${Enqueue.luaPushOrSchedule}
local claim, job_key, queues_key, queue_key, wake_key, schedule = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, mode, window, job_prefix, needle_prefix, worker_prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local payload, queue, second, delayed_key, timestamps_key, ttl = ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local holder = claimHolder(claim, mode, job_prefix, KEYS[7], worker_prefix, needle_prefix)
if holder then return { holder, 0 } end
redis.call('set', claim, id, 'PX', window)
redis.call('del', job_key)
redis.call('hset', job_key, unpack(ARGV, 13))
redis.call('pexpire', job_key, ttl)
pushOrSchedule({ queues_key = queues_key, queue_key = queue_key, wake_key = wake_key, queue = queue, second = second,
  delayed_key = delayed_key, timestamps_key = timestamps_key, schedule_key = schedule }, payload)
return { id, 1 }
`,
  encode: (input: UniqueEnqueue) => {
    const { keys } = input
    const second = input.atSecond === undefined ? "" : String(input.atSecond)
    return {
      keys: [input.claim, keys.job(input.id), keys.queues, keys.queue(input.queue), keys.wake, keys.delayedSchedule, keys.workers],
      args: [
        input.id,
        input.mode,
        Math.max(1, Math.round(input.windowMillis)),
        keys.job(""),
        needlePrefix,
        keys.key("worker", ""),
        input.payload,
        input.queue,
        second,
        input.atSecond === undefined ? "" : keys.delayed(input.atSecond),
        keys.timestamps(input.payload),
        Math.max(1, Math.round(input.ttlMillis)),
        ...input.fields
      ]
    }
  },
  decode: (reply): UniqueReply => {
    const [id, enqueued] = Script.toArray(reply)
    return { id: Script.toStringOrNull(id) ?? "", enqueued: Number(enqueued) === 1 }
  },
  twin: (redis, keys, args) => {
    const [claim = "", jobKey = "", queuesKey = "", queueKey = "", wakeKey = "", schedule = "", workersKey = ""] = keys
    const [id = "", mode = "", window = "", jobPrefix = "", needle = "", workerPrefix = "", payload = "", queue = "", second = "", delayedKey = "", timestampsKey = "", ttl = ""] = args
    const holder = claimHolder(redis, claim, mode, { jobPrefix, workersKey, workerPrefix, needlePrefix: needle })
    if (holder !== null) return [holder, 0]
    redis.call("set", claim, id, "PX", window)
    redis.call("del", jobKey)
    redis.call("hset", jobKey, ...args.slice(12))
    redis.call("pexpire", jobKey, ttl)
    Enqueue.pushOrScheduleTwin(redis, { queuesKey, queueKey, wakeKey, queue, second, delayedKey, timestampsKey, scheduleKey: schedule }, payload)
    return [id, 1]
  }
})
