/**
 * Fan-out in Redis: the scripts that write a batch of children and that record a child's outcome.
 *
 * Keys (under the runtime's namespace): `fanout:{id}`, a hash of `total`, `completed`, `failed`, `duplicate`
 * (only once a unique child was one), `ttl`, `actions`, `queues`, `createdAt`, the `onComplete` job (payload
 * prefix and queue), the `done` flag and one `b{first index}` marker per written batch; and
 * `fanout:{id}:outcomes`, a hash of child index -> compact outcome (`domain/FanOut.ts`).
 *
 * Recording children (`noteChild` and `recordGroups`, fragments of the worker's completion script and of
 * `recordChildren`; the children of one fan-out recorded together share the reads and writes of 1, 3 and 4):
 * 1. Meta hash missing (unknown or expired fan-out) -> write nothing: no zombie keys without a TTL.
 * 2. Count by child index: a new child increments `completed`, `failed` or `duplicate` (by its outcome's
 *    first character); a child whose status changes (a retry that succeeded) moves from one count to the
 *    other; the same status again only overwrites.
 * 3. Store the outcome and push the expiry of both keys to `ttl` from now (a sliding TTL).
 * 4. When `completed + failed + duplicate >= total` and `HSETNX done` wins, push the `onComplete` job onto its
 *    Resque queue in the same script: exactly once, even when the last two children finish at once on two
 *    workers, and never again when a child is re-run after the fan-out finished.
 *
 * @since 0.2.0
 */
import type { Keys } from "../domain/Keys.ts"
import { luaWake, wakeTwin } from "./Enqueue.ts"
import * as Script from "./Script.ts"
import { claimHolder, luaClaimHolder, luaFindRunning, needlePrefix } from "./UniqueClaim.ts"

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

/**
 * The six string arguments of one child's recording (`noteChild`): its fan-out's meta key (the outcomes
 * hash is that key with `:outcomes`, see `Keys.fanOutOutcomes`), the fan-out id, the child's index, its
 * encoded outcome, the time and the mode. Where an `onComplete` goes (the queues set, the wake-up marker,
 * the queue key prefix) is the script's, not the child's.
 */
export const childArgs = (keys: Keys, child: ChildRecord): ReadonlyArray<string> => [
  keys.fanOut(child.fanOutId),
  child.fanOutId,
  String(child.index),
  child.outcome,
  String(child.now),
  child.onlyIfAbsent ? "nx" : "-"
]

/** The number of {@link childArgs}. */
export const childArgCount = 6

/** Where a finished fan-out's `onComplete` job is pushed: the queues set, the wake-up marker, the queue key prefix. */
export interface Destination {
  readonly queuesKey: string
  readonly wakeKey: string
  readonly prefix: string
}

/** The {@link Destination} of a namespace. */
export const destination = (keys: Keys): Destination => ({ queuesKey: keys.queues, wakeKey: keys.wake, prefix: keys.queue("") })

/**
 * Lua: `noteChild(groups, ...)` takes one child's six arguments (`childArgs`) and files it under its fan-out;
 * `recordGroups(groups, queues_key, wake_key, prefix)` then records every noted child, a fan-out at a time
 * (a finished one's `onComplete` pushed to its queue under `prefix`), and answers how many were
 * recorded (children of expired fan-outs are not). A fan-out's children recorded together share its reads
 * and writes: one `EXISTS`, one `HSETNX` per child (an `HGET` and `HSET` only for a child recorded before),
 * one `HINCRBY` per count that changed, one `HMGET`, the two `PEXPIRE`s and the done check: a batch of
 * completions of one fan-out costs about one command per child instead of seven.
 */
export const luaRecordChild = String.raw`${luaWake}
local function newGroups() return { list = {}, by_meta = {} } end
local function countOf(status)
  if status == 'o' then return 'completed' elseif status == 'd' then return 'duplicate' end
  return 'failed'
end
local function noteChild(groups, meta, fan_out_id, index, outcome, now, mode)
  local group = groups.by_meta[meta]
  if not group then
    group = { meta = meta, outcomes = meta .. ':outcomes', fan_out_id = fan_out_id, children = {} }
    groups.by_meta[meta] = group
    groups.list[#groups.list + 1] = group
  end
  group.now = now
  group.children[#group.children + 1] = { index, outcome, mode }
end
local function recordGroup(g, queues_key, wake_key, prefix)
  if redis.call('exists', g.meta) == 0 then return 0 end
  local delta = { completed = 0, failed = 0, duplicate = 0 }
  for _, c in ipairs(g.children) do
    local index, outcome, mode = c[1], c[2], c[3]
    local status = string.sub(outcome, 1, 1)
    local field = countOf(status)
    if redis.call('hsetnx', g.outcomes, index, outcome) == 1 then
      delta[field] = delta[field] + 1
    elseif mode ~= 'nx' then
      local prev = redis.call('hget', g.outcomes, index)
      local before = string.sub(prev, 1, 1)
      if before ~= status then
        local other = countOf(before)
        delta[field] = delta[field] + 1
        delta[other] = delta[other] - 1
      end
      redis.call('hset', g.outcomes, index, outcome)
    end
  end
  if delta.completed ~= 0 then redis.call('hincrby', g.meta, 'completed', delta.completed) end
  if delta.failed ~= 0 then redis.call('hincrby', g.meta, 'failed', delta.failed) end
  if delta.duplicate ~= 0 then redis.call('hincrby', g.meta, 'duplicate', delta.duplicate) end
  local m = redis.call('hmget', g.meta, 'ttl', 'total', 'completed', 'failed', 'onComplete', 'onCompleteQueue', 'duplicate')
  local ttl = tonumber(m[1])
  if ttl and ttl > 0 then
    redis.call('pexpire', g.meta, ttl)
    redis.call('pexpire', g.outcomes, ttl)
  end
  local total = tonumber(m[2])
  local completed = tonumber(m[3]) or 0
  local failed = tonumber(m[4]) or 0
  local duplicate = tonumber(m[7]) or 0
  if total and completed + failed + duplicate >= total and redis.call('hsetnx', g.meta, 'done', g.now) == 1 and m[5] and m[6] then
    local payload = m[5] .. '"fanOutId":"' .. g.fan_out_id .. '","total":' .. total .. ',"completed":' .. completed .. ',"failed":' .. failed
    if duplicate > 0 then payload = payload .. ',"duplicate":' .. duplicate end
    payload = payload .. '}]}'
    redis.call('sadd', queues_key, m[6])
    redis.call('rpush', prefix .. m[6], payload)
    wake(wake_key, m[6])
  end
  return #g.children
end
local function recordGroups(groups, queues_key, wake_key, prefix)
  local recorded = 0
  for _, g in ipairs(groups.list) do recorded = recorded + recordGroup(g, queues_key, wake_key, prefix) end
  return recorded
end
`

/** Lua's `tonumber` of a reply: undefined where it gives nil. */
const asNumber = (reply: unknown): number | undefined => {
  if (typeof reply === "number") return reply
  if (typeof reply !== "string") return undefined
  const n = Number(reply)
  return reply.trim() === "" || Number.isNaN(n) ? undefined : n
}

/** The children noted for one fan-out, and where its `onComplete` goes. */
interface Group {
  readonly meta: string
  readonly outcomes: string
  readonly fanOutId: string
  now: string
  readonly children: Array<readonly [index: string, outcome: string, mode: string]>
}

/**
 * The children noted for recording, by fan-out in first-seen order: `noteChild` and `recordGroups` of the
 * Lua, on the in-memory keyspace.
 */
export class ChildGroups {
  private readonly groups = new Map<string, Group>()

  /** Files one child (its six `childArgs`) under its fan-out. */
  note(args: ReadonlyArray<string>): void {
    const [meta = "", fanOutId = "", index = "", outcome = "", now = "", mode = ""] = args
    let group = this.groups.get(meta)
    if (group === undefined) {
      group = { meta, outcomes: `${meta}:outcomes`, fanOutId, now, children: [] }
      this.groups.set(meta, group)
    }
    group.now = now
    group.children.push([index, outcome, mode])
  }

  /** Records every noted child; answers how many were recorded (children of expired fan-outs are not). */
  record(redis: Script.ScriptRedis, to: Destination): number {
    let recorded = 0
    for (const group of this.groups.values()) recorded += recordGroup(redis, group, to)
    return recorded
  }
}

/** Which count a stored outcome's status character goes to. */
const countOf = (status: string): "completed" | "failed" | "duplicate" =>
  status === "o" ? "completed" : status === "d" ? "duplicate" : "failed"

const recordGroup = (redis: Script.ScriptRedis, g: Group, to: Destination): number => {
  if (redis.call("exists", g.meta) === 0) return 0
  const delta = { completed: 0, failed: 0, duplicate: 0 }
  for (const [index, outcome, mode] of g.children) {
    const status = outcome.slice(0, 1)
    const field = countOf(status)
    if (redis.call("hsetnx", g.outcomes, index, outcome) === 1) {
      delta[field]++
    } else if (mode !== "nx") {
      const before = (Script.toStringOrNull(redis.call("hget", g.outcomes, index)) ?? "").slice(0, 1)
      if (before !== status) {
        delta[field]++
        delta[countOf(before)]--
      }
      redis.call("hset", g.outcomes, index, outcome)
    }
  }
  if (delta.completed !== 0) redis.call("hincrby", g.meta, "completed", delta.completed)
  if (delta.failed !== 0) redis.call("hincrby", g.meta, "failed", delta.failed)
  if (delta.duplicate !== 0) redis.call("hincrby", g.meta, "duplicate", delta.duplicate)
  const m = Script.toArray(redis.call("hmget", g.meta, "ttl", "total", "completed", "failed", "onComplete", "onCompleteQueue", "duplicate"))
  const ttl = asNumber(m[0])
  if (ttl !== undefined && ttl > 0) {
    redis.call("pexpire", g.meta, ttl)
    redis.call("pexpire", g.outcomes, ttl)
  }
  const total = asNumber(m[1])
  const completed = asNumber(m[2]) ?? 0
  const failed = asNumber(m[3]) ?? 0
  const duplicate = asNumber(m[6]) ?? 0
  const prefixOfPayload = m[4]
  const queue = m[5]
  if (
    total !== undefined && completed + failed + duplicate >= total && redis.call("hsetnx", g.meta, "done", g.now) === 1 &&
    typeof prefixOfPayload === "string" && typeof queue === "string"
  ) {
    const payload = `${prefixOfPayload}"fanOutId":"${g.fanOutId}","total":${total},"completed":${completed},"failed":${failed}${
      duplicate > 0 ? `,"duplicate":${duplicate}` : ""
    }}]}`
    redis.call("sadd", to.queuesKey, queue)
    redis.call("rpush", to.prefix + queue, payload)
    wakeTwin(redis, to.wakeKey, queue)
  }
  return g.children.length
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
local groups = newGroups()
for i = 2, #ARGV, 6 do noteChild(groups, unpack(ARGV, i, i + 5)) end
return recordGroups(groups, KEYS[1], KEYS[2], ARGV[1])
`,
  encode: ({ keys, children }: { readonly keys: Keys; readonly children: ReadonlyArray<ChildRecord> }) => ({
    keys: [keys.queues, keys.wake],
    args: [keys.queue(""), ...children.flatMap((child) => childArgs(keys, child))]
  }),
  decode: Script.toNumber,
  twin: (redis, [queuesKey = "", wakeKey = ""], [prefix = "", ...args]) => {
    const groups = new ChildGroups()
    for (let i = 0; i + childArgCount <= args.length; i += childArgCount) groups.note(args.slice(i, i + childArgCount))
    return groups.record(redis, { queuesKey, wakeKey, prefix })
  }
})

/** The first batch's extras: the meta hash, and a job to push when it is created. @category models */
export interface Creation {
  readonly meta: Readonly<Record<string, string | number>>
  readonly total: number
  readonly onCreate?: { readonly queue: string; readonly payload: string } | undefined
}

/** A unique child of a batch: its claim, its record, and the start of its stored outcome. @category models */
export interface UniqueChild {
  readonly index: number
  readonly action: string
  readonly queue: string
  readonly payload: string
  /** The claim key (`Keys.unique`). */
  readonly claim: string
  readonly mode: "until-done" | "until-started" | "window"
  readonly windowMillis: number
  /** Its job id (`FANOUTID:i`). */
  readonly id: string
  /** Its record's TTL. */
  readonly ttlMillis: number
  /** `FanOut.outcomeHead` of its action and inputs: a duplicate's outcome, and a cancelled child's, start with it. */
  readonly outcomeHead: string
}

/** What one batch call writes. */
export interface Batch {
  readonly keys: Keys
  readonly fanOutId: string
  /** The batch's marker: `b` and its first child's index. */
  readonly marker: string
  readonly ttlMillis: number
  readonly creation?: Creation | undefined
  /** Payloads of the children that are not unique, by queue, in first-seen order. */
  readonly queues: ReadonlyArray<readonly [queue: string, payloads: ReadonlyArray<string>]>
  /** The unique children (none: the batch is written as before, no claim read). */
  readonly unique?: ReadonlyArray<UniqueChild> | undefined
  /** Epoch ms: a unique child's `enqueuedAt`, the `done` time when its duplicates finish the fan-out. */
  readonly now?: number | undefined
}

/** What a batch call did, and the unique children it did not write because another job held their claim. */
export interface BatchReply {
  readonly result: "written" | "already written" | "expired" | "conflict"
  readonly duplicates: ReadonlyArray<{ readonly index: number; readonly jobId: string }>
}

/** Per unique child: queue, action, payload, claim, mode, window, id, record TTL, index, outcome head. */
const uniqueArgCount = 10

/** The header arguments before the meta pairs. */
const headerArgCount = 13

/**
 * Writes one batch, atomically and idempotently: creates the meta hash if this is the first batch and it
 * does not exist yet (else checks that its `total` matches: a re-run of the same fan-out), pushes the
 * `onCreate` job with it (the `onComplete` of an empty fan-out), then, unless the batch's marker is already
 * set (written by an earlier run), `SADD queues` + `RPUSH` per queue and sets the marker. Slides the TTL.
 *
 * Unique children: each takes its claim as `enqueueUnique` does (`UniqueClaim.claimHolder`) and, when it is
 * free, is written with its record (state `queued`, its fan-out and index, its `outcomeHead` for a cancel);
 * a child whose claim is held is not written and is recorded at once as a duplicate naming the holder
 * (`d` outcome, counted in `duplicate`; the fan-out finishes, `onComplete` fired, if it was the last). The
 * reply lists the duplicates; a batch already written lists those it recorded then.
 *
 * KEYS: meta, queues set, wake-up marker, workers set. ARGV: marker, TTL, queue key prefix, meta pairs, total,
 * onCreate queue and payload, now, unique children, fan-out id, record key prefix, working-on key prefix,
 * id needle prefix; the meta pairs; the unique children ({@link uniqueArgCount} each); then per queue its
 * name, its number of payloads and the payloads.
 *
 * @category scripts
 */
export const writeBatch = Script.make({
  name: "fanOutBatch",
  lua: String.raw`${luaRecordChild}${luaFindRunning}${luaClaimHolder}
local meta, queues_key, wake_key, workers_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local marker, ttl, prefix = ARGV[1], ARGV[2], ARGV[3]
local pairs, total = tonumber(ARGV[4]), ARGV[5]
local on_create_queue, on_create_payload = ARGV[6], ARGV[7]
local now, uniques, fan_out_id = ARGV[8], tonumber(ARGV[9]), ARGV[10]
local job_prefix, worker_prefix, needle_prefix = ARGV[11], ARGV[12], ARGV[13]
local at = ${headerArgCount + 1}
if pairs > 0 then
  local existing = redis.call('hget', meta, 'total')
  if existing then
    if existing ~= total then return { -2 } end
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
  return { -1 }
end
redis.call('pexpire', meta, ttl)
local reply = { 1 }
if redis.call('hexists', meta, marker) == 1 then
  reply[1] = 0
  for u = 0, uniques - 1 do
    local index = ARGV[at + u * ${uniqueArgCount} + 8]
    local outcome = redis.call('hget', meta .. ':outcomes', index)
    if outcome and string.sub(outcome, 1, 1) == 'd' then
      reply[#reply + 1] = index
      reply[#reply + 1] = string.match(outcome, ',"([^"]*)"%]$') or ''
    end
  end
  return reply
end
local groups = newGroups()
local won, won_queues = {}, {}
for u = 1, uniques do
  local q, action, payload, claim, mode, window, id, record_ttl, index, head = unpack(ARGV, at, at + ${uniqueArgCount - 1})
  at = at + ${uniqueArgCount}
  local holder = claimHolder(claim, mode, job_prefix, workers_key, worker_prefix, needle_prefix)
  if holder then
    noteChild(groups, meta, fan_out_id, index, 'd' .. head .. '"' .. (string.gsub(holder, '[\\"]', '\\%0')) .. '"]', now, 'nx')
    reply[#reply + 1] = index
    reply[#reply + 1] = holder
  else
    redis.call('set', claim, id, 'PX', window)
    local job_key = job_prefix .. id
    redis.call('del', job_key)
    redis.call('hset', job_key, 'state', 'queued', 'action', action, 'queue', q, 'payload', payload, 'attempt', '1',
      'enqueuedAt', now, 'ttl', record_ttl, 'fanOut', fan_out_id, 'index', index, 'outcomeHead', head)
    if mode == 'until-done' then redis.call('hset', job_key, 'unique', claim) end
    redis.call('pexpire', job_key, record_ttl)
    if not won[q] then
      won[q] = {}
      won_queues[#won_queues + 1] = q
    end
    won[q][#won[q] + 1] = payload
  end
end
for _, q in ipairs(won_queues) do
  local list = won[q]
  redis.call('sadd', queues_key, q)
  local i = 0
  while i < #list do
    local j = math.min(i + 1000, #list)
    redis.call('rpush', prefix .. q, unpack(list, i + 1, j))
    i = j
  end
  wake(wake_key, q)
end
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
recordGroups(groups, queues_key, wake_key, prefix)
return reply
`,
  encode: (batch: Batch) => {
    const pairs = batch.creation === undefined ? [] : Object.entries(batch.creation.meta).flatMap(([k, v]) => [k, String(v)])
    const unique = batch.unique ?? []
    const args: Array<string> = [
      batch.marker,
      String(batch.ttlMillis),
      batch.keys.queue(""),
      String(pairs.length / 2),
      String(batch.creation?.total ?? ""),
      batch.creation?.onCreate?.queue ?? "",
      batch.creation?.onCreate?.payload ?? "",
      String(Math.round(batch.now ?? 0)),
      String(unique.length),
      batch.fanOutId,
      batch.keys.job(""),
      batch.keys.key("worker", ""),
      needlePrefix,
      ...pairs
    ]
    for (const child of unique) {
      args.push(
        child.queue,
        child.action,
        child.payload,
        child.claim,
        child.mode,
        String(Math.max(1, Math.round(child.windowMillis))),
        child.id,
        String(Math.max(1, Math.round(child.ttlMillis))),
        String(child.index),
        child.outcomeHead
      )
    }
    for (const [queue, payloads] of batch.queues) args.push(queue, String(payloads.length), ...payloads)
    return { keys: [batch.keys.fanOut(batch.fanOutId), batch.keys.queues, batch.keys.wake, batch.keys.workers], args }
  },
  decode: (reply): BatchReply => {
    const [code, ...rest] = Script.toArray(reply)
    const duplicates: Array<{ index: number; jobId: string }> = []
    for (let i = 0; i + 1 < rest.length; i += 2) duplicates.push({ index: Number(rest[i]), jobId: Script.toStringOrNull(rest[i + 1]) ?? "" })
    const n = Number(code)
    return { result: n === 1 ? "written" : n === 0 ? "already written" : n === -1 ? "expired" : "conflict", duplicates }
  },
  twin: (redis, [meta = "", queuesKey = "", wakeKey = "", workersKey = ""], args) => {
    const [marker = "", ttl = "", prefix = "", pairCount = "0", total = "", onCreateQueue = "", onCreatePayload = ""] = args
    const [now = "", uniqueCount = "0", fanOutId = "", jobPrefix = "", workerPrefix = "", needle = ""] = args.slice(7, headerArgCount)
    const pairs = Number(pairCount)
    const uniques = Number(uniqueCount)
    let at = headerArgCount
    if (pairs > 0) {
      const existing = redis.call("hget", meta, "total")
      if (typeof existing === "string") {
        if (existing !== total) return [-2]
      } else {
        redis.call("hset", meta, ...args.slice(at, at + 2 * pairs))
        if (onCreateQueue !== "") {
          redis.call("sadd", queuesKey, onCreateQueue)
          redis.call("rpush", prefix + onCreateQueue, onCreatePayload)
          wakeTwin(redis, wakeKey, onCreateQueue)
        }
      }
      at += 2 * pairs
    } else if (redis.call("exists", meta) === 0) {
      return [-1]
    }
    redis.call("pexpire", meta, ttl)
    const reply: Array<number | string> = [1]
    if (redis.call("hexists", meta, marker) === 1) {
      reply[0] = 0
      for (let u = 0; u < uniques; u++) {
        const index = args[at + u * uniqueArgCount + 8] ?? ""
        const outcome = Script.toStringOrNull(redis.call("hget", `${meta}:outcomes`, index))
        if (outcome !== null && outcome.startsWith("d")) reply.push(index, /,"([^"]*)"\]$/.exec(outcome)?.[1] ?? "")
      }
      return reply
    }
    const groups = new ChildGroups()
    const won = new Map<string, Array<string>>()
    const lookup = { jobPrefix, workersKey, workerPrefix, needlePrefix: needle }
    for (let u = 0; u < uniques; u++) {
      const [queue = "", action = "", payload = "", claim = "", mode = "", window = "", id = "", recordTtl = "", index = "", head = ""] = args.slice(at, at + uniqueArgCount)
      at += uniqueArgCount
      const holder = claimHolder(redis, claim, mode, lookup)
      if (holder !== null) {
        groups.note([meta, fanOutId, index, `d${head}"${holder.replace(/[\\"]/g, (c) => `\\${c}`)}"]`, now, "nx"])
        reply.push(index, holder)
        continue
      }
      redis.call("set", claim, id, "PX", window)
      const jobKey = jobPrefix + id
      redis.call("del", jobKey)
      redis.call("hset", jobKey, "state", "queued", "action", action, "queue", queue, "payload", payload, "attempt", "1",
        "enqueuedAt", now, "ttl", recordTtl, "fanOut", fanOutId, "index", index, "outcomeHead", head)
      if (mode === "until-done") redis.call("hset", jobKey, "unique", claim)
      redis.call("pexpire", jobKey, recordTtl)
      const list = won.get(queue)
      if (list === undefined) won.set(queue, [payload])
      else list.push(payload)
    }
    for (const [queue, payloads] of won) {
      redis.call("sadd", queuesKey, queue)
      for (let i = 0; i < payloads.length; i += 1000) redis.call("rpush", prefix + queue, ...payloads.slice(i, i + 1000))
      wakeTwin(redis, wakeKey, queue)
    }
    while (at < args.length) {
      const queue = args[at] ?? ""
      const n = Number(args[at + 1])
      at += 2
      redis.call("sadd", queuesKey, queue)
      if (n > 0) {
        redis.call("rpush", prefix + queue, ...args.slice(at, at + n))
        wakeTwin(redis, wakeKey, queue)
      }
      at += n
    }
    redis.call("hset", meta, marker, "1")
    groups.record(redis, { queuesKey, wakeKey, prefix })
    return reply
  }
})
