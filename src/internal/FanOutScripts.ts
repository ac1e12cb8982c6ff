/**
 * Fan-out in Redis: the scripts that write a batch of children and that record a child's outcome.
 *
 * Keys (under the runtime's namespace): `fanout:{id}`, a hash of `total`, `completed`, `failed`, `ttl`,
 * `actions`, `queues`, `createdAt`, the `onComplete` job (payload prefix and queue), the `done` flag and one
 * `b{first index}` marker per written batch; and `fanout:{id}:outcomes`, a hash of child index -> compact
 * outcome (`domain/FanOut.ts`).
 *
 * Recording one child (`recordChild`, a fragment of the worker's completion script and of `recordChildren`):
 * 1. Meta hash missing (unknown or expired fan-out) -> write nothing: no zombie keys without a TTL.
 * 2. Count by child index: a new child increments `completed` or `failed`; a child whose status changes (a
 *    retry that succeeded) moves from one count to the other; the same status again only overwrites.
 * 3. Store the outcome and push the expiry of both keys to `ttl` from now (a sliding TTL).
 * 4. When `completed + failed >= total` and `HSETNX done` wins, push the `onComplete` job onto its Resque
 *    queue in the same script: exactly once, even when the last two children finish at once on two workers,
 *    and never again when a child is re-run after the fan-out finished.
 *
 * @since 0.2.0
 */
import type { Keys } from "../domain/Keys.ts"
import { luaWake } from "./Enqueue.ts"
import * as Script from "./Script.ts"

/** The arguments of one child's recording, in the order the Lua fragment takes them. */
export interface ChildRecord {
  readonly fanOutId: string
  readonly index: number
  /** The encoded outcome (`FanOut.encodeSuccess` / `encodeFailure`). */
  readonly outcome: string
  readonly now: number
  /** Record only a child without an outcome: a child that was not enqueued never overwrites a copy that ran. */
  readonly onlyIfAbsent: boolean
}

/** The ten string arguments of `recordChild` for one child. */
export const childArgs = (keys: Keys, child: ChildRecord): ReadonlyArray<string> => [
  keys.fanOut(child.fanOutId),
  keys.fanOutOutcomes(child.fanOutId),
  keys.queues,
  keys.wake,
  keys.queue(""),
  child.fanOutId,
  String(child.index),
  child.outcome,
  String(child.now),
  child.onlyIfAbsent ? "nx" : "-"
]

/** Returns -1 (expired: nothing written), 0 (recorded), 1 (recorded; already done), 2 (recorded; finished now). */
export const luaRecordChild = String.raw`${luaWake}
local function recordChild(meta, outcomes, queues_key, wake_key, prefix, fan_out_id, index, outcome, now, mode)
  if redis.call('exists', meta) == 0 then return -1 end
  local status = string.sub(outcome, 1, 1)
  local field, other = 'failed', 'completed'
  if status == 'o' then field, other = 'completed', 'failed' end
  local prev = redis.call('hget', outcomes, index)
  if prev and mode == 'nx' then return 0 end
  if not prev then
    redis.call('hincrby', meta, field, 1)
  elseif string.sub(prev, 1, 1) ~= status then
    redis.call('hincrby', meta, field, 1)
    redis.call('hincrby', meta, other, -1)
  end
  redis.call('hset', outcomes, index, outcome)
  local m = redis.call('hmget', meta, 'ttl', 'total', 'completed', 'failed', 'onComplete', 'onCompleteQueue')
  local ttl = tonumber(m[1])
  if ttl and ttl > 0 then
    redis.call('pexpire', meta, ttl)
    redis.call('pexpire', outcomes, ttl)
  end
  local total = tonumber(m[2])
  local completed = tonumber(m[3]) or 0
  local failed = tonumber(m[4]) or 0
  if not total or completed + failed < total then return 0 end
  if redis.call('hsetnx', meta, 'done', now) == 0 then return 1 end
  if m[5] and m[6] then
    local payload = m[5] .. '"fanOutId":"' .. fan_out_id .. '","total":' .. total .. ',"completed":' .. completed .. ',"failed":' .. failed .. '}]}'
    redis.call('sadd', queues_key, m[6])
    redis.call('rpush', prefix .. m[6], payload)
    wake(wake_key, m[6])
  end
  return 2
end
`

/** Lua's `tonumber` of a reply: undefined where it gives nil. */
const asNumber = (reply: unknown): number | undefined => {
  if (typeof reply === "number") return reply
  if (typeof reply !== "string") return undefined
  const n = Number(reply)
  return reply.trim() === "" || Number.isNaN(n) ? undefined : n
}

/** `recordChild` of the Lua, on the in-memory keyspace. */
export const recordChild = (redis: Script.ScriptRedis, args: ReadonlyArray<string>): number => {
  const [meta = "", outcomes = "", queuesKey = "", wakeKey = "", prefix = "", fanOutId = "", index = "", outcome = "", now = "", mode = ""] = args
  if (redis.call("exists", meta) === 0) return -1
  const status = outcome.slice(0, 1)
  const [field, other] = status === "o" ? ["completed", "failed"] : ["failed", "completed"]
  const prev = redis.call("hget", outcomes, index)
  if (typeof prev === "string" && mode === "nx") return 0
  if (typeof prev !== "string") {
    redis.call("hincrby", meta, field, 1)
  } else if (prev.slice(0, 1) !== status) {
    redis.call("hincrby", meta, field, 1)
    redis.call("hincrby", meta, other, -1)
  }
  redis.call("hset", outcomes, index, outcome)
  const m = Script.toArray(redis.call("hmget", meta, "ttl", "total", "completed", "failed", "onComplete", "onCompleteQueue"))
  const ttl = asNumber(m[0])
  if (ttl !== undefined && ttl > 0) {
    redis.call("pexpire", meta, ttl)
    redis.call("pexpire", outcomes, ttl)
  }
  const total = asNumber(m[1])
  const completed = asNumber(m[2]) ?? 0
  const failed = asNumber(m[3]) ?? 0
  if (total === undefined || completed + failed < total) return 0
  if (redis.call("hsetnx", meta, "done", now) === 0) return 1
  const prefixOfPayload = m[4]
  const queue = m[5]
  if (typeof prefixOfPayload === "string" && typeof queue === "string") {
    const payload = `${prefixOfPayload}"fanOutId":"${fanOutId}","total":${total},"completed":${completed},"failed":${failed}}]}`
    redis.call("sadd", queuesKey, queue)
    redis.call("rpush", prefix + queue, payload)
    redis.call("zadd", wakeKey, 0, queue)
  }
  return 2
}

/**
 * Records many children in one round trip (children that were not enqueued, children removed from a queue
 * by an operator). Returns how many were recorded (expired fan-outs excluded).
 *
 * @category scripts
 */
export const recordChildren = Script.make({
  name: "fanOutRecordChildren",
  lua: String.raw`${luaRecordChild}
local recorded = 0
for i = 1, #ARGV, 10 do
  if recordChild(unpack(ARGV, i, i + 9)) >= 0 then recorded = recorded + 1 end
end
return recorded
`,
  encode: ({ keys, children }: { readonly keys: Keys; readonly children: ReadonlyArray<ChildRecord> }) => ({
    keys: [],
    args: children.flatMap((child) => childArgs(keys, child))
  }),
  decode: Script.toNumber,
  twin: (redis, _keys, args) => {
    let recorded = 0
    for (let i = 0; i + 10 <= args.length; i += 10) {
      if (recordChild(redis, args.slice(i, i + 10)) >= 0) recorded++
    }
    return recorded
  }
})

/** The first batch's extras: the meta hash, and a job to push when it is created. @category models */
export interface Creation {
  readonly meta: Readonly<Record<string, string | number>>
  readonly total: number
  readonly onCreate?: { readonly queue: string; readonly payload: string } | undefined
}

/** What one batch call writes. */
export interface Batch {
  readonly keys: Keys
  readonly fanOutId: string
  /** The batch's marker: `b` and its first child's index. */
  readonly marker: string
  readonly ttlMillis: number
  readonly creation?: Creation | undefined
  /** Payloads by queue, in first-seen order. */
  readonly queues: ReadonlyArray<readonly [queue: string, payloads: ReadonlyArray<string>]>
}

/** What a batch call did. */
export type BatchReply = "written" | "already written" | "expired" | "conflict"

/**
 * Writes one batch, atomically and idempotently: creates the meta hash if this is the first batch and it
 * does not exist yet (else checks that its `total` matches: a re-run of the same fan-out), pushes the
 * `onCreate` job with it (the `onComplete` of an empty fan-out), then, unless the batch's marker is already
 * set (written by an earlier run), `SADD queues` + `RPUSH` per queue and sets the marker. Slides the TTL.
 *
 * @category scripts
 */
export const writeBatch = Script.make({
  name: "fanOutBatch",
  lua: String.raw`${luaWake}
local meta, queues_key, wake_key = KEYS[1], KEYS[2], KEYS[3]
local marker, ttl, prefix = ARGV[1], ARGV[2], ARGV[3]
local pairs, total = tonumber(ARGV[4]), ARGV[5]
local on_create_queue, on_create_payload = ARGV[6], ARGV[7]
local at = 8
if pairs > 0 then
  local existing = redis.call('hget', meta, 'total')
  if existing then
    if existing ~= total then return -2 end
  else
    redis.call('hset', meta, unpack(ARGV, at, at + 2 * pairs - 1))
    if on_create_queue ~= '' then
      redis.call('sadd', queues_key, on_create_queue)
      redis.call('rpush', prefix .. on_create_queue, on_create_payload)
      wake(wake_key, on_create_queue)
    end
  end
  at = at + 2 * pairs
elseif redis.call('exists', meta) == 0 then
  return -1
end
redis.call('pexpire', meta, ttl)
if redis.call('hexists', meta, marker) == 1 then return 0 end
while at <= #ARGV do
  local q = ARGV[at]
  local n = tonumber(ARGV[at + 1])
  at = at + 2
  redis.call('sadd', queues_key, q)
  local i = 0
  while i < n do
    local j = math.min(i + 1000, n)
    redis.call('rpush', prefix .. q, unpack(ARGV, at + i, at + j - 1))
    i = j
  end
  if n > 0 then wake(wake_key, q) end
  at = at + n
end
redis.call('hset', meta, marker, '1')
return 1
`,
  encode: (batch: Batch) => {
    const pairs = batch.creation === undefined ? [] : Object.entries(batch.creation.meta).flatMap(([k, v]) => [k, String(v)])
    const args: Array<string> = [
      batch.marker,
      String(batch.ttlMillis),
      batch.keys.queue(""),
      String(pairs.length / 2),
      String(batch.creation?.total ?? ""),
      batch.creation?.onCreate?.queue ?? "",
      batch.creation?.onCreate?.payload ?? "",
      ...pairs
    ]
    for (const [queue, payloads] of batch.queues) args.push(queue, String(payloads.length), ...payloads)
    return { keys: [batch.keys.fanOut(batch.fanOutId), batch.keys.queues, batch.keys.wake], args }
  },
  decode: (reply): BatchReply =>
    reply === 1 ? "written" : reply === 0 ? "already written" : reply === -1 ? "expired" : "conflict",
  twin: (redis, [meta = "", queuesKey = "", wakeKey = ""], args) => {
    const [marker = "", ttl = "", prefix = "", pairCount = "0", total = "", onCreateQueue = "", onCreatePayload = ""] = args
    const pairs = Number(pairCount)
    let at = 7
    if (pairs > 0) {
      const existing = redis.call("hget", meta, "total")
      if (typeof existing === "string") {
        if (existing !== total) return -2
      } else {
        redis.call("hset", meta, ...args.slice(at, at + 2 * pairs))
        if (onCreateQueue !== "") {
          redis.call("sadd", queuesKey, onCreateQueue)
          redis.call("rpush", prefix + onCreateQueue, onCreatePayload)
          redis.call("zadd", wakeKey, 0, onCreateQueue)
        }
      }
      at += 2 * pairs
    } else if (redis.call("exists", meta) === 0) {
      return -1
    }
    redis.call("pexpire", meta, ttl)
    if (redis.call("hexists", meta, marker) === 1) return 0
    while (at < args.length) {
      const queue = args[at] ?? ""
      const n = Number(args[at + 1])
      at += 2
      redis.call("sadd", queuesKey, queue)
      if (n > 0) {
        redis.call("rpush", prefix + queue, ...args.slice(at, at + n))
        redis.call("zadd", wakeKey, 0, queue)
      }
      at += n
    }
    redis.call("hset", meta, marker, "1")
    return 1
  }
})
