/**
 * Reclaiming the jobs of dead workers. A worker that stops pinging for longer than the dead-worker timeout
 * (and than three of its own ping intervals) is unregistered, and the job it was working on follows the same path as a job that failed: the action's
 * retry policy re-enqueues it (attempt + 1, with the policy's delay), otherwise it is failed with "worker
 * died"; either way the outcome goes through the worker middlewares (its fan-out), in the same step.
 *
 * That step is the completion script (`Completion.ts`) in its guarded form: it applies only if the worker's
 * record and its ping are still the ones read, so a worker that pings again, or another scheduler that got
 * there first, leaves nothing recorded twice. One round trip per dead worker, after one read of the workers
 * set, their pings and the records of the stale ones.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type { RetryPolicy } from "../domain/Action.ts"
import * as Job from "../domain/Job.ts"
import type { Keys } from "../domain/Keys.ts"
import * as Resque from "../domain/Resque.ts"
import type { Entry } from "./ActionEntry.ts"
import * as Completion from "./Completion.ts"
import type { Connection } from "./Connection.ts"
import * as Retry from "./Retry.ts"
import * as RunOutcome from "./RunOutcome.ts"

/** What a reclaim works with. */
export interface Options {
  readonly redis: Connection
  readonly keys: Keys
  readonly entries: ReadonlyMap<string, Entry>
  readonly middlewareWrites: (completed: Completion.CompletedJob, now: number) => ReadonlyArray<Completion.Write>
  readonly timeoutMillis: number
  /** The policy for jobs whose action has none (`retryStuckJobs`); undefined: such jobs fail. */
  readonly fallbackPolicy: RetryPolicy | undefined
  /** Recorded in the failed record's backtrace. */
  readonly scheduler: string
}

/** One reclaimed worker: its job (if it had one) and whether that job was re-enqueued. */
export interface Reclaimed {
  readonly worker: string
  readonly action: string | undefined
  readonly retried: boolean
}

/** A registered worker whose last ping is older than the timeout. */
interface Stale {
  readonly name: string
  readonly queues: string
  readonly ping: string
  readonly pingSeconds: number
}

/** Pings a worker may miss before it is taken for dead, whatever the timeout. */
export const missedPings = 3

/**
 * How long a worker may stay silent: the timeout, but never less than {@link missedPings} of the worker's own
 * ping interval (recorded when it registered; unknown for other clients' workers), so a live worker that pings
 * less often than the timeout is never reclaimed.
 */
export const silenceAllowed = (timeoutMillis: number, pingIntervalMillis: string | null | undefined): number => {
  const interval = Number(pingIntervalMillis)
  return Number.isFinite(interval) && interval > 0 ? Math.max(timeoutMillis, missedPings * interval) : timeoutMillis
}

/** Registered workers silent for longer than they may be (a worker without a ping is left alone). */
const staleWorkers = (options: Options, now: number) =>
  Effect.gen(function*() {
    const { redis, keys } = options
    const workers = (yield* redis.send<ReadonlyArray<string>>("smembers", keys.workers)).map(Resque.workerMember)
    if (workers.length === 0) return []
    const names = workers.map((w) => w.name)
    const [pings, intervals] = (yield* redis.pipeline([
      ["mget", ...names.map((name) => keys.ping(name))],
      ["hmget", keys.pingIntervals, ...names]
    ])) as readonly [ReadonlyArray<string | null>, ReadonlyArray<string | null>]
    return workers.flatMap((worker, i): ReadonlyArray<Stale> => {
      const ping = pings[i] ?? null
      const seconds = Resque.pingSeconds(ping)
      // node-resque's own workers ping only once started: no ping, no verdict
      if (ping === null || seconds === undefined || now - seconds * 1000 <= silenceAllowed(options.timeoutMillis, intervals[i])) return []
      return [{ ...worker, ping, pingSeconds: seconds }]
    })
  })

/** The record's queue and payload, when it is a readable working-on record. */
const recordedJob = (raw: string) => {
  const record = Resque.decodeWorkingOnRecord(raw)
  if (Result.isSuccess(record)) return { queue: record.success.queue, payload: record.success.payload }
  try {
    const json: unknown = JSON.parse(raw)
    const queue = typeof json === "object" && json !== null ? Reflect.get(json, "queue") : undefined
    const payload = typeof json === "object" && json !== null ? Reflect.get(json, "payload") : raw
    return { queue: typeof queue === "string" ? queue : "", payload }
  } catch {
    return { queue: "", payload: raw }
  }
}

/** The writes that fail or retry a dead worker's job and unregister the worker. */
const reclaimWrites = (options: Options, stale: Stale, raw: string | null, now: number) =>
  Effect.gen(function*() {
    const { keys } = options
    const unregister = Completion.unregister(keys, stale.name, stale.queues)
    if (raw === null) return { writes: unregister, action: undefined, retried: false }
    const { queue, payload } = recordedJob(raw)
    const parsed = Job.fromObject(payload, queue)
    const job = Result.isSuccess(parsed) ? parsed.success : undefined
    const entry = job === undefined ? undefined : options.entries.get(job.action)
    const next = job === undefined || entry === undefined
      ? undefined
      : yield* Retry.nextAttempt(entry.action.retry ?? options.fallbackPolicy, job, undefined, entry.action.task)
    const outcome = RunOutcome.workerDied({
      worker: stale.name,
      silentSeconds: Math.round(now / 1000) - stale.pingSeconds,
      scheduler: options.scheduler,
      final: next === undefined
    })
    const writes = [
      ...Completion.bookkeeping(keys, {
        worker: stale.name,
        queue,
        payload,
        outcome,
        now,
        retry: next === undefined ? undefined : Retry.target(next, now)
      }),
      ...(job === undefined ? [] : options.middlewareWrites({ job, outcome, worker: stale.name }, now)),
      ...unregister
    ]
    return { writes, action: job?.action, retried: next !== undefined }
  })

/**
 * Finds registered workers whose ping is older than the timeout and reclaims each. Returns what was reclaimed.
 *
 * @category programs
 */
export const reclaimDeadWorkers = (options: Options) =>
  Effect.gen(function*() {
    const { redis, keys } = options
    const now = yield* Clock.currentTimeMillis
    const stale = yield* staleWorkers(options, now)
    if (stale.length === 0) return []
    const records = yield* redis.send<ReadonlyArray<string | null>>("mget", ...stale.map((w) => keys.working(w.name, w.queues)))
    const reclaimed: Array<Reclaimed> = []
    for (const [i, worker] of stale.entries()) {
      const raw = records[i] ?? null
      const { writes, action, retried } = yield* reclaimWrites(options, worker, raw, now)
      const applied = yield* redis.eval(Completion.complete, {
        keys,
        working: keys.working(worker.name, worker.queues),
        expected: raw ?? "",
        guard: { key: keys.ping(worker.name), value: worker.ping },
        writes
      })
      if (applied) reclaimed.push({ worker: worker.name, action, retried })
    }
    return reclaimed
  })
