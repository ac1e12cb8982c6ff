/**
 * Recording a fan-out child's outcome: one Lua script, atomic, one command in the worker's completion MULTI.
 *
 * 1. Meta hash missing (unknown or expired fan-out) -> write nothing: no zombie keys without a TTL.
 * 2. Count by child index: a new child increments `completed` or `failed`; a child whose status changes (a
 *    retry that succeeded) moves from one count to the other; the same status again only overwrites.
 * 3. Store the outcome and push the expiry of both keys to `ttl` from now (a sliding TTL).
 * 4. When `completed + failed >= total` and `HSETNX done` wins, push the `onComplete` job onto its Resque
 *    queue in the same script: exactly once, even when the last two children finish at once on two workers,
 *    and never again when a child is re-run after the fan-out finished.
 *
 * No cjson (ioredis-mock's Lua lacks it): outcomes are opaque strings whose first character is the status.
 */
import type { ChainableCommander, Redis as IORedis } from "ioredis"
import * as FanOut from "../domain/FanOut.ts"
import type { Keys } from "../domain/Keys.ts"
import type { Middleware } from "../layers/WorkerMiddleware.ts"
import * as Script from "./script.ts"

/**
 * KEYS: meta hash, outcomes hash, queues set.
 * ARGV: child index, encoded outcome, queue key prefix (`ns:queue:`), fan-out id, now (ms), "nx" to record
 * only a child without an outcome (a child not enqueued must never overwrite the outcome of a copy that ran).
 * Returns -1 (expired: nothing written), 0 (recorded), 1 (recorded; already done), 2 (recorded; finished now).
 */
export const record = Script.make(
  "fanOutRecord",
  3,
  `
if redis.call('exists', KEYS[1]) == 0 then return -1 end
-- HMGET's missing fields are false on Redis but userdata (truthy) on ioredis-mock: keep strings only
local function str(v) if type(v) == 'string' then return v end return nil end
local status = string.sub(ARGV[2], 1, 1)
local field = 'failed'
local other = 'completed'
if status == 'o' then field = 'completed' other = 'failed' end
local prev = redis.call('hget', KEYS[2], ARGV[1])
if prev and ARGV[6] == 'nx' then return 0 end
if not prev then
  redis.call('hincrby', KEYS[1], field, 1)
elseif string.sub(prev, 1, 1) ~= status then
  redis.call('hincrby', KEYS[1], field, 1)
  redis.call('hincrby', KEYS[1], other, -1)
end
redis.call('hset', KEYS[2], ARGV[1], ARGV[2])
local m = redis.call('hmget', KEYS[1], 'ttl', 'total', 'completed', 'failed', 'onComplete', 'onCompleteQueue')
local ttl = tonumber(str(m[1]))
if ttl and ttl > 0 then
  redis.call('pexpire', KEYS[1], ttl)
  redis.call('pexpire', KEYS[2], ttl)
end
local total = tonumber(str(m[2]))
local completed = tonumber(str(m[3])) or 0
local failed = tonumber(str(m[4])) or 0
if not total or completed + failed < total then return 0 end
if redis.call('hsetnx', KEYS[1], 'done', ARGV[5]) == 0 then return 1 end
local prefix = str(m[5])
local queue = str(m[6])
if prefix and queue then
  local payload = prefix .. '"fanOutId":"' .. ARGV[4] .. '","total":' .. total .. ',"completed":' .. completed .. ',"failed":' .. failed .. '}]}'
  redis.call('sadd', KEYS[3], queue)
  redis.call('rpush', ARGV[3] .. queue, payload)
end
return 2
`
)

/** Queues the recording of one child's outcome on a MULTI or pipeline (the script must be defined on `client`). */
export const queueRecord = (
  client: IORedis,
  chain: ChainableCommander,
  keys: Keys,
  fanOutId: string,
  index: number,
  outcome: string,
  now: number,
  onlyIfAbsent = false
): ChainableCommander =>
  record.queue(client, chain, [keys.fanOut(fanOutId), keys.fanOutOutcomes(fanOutId), keys.queues], [
    index,
    outcome,
    keys.queue(""),
    fanOutId,
    now,
    onlyIfAbsent ? "nx" : "-"
  ])

/**
 * The worker middleware that records the outcome of every job carrying a fan-out id, inside the job's
 * completion MULTI (no extra round trip). Only final outcomes count: a failure with retries left has no
 * outcome yet.
 *
 * @category middlewares
 */
export const fanOutRecorder: Middleware = {
  name: "fanOutRecorder",
  scripts: [record],
  onComplete: ({ job, outcome }, tx, { client, keys, now }) => {
    const { fanOut, index } = job.meta
    if (fanOut === undefined || index === undefined) return
    if (outcome._tag === "Failure" && !outcome.final) return
    const encoded = outcome._tag === "Success"
      ? FanOut.encodeSuccess(job.action, job.inputs, outcome.result)
      : FanOut.encodeFailure(job.action, job.inputs, outcome.error)
    queueRecord(client, tx, keys, fanOut, index, encoded, now)
  }
}
