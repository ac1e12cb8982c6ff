/**
 * The scheduler: node-resque's `Scheduler` on a connection of its own (it uses `WATCH`). Exactly one
 * scheduler among all processes holds the leader lock; the leader promotes delayed jobs, reclaims the jobs of
 * workers that stopped pinging (retried under the action's policy, or failed with "worker died"; recorded
 * through the worker middlewares, so into its fan-out), and starts recurring actions that have no live copy.
 *
 * Closing the scope stops polling and releases the leader lock (with a deadline, so shutdown ends even when
 * Redis is unreachable).
 *
 * @since 0.1.0
 */
import { hostname } from "node:os"
import { Context, Duration, Effect, Layer, Ref, Schedule, Semaphore } from "effect"
import { Scheduler as NodeResqueScheduler } from "node-resque"
import type { RedisError } from "../domain/Errors.ts"
import * as Recurring from "../internal/recurring.ts"
import * as Promote from "../internal/promote.ts"
import { reclaimStuckWorkers } from "../internal/reclaim.ts"
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
  /**
   * A worker silent for this long is considered dead: it is unregistered and its job reclaimed (see
   * `retryStuckJobs`). Keep it well above the workers' ping interval. Default 1 hour.
   */
  readonly stuckWorkerTimeout?: Duration.Input
  /**
   * What happens to the job of a dead worker. It always follows its action's retry policy first (attempt + 1,
   * with the policy's delay). For an action without one: `true` re-enqueues it at once, up to
   * `stuckJobAttempts` runs in all; `false` (default) fails it with "worker died". A final failure is
   * recorded in the failed list and in its fan-out, like any failed job.
   */
  readonly retryStuckJobs?: boolean
  /** Runs in all for a dead worker's job when `retryStuckJobs` applies. Default 3. */
  readonly stuckJobAttempts?: number
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
  /** Reclaims workers past the stuck-worker timeout now (the leader does this on every poll); returns how many. */
  readonly reclaimStuckWorkers: Effect.Effect<number, RedisError>
}>()("effect-resque/Scheduler") {}

/**
 * The scheduler layer.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Scheduler, RedisError, Redis | ActionRegistry> =>
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
  // a connection that cannot be opened is a typed RedisError, as for the main client (not a defect)
  const connection = yield* redis.connect
  // reclaiming dead workers WATCHes keys: a connection of its own, so node-resque's WATCH never interleaves
  const reclaimConnection = yield* redis.connect
  Recurring.ensure.define(connection)
  Promote.promote.define(connection)
  for (const middleware of middlewares) {
    for (const script of middleware.scripts ?? []) {
      script.define(connection)
      script.define(reclaimConnection)
    }
  }

  const scheduler = new NodeResqueScheduler({
    connection: { redis: connection, pkg, namespace: keys.namespace },
    name,
    timeout: Duration.toMillis(options.pollInterval ?? "1 second"),
    leaderLockTimeout: Math.max(1, Math.round(Duration.toMillis(options.leaderLockTimeout ?? "60 seconds") / 1000)),
    // 0 turns off node-resque's own stuck-worker check: `reclaim` below does it, atomically
    stuckWorkerTimeout: 0,
    retryStuckJobs: false
  })
  // node-resque promotes a delayed job in two round trips (LPOP, then enqueue): a leader killed in between
  // loses the job. Its (private) per-timestamp step is replaced by one atomic script.
  Reflect.set(scheduler, "enqueueDelayedItemsForTimestamp", async (timestamp: number) => {
    for (let i = 0; i < 10_000; i++) {
      const moved = await Promote.promote.run(connection, [keys.delayed(timestamp), keys.delayedSchedule, keys.queues], [
        timestamp,
        keys.queue(""),
        keys.key("timestamps:"),
        Promote.BATCH
      ])
      if (Number(moved) < Promote.BATCH) return
    }
  })
  const reclaimOptions = {
    connection: reclaimConnection,
    keys,
    registry,
    middlewares,
    timeoutMillis: Duration.toMillis(options.stuckWorkerTimeout ?? "1 hour"),
    fallbackPolicy: retryStuckJobs
      ? { attempts: Math.max(1, options.stuckJobAttempts ?? 3), schedule: Schedule.spaced(0) }
      : undefined,
    scheduler: name
  }
  const reclaiming = yield* Semaphore.make(1)
  /** One pass at a time: a pass still running when the next poll comes is not doubled. */
  const reclaim = reclaimStuckWorkers(reclaimOptions).pipe(
    Effect.tap((reclaimed) =>
      Effect.forEach(reclaimed, (r) =>
        Effect.logWarning(`reclaimed dead worker ${r.worker}`, r.action === undefined ? "idle" : `${r.action}: ${r.retried ? "re-enqueued" : "failed"}`), { discard: true })
    ),
    Effect.catch((error) => Effect.logWarning("could not reclaim dead workers", error)),
    reclaiming.withPermitsIfAvailable(1)
  )

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

  const context = yield* Effect.context<never>()
  const runFork = Effect.runForkWith(context)
  scheduler.on("error", (error) => runFork(Effect.logWarning("scheduler error", error)))
  scheduler.on("leader", () => runFork(Effect.andThen(Ref.set(leader, true), Effect.logInfo(`scheduler ${name} is the leader`))))
  scheduler.on("poll", () =>
    runFork(Ref.set(leader, true).pipe(
      Effect.andThen(ensureRecurring),
      Effect.catch((error) => Effect.logWarning("could not start recurring actions", error)),
      Effect.andThen(reclaim)
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
  )

  const isLeader = Effect.map(
    call("read leader", () => connection.get(keys.leaderLock)),
    (current) => current === name
  ).pipe(Effect.catch(() => Ref.get(leader)))

  return Scheduler.of({ name, isLeader, ensureRecurring, reclaimStuckWorkers: Effect.map(reclaimStuckWorkers(reclaimOptions), (r) => r.length) })
})
