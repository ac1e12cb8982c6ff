/**
 * Completing a job, as data. Everything a finished job writes (the stats, its failed record or its retry,
 * what each worker middleware records, such as its fan-out outcome, the next copy of a recurring chain) is a
 * list of {@link Write}s, applied by one script together with the guard that makes it safe and, for a
 * worker, the pick of its next job: one round trip, one atomic step.
 *
 * The same step completes a job wherever it ends: a worker that ran it, the scheduler reclaiming the job of
 * a dead worker, an operator failing a stuck one (`cleanOldWorkers`). Each says what it expects to find:
 *
 * - a worker expects its own working-on record, holding the job. If the record holds another job of its
 *   own, an earlier run of this same completion got there first (ioredis re-sent it after a reconnect): the
 *   writes are not applied twice, and that run's pick is handed back. If the record is gone, someone else
 *   (a reclaim, a clean-up) already completed the job: its writes are skipped.
 * - a reclaim or a clean-up expects the record it read (and, for a reclaim, the same stale ping): if the
 *   worker moved on meanwhile, nothing is written.
 *
 * @since 0.2.0
 */
import type * as Job from "../domain/Job.ts"
import type { Keys } from "../domain/Keys.ts"
import type * as Outcome from "../domain/Outcome.ts"
import * as Resque from "../domain/Resque.ts"
import type { Arg } from "./Connection.ts"
import * as Enqueue from "./Enqueue.ts"
import * as FanOutScripts from "./FanOutScripts.ts"
import * as Limits from "./Limits.ts"
import * as Pick from "./Pick.ts"
import * as Recurring from "./Recurring.ts"
import * as Script from "./Script.ts"

/**
 * A job as it completes: what a worker middleware sees.
 *
 * @category models
 */
export interface CompletedJob {
  readonly job: Job.ParsedJob
  readonly outcome: Outcome.Outcome
  readonly worker: string
}

/** The plain commands a write may be. */
export type WriteCommand = "incrby" | "hincrby" | "rpush" | "ltrim" | "sadd" | "srem" | "del" | "set" | "hset" | "hdel" | "pexpire" | "zadd" | "zrem"

/** A write that is a plain Redis command (also valid in a MULTI). */
export type PlainWrite = readonly [command: WriteCommand, ...args: ReadonlyArray<Arg>]

/**
 * One write of a completion: a plain command, the recording of a fan-out child (`fanout`), or the
 * continuation of a recurring chain (`recur`).
 *
 * @category models
 */
export type Write =
  | PlainWrite
  | readonly [op: "fanout", ...args: ReadonlyArray<string>]
  | readonly [op: "recur", ...args: ReadonlyArray<string>]

/** Records a fan-out child's outcome (see `FanOutScripts`). @category constructors */
export const recordChild = (keys: Keys, child: FanOutScripts.ChildRecord): Write => [
  "fanout",
  ...FanOutScripts.childArgs(keys, child)
]

/** Continues a recurring chain (see `Recurring`). @category constructors */
export const continueChain = (keys: Keys, options: Parameters<typeof Recurring.continueArgs>[1]): Write => [
  "recur",
  ...Recurring.continueArgs(keys, options)
]

/** Counter writes by key and field, built once: most jobs of a pool share them (the table finds them by identity). */
const counters = new Map<string, Write>()

/**
 * `INCRBY key 1` (or `HINCRBY key field 1`), the same array for the same key and field: a batch's write table
 * recognizes it without comparing its contents.
 *
 * @category constructors
 */
export const countOne = (key: string, field?: string): Write => {
  const id = field === undefined ? key : `${key}\0${field}`
  let write = counters.get(id)
  if (write === undefined) {
    write = field === undefined ? ["incrby", key, 1] : ["hincrby", key, field, 1]
    if (counters.size < 4096) counters.set(id, write)
  }
  return write
}

/** The writes that schedule a job's next attempt: no earlier than a time, or on its queue now. */
export const retryWrites = (
  keys: Keys,
  retry: { readonly queue: string; readonly payload: string; readonly at?: number }
): ReadonlyArray<Write> =>
  (retry.at === undefined ? Enqueue.push(keys, retry.queue, [retry.payload]) : Enqueue.pushNotBefore(keys, retry.at, retry.payload))

/**
 * A job's own bookkeeping: the global counter of its outcome, its failed record when it failed for good, its
 * next attempt when it is retried. (A worker's own counter is its completion's: `Plan.counted`.)
 *
 * @category constructors
 */
export const bookkeeping = (keys: Keys, options: {
  readonly worker: string
  readonly queue: string
  /** The job's payload as it was stored. */
  readonly payload: string | unknown
  readonly outcome: Outcome.Outcome
  readonly now: number
  readonly retry?: { readonly queue: string; readonly payload: string; readonly at?: number } | undefined
}): Array<Write> => {
  const status = options.outcome._tag === "Success" ? "processed" : "failed"
  const writes: Array<Write> = [countOne(keys.stat(status))]
  // a cancelled job is not a failure to look into or retry: no failed record (its job record says cancelled)
  if (options.outcome._tag === "Failure" && options.outcome.final && options.outcome.exception !== "JobCancelled") {
    const record = Resque.failedRecord({
      worker: options.worker,
      queue: options.queue,
      payload: options.payload,
      failure: options.outcome,
      now: options.now
    })
    writes.push(["rpush", keys.failed, record])
  }
  if (options.retry !== undefined) for (const write of retryWrites(keys, options.retry)) writes.push(write)
  return writes
}

/**
 * The writes that unregister a worker: its member of the workers set and every key Resque keeps for it, as
 * node-resque (counters by name, ping) and Ruby Resque (counters by full id, heartbeat) keep them.
 *
 * @category constructors
 */
export const unregister = (keys: Keys, worker: string, queues: string): ReadonlyArray<PlainWrite> => {
  const id = Resque.member(worker, queues)
  return [
    ["srem", keys.workers, id],
    ["del", keys.ping(worker), keys.working(worker, queues), keys.started(worker, queues), keys.stat("failed", worker), keys.stat("processed", worker), keys.stat("failed", id), keys.stat("processed", id)],
    ["hdel", keys.heartbeats, id],
    ["hdel", keys.pingIntervals, worker]
  ]
}

/**
 * A guarded completion: a reclaim of a dead worker's job, or an operator failing a stuck one.
 *
 * @category models
 */
export interface Guarded {
  readonly keys: Keys
  /** The working-on key of the worker whose job completes. */
  readonly working: string
  /** The record expected there: the job's working-on record, or "" for none. */
  readonly expected: string
  /** A reclaim's second condition: this key still holds this value (the dead worker's last ping). */
  readonly guard?: { readonly key: string; readonly value: string } | undefined
  readonly writes: ReadonlyArray<Write>
}

/**
 * A worker slot's completion of its own job.
 *
 * @category models
 */
export interface Plan {
  /** The slot's worker name (its working-on key is `worker:NAME:QUEUES`, QUEUES the pool's queue string). */
  readonly worker: string
  /**
   * The run_at of the completed job's working-on record (`Pick.runAtOf`), which a slot never repeats: what
   * the completion expects its record to open with, so the whole record does not travel again.
   */
  readonly expected: string
  /**
   * The worker's own counter of the job's outcome, `stat:processed:ID` or `stat:failed:ID` (ID its Resque id
   * `NAME:QUEUES`, as Ruby Resque writes and resque-web reads them), counted when the completion applies.
   */
  readonly counted?: "processed" | "failed" | undefined
  readonly writes: ReadonlyArray<Write>
  /** Picks the slot's next job with this run_at, unless the slot is stopping (`undefined`). */
  readonly next?: { readonly runAt: string } | undefined
}

const knownWrites = new Set<string>(["incrby", "hincrby", "rpush", "ltrim", "sadd", "srem", "del", "set", "hset", "hdel", "pexpire", "zadd", "zrem", "fanout", "child", "recur"])

/**
 * A batch's writes as a table of the distinct ones, and each completion's writes as positions (1-based) in
 * it: completions of one action by one pool share most of their writes (the counters, the stats), which then
 * travel once instead of once per job. A fan-out child after the first of its fan-out in the batch travels as
 * a `child` write of two arguments: the position of that first child's `fanout` write (whose fan-out key and
 * id it shares), then `index|time|mode|outcome` (the outcome last: it may hold any character).
 */
const writeTable = (lists: ReadonlyArray<ReadonlyArray<Write>>) => {
  const table: Array<Write | readonly [op: "child", ...args: ReadonlyArray<string>]> = []
  const byIdentity = new Map<Write, number>()
  const byContent = new Map<string, number>()
  const fanOuts = new Map<Arg, number>()
  const refs = lists.map((writes) =>
    writes.map((write) => {
      // a fan-out child's record and a chain's next copy are one job's own: never shared, never looked up
      if (write[0] === "fanout") {
        const first = fanOuts.get(write[1]!)
        if (first === undefined) {
          const position = table.push(write)
          fanOuts.set(write[1]!, position)
          return position
        }
        const [, , , index, outcome, now, mode] = write
        return table.push(["child", String(first), `${index}|${now}|${mode}|${outcome}`])
      }
      if (write[0] === "recur") return table.push(write)
      let position = byIdentity.get(write)
      if (position === undefined) {
        const id = write.join("\0")
        position = byContent.get(id)
        if (position === undefined) {
          position = table.push(write)
          byContent.set(id, position)
        }
        byIdentity.set(write, position)
      }
      return position
    })
  )
  const args: Array<Arg> = [table.length]
  for (const write of table) {
    args.push(write[0], write.length - 1)
    for (let i = 1; i < write.length; i++) args.push(write[i]!)
  }
  return { args, refs }
}

/**
 * Lua: `readWrites(at)` reads the table of writes that starts at `ARGV[at]` (refusing an unknown write before
 * anything is written) and answers it with the index after it; `applyWrite(write, counters, writes)` applies one,
 * adding `incrby`/`hincrby` to `counters` (summed per key and field), keeping the last `hset` of each key
 * and field and noting fan-out children by fan-out, all applied once by `applyDeferred`: a batch of
 * completions of one action writes its stats once, and the children of one fan-out are recorded together.
 */
const luaWrites = String.raw`
local known = { incrby = true, hincrby = true, rpush = true, ltrim = true, sadd = true, srem = true, del = true, set = true, hset = true, hdel = true, pexpire = true, zadd = true, zrem = true, fanout = true, child = true, recur = true }
local unpack = unpack or table.unpack
local function readWrites(at)
  local n = tonumber(ARGV[at])
  at = at + 1
  local writes = {}
  for i = 1, n do
    local op, argc = ARGV[at], tonumber(ARGV[at + 1])
    if not known[op] then error('unknown completion write ' .. tostring(op)) end
    if op == 'child' and ((writes[tonumber(ARGV[at + 2])] or {})[1] ~= 'fanout' or not string.find(ARGV[at + 3] or '', '^[^|]*|[^|]*|[^|]*|')) then
      error('unknown completion write child of ' .. tostring(ARGV[at + 2]))
    end
    writes[i] = { op, at + 2, at + 1 + argc }
    at = at + 2 + argc
  end
  return writes, at
end
local children = newGroups()
local function addCount(counters, key, by)
  local id = key .. '\0'
  local c = counters[id]
  if c then c[3] = c[3] + by else counters[id] = { key, false, by } end
end
local function applyWrite(write, counters, writes)
  local op, first, last = write[1], write[2], write[3]
  if op == 'incrby' then
    addCount(counters, ARGV[first], tonumber(ARGV[first + 1]))
  elseif op == 'hincrby' then
    local id = ARGV[first] .. '\0' .. ARGV[first + 1]
    local c = counters[id]
    if c then c[3] = c[3] + tonumber(ARGV[first + 2]) else counters[id] = { ARGV[first], ARGV[first + 1], tonumber(ARGV[first + 2]) } end
  elseif op == 'hset' and last - first == 2 then
    counters['=' .. ARGV[first] .. '\0' .. ARGV[first + 1]] = { ARGV[first], ARGV[first + 1], ARGV[first + 2], true }
  elseif op == 'fanout' then
    noteChild(children, unpack(ARGV, first, last))
  elseif op == 'child' then
    local at = writes[tonumber(ARGV[first])][2]
    local index, now, mode, outcome = string.match(ARGV[first + 1], '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
    noteChild(children, ARGV[at], ARGV[at + 1], index, outcome, now, mode)
  elseif op == 'recur' then
    continueChain(unpack(ARGV, first, last))
  else
    redis.call(op, unpack(ARGV, first, last))
  end
end
local function applyDeferred(counters, queues_key, wake_key, prefix)
  recordGroups(children, queues_key, wake_key, prefix)
  for _, c in pairs(counters) do
    if c[4] then redis.call('hset', c[1], c[2], c[3])
    elseif c[2] then redis.call('hincrby', c[1], c[2], c[3])
    else redis.call('incrby', c[1], c[3]) end
  end
end
`

/** Counters summed (`[key, field, by]`) and last values kept (`[key, field, value, true]`) by key and field. */
type Counters = Map<string, [key: string, field: string | undefined, by: number] | [key: string, field: string, value: string, last: true]>

/** A `child` write's second argument, `index|time|mode|outcome`, read back. */
const childPattern = /^([^|]*)\|([^|]*)\|([^|]*)\|([\s\S]*)$/

/** A write of a table: its op and the range of its arguments in ARGV (0-based, end exclusive). */
type TableWrite = readonly [op: string, first: number, end: number]

/** The writes' JavaScript: what `luaWrites` does. */
const writes = (redis: Script.ScriptRedis, args: ReadonlyArray<string>) => {
  const children = new FanOutScripts.ChildGroups()
  const table: Array<TableWrite> = []
  const read = (at: number): readonly [ReadonlyArray<TableWrite>, number] => {
    const n = Number(args[at])
    at++
    for (let i = 0; i < n; i++) {
      const op = args[at] ?? ""
      if (!knownWrites.has(op)) throw new Error(`ERR unknown completion write ${op}`)
      if (op === "child" && (table[Number(args[at + 2]) - 1]?.[0] !== "fanout" || !childPattern.test(args[at + 3] ?? ""))) {
        throw new Error(`ERR unknown completion write child of ${args[at + 2]}`)
      }
      const argc = Number(args[at + 1])
      table.push([op, at + 2, at + 2 + argc])
      at += 2 + argc
    }
    return [table, at]
  }
  const count = (counters: Counters, key: string, by: number): void => {
    const counter = counters.get(`${key}\0`)
    if (counter !== undefined && counter.length === 3) counter[2] += by
    else counters.set(`${key}\0`, [key, undefined, by])
  }
  const apply = ([op, first, end]: TableWrite, counters: Counters): void => {
    const key = args[first] ?? ""
    const second = args[first + 1] ?? ""
    const third = args[first + 2] ?? ""
    if (op === "incrby") {
      count(counters, key, Number(second))
    } else if (op === "hincrby") {
      const id = `${key}\0${second}`
      const counter = counters.get(id)
      if (counter !== undefined && counter.length === 3) counter[2] += Number(third)
      else counters.set(id, [key, second, Number(third)])
    } else if (op === "hset" && end - first === 3) {
      counters.set(`=${key}\0${second}`, [key, second, third, true])
    } else if (op === "fanout") children.note(args.slice(first, end))
    else if (op === "child") {
      const at = table[Number(key) - 1]![1]
      const [, index = "", now = "", mode = "", outcome = ""] = childPattern.exec(second) ?? []
      children.note([args[at] ?? "", args[at + 1] ?? "", index, outcome, now, mode])
    }
    else if (op === "recur") Recurring.continueChain(redis, args.slice(first, end))
    else redis.call(op, ...args.slice(first, end))
  }
  const applyDeferred = (counters: Counters, to: FanOutScripts.Destination): void => {
    children.record(redis, to)
    for (const counter of counters.values()) {
      if (counter.length === 4) redis.call("hset", counter[0], counter[1], counter[2])
      else if (counter[1] === undefined) redis.call("incrby", counter[0], counter[2])
      else redis.call("hincrby", counter[0], counter[1], counter[2])
    }
  }
  return { read, count, apply, applyDeferred }
}

/**
 * The guarded completion (a reclaim, a clean-up): applies the writes only if the worker's record is the one
 * read (and, for a reclaim, its ping is the one read). Answers whether it applied them.
 *
 * KEYS: working-on key. ARGV: expected record, guard key, guard value, number of writes, then per write its
 * op, its argument count and its arguments (applied in order).
 *
 * @category scripts
 */
export const complete = Script.make({
  name: "completeGuarded",
  lua: String.raw`${Pick.luaPick}${FanOutScripts.luaRecordChild}${Recurring.luaContinueChain}${luaWrites}
local working, queues_key, wake_key = KEYS[1], KEYS[2], KEYS[3]
local expected, guard_key, guard_value, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local writes = readWrites(5)
if (redis.call('get', working) or '') ~= expected then return 0 end
if guard_key ~= '' and (redis.call('get', guard_key) or '') ~= guard_value then return 0 end
local counters = {}
for _, write in ipairs(writes) do applyWrite(write, counters, writes) end
applyDeferred(counters, queues_key, wake_key, prefix)
return 1
`,
  encode: (plan: Guarded) => ({
    keys: [plan.working, plan.keys.queues, plan.keys.wake],
    args: [plan.expected, plan.guard?.key ?? "", plan.guard?.value ?? "", plan.keys.queue(""), ...writeTable([plan.writes]).args]
  }),
  decode: (reply) => reply === 1,
  twin: (redis, [working = "", queuesKey = "", wakeKey = ""], args) => {
    const [expected, guardKey = "", guardValue = "", prefix = ""] = args
    const w = writes(redis, args)
    const [table] = w.read(4)
    if ((Script.toStringOrNull(redis.call("get", working)) ?? "") !== expected) return 0
    if (guardKey !== "" && (Script.toStringOrNull(redis.call("get", guardKey)) ?? "") !== guardValue) return 0
    const counters = new Map() as Counters
    for (const write of table) w.apply(write, counters)
    w.applyDeferred(counters, { queuesKey, wakeKey, prefix })
    return 1
  }
})

/** A completion's own argument: `expected|next run_at|counted|write positions|name after the base`. */
const completionSpec = (plan: Plan, refs: ReadonlyArray<number>, base: string): string =>
  `${plan.expected}|${plan.next?.runAt ?? ""}|${plan.counted === undefined ? "-" : plan.counted === "processed" ? "p" : "f"}|${refs.join(",")}|${plan.worker.slice(base.length)}`

/** `completionSpec` read back (the name last, so it may hold any character). */
const completionPattern = /^([^|]*)\|([^|]*)\|(.)\|([^|]*)\|([\s\S]*)$/

/**
 * Completes the jobs of several slots of a pool in one step (group commit: completions that finish close
 * together are written together), each still atomic for its job and guarded by its slot's record:
 *
 * - the record holds the completed job (it opens with the expected `run_at`): its writes are applied (and
 *   the worker's own counter counted) and, unless the slot is stopping, the slot's next job is picked (its
 *   record replaced), or the record deleted when there is none;
 * - the record holds another job of the slot: an earlier run of this completion (re-sent after a reconnect)
 *   got there first: nothing is written twice, and the job that run picked is handed back;
 * - the record is gone: a reclaim or a clean-up completed the job already: its writes are skipped.
 *
 * Counters (`incrby`, `hincrby`, the workers' own) of the applied completions are summed and written once per
 * key and field.
 *
 * A slot's working-on key is `worker:NAME:QUEUES` and its own counters `stat:processed:NAME:QUEUES` and
 * `stat:failed:NAME:QUEUES`, QUEUES the pool's queue string (`workerQueues`). KEYS: queues set, wake-up
 * marker, paused queues. ARGV: queue key prefix, number of completions, worker key prefix (`ns:worker:`), the
 * pool's queue string, stat key prefix (`ns:stat:`), the names' base (`Pick.nameBase`), the table of the
 * batch's distinct writes (their number, then per write its op, argument count and arguments), then one
 * argument per completion (`completionSpec`: the expected run_at, the run_at of the next record or "" to pick
 * nothing, `p`/`f`/`-` for the worker's own counter, the positions of its writes in the table, comma-separated,
 * and its name after the base), the limits, then the queue names to pick from. Answers the next jobs by
 * completion index.
 *
 * @category scripts
 */
export const completeMany = Script.make({
  name: "completeMany",
  lua: String.raw`${Pick.luaPick}${FanOutScripts.luaRecordChild}${Recurring.luaContinueChain}${luaWrites}
local queues_key, wake_key, paused_key = KEYS[1], KEYS[2], KEYS[3]
local prefix, count, worker_prefix, worker_queues, stat_prefix, base = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local writes, first = readWrites(7)
local queues_at = readLimits(first + count)
-- every completion is read before anything is written
local completions = {}
for i = 1, count do
  local expected, run_at, counted, refs, name = string.match(ARGV[first + i - 1], '^([^|]*)|([^|]*)|(.)|([^|]*)|(.*)$')
  if not expected then error('malformed completion ' .. tostring(ARGV[first + i - 1])) end
  completions[i] = { expected, run_at, counted, refs, base .. name }
end
local queues = nil
local counters = {}
local popped = {}
local drained = false
local picked = {}
for i = 1, count do
  local c = completions[i]
  local expected, run_at, counted, refs, worker = c[1], c[2], c[3], c[4], c[5]
  local working = worker_prefix .. worker .. ':' .. worker_queues
  local opening = '{"run_at":"' .. expected .. '"'
  local current = redis.call('get', working) or ''
  local job = false
  local fresh = false
  if string.sub(current, 1, #opening) == opening then
    for ref in string.gmatch(refs, '%d+') do applyWrite(writes[tonumber(ref)], counters, writes) end
    if counted == 'p' then addCount(counters, stat_prefix .. 'processed:' .. worker .. ':' .. worker_queues, 1)
    elseif counted == 'f' then addCount(counters, stat_prefix .. 'failed:' .. worker .. ':' .. worker_queues, 1) end
  elseif current ~= '' then
    job = held(current, worker) or false
  end
  if not job and run_at ~= '' and not drained then
    queues = queues or expandQueues(queues_key, paused_key, queues_at)
    job = popFrom(queues, working, prefix, run_at, worker, popped)
    fresh = true
    if not job then drained = true end
  end
  if job then
    picked[#picked + 1] = i - 1
    picked[#picked + 1] = job[1]
    picked[#picked + 1] = job[2]
    picked[#picked + 1] = fresh and '' or job[3]
  elseif current ~= '' then
    redis.call('del', working)
  end
end
applyDeferred(counters, queues_key, wake_key, prefix)
rewake(wake_key, prefix, popped)
return picked
`,
  encode: (input: {
    readonly keys: Keys
    /** The pool's queue string (`a,b` or `*`): the last part of its workers' keys. */
    readonly workerQueues: string
    readonly plans: ReadonlyArray<Plan>
    readonly queues: ReadonlyArray<string>
    readonly limits?: { readonly limits: Limits.Limits; readonly now: number } | undefined
  }) => {
    const table = writeTable(input.plans.map((plan) => plan.writes))
    const base = Pick.nameBase(input.plans.map((plan) => plan.worker))
    const args: Array<Arg> = [input.keys.queue(""), input.plans.length, input.keys.key("worker", ""), input.workerQueues, input.keys.key("stat", ""), base]
    for (const arg of table.args) args.push(arg)
    input.plans.forEach((plan, i) => args.push(completionSpec(plan, table.refs[i] ?? [], base)))
    for (const arg of Limits.args(input.keys, input.limits?.limits ?? Limits.none, input.limits?.now ?? 0)) args.push(arg)
    for (const queue of input.queues) args.push(queue)
    return { keys: [input.keys.queues, input.keys.wake, input.keys.paused], args }
  },
  decode: Pick.decodeBySlot,
  twin: (redis, [queuesKey = "", wakeKey = "", pausedKey = ""], args) => {
    const [prefix = "", countText = "0", workerPrefix = "", workerQueues = "", statPrefix = "", base = ""] = args
    const count = Number(countText)
    const w = writes(redis, args)
    const [table, first] = w.read(6)
    const [limits, queuesAt] = Limits.State.read(args, first + count)
    const completions = args.slice(first, first + count).map((spec) => {
      const match = completionPattern.exec(spec)
      if (match === null) throw new Error(`ERR malformed completion ${spec}`)
      const [, expected = "", runAt = "", counted = "", refs = "", name = ""] = match
      return { expected, runAt, counted, refs, worker: base + name }
    })
    let queues: ReadonlyArray<string> | undefined
    const counters = new Map() as Counters
    const popped = new Set<string>()
    let drained = false
    const picked: Array<readonly [number, Pick.Picked, boolean]> = []
    completions.forEach(({ expected, runAt, counted, refs, worker }, i) => {
      const working = `${workerPrefix}${worker}:${workerQueues}`
      const current = Script.toStringOrNull(redis.call("get", working)) ?? ""
      let job: Pick.Picked | undefined
      let fresh = false
      if (current.startsWith(Pick.recordOpening(expected))) {
        for (const ref of refs.match(/\d+/g) ?? []) w.apply(table[Number(ref) - 1]!, counters)
        if (counted === "p") w.count(counters, `${statPrefix}processed:${worker}:${workerQueues}`, 1)
        else if (counted === "f") w.count(counters, `${statPrefix}failed:${worker}:${workerQueues}`, 1)
      } else if (current !== "") job = Pick.held(current, worker)
      if (job === undefined && runAt !== "" && !drained) {
        queues ??= Pick.expandQueues(redis, queuesKey, pausedKey, args.slice(queuesAt))
        job = Pick.popFrom(redis, queues, { working, prefix, runAt, worker }, popped, limits)
        fresh = true
        if (job === undefined) drained = true
      }
      if (job !== undefined) picked.push([i, job, fresh])
      else if (current !== "") redis.call("del", working)
    })
    w.applyDeferred(counters, { queuesKey, wakeKey, prefix })
    Pick.rewake(redis, wakeKey, prefix, popped, limits)
    return Pick.encodeBySlot(picked)
  }
})
