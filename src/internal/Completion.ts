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
export type WriteCommand = "incrby" | "hincrby" | "rpush" | "sadd" | "srem" | "del" | "set" | "hset" | "pexpire" | "zadd"

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

/** The writes that schedule a job's next attempt: at a time, or on its queue now. */
export const retryWrites = (
  keys: Keys,
  retry: { readonly queue: string; readonly payload: string; readonly at?: number }
): ReadonlyArray<Write> =>
  (retry.at === undefined ? Enqueue.push(keys, retry.queue, [retry.payload]) : Enqueue.pushAt(keys, retry.at, retry.payload))

/**
 * A job's own bookkeeping: the global counter of its outcome (and the worker's, for a worker that stays
 * registered), its failed record when it failed for good, its next attempt when it is retried.
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
  readonly countForWorker: boolean
  readonly retry?: { readonly queue: string; readonly payload: string; readonly at?: number } | undefined
}): ReadonlyArray<Write> => {
  const status = options.outcome._tag === "Success" ? "processed" : "failed"
  const writes: Array<Write> = [["incrby", keys.stat(status), 1]]
  if (options.countForWorker) writes.push(["incrby", keys.stat(status, options.worker), 1])
  if (options.outcome._tag === "Failure" && options.outcome.final) {
    const record = Resque.failedRecord({
      worker: options.worker,
      queue: options.queue,
      payload: options.payload,
      failure: options.outcome,
      now: options.now
    })
    writes.push(["rpush", keys.failed, record])
  }
  if (options.retry !== undefined) writes.push(...retryWrites(keys, options.retry))
  return writes
}

/**
 * The writes that unregister a worker: its member of the workers set and every key Resque keeps for it.
 *
 * @category constructors
 */
export const unregister = (keys: Keys, worker: string, queues: string): ReadonlyArray<PlainWrite> => [
  ["srem", keys.workers, Resque.member(worker, queues)],
  ["del", keys.ping(worker), keys.working(worker, queues), keys.started(worker, queues), keys.stat("failed", worker), keys.stat("processed", worker)]
]

/**
 * A completion to apply.
 *
 * @category models
 */
export interface Plan {
  /** The working-on key of the worker whose job completes. */
  readonly working: string
  /** The record it expects there: the job's working-on record, or "" for none. */
  readonly expected: string
  readonly worker: string
  /** A reclaim's second condition: this key still holds this value (the dead worker's last ping). */
  readonly guard?: { readonly key: string; readonly value: string } | undefined
  readonly writes: ReadonlyArray<Write>
  /** A worker's completion: picks its next job (`queues` in order) unless it is stopping (`undefined`). */
  readonly next?: { readonly source: Pick.Source; readonly runAt: string } | undefined
  /** `worker`: a worker completing its own job (re-sends handed back); `guarded`: a reclaim or a clean-up. */
  readonly mode: "worker" | "guarded"
}

/** What a completion did. */
export type Result =
  /** A worker's completion: the next job it picked (or an earlier run of this completion picked), if any. */
  | { readonly _tag: "Completed"; readonly next: Pick.Picked | undefined }
  /** A guarded completion found the worker had moved on: nothing was written. */
  | { readonly _tag: "Skipped" }

const knownWrites = new Set<string>(["incrby", "hincrby", "rpush", "sadd", "srem", "del", "set", "hset", "pexpire", "zadd", "fanout", "recur"])

const encodeWrites = (writes: ReadonlyArray<Write>): ReadonlyArray<Arg> => {
  const args: Array<Arg> = [writes.length]
  for (const [op, ...rest] of writes) args.push(op, rest.length, ...rest)
  return args
}

/**
 * The completion step.
 *
 * KEYS: working-on key. ARGV: mode (`worker`/`guarded`), expected record, worker name, guard key, guard
 * value, pick (`1`/`0`), queue key prefix, queues set, run_at of the next record, number of writes, then per
 * write its op, its argument count and its arguments, then the queue names to pick from.
 * Replies `{queue, payload, record}` of the next job, or nil (worker mode); 1 applied, 0 skipped (guarded).
 *
 * @category scripts
 */
export const complete = Script.make({
  name: "complete",
  lua: String.raw`${Pick.luaPick}${FanOutScripts.luaRecordChild}${Recurring.luaContinueChain}
local working = KEYS[1]
local mode, expected, worker, guard_key, guard_value = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local pick, prefix, queues_key, run_at = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local unpack = unpack or table.unpack
local plain = { incrby = true, hincrby = true, rpush = true, sadd = true, srem = true, del = true, set = true, hset = true, pexpire = true, zadd = true, fanout = true, recur = true }
-- the index after the writes that start at ARGV[at]; refuses an unknown write before anything is written
local function skip(at)
  local n = tonumber(ARGV[at])
  at = at + 1
  for _ = 1, n do
    if not plain[ARGV[at]] then error('unknown completion write ' .. tostring(ARGV[at])) end
    at = at + 2 + tonumber(ARGV[at + 1])
  end
  return at
end
local function apply(at)
  local n = tonumber(ARGV[at])
  at = at + 1
  for _ = 1, n do
    local op, argc = ARGV[at], tonumber(ARGV[at + 1])
    local first, last = at + 2, at + 1 + argc
    if op == 'fanout' then
      recordChild(unpack(ARGV, first, last))
    elseif op == 'recur' then
      continueChain(unpack(ARGV, first, last))
    else
      redis.call(op, unpack(ARGV, first, last))
    end
    at = last + 1
  end
end
local after = skip(10)
local current = redis.call('get', working) or ''
if mode == 'worker' then
  if current == expected then
    apply(10)
  elseif current ~= '' then
    -- an earlier run of this completion (re-sent after a reconnect) picked this job: hand it back
    local job = held(current, worker)
    if job then return job end
  end
  -- (a record that is gone means a reclaim or a clean-up completed this job already: nothing to write)
  local job = false
  if pick == '1' then job = popInto(working, queues_key, prefix, run_at, worker, after) end
  if not job and current ~= '' then redis.call('del', working) end
  return job
end
if current ~= expected then return 0 end
if guard_key ~= '' and (redis.call('get', guard_key) or '') ~= guard_value then return 0 end
apply(10)
return 1
`,
  encode: (plan: Plan) => {
    const queues = plan.next?.source.queues ?? []
    return {
      keys: [plan.working],
      args: [
        plan.mode,
        plan.expected,
        plan.worker,
        plan.guard?.key ?? "",
        plan.guard?.value ?? "",
        plan.next === undefined ? "0" : "1",
        plan.next?.source.prefix ?? "",
        plan.next?.source.queuesKey ?? "",
        plan.next?.runAt ?? "",
        ...encodeWrites(plan.writes),
        ...queues
      ]
    }
  },
  decode: (reply): Result =>
    reply === 0 ? { _tag: "Skipped" } : { _tag: "Completed", next: Pick.decodePicked(reply) },
  twin: (redis, [working = ""], args) => {
    const [mode, expected, worker = "", guardKey = "", guardValue = "", pick, prefix = "", queuesKey = "", runAt = ""] = args
    /** The index after the writes that start at `args[at]`; refuses an unknown write before any is applied. */
    const skip = (at: number): number => {
      const n = Number(args[at])
      at++
      for (let i = 0; i < n; i++) {
        const op = args[at] ?? ""
        if (!knownWrites.has(op)) throw new Error(`ERR unknown completion write ${op}`)
        at += 2 + Number(args[at + 1])
      }
      return at
    }
    const apply = (at: number): void => {
      const n = Number(args[at])
      at++
      for (let i = 0; i < n; i++) {
        const op = args[at] ?? ""
        const argc = Number(args[at + 1])
        const rest = args.slice(at + 2, at + 2 + argc)
        if (op === "fanout") FanOutScripts.recordChild(redis, rest)
        else if (op === "recur") Recurring.continueChain(redis, rest)
        else redis.call(op, ...rest)
        at += 2 + argc
      }
    }
    const after = skip(9)
    const current = Script.toStringOrNull(redis.call("get", working)) ?? ""
    if (mode === "worker") {
      if (current === expected) {
        apply(9)
      } else if (current !== "") {
        const job = Pick.held(current, worker)
        if (job !== undefined) return Pick.toReply(job)
      }
      const job = pick === "1" ? Pick.popInto(redis, working, queuesKey, prefix, runAt, worker, args.slice(after)) : undefined
      if (job === undefined && current !== "") redis.call("del", working)
      return Pick.toReply(job)
    }
    if (current !== expected) return 0
    if (guardKey !== "" && (Script.toStringOrNull(redis.call("get", guardKey)) ?? "") !== guardValue) return 0
    apply(9)
    return 1
  }
})
