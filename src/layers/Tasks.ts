/**
 * The operations API: what an operator of a Resque system queries and fixes (queues, delayed jobs, failed
 * jobs, workers, locks, recurring actions, statistics), as Effects with Schema-typed results
 * (`domain/Tasks.ts`) and typed errors. Times are epoch milliseconds everywhere.
 *
 * Round trips are counted: the overview is one script call, listings are one or two round trips whatever
 * their size (pipelined reads, never one call per item), and every write that must be atomic (retry a failed
 * job, remove a delayed job, stop a recurring action, clean a stuck worker) is one script or one MULTI.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Layer, Option } from "effect"
import {
  CorruptPayload,
  FailedJobNotFound,
  type InvalidInputs,
  NotRecurring,
  RedisError,
  type UnknownAction,
  UnknownWorker
} from "../domain/Errors.ts"
import * as Payload from "../domain/Payload.ts"
import * as Scripts from "../internal/operations.ts"
import * as RecurringOps from "../internal/recurringOps.ts"
import type { Script } from "../internal/script.ts"
import * as WorkerOps from "../internal/workerOps.ts"
import * as T from "../domain/Tasks.ts"
import { ActionRegistry } from "./ActionRegistry.ts"
import type { ActionRef } from "./Actions.ts"
import * as FanOutStore from "./FanOut.ts"
import { call, exec } from "./Queue.ts"
import { Redis } from "./Redis.ts"
import { WorkerMiddleware } from "./WorkerMiddleware.ts"

/** Errors of the methods that take an action and its inputs. @category errors */
export type JobRefError = RedisError | UnknownAction | InvalidInputs

/**
 * The operations service.
 *
 * @category services
 */
export class Tasks extends Context.Service<Tasks, {
  /** When a job (action + inputs, as `enqueue` would write it) is scheduled: epoch ms, ascending. */
  readonly scheduledAt: (action: ActionRef, inputs: unknown, queue?: string) => Effect.Effect<ReadonlyArray<number>, JobRefError>
  /** Removes a delayed job from every time it is scheduled at (atomic); returns those times in ms. */
  readonly delDelayed: (action: ActionRef, inputs: unknown, queue?: string) => Effect.Effect<ReadonlyArray<number>, JobRefError>
  /** Every known queue with its length, by name. */
  readonly queues: Effect.Effect<ReadonlyArray<T.QueueInfo>, RedisError>
  /** Jobs of a queue between two indexes (inclusive, negative from the end, as LRANGE), decoded. */
  readonly queued: (queue: string, start: number, stop: number) => Effect.Effect<ReadonlyArray<T.QueuedJob>, RedisError>
  /** Jobs waiting in a queue (0 for an unknown queue). */
  readonly length: (queue: string) => Effect.Effect<number, RedisError>
  /**
   * Removes the jobs of an action from a queue: all of them, or only those whose inputs (normalized by the
   * action's Schema, `_job` metadata ignored) equal `inputs`. Returns how many were removed. Without inputs an
   * unregistered action name is accepted, so jobs of a retired action can be cleared.
   */
  readonly del: (queue: string, action: ActionRef, inputs?: unknown) => Effect.Effect<number, JobRefError>
  /** Deletes a queue and its jobs; returns how many jobs it held. */
  readonly delQueue: (queue: string) => Effect.Effect<number, RedisError>
  /** Times (ms) with delayed jobs, ascending. */
  readonly timestamps: Effect.Effect<ReadonlyArray<number>, RedisError>
  /** Delayed jobs due at a time (ms; rounded to the second as Resque does). */
  readonly delayedAt: (at: number) => Effect.Effect<ReadonlyArray<T.QueuedJob>, RedisError>
  /** Every delayed job, by time. Scans the whole schedule (pipelined, 2 round trips per 1000 times). */
  readonly allDelayed: Effect.Effect<ReadonlyArray<T.DelayedJobs>, RedisError>
  readonly failedCount: Effect.Effect<number, RedisError>
  /** Failed-job records between two indexes (inclusive, as LRANGE), decoded. */
  readonly failed: (start: number, stop: number) => Effect.Effect<ReadonlyArray<T.FailedJob>, RedisError>
  /** Removes a failed record (matched by its exact stored string). */
  readonly removeFailed: (job: T.FailedJob) => Effect.Effect<void, RedisError | FailedJobNotFound>
  /** Atomically removes a failed record and re-enqueues its original payload (`_job` metadata kept). */
  readonly retryAndRemoveFailed: (job: T.FailedJob) => Effect.Effect<void, RedisError | FailedJobNotFound | CorruptPayload>
  /** Retries every failed job the filter accepts (default: all); returns how many were re-enqueued. */
  readonly retryAllFailed: (filter?: (job: T.FailedJob) => boolean) => Effect.Effect<number, RedisError>
  /** Registered workers, by name. */
  readonly workers: Effect.Effect<ReadonlyArray<T.WorkerInfo>, RedisError>
  /** What a worker is running now (none when idle). */
  readonly workingOn: (worker: string) => Effect.Effect<Option.Option<T.WorkingOn>, RedisError | UnknownWorker>
  /** What every busy worker is running now. */
  readonly allWorkingOn: Effect.Effect<ReadonlyArray<T.WorkingOn>, RedisError>
  /**
   * Unregisters every worker whose current job started longer than `age` ago and fails that job ("stuck"),
   * recording the failure through the worker middlewares (fan-out counts, action stats). Each worker is one
   * WATCHed MULTI: a worker that finishes its job meanwhile is left alone. Returns the jobs failed.
   */
  readonly cleanOldWorkers: (age: Duration.Input) => Effect.Effect<ReadonlyArray<T.WorkingOn>, RedisError>
  /** Plugin locks (`lock:*`, `workerslock:*`). Scans the keyspace. */
  readonly locks: Effect.Effect<ReadonlyArray<T.LockInfo>, RedisError>
  /** Deletes a lock (key without the namespace); false if it did not exist. */
  readonly delLock: (key: string) => Effect.Effect<boolean, RedisError>
  /** Every registered recurring action and its state. */
  readonly recurring: Effect.Effect<ReadonlyArray<T.RecurringStatus>, RedisError>
  /**
   * Stops a recurring action: removes its queued and delayed copy and keeps the copy running now from
   * re-enqueueing itself; the scheduler does not start it again until {@link startRecurrentAction}.
   */
  readonly stopRecurrentAction: (action: ActionRef) => Effect.Effect<T.RecurringStopped, JobRefError | NotRecurring>
  /** Resumes a stopped recurring action: enqueues a copy now unless one is live. Returns whether it did. */
  readonly startRecurrentAction: (action: ActionRef) => Effect.Effect<boolean, JobRefError | NotRecurring>
  /** Processed/failed counters (global and per worker) and per-action runs, failures and total duration. */
  readonly stats: Effect.Effect<T.Stats, RedisError>
  /** The overview: queues with lengths, workers (with current job and counters), counters, leader. 1 round trip. */
  readonly taskDetails: Effect.Effect<T.TaskDetails, RedisError>
}>()("effect-resque/Tasks") {}

const nameOf = (action: ActionRef): string => (typeof action === "string" ? action : action.name)
const byName = <A extends { readonly name: string }>(a: A, b: A) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
const strings = (u: unknown): ReadonlyArray<string> => (Array.isArray(u) ? u.map(String) : [])

/**
 * Builds the service.
 *
 * @category constructors
 */
export const make = Effect.gen(function*() {
  const redis = yield* Redis
  const { client, keys } = redis
  const registry = yield* ActionRegistry
  const middlewares = yield* WorkerMiddleware
  // scripts queued in a pipeline or MULTI must be defined before the chain is created
  Scripts.retryFailed.define(client)

  const run = (op: string, script: Script, scriptKeys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) =>
    call(op, () => script.run(client, scriptKeys, args))

  /** The payload `enqueue` would write for this action and inputs (no metadata). */
  const payloadOf = (action: ActionRef, inputs: unknown, queue?: string) =>
    Effect.gen(function*() {
      const entry = yield* registry.get(nameOf(action))
      const encoded = yield* entry.normalize(inputs)
      const target = queue ?? entry.action.task?.queue ?? "default"
      return Payload.encode(target, entry.action.name, encoded)
    })

  const scheduledAt = (action: ActionRef, inputs: unknown, queue?: string) =>
    Effect.gen(function*() {
      const payload = yield* payloadOf(action, inputs, queue)
      const members = yield* call("read scheduled times", () => client.smembers(keys.timestamps(payload)))
      return members.map((m) => Number(m.slice("delayed:".length)) * 1000).filter(Number.isFinite).sort((a, b) => a - b)
    })

  const delDelayed = (action: ActionRef, inputs: unknown, queue?: string) =>
    Effect.gen(function*() {
      const payload = yield* payloadOf(action, inputs, queue)
      const removed = yield* run("delete delayed job", Scripts.delDelayed, [keys.timestamps(payload), keys.delayedSchedule], [payload, keys.key("")])
      return strings(removed).map((s) => Number(s) * 1000).sort((a, b) => a - b)
    })

  const queues = Effect.gen(function*() {
    const names = yield* call("read queues", () => client.smembers(keys.queues))
    if (names.length === 0) return []
    const tx = client.pipeline()
    for (const name of names) tx.llen(keys.queue(name))
    const lengths = yield* exec("read queue lengths", tx)
    return names.map((name, i) => ({ name, length: T.count(lengths[i]) })).sort(byName)
  })

  const queued = (queue: string, start: number, stop: number) =>
    Effect.map(call(`read queue ${queue}`, () => client.lrange(keys.queue(queue), start, stop)), (raws) => raws.map((raw) => T.queuedJob(raw, queue)))

  const length = (queue: string) => call(`read length of ${queue}`, () => client.llen(keys.queue(queue)))

  const del = (queue: string, action: ActionRef, inputs?: unknown) =>
    Effect.gen(function*() {
      const name = nameOf(action)
      const wanted = inputs === undefined ? undefined : JSON.stringify(yield* (yield* registry.get(name)).normalize(inputs))
      const raws = yield* call(`read queue ${queue}`, () => client.lrange(keys.queue(queue), 0, -1))
      const matching = new Set(raws.filter((raw) => {
        const job = T.queuedJob(raw, queue)
        return job.action === name && (wanted === undefined || JSON.stringify(job.inputs) === wanted)
      }))
      if (matching.size === 0) return 0
      const tx = client.multi()
      const targets = [...matching]
      for (const raw of targets) tx.lrem(keys.queue(queue), 0, raw)
      const removed = yield* exec(`delete jobs of ${name} from ${queue}`, tx)
      // a removed fan-out child gets an outcome, so its parent still finishes
      const gone = targets.filter((_, i) => T.count(removed[i]) > 0)
      yield* FanOutStore.recordRemoved(client, keys, gone, `removed from queue ${queue}`, yield* Clock.currentTimeMillis)
      return removed.reduce((sum: number, n) => sum + T.count(n), 0)
    })

  const delQueue = (queue: string) =>
    Effect.gen(function*() {
      const replies = yield* exec(`delete queue ${queue}`, client.multi().lrange(keys.queue(queue), 0, -1).del(keys.queue(queue)).srem(keys.queues, queue))
      const raws = strings(replies[0])
      // removed fan-out children get an outcome, so their parents still finish
      yield* FanOutStore.recordRemoved(client, keys, raws, `removed with queue ${queue}`, yield* Clock.currentTimeMillis)
      return raws.length
    })

  /** Delayed lists for the given times (seconds), one pipeline; empty (already promoted) times dropped. */
  const delayedLists = (seconds: ReadonlyArray<number>) =>
    Effect.gen(function*() {
      if (seconds.length === 0) return []
      const tx = client.pipeline()
      for (const s of seconds) tx.lrange(keys.delayed(s), 0, -1)
      const lists = yield* exec("read delayed jobs", tx)
      return seconds.flatMap((s, i) => {
        const raws = strings(lists[i])
        return raws.length === 0 ? [] : [{ at: s * 1000, jobs: raws.map((raw) => T.queuedJob(raw, "")) }]
      })
    })

  const scheduleSeconds = Effect.map(
    call("read delayed schedule", () => client.zrange(keys.delayedSchedule, 0, -1)),
    (members) => members.map(Number).filter(Number.isFinite)
  )

  const timestamps = Effect.gen(function*() {
    const seconds = yield* scheduleSeconds
    if (seconds.length === 0) return []
    const tx = client.pipeline()
    for (const s of seconds) tx.llen(keys.delayed(s))
    const lengths = yield* exec("read delayed lengths", tx)
    return seconds.filter((_, i) => T.count(lengths[i]) > 0).map((s) => s * 1000)
  })

  const delayedAt = (at: number) =>
    Effect.map(
      call("read delayed jobs", () => client.lrange(keys.delayed(Math.round(at / 1000)), 0, -1)),
      (raws) => raws.map((raw) => T.queuedJob(raw, ""))
    )

  const allDelayed = Effect.gen(function*() {
    const seconds = yield* scheduleSeconds
    const chunks: Array<ReadonlyArray<number>> = []
    for (let i = 0; i < seconds.length; i += 1000) chunks.push(seconds.slice(i, i + 1000))
    const lists = yield* Effect.forEach(chunks, delayedLists)
    return lists.flat()
  })

  const failedCount = call("read failed count", () => client.llen(keys.failed))

  const failed = (start: number, stop: number) =>
    Effect.map(call("read failed jobs", () => client.lrange(keys.failed, start, stop)), (raws) => raws.map(T.failedJob))

  const removeFailed = (job: T.FailedJob) =>
    Effect.flatMap(call("remove failed job", () => client.lrem(keys.failed, 1, job.raw)), (n) =>
      n > 0 ? Effect.void : Effect.fail(new FailedJobNotFound({ action: job.action, raw: job.raw })))

  /** What a retry writes: the record's queue and its payload exactly as stored (metadata kept). */
  const retryTarget = (job: T.FailedJob) => {
    const payload = typeof job.payload === "string" ? job.payload : JSON.stringify(job.payload) ?? ""
    return job.queue === "" || payload === "" || job.payload === null ? undefined : { queue: job.queue, payload }
  }

  const retryAndRemoveFailed = (job: T.FailedJob) =>
    Effect.gen(function*() {
      const target = retryTarget(job)
      if (target === undefined) {
        return yield* new CorruptPayload({ detail: `failed record has no queue or payload to retry: ${job.raw.slice(0, 200)}` })
      }
      const done = yield* run("retry failed job", Scripts.retryFailed, [keys.failed, keys.queues, keys.queue(target.queue)], [job.raw, target.queue, target.payload])
      if (done !== 1) return yield* new FailedJobNotFound({ action: job.action, raw: job.raw })
    })

  const retryAllFailed = (filter: (job: T.FailedJob) => boolean = () => true) =>
    Effect.gen(function*() {
      const all = yield* failed(0, -1)
      const chosen = all.flatMap((job) => {
        const target = filter(job) ? retryTarget(job) : undefined
        return target === undefined ? [] : [{ job, target }]
      })
      let retried = 0
      for (let i = 0; i < chosen.length; i += 500) {
        const tx = client.pipeline()
        for (const { job, target } of chosen.slice(i, i + 500)) {
          Scripts.retryFailed.queue(client, tx, [keys.failed, keys.queues, keys.queue(target.queue)], [job.raw, target.queue, target.payload])
        }
        const replies = yield* exec("retry failed jobs", tx)
        retried += replies.filter((r) => r === 1).length
      }
      return retried
    })

  const workerOps = WorkerOps.make(redis, middlewares)
  const recurringOps = RecurringOps.make(redis, registry)

  const scan = (pattern: string) =>
    Effect.gen(function*() {
      const found: Array<string> = []
      let cursor = "0"
      for (let i = 0; i < 100_000; i++) {
        const [next, batch] = yield* call("scan keys", () => client.scan(cursor, "MATCH", pattern, "COUNT", 1000))
        found.push(...batch)
        cursor = next
        if (cursor === "0") break
      }
      return found
    })

  const locks = Effect.gen(function*() {
    const found = [...new Set([...(yield* scan(keys.key("lock:*"))), ...(yield* scan(keys.key("workerslock:*")))])].sort()
    if (found.length === 0) return []
    const values = yield* call("read locks", () => client.mget(...found))
    const prefix = keys.key("")
    return found.flatMap((key, i) => {
      const value = values[i]
      return value === null || value === undefined ? [] : [{ key: key.slice(prefix.length), value }]
    })
  })

  const delLock = (key: string) => Effect.map(call(`delete lock ${key}`, () => client.del(keys.key(key))), (n) => n > 0)

  const stats = Effect.gen(function*() {
    const all = yield* workerOps.members
    const actions = [...registry.entries.keys()].sort()
    const tx = client.pipeline().get(keys.stat("processed")).get(keys.stat("failed"))
    for (const w of all) tx.get(keys.stat("processed", w.name)).get(keys.stat("failed", w.name))
    for (const action of actions) tx.hgetall(keys.actionStats(action))
    const r = yield* exec("read stats", tx)
    const hash = (u: unknown): Record<string, unknown> => (typeof u === "object" && u !== null ? { ...u } : {})
    return {
      processed: T.count(r[0]),
      failed: T.count(r[1]),
      workers: all.map((w, i) => ({ name: w.name, processed: T.count(r[2 + 2 * i]), failed: T.count(r[3 + 2 * i]) })).sort(byName),
      actions: actions.map((action, i) => {
        const h = hash(r[2 + 2 * all.length + i])
        return { action, runs: T.count(h["runs"]), failures: T.count(h["failures"]), durationMs: T.count(h["durationMs"]) }
      })
    }
  })

  const taskDetails = Effect.gen(function*() {
    const reply = yield* run("read overview", Scripts.overview, [
      keys.leaderLock,
      keys.stat("processed"),
      keys.stat("failed"),
      keys.queues,
      keys.workers
    ], [keys.queue(""), keys.key("worker", ""), keys.stat("processed", ""), keys.stat("failed", "")])
    return T.overview(Array.isArray(reply) ? reply : [])
  })

  return Tasks.of({
    scheduledAt,
    delDelayed,
    queues,
    queued,
    length,
    del,
    delQueue,
    timestamps,
    delayedAt,
    allDelayed,
    failedCount,
    failed,
    removeFailed,
    retryAndRemoveFailed,
    retryAllFailed,
    workers: workerOps.workers,
    workingOn: workerOps.workingOn,
    allWorkingOn: workerOps.allWorkingOn,
    cleanOldWorkers: workerOps.cleanOldWorkers,
    locks,
    delLock,
    recurring: recurringOps.recurring,
    stopRecurrentAction: recurringOps.stopRecurrentAction,
    startRecurrentAction: recurringOps.startRecurrentAction,
    stats,
    taskDetails
  })
})

/**
 * The Tasks layer, on the Redis connection and the action registry.
 *
 * @category layers
 */
export const layer: Layer.Layer<Tasks, never, Redis | ActionRegistry> = Layer.effect(Tasks, make)
