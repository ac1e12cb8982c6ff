/**
 * The operations API: what an operator of a Resque system queries and fixes (queues, delayed jobs, failed
 * jobs, workers, locks, recurring actions, statistics), as Effects with Schema-typed results
 * (`domain/Operations.ts`) and typed errors. Times are epoch milliseconds everywhere.
 *
 * Round trips are counted: the overview is one script call, listings are one or two round trips whatever
 * their size (pipelined reads, never one call per item), and every write that must be atomic (retry a failed
 * job, remove a delayed job, stop a recurring action, clean a stuck worker) is one script or one MULTI.
 *
 * Available to actions: a job's `run` can `yield* Operations.Operations` without the application providing
 * it.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type {
  CorruptPayload,
  FailedJobNotFound,
  InvalidInputs,
  InvalidQueue,
  JobNotFound,
  NotRecurring,
  RedisError,
  UnknownAction,
  UnknownWorker
} from "../domain/Errors.ts"
import type { FanOutNotFound } from "../domain/FanOut.ts"
import type * as Model from "../domain/Operations.ts"
import type { ActionRef, Context as OperationsContext } from "../internal/Operations.ts"
import * as OperationsActivity from "../internal/OperationsActivity.ts"
import * as OperationsFailed from "../internal/OperationsFailed.ts"
import * as OperationsFailedPages from "../internal/OperationsFailedPages.ts"
import * as OperationsFanOuts from "../internal/OperationsFanOuts.ts"
import * as OperationsPaused from "../internal/OperationsPaused.ts"
import * as OperationsQueuePages from "../internal/OperationsQueuePages.ts"
import * as OperationsQueues from "../internal/OperationsQueues.ts"
import * as OperationsRecurring from "../internal/OperationsRecurring.ts"
import * as OperationsWorkerPages from "../internal/OperationsWorkerPages.ts"
import * as OperationsWorkers from "../internal/OperationsWorkers.ts"
import { ActionRegistry } from "./ActionRegistry.ts"
import { Redis } from "./Redis.ts"
import * as WorkerMiddleware from "./WorkerMiddleware.ts"

/** Errors of the methods that take an action and its inputs. @category errors */
export type JobRefError = RedisError | UnknownAction | InvalidInputs

/**
 * The operations service.
 *
 * @category services
 */
export class Operations extends Context.Service<Operations, {
  /** When a job (action + inputs, as `enqueue` would write it) is scheduled: epoch ms, ascending. */
  readonly scheduledAt: (action: ActionRef, inputs: unknown, options?: { readonly queue?: string }) => Effect.Effect<ReadonlyArray<number>, JobRefError>
  /** Removes a delayed job from every time it is scheduled at (atomic); returns those times in ms. */
  readonly delDelayed: (action: ActionRef, inputs: unknown, options?: { readonly queue?: string }) => Effect.Effect<ReadonlyArray<number>, JobRefError>
  /** Every known queue with its length, by name. */
  readonly queues: Effect.Effect<ReadonlyArray<Model.QueueInfo>, RedisError>
  /** Jobs of a queue between two indexes (inclusive, negative from the end, as LRANGE), decoded. */
  readonly queued: (queue: string, start: number, stop: number) => Effect.Effect<ReadonlyArray<Model.QueuedJob>, RedisError>
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
  readonly delayedAt: (at: number) => Effect.Effect<ReadonlyArray<Model.QueuedJob>, RedisError>
  /** Every delayed job, by time. Scans the whole schedule: 1 round trip, and 1 more per 1000 times. */
  readonly allDelayed: Effect.Effect<ReadonlyArray<Model.DelayedJobs>, RedisError>
  readonly failedCount: Effect.Effect<number, RedisError>
  /** Failed-job records between two indexes (inclusive, as LRANGE), decoded. */
  readonly failed: (start: number, stop: number) => Effect.Effect<ReadonlyArray<Model.FailedJob>, RedisError>
  /** Removes a failed record (matched by its exact stored string). */
  readonly removeFailed: (job: Model.FailedJob) => Effect.Effect<void, RedisError | FailedJobNotFound>
  /** Atomically removes a failed record and re-enqueues its original payload (`_job` metadata kept). */
  readonly retryAndRemoveFailed: (job: Model.FailedJob) => Effect.Effect<void, RedisError | FailedJobNotFound | CorruptPayload>
  /** Retries every failed job the filter accepts (default: all); returns how many were re-enqueued. */
  readonly retryAllFailed: (filter?: (job: Model.FailedJob) => boolean) => Effect.Effect<number, RedisError>
  /** Registered workers, by name. */
  readonly workers: Effect.Effect<ReadonlyArray<Model.WorkerInfo>, RedisError>
  /** What a worker is running now (none when idle). */
  readonly workingOn: (worker: string) => Effect.Effect<Option.Option<Model.WorkingOn>, RedisError | UnknownWorker>
  /** What every busy worker is running now. */
  readonly allWorkingOn: Effect.Effect<ReadonlyArray<Model.WorkingOn>, RedisError>
  /**
   * Unregisters every worker whose current job started longer than `age` ago and fails that job ("stuck"),
   * recording the failure through the worker middlewares (fan-out counts, action stats). Each worker is one
   * script, guarded: a worker that finishes its job meanwhile is left alone. Returns the jobs failed.
   */
  readonly cleanOldWorkers: (age: Duration.Input) => Effect.Effect<ReadonlyArray<Model.WorkingOn>, RedisError>
  /** Plugin locks (`lock:*`, `workerslock:*`). Scans the keyspace. */
  readonly locks: Effect.Effect<ReadonlyArray<Model.LockInfo>, RedisError>
  /** Deletes a lock (key without the namespace); false if it did not exist. */
  readonly delLock: (key: string) => Effect.Effect<boolean, RedisError>
  /** Every registered recurring action and its state. */
  readonly recurring: Effect.Effect<ReadonlyArray<Model.RecurringStatus>, RedisError>
  /**
   * Stops a recurring action: removes its queued and delayed copy and keeps the copy running now from
   * re-enqueueing itself; the scheduler does not start it again until {@link startRecurrentAction}.
   */
  readonly stopRecurrentAction: (action: ActionRef) => Effect.Effect<Model.RecurringStopped, JobRefError | NotRecurring>
  /** Resumes a stopped recurring action: enqueues a copy now unless one is live. Returns whether it did. */
  readonly startRecurrentAction: (action: ActionRef) => Effect.Effect<boolean, JobRefError | NotRecurring>
  /**
   * Pauses a queue: workers take none of its jobs (they stay queued, new ones are added) until
   * {@link resumeQueue}; it holds for every worker of this runtime in every process, and across restarts.
   * Answers whether it was running until now. 1 round trip.
   */
  readonly pauseQueue: (queue: string) => Effect.Effect<boolean, RedisError | InvalidQueue>
  /** Resumes a paused queue; idle workers wake and take its jobs at once. Answers whether it was paused. 1 round trip. */
  readonly resumeQueue: (queue: string) => Effect.Effect<boolean, RedisError | InvalidQueue>
  /** The paused queues, by name, with the time each was paused. 1 round trip. */
  readonly pausedQueues: Effect.Effect<ReadonlyArray<Model.PausedQueue>, RedisError>
  /** Processed/failed counters (global and per worker) and per-action runs, failures and total duration. */
  readonly stats: Effect.Effect<Model.Stats, RedisError>
  /** The overview: queues with lengths, workers (with current job and counters), counters, leader. 1 round trip. */
  readonly taskDetails: Effect.Effect<Model.TaskDetails, RedisError>

  // pages: bounded reads (a fixed number of round trips whatever the size of a list) and writes that name a
  // listed job by its id and position (see `Model.ListedAt`)

  /**
   * The overview a dashboard refreshes: queues with lengths, counters, workers busy and idle, the leader, how
   * many seconds have delayed jobs, and the newest failures. 2 round trips, replies bounded by the number of
   * queues and workers (no working-on records are read).
   */
  readonly summary: Effect.Effect<Model.Summary, RedisError>
  /** Resque's global processed and failed counters (what a throughput graph samples). 1 round trip. */
  readonly counters: Effect.Effect<Model.Counters, RedisError>
  /** A page of a queue, head first (default 25 jobs, at most 500). 1 round trip. */
  readonly queuedPage: (queue: string, options?: PageOptions) => Effect.Effect<Model.QueuePage, RedisError>
  /** Removes one listed job from a queue (a fan-out child gets a `Removed` outcome). 2 round trips (3 if it moved, +1 for a child). */
  readonly removeQueued: (queue: string, job: Model.ListedAt) => Effect.Effect<Model.QueuedJob, RedisError | JobNotFound>
  /** A page of the delayed schedule by due time (default 25 seconds, at most 20 jobs listed each). 2 round trips. */
  readonly delayedPage: (options?: PageOptions) => Effect.Effect<Model.DelayedPage, RedisError>
  /** Moves one listed delayed job (of the second of `at`, ms) onto its queue now. 2 round trips (3 if it moved). */
  readonly runDelayedNow: (at: number, job: Model.ListedAt) => Effect.Effect<Model.QueuedJob, RedisError | JobNotFound | CorruptPayload>
  /** Removes one listed delayed job (a fan-out child gets a `Removed` outcome). 2 round trips (3 if it moved, +1 for a child). */
  readonly removeDelayedJob: (at: number, job: Model.ListedAt) => Effect.Effect<Model.QueuedJob, RedisError | JobNotFound | CorruptPayload>
  /**
   * A page of the failed list, newest first by default, optionally filtered by action and error tag (exactly).
   * Without a filter 1 round trip; with one it examines at most 10 000 records (at most 5 round trips) and
   * `next` says where to go on.
   */
  readonly failedPage: (query?: OperationsFailedPages.FailedQuery) => Effect.Effect<Model.FailedPage, RedisError>
  /** The failed record listed at a position with an id (pass it to `retryAndRemoveFailed`/`removeFailed`). 1 round trip (2 if it moved). */
  readonly findFailed: (job: Model.ListedAt) => Effect.Effect<Model.FailedJob, RedisError | JobNotFound>
  /**
   * Retries every failed record the filter matches (default all): each is re-enqueued with its original payload
   * and removed, atomically per chunk. One pass over the list: 2 round trips per 1 000 records.
   */
  readonly retryFailedWhere: (filter?: Model.FailedFilter) => Effect.Effect<Model.FailedBulk, RedisError>
  /** Removes every failed record the filter matches; without a filter one `DEL`. 2 round trips per 1 000 records. */
  readonly removeFailedWhere: (filter?: Model.FailedFilter) => Effect.Effect<Model.FailedBulk, RedisError>
  /**
   * Fan-outs in Redis, found by a bounded `SCAN` (at most 10 calls of 1 000 keys, then 1 pipeline); pass the
   * returned `cursor` to go on (null: the whole keyspace was scanned).
   */
  readonly fanOuts: (options?: { readonly cursor?: string | undefined; readonly limit?: number | undefined }) => Effect.Effect<Model.FanOutList, RedisError>
  /** A fan-out's counts, state and `onComplete`, without its children. 1 round trip. */
  readonly fanOutSummary: (fanOutId: string) => Effect.Effect<Model.FanOutSummary, RedisError | FanOutNotFound>
  /**
   * A page of a fan-out's children by index. `all`: 1 round trip of the page's size; `completed`, `failed`,
   * `pending`: 1 round trip reading the outcomes hash.
   */
  readonly fanOutChildren: (
    fanOutId: string,
    options?: PageOptions & { readonly status?: Model.ChildStatus | undefined }
  ) => Effect.Effect<Model.FanOutChildren, RedisError | FanOutNotFound>
  /** A page of the workers by name, in a state, with counts over all of them. 3 round trips. */
  readonly workerPage: (
    options?: PageOptions & { readonly state?: Model.WorkerState | undefined; readonly staleAfter?: Duration.Input | undefined }
  ) => Effect.Effect<Model.WorkerPage, RedisError>
  /**
   * Unregisters every worker whose ping is older than `staleAfter` and fails its job ("worker died", or
   * retries it under its action's policy), as the scheduler's leader does after its dead-worker timeout.
   * 2 round trips (3 when some are stale), + 1 per stale worker.
   */
  readonly reclaimStaleWorkers: (staleAfter: Duration.Input) => Effect.Effect<ReadonlyArray<Model.ReclaimedWorker>, RedisError>
  /** Every registered action's counters, mean duration and last run. 1 round trip. */
  readonly actionActivity: Effect.Effect<ReadonlyArray<Model.ActionActivity>, RedisError>
  /** Every registered recurring action with its state, next run and last run. 2 round trips. */
  readonly recurringDetails: Effect.Effect<ReadonlyArray<Model.RecurringDetails>, RedisError>
}>()("effect-resque/Operations") {}

/** Where a page starts and how long it is. @category models */
export interface PageOptions {
  readonly offset?: number | undefined
  readonly limit?: number | undefined
}

/** The options of `failedPage`. @category models */
export type FailedQuery = OperationsFailedPages.FailedQuery

/**
 * Builds the service on a context (the Redis seam, the registered actions, the worker middlewares).
 *
 * @category constructors
 */
export const makeWith = (context: OperationsContext): Operations["Service"] => {
  const queues = OperationsQueues.make(context)
  const failed = OperationsFailed.make(context)
  const workers = OperationsWorkers.make(context)
  const recurring = OperationsRecurring.make(context)
  const queuePages = OperationsQueuePages.make(context)
  const failedPages = OperationsFailedPages.make(context)
  const fanOuts = OperationsFanOuts.make(context)
  const workerPages = OperationsWorkerPages.make(context)
  const activity = OperationsActivity.make(context)
  const paused = OperationsPaused.make(context)
  return Operations.of({
    scheduledAt: (action, inputs, options) => queues.scheduledAt(action, inputs, options?.queue),
    delDelayed: (action, inputs, options) => queues.delDelayed(action, inputs, options?.queue),
    queues: queues.queues,
    queued: queues.queued,
    length: queues.length,
    del: queues.del,
    delQueue: queues.delQueue,
    timestamps: queues.timestamps,
    delayedAt: queues.delayedAt,
    allDelayed: queues.allDelayed,
    locks: queues.locks,
    delLock: queues.delLock,
    failedCount: failed.failedCount,
    failed: failed.failed,
    removeFailed: failed.removeFailed,
    retryAndRemoveFailed: failed.retryAndRemoveFailed,
    retryAllFailed: failed.retryAllFailed,
    workers: workers.workers,
    workingOn: workers.workingOn,
    allWorkingOn: workers.allWorkingOn,
    cleanOldWorkers: workers.cleanOldWorkers,
    pauseQueue: paused.pauseQueue,
    resumeQueue: paused.resumeQueue,
    pausedQueues: paused.pausedQueues,
    stats: workers.stats,
    taskDetails: workers.taskDetails,
    recurring: recurring.recurring,
    stopRecurrentAction: recurring.stopRecurrentAction,
    startRecurrentAction: recurring.startRecurrentAction,
    summary: workerPages.summary,
    counters: workerPages.counters,
    queuedPage: (queue, options) => queuePages.queuedPage(queue, options?.offset, options?.limit),
    removeQueued: queuePages.removeQueued,
    delayedPage: (options) => queuePages.delayedPage(options?.offset, options?.limit),
    runDelayedNow: queuePages.runDelayedNow,
    removeDelayedJob: queuePages.removeDelayedJob,
    failedPage: failedPages.failedPage,
    findFailed: failedPages.findFailed,
    retryFailedWhere: (filter) => failedPages.failedWhere("retry", filter),
    removeFailedWhere: (filter) => failedPages.failedWhere("remove", filter),
    fanOuts: fanOuts.fanOuts,
    fanOutSummary: fanOuts.fanOutSummary,
    fanOutChildren: fanOuts.fanOutChildren,
    workerPage: workerPages.workerPage,
    reclaimStaleWorkers: workerPages.reclaimStaleWorkers,
    actionActivity: activity.actionActivity,
    recurringDetails: activity.recurringDetails
  })
}

/**
 * Builds the service on the runtime's Redis, its action registry and the worker middlewares in force.
 *
 * @category constructors
 */
export const make: Effect.Effect<Operations["Service"], never, Redis | ActionRegistry> = Effect.gen(function*() {
  const redis = yield* Redis
  const registry = yield* ActionRegistry
  const middlewares = yield* WorkerMiddleware.WorkerMiddleware
  return makeWith({
    redis,
    keys: redis.keys,
    entries: registry.entries,
    entry: registry.get,
    middlewareWrites: (completed, now) => WorkerMiddleware.writes(middlewares, completed, { keys: redis.keys, now })
  })
})

/**
 * The operations layer, on the Redis service and the action registry.
 *
 * @category layers
 */
export const layer: Layer.Layer<Operations, never, Redis | ActionRegistry> = Layer.effect(Operations, make)
