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
import { Context, type Duration, Effect, Layer, type Option } from "effect"
import type {
  CorruptPayload,
  FailedJobNotFound,
  InvalidInputs,
  NotRecurring,
  RedisError,
  UnknownAction,
  UnknownWorker
} from "../domain/Errors.ts"
import type * as Model from "../domain/Operations.ts"
import type { ActionRef, Context as OperationsContext } from "../internal/Operations.ts"
import * as OperationsFailed from "../internal/OperationsFailed.ts"
import * as OperationsQueues from "../internal/OperationsQueues.ts"
import * as OperationsRecurring from "../internal/OperationsRecurring.ts"
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
  /** Processed/failed counters (global and per worker) and per-action runs, failures and total duration. */
  readonly stats: Effect.Effect<Model.Stats, RedisError>
  /** The overview: queues with lengths, workers (with current job and counters), counters, leader. 1 round trip. */
  readonly taskDetails: Effect.Effect<Model.TaskDetails, RedisError>
}>()("effect-resque/Operations") {}

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
    stats: workers.stats,
    taskDetails: workers.taskDetails,
    recurring: recurring.recurring,
    stopRecurrentAction: recurring.stopRecurrentAction,
    startRecurrentAction: recurring.startRecurrentAction
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
