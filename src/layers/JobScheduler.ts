/**
 * The job scheduler (named so beside Effect's own fiber `Scheduler`). Exactly one scheduler among all
 * processes holds the leader lock, with node-resque's key and semantics (`internal/SchedulerScripts.ts`), so
 * a fleet mixing ours and node-resque's elects one leader: on every poll it promotes due delayed jobs
 * (atomically, a batch per script call). This runtime's own duties are not node-resque's to do, and a plain
 * node-resque scheduler holding the leader lock must not stop them: they run under a second lock, the
 * duties lock, which only our schedulers take (both locks in one script call per poll). Its holder starts
 * recurring actions that have no live copy, reclaims the jobs of workers that stopped pinging (retried
 * under the action's policy, or failed with "worker died"; recorded through the worker middlewares, so into
 * its fan-out), and ends fan-outs whose deadline passed (`internal/FanOutDeadline.ts`).
 *
 * Closing the scope stops polling and releases the leader lock within `stopTimeout` (1 s by default), even
 * when Redis is unreachable.
 *
 * @since 0.1.0
 */
import { hostname } from "node:os"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Semaphore from "effect/Semaphore"
import type { RedisError } from "../domain/Errors.ts"
import * as ActionEntry from "../internal/ActionEntry.ts"
import * as Enqueue from "../internal/Enqueue.ts"
import * as FanOutDeadline from "../internal/FanOutDeadline.ts"
import * as OperationsRecurring from "../internal/OperationsRecurring.ts"
import * as Recurring from "../internal/Recurring.ts"
import * as SchedulerReclaim from "../internal/SchedulerReclaim.ts"
import * as SchedulerScripts from "../internal/SchedulerScripts.ts"
import { ActionRegistry } from "./ActionRegistry.ts"
import { Redis } from "./Redis.ts"
import * as WorkerMiddleware from "./WorkerMiddleware.ts"

/**
 * Scheduler options.
 *
 * @category models
 */
export interface Options {
  /** How often to poll for due delayed jobs and dead workers. Default 1 second. */
  readonly pollInterval?: Duration.Input
  /** How long the leader lock lives without renewal: the failover time when a leader dies. Default 60 s. */
  readonly leaderLockTimeout?: Duration.Input
  /**
   * A worker silent for this long is considered dead: it is unregistered and its job reclaimed (see
   * `retryStuckJobs`). Never less than three of that worker's own ping intervals (each pool records its
   * interval when it registers), so a live worker is never taken for dead. Default 1 minute.
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
  /**
   * How long stopping may take: the poll in progress is interrupted and the leader lock released within it
   * (when Redis does not answer in time the lock expires by itself after `leaderLockTimeout`). Beside a
   * worker pool in one `Layer.mergeAll`, both stop at once, so keep it at most the pool's grace period.
   * Default 1 second.
   */
  readonly stopTimeout?: Duration.Input
  /** Scheduler name in the leader lock; default `hostname:pid`. */
  readonly name?: string
}

/**
 * The running scheduler.
 *
 * @category services
 */
export class JobScheduler extends Context.Service<JobScheduler, {
  readonly name: string
  /** Whether this scheduler holds the leader lock right now (it promotes delayed jobs). */
  readonly isLeader: Effect.Effect<boolean>
  /** Whether it holds the duties lock right now (it runs recurring actions and reclaims dead workers). */
  readonly hasDuties: Effect.Effect<boolean>
  /** Starts any recurring action that has no live copy (the leader does this on every poll); returns how many. */
  readonly ensureRecurring: Effect.Effect<number, RedisError>
  /** Reclaims workers past the dead-worker timeout now (the leader does this on every poll); returns how many. */
  readonly reclaimStuckWorkers: Effect.Effect<number, RedisError>
}>()("effect-resque/JobScheduler") {}

/** Delayed jobs promoted per script call; the leader calls again while a call moves this many. */
const promoteBatch = 500

/**
 * The scheduler in the current scope.
 *
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const redis = yield* Redis
  const { keys } = redis
  const registry = yield* ActionRegistry
  const middlewares = yield* WorkerMiddleware.WorkerMiddleware
  const name = options.name ?? `${hostname()}:${process.pid}`
  const pollMillis = Math.max(1, Duration.toMillis(options.pollInterval ?? "1 second"))
  const lockSeconds = Math.max(1, Math.round(Duration.toMillis(options.leaderLockTimeout ?? "60 seconds") / 1000))
  const state = { leader: false, duties: false }

  const reclaimOptions: SchedulerReclaim.Options = {
    redis,
    keys,
    entries: registry.entries,
    middlewareWrites: (completed, now) => WorkerMiddleware.writes(middlewares, completed, { keys, now }),
    timeoutMillis: Duration.toMillis(options.stuckWorkerTimeout ?? "1 minute"),
    fallbackPolicy: options.retryStuckJobs
      ? { attempts: Math.max(1, options.stuckJobAttempts ?? 3), schedule: Schedule.spaced(0) }
      : undefined,
    scheduler: name
  }
  const reclaim = SchedulerReclaim.reclaimDeadWorkers(reclaimOptions)

  const recurringEntries = [...registry.entries.values()].filter(ActionEntry.recurs)

  const ensureRecurring = Effect.gen(function*() {
    const chains: Array<Recurring.Chain> = []
    for (const entry of recurringEntries) {
      const chain = yield* OperationsRecurring.chainOf(entry).pipe(
        Effect.tapError((error) => Effect.logError(`recurring action ${entry.name} needs inputs`, error)),
        Effect.option
      )
      if (chain._tag === "Some") chains.push(chain.value)
    }
    if (chains.length === 0) return 0
    const now = yield* Clock.currentTimeMillis
    const started = yield* redis.eval(Recurring.ensure, { keys, starts: Recurring.starts(chains, now), now })
    return started.filter(Boolean).length
  })

  /** Promotes every due delayed job, a batch per call. */
  const promoteDue = Effect.gen(function*() {
    const nowSeconds = Enqueue.promotedSecond(yield* Clock.currentTimeMillis)
    for (let i = 0; i < 10_000; i++) {
      const moved = yield* redis.eval(SchedulerScripts.promote, { keys, nowSeconds, limit: promoteBatch })
      if (moved < promoteBatch) return
    }
  })

  const lead = Effect.gen(function*() {
    const held = yield* redis.eval(SchedulerScripts.lead, { keys, name, seconds: lockSeconds })
    if (held.leader && !state.leader) yield* Effect.logInfo(`scheduler ${name} is the leader`)
    if (held.duties && !state.duties) yield* Effect.logInfo(`scheduler ${name} runs the recurring actions and the dead-worker reclaim`)
    state.leader = held.leader
    state.duties = held.duties
    return held
  })

  const warn = (what: string) => (error: RedisError) => Effect.logWarning(what, error)

  /**
   * One poll: take or renew the locks; as the leader, promote; with the duties, start recurring actions,
   * reclaim dead workers and end overdue fan-outs.
   */
  const poll = Effect.gen(function*() {
    const held = yield* lead
    if (held.leader) yield* promoteDue.pipe(Effect.catch(warn("could not promote delayed jobs")))
    if (!held.duties) return
    yield* ensureRecurring.pipe(Effect.catch(warn("could not start recurring actions")))
    yield* reclaim.pipe(
      Effect.tap((reclaimed) =>
        Effect.forEach(reclaimed, (r) =>
          Effect.logWarning(`reclaimed dead worker ${r.worker}`, r.action === undefined ? "idle" : `${r.action}: ${r.retried ? "re-enqueued" : "failed"}`), { discard: true })
      ),
      Effect.catch(warn("could not reclaim dead workers"))
    )
    yield* FanOutDeadline.endOverdueFanOuts(redis, keys).pipe(
      Effect.tap((ended) => ended > 0 ? Effect.logWarning(`ended ${ended} fan-out(s) at their deadline`) : Effect.void),
      Effect.catch(warn("could not end overdue fan-outs"))
    )
  }).pipe(Effect.catch(warn("scheduler poll failed")))

  const polling = yield* Semaphore.make(1)
  /** One poll at a time: the loop and a caller asking for a pass never interleave. */
  const exclusive = <A, E, R>(effect: Effect.Effect<A, E, R>) => polling.withPermits(1)(effect)

  // polls fall on multiples of the interval (with the default 1 s: just after each second begins, when that
  // second's delayed jobs and scheduled runs become due), not a poll's duration later each time
  const untilNextPoll = Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sleep(pollMillis - (now % pollMillis)))
  const loop = yield* Effect.forever(Effect.andThen(exclusive(poll), untilNextPoll)).pipe(Effect.forkDetach)
  const stopMillis = Duration.toMillis(options.stopTimeout ?? "1 second")
  yield* Effect.addFinalizer(() =>
    Fiber.interrupt(loop).pipe(
      Effect.andThen(redis.eval(SchedulerScripts.resign, { keys, name })),
      Effect.timeout(stopMillis),
      Effect.ignore,
      Effect.ensuring(Effect.sync(() => {
        state.leader = false
        state.duties = false
      }))
    )
  )

  const holds = (lock: string, known: () => boolean) =>
    Effect.map(redis.send<string | null>("get", lock), (current) => current === name).pipe(
      Effect.catch(() => Effect.sync(known))
    )
  const isLeader = holds(keys.leaderLock, () => state.leader)
  const hasDuties = holds(keys.dutiesLock, () => state.duties)

  return JobScheduler.of({
    name,
    isLeader,
    hasDuties,
    ensureRecurring: exclusive(ensureRecurring),
    reclaimStuckWorkers: exclusive(Effect.map(reclaim, (reclaimed) => reclaimed.length))
  })
})

/**
 * The scheduler layer.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<JobScheduler, never, Redis | ActionRegistry> => Layer.effect(JobScheduler, make(options))
