/**
 * The scheduler: node-resque's `Scheduler` on a connection of its own (it uses `WATCH`). Exactly one
 * scheduler among all processes holds the leader lock; the leader promotes delayed jobs, cleans up workers
 * that stopped pinging (their job goes to the failed list and, through the worker middlewares, into its
 * fan-out), and starts recurring actions that have no live copy.
 *
 * Closing the scope stops polling and releases the leader lock (with a deadline, so shutdown ends even when
 * Redis is unreachable).
 *
 * @since 0.1.0
 */
import { hostname } from "node:os"
import { Clock, Context, Duration, Effect, Layer, Ref } from "effect"
import { Scheduler as NodeResqueScheduler } from "node-resque"
import type { RedisError } from "../domain/Errors.ts"
import * as Outcome from "../domain/Outcome.ts"
import * as Payload from "../domain/Payload.ts"
import * as Recurring from "../internal/recurring.ts"
import { ActionRegistry } from "./ActionRegistry.ts"
import { call, exec } from "./Queue.ts"
import { Redis } from "./Redis.ts"
import { WorkerMiddleware } from "./WorkerMiddleware.ts"

/**
 * Scheduler options.
 *
 * @category models
 */
export interface Options {
  /** How often to poll for due delayed jobs and stuck workers. Default 1 second. */
  readonly pollInterval?: Duration.Input
  /** How long the leader lock lives without renewal: the failover time when a leader dies. Default 60 s. */
  readonly leaderLockTimeout?: Duration.Input
  /** A worker silent for this long is considered dead and its job failed. Default 1 hour. */
  readonly stuckWorkerTimeout?: Duration.Input
  /** Re-enqueue the jobs of dead workers instead of leaving them failed. Default false. */
  readonly retryStuckJobs?: boolean
  /** Scheduler name in the leader lock; default `hostname:pid`. */
  readonly name?: string
}

/**
 * The running scheduler.
 *
 * @category services
 */
export class Scheduler extends Context.Service<Scheduler, {
  readonly name: string
  /** Whether this process holds the leader lock right now. */
  readonly isLeader: Effect.Effect<boolean>
  /** Starts any recurring action that has no live copy (the leader does this on every poll). */
  readonly ensureRecurring: Effect.Effect<number, RedisError>
}>()("effect-resque/Scheduler") {}

/**
 * The scheduler layer.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Scheduler, never, Redis | ActionRegistry> =>
  Layer.effect(Scheduler, make(options))

/**
 * Starts the scheduler in the current scope.
 *
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const redis = yield* Redis
  const { keys, pkg } = redis
  const registry = yield* ActionRegistry
  const middlewares = yield* WorkerMiddleware
  const name = options.name ?? `${hostname()}:${process.pid}`
  const retryStuckJobs = options.retryStuckJobs ?? false
  const leader = yield* Ref.make(false)
  const connection = yield* redis.connect.pipe(Effect.orDie)
  Recurring.ensure.define(connection)
  for (const middleware of middlewares) for (const script of middleware.scripts ?? []) script.define(connection)

  const scheduler = new NodeResqueScheduler({
    connection: { redis: connection, pkg, namespace: keys.namespace },
    name,
    timeout: Duration.toMillis(options.pollInterval ?? "1 second"),
    leaderLockTimeout: Math.max(1, Math.round(Duration.toMillis(options.leaderLockTimeout ?? "60 seconds") / 1000)),
    stuckWorkerTimeout: Duration.toMillis(options.stuckWorkerTimeout ?? "1 hour"),
    retryStuckJobs
  })

  const recurringEntries = [...registry.entries.values()].filter((entry) => entry.frequencyMillis !== undefined)

  const ensureRecurring = Effect.gen(function*() {
    if (recurringEntries.length === 0) return 0
    const tx = connection.pipeline()
    for (const entry of recurringEntries) {
      const inputs = yield* entry.normalize({}).pipe(
        Effect.tapError((error) => Effect.logError(`recurring action ${entry.action.name} needs inputs`, error)),
        Effect.option
      )
      if (inputs._tag === "None") continue
      const queue = entry.action.task?.queue ?? "default"
      const token = Recurring.newToken()
      Recurring.ensure.queue(connection, tx, [
        keys.recurring(entry.action.name),
        keys.recurringStopped(entry.action.name),
        keys.queue(queue),
        keys.queues
      ], [token, Recurring.payload(queue, entry.action.name, inputs.value, token), queue, Recurring.markerTtlMillis(entry.frequencyMillis ?? 0)])
    }
    const replies = yield* exec("start recurring actions", tx)
    return replies.filter((reply) => reply === 1).length
  })

  /** A dead worker's job is failed by node-resque; record that outcome through the middlewares (fan-out). */
  const recordStuckJob = (payload: unknown, delta: number) =>
    Effect.gen(function*() {
      const parsed = Payload.fromObject(payload)
      if (parsed._tag === "Failure") return
      const job = parsed.success
      const now = yield* Clock.currentTimeMillis
      const outcome = Outcome.failure({
        exception: "WorkerDied",
        error: `worker died: no ping for ${delta} s`,
        backtrace: [],
        final: !retryStuckJobs,
        durationMs: 0
      })
      const tx = connection.multi()
      for (const middleware of middlewares) middleware.onComplete({ job, outcome, worker: "scheduler" }, tx, { client: connection, keys, now })
      yield* exec("record stuck job", tx)
    })

  const context = yield* Effect.context<never>()
  const runFork = Effect.runForkWith(context)
  scheduler.on("error", (error) => runFork(Effect.logWarning("scheduler error", error)))
  scheduler.on("leader", () => runFork(Effect.andThen(Ref.set(leader, true), Effect.logInfo(`scheduler ${name} is the leader`))))
  scheduler.on("poll", () =>
    runFork(Ref.set(leader, true).pipe(
      Effect.andThen(ensureRecurring),
      Effect.catch((error) => Effect.logWarning("could not start recurring actions", error))
    ))
  )
  scheduler.on("cleanStuckWorker", (worker: string, errorPayload: { readonly payload?: unknown } | undefined, delta: number) =>
    runFork(Effect.logWarning(`cleaned up dead worker ${worker}`).pipe(
      Effect.andThen(errorPayload?.payload === undefined ? Effect.void : recordStuckJob(errorPayload.payload, delta)),
      Effect.catch((error) => Effect.logError("could not record the job of a dead worker", error))
    ))
  )

  yield* Effect.acquireRelease(
    call("connect scheduler", async () => {
      await scheduler.connect()
      await scheduler.start()
    }),
    () =>
      call("stop scheduler", () => scheduler.end()).pipe(
        Effect.timeout("5 seconds"),
        Effect.ignore,
        Effect.andThen(Ref.set(leader, false))
      )
  ).pipe(Effect.orDie)

  const isLeader = Effect.map(
    call("read leader", () => connection.get(keys.leaderLock)),
    (current) => current === name
  ).pipe(Effect.catch(() => Ref.get(leader)))

  return Scheduler.of({ name, isLeader, ensureRecurring })
})
