/**
 * Worker middleware: what runs as part of every job's completion. A middleware looks at the completed job
 * and answers **data**, the writes it wants (`Write`): they are applied by the job's completion script with
 * the job's own bookkeeping, in the same round trip and atomically, so there is no window where a job is
 * counted as done but its result is not recorded, and a completion re-sent after a reconnect does not write
 * them twice.
 *
 * The default list records per-action statistics and fan-out children (on by default, so a fan-out never
 * waits forever because a layer was forgotten). The same writes are made wherever a job completes: the
 * worker, the scheduler reclaiming a dead worker's job, an operator failing a stuck one.
 *
 * @example
 * // count the failures of each tenant, next to the defaults
 * const tenantFailures: WorkerMiddleware.Middleware = {
 *   name: "tenantFailures",
 *   onComplete: ({ job, outcome }, { keys }) =>
 *     outcome._tag === "Failure" ? [WorkerMiddleware.Write.hincrby(keys.key("tenant-failures"), tenantOf(job), 1)] : []
 * }
 * WorkerMiddleware.layer([...WorkerMiddleware.defaults, tenantFailures])
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as FanOut from "../domain/FanOut.ts"
import type { Keys } from "../domain/Keys.ts"
import * as Completion from "../internal/Completion.ts"
import type { Arg } from "../internal/Connection.ts"
import * as JobControl from "../internal/JobControl.ts"

/**
 * A job as it completes.
 *
 * @category models
 */
export type CompletedJob = Completion.CompletedJob

/**
 * One write a middleware asks for (see {@link Write} for the constructors).
 *
 * @category models
 */
export type Write = Completion.Write

/** What a middleware may use to build its writes. @category models */
export interface MiddlewareContext {
  readonly keys: Keys
  readonly now: number
}

/**
 * A middleware: a name and the writes it wants for each completed job.
 *
 * @category models
 */
export interface Middleware {
  readonly name: string
  readonly onComplete: (completed: CompletedJob, context: MiddlewareContext) => ReadonlyArray<Write>
}

/**
 * Constructors of the writes a middleware may ask for (plain Redis writes; keys are full key names, build
 * them with `keys.key(...)` to stay under the runtime's namespace).
 *
 * @category constructors
 */
export const Write = {
  incrby: (key: string, by: number): Write => ["incrby", key, by],
  hincrby: (key: string, field: string, by: number): Write => ["hincrby", key, field, by],
  hset: (key: string, field: string, value: string): Write => ["hset", key, field, value],
  set: (key: string, value: string, options: { readonly ttlMillis?: number } = {}): Write =>
    options.ttlMillis === undefined ? ["set", key, value] : ["set", key, value, "PX", options.ttlMillis],
  rpush: (key: string, ...values: ReadonlyArray<string>): Write => ["rpush", key, ...values],
  ltrim: (key: string, start: number, stop: number): Write => ["ltrim", key, start, stop],
  sadd: (key: string, ...members: ReadonlyArray<string>): Write => ["sadd", key, ...members],
  srem: (key: string, ...members: ReadonlyArray<string>): Write => ["srem", key, ...members],
  zadd: (key: string, score: number, member: string): Write => ["zadd", key, score, member],
  pexpire: (key: string, millis: number): Write => ["pexpire", key, millis],
  del: (...keys: ReadonlyArray<string>): Write => ["del", ...(keys as ReadonlyArray<Arg>)]
} as const

/**
 * The writes of one action's statistics, built once and reused: the completions of a batch then share the
 * same write arrays, which the batch's write table recognizes by identity (no comparison of contents).
 * Durations under a second and the last `lastAt` are kept; others are built per job.
 */
interface StatWrites {
  readonly ok: Write
  readonly failed: Write
  readonly durations: Array<Write | undefined>
  lastAt: { readonly at: number; readonly write: Write } | undefined
}
const statWrites = new Map<string, StatWrites>()
const statWritesOf = (key: string): StatWrites => {
  let writes = statWrites.get(key)
  if (writes === undefined) {
    writes = { ok: Write.hset(key, "lastOk", "1"), failed: Write.hset(key, "lastOk", "0"), durations: [], lastAt: undefined }
    if (statWrites.size < 4096) statWrites.set(key, writes)
  }
  return writes
}
const durationWrite = (key: string, writes: StatWrites, ms: number): Write => {
  if (!(ms >= 0 && ms < 1000)) return Write.hincrby(key, "durationMs", ms)
  let write = writes.durations[ms]
  if (write === undefined) writes.durations[ms] = write = Write.hincrby(key, "durationMs", ms)
  return write
}
const lastAtWrite = (key: string, writes: StatWrites, at: number): Write => {
  if (writes.lastAt?.at !== at) writes.lastAt = { at, write: Write.hset(key, "lastAt", String(at)) }
  return writes.lastAt.write
}

/**
 * Per-action statistics: runs, failures and total duration in ms, and when the last run ended and whether it
 * succeeded (`lastAt` in epoch ms, `lastOk` 1 or 0: what the dashboard shows as the last run of an action), in
 * the hash `actionstat:NAME`.
 *
 * @category middlewares
 */
export const actionStats: Middleware = {
  name: "actionStats",
  onComplete: ({ job, outcome }, { keys, now }) => {
    const key = keys.actionStats(job.action)
    const ok = outcome._tag === "Success"
    const stats = statWritesOf(key)
    const writes: Array<Write> = [
      Completion.countOne(key, "runs"),
      durationWrite(key, stats, Math.round(outcome.durationMs)),
      lastAtWrite(key, stats, Math.round(now)),
      ok ? stats.ok : stats.failed
    ]
    if (!ok) writes.push(Completion.countOne(key, "failures"))
    return writes
  }
}

/**
 * Records the outcome of every job carrying a fan-out id (see `internal/FanOutScripts.ts`). Only final
 * outcomes count: a failure with retries left has no outcome yet.
 *
 * @category middlewares
 */
export const fanOutRecorder: Middleware = {
  name: "fanOutRecorder",
  onComplete: ({ job, outcome }, { keys, now }) => {
    const { fanOut, index } = job.meta
    if (fanOut === undefined || index === undefined) return []
    if (outcome._tag === "Failure" && !outcome.final) return []
    const encoded = outcome._tag === "Success"
      ? FanOut.encodeSuccess(job.action, job.inputs, outcome.result)
      : FanOut.encodeFailure(job.action, job.inputs, outcome)
    return [Completion.recordChild(keys, { fanOutId: fanOut, index, outcome: encoded, now, onlyIfAbsent: false })]
  }
}

/**
 * Keeps the failed list to its newest `maxCount` records: every job that fails for good trims the list in its
 * own completion (`LTRIM failed -maxCount -1`, after its record is appended; O(records dropped)), so the list
 * never grows past the bound and no sweep is needed. Not in the defaults (the failed list is kept whole, as
 * Resque does); add it to the list in force:
 *
 * @example
 * WorkerMiddleware.layer([...WorkerMiddleware.defaults, WorkerMiddleware.failedRetention({ maxCount: 10_000 })])
 *
 * @category middlewares
 */
export const failedRetention = (options: { readonly maxCount: number }): Middleware => {
  const maxCount = Math.max(1, Math.floor(options.maxCount))
  // one write per key, built once: every failure writes the same one
  let trim: { readonly key: string; readonly write: Write } | undefined
  return {
    name: "failedRetention",
    onComplete: ({ outcome }, { keys }) => {
      if (outcome._tag === "Success" || !outcome.final) return []
      if (trim?.key !== keys.failed) trim = { key: keys.failed, write: Write.ltrim(keys.failed, -maxCount, -1) }
      return [trim.write]
    }
  }
}

/**
 * Records the end of every tracked job (`track`) in its record (`job:ID`): its result or error, or the
 * payload its retry waits with; releases its `until-done` uniqueness claim. Untracked jobs: no write.
 *
 * @category middlewares
 */
export const jobStatusRecorder: Middleware = {
  name: "jobStatusRecorder",
  onComplete: (completed, { keys, now }) => JobControl.completionWrites(completed, keys, now)
}

/**
 * The default middlewares: per-action statistics, the fan-out recorder and the job status recorder.
 *
 * @category middlewares
 */
export const defaults: ReadonlyArray<Middleware> = [actionStats, fanOutRecorder, jobStatusRecorder]

/**
 * The middlewares in force (the defaults unless a {@link layer} says otherwise).
 *
 * @category services
 */
export const WorkerMiddleware = Context.Reference<ReadonlyArray<Middleware>>("effect-resque/WorkerMiddleware", {
  defaultValue: () => defaults
})

/**
 * Sets the middleware list. Keep the {@link defaults} in it unless you mean to drop them: without the fan-out
 * recorder, fan-outs wait for outcomes nobody records.
 *
 * @category layers
 */
export const layer = (middlewares: ReadonlyArray<Middleware>): Layer.Layer<never> => Layer.succeed(WorkerMiddleware, middlewares)

/**
 * Every middleware's writes for one completed job, in list order.
 *
 * @category middlewares
 */
export const writes = (
  middlewares: ReadonlyArray<Middleware>,
  completed: CompletedJob,
  context: MiddlewareContext
): ReadonlyArray<Write> => middlewares.flatMap((middleware) => middleware.onComplete(completed, context))
