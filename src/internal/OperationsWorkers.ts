/**
 * Operations on workers and counters: registered workers, what they run, statistics, the overview, and
 * failing the jobs of workers stuck on them (`cleanOldWorkers`).
 *
 * Cleaning a stuck worker is the completion step (`Completion.ts`) in its guarded form: one script that
 * applies the failure (failed record, counters, what the worker middlewares record, such as the job's fan-out
 * outcome) and unregisters the worker, only if the worker's record still holds the job that was read. A job
 * that finishes meanwhile is left alone.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import { UnknownWorker } from "../domain/Errors.ts"
import * as Job from "../domain/Job.ts"
import type { Keys } from "../domain/Keys.ts"
import * as Ops from "../domain/Operations.ts"
import * as Resque from "../domain/Resque.ts"
import * as Completion from "./Completion.ts"
import { byName, type Context } from "./Operations.ts"
import * as OperationsScripts from "./OperationsScripts.ts"
import * as RunOutcome from "./RunOutcome.ts"

/** A member of the workers set (`NAME:QUEUES`), split. */
interface Member {
  readonly member: string
  readonly name: string
  readonly queues: string
}

/**
 * The reads of a worker's counters: under its full id (`stat:processed:NAME:QUEUES`, as Ruby Resque and this
 * runtime write them) and under its name (node-resque's); a worker writes one of the two, so they add up.
 */
export const workerCounters = (keys: Keys, worker: { readonly member: string; readonly name: string }) =>
  [
    ["get", keys.stat("processed", worker.member)],
    ["get", keys.stat("processed", worker.name)],
    ["get", keys.stat("failed", worker.member)],
    ["get", keys.stat("failed", worker.name)]
  ] as const

/** The counters read by {@link workerCounters}, from the replies starting at `at`. */
export const countersOf = (replies: ReadonlyArray<unknown>, at: number): Ops.Counters => ({
  processed: Resque.count(replies[at]) + Resque.count(replies[at + 1]),
  failed: Resque.count(replies[at + 2]) + Resque.count(replies[at + 3])
})

/** The worker operations on a context. */
export const make = (context: Context) => {
  const { redis, keys } = context

  const members = Effect.map(
    redis.send<ReadonlyArray<string>>("smembers", keys.workers),
    (all): ReadonlyArray<Member> => all.map((member) => ({ member, ...Resque.workerMember(member) }))
  )

  const workers = Effect.gen(function*() {
    const all = yield* members
    if (all.length === 0) return []
    const replies = yield* redis.pipeline(all.flatMap((w) => [["get", keys.started(w.name, w.queues)], ["get", keys.ping(w.name)]] as const))
    return all.map((w, i): Ops.WorkerInfo => {
      const started = replies[2 * i]
      const ping = replies[2 * i + 1]
      return {
        name: w.name,
        queues: Resque.queueList(w.queues),
        startedAt: typeof started === "string" ? Resque.millis(started) : null,
        lastPingAt: typeof ping === "string" ? Resque.pingMillis(ping) : null
      }
    }).sort(byName)
  })

  const workingOn = (worker: string) =>
    Effect.gen(function*() {
      const found = (yield* members).find((w) => w.name === worker)
      if (found === undefined) return yield* new UnknownWorker({ worker })
      const raw = yield* redis.send<string | null>("get", keys.working(found.name, found.queues))
      return Option.fromNullishOr(Ops.workingOn(raw, worker))
    })

  /** Busy workers with their records: one SMEMBERS and one pipeline. */
  const busy = Effect.gen(function*() {
    const all = yield* members
    if (all.length === 0) return []
    const raws = yield* redis.pipeline(all.map((w) => ["get", keys.working(w.name, w.queues)]))
    return all.flatMap((member, i) => {
      const raw = raws[i]
      const record = Ops.workingOn(typeof raw === "string" ? raw : null, member.name)
      return record === null ? [] : [{ member, record }]
    }).sort((a, b) => byName(a.member, b.member))
  })

  const allWorkingOn = Effect.map(busy, (all) => all.map((w) => w.record))

  /** Fails a stuck worker's job and unregisters it, in one script; false if the worker moved on. */
  const cleanOne = (member: Member, w: Ops.WorkingOn, now: number) => {
    const outcome = RunOutcome.stuck({ worker: w.worker, ranForMs: now - (w.runAt ?? now), now })
    const parsed = Job.fromObject(w.payload, w.queue)
    const recorded = Result.isSuccess(parsed)
      ? context.middlewareWrites({ job: parsed.success, outcome, worker: w.worker }, now)
      : []
    const writes = [
      ...Completion.bookkeeping(keys, { worker: w.worker, queue: w.queue, payload: w.payload, outcome, now }),
      ...recorded,
      ...Completion.unregister(keys, member.name, member.queues)
    ]
    return redis.eval(Completion.complete, { keys, working: keys.working(member.name, member.queues), expected: w.raw, writes })
  }

  const cleanOldWorkers = (age: Duration.Input) =>
    Effect.gen(function*() {
      const ageMillis = Duration.toMillis(age)
      const now = yield* Clock.currentTimeMillis
      const stale = (yield* busy).filter(({ record }) => record.runAt !== null && now - record.runAt > ageMillis)
      const cleaned: Array<Ops.WorkingOn> = []
      for (const { member, record } of stale) {
        if (yield* cleanOne(member, record, now)) cleaned.push(record)
      }
      return cleaned
    })

  const stats = Effect.gen(function*() {
    const all = yield* members
    const actions = [...context.entries.keys()].sort()
    const r = yield* redis.pipeline([
      ["get", keys.stat("processed")],
      ["get", keys.stat("failed")],
      ["get", keys.stat("handed_back")],
      ...all.flatMap((w) => workerCounters(keys, w)),
      ...actions.map((action) => ["hgetall", keys.actionStats(action)] as const)
    ])
    const hash = (u: unknown): Record<string, unknown> => (typeof u === "object" && u !== null ? { ...u } : {})
    return {
      processed: Resque.count(r[0]),
      failed: Resque.count(r[1]),
      handedBack: Resque.count(r[2]),
      workers: all.map((w, i) => ({ name: w.name, ...countersOf(r, 3 + 4 * i) })).sort(byName),
      actions: actions.map((action, i) => {
        const h = hash(r[3 + 4 * all.length + i])
        return { action, runs: Resque.count(h["runs"]), failures: Resque.count(h["failures"]), durationMs: Resque.count(h["durationMs"]) }
      })
    } satisfies Ops.Stats
  })

  const taskDetails = Effect.map(redis.eval(OperationsScripts.overview, keys), Ops.overview)

  return { members, workers, workingOn, allWorkingOn, cleanOldWorkers, stats, taskDetails }
}
