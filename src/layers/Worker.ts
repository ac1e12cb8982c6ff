/**
 * The worker: a pool of Resque workers in one process, as fibers. Each slot registers as a Resque worker
 * named `host:pid.N` (unique across processes), drains its queues left to right (`*` for all), and records
 * what it does exactly as node-resque does (workers set, ping, working-on, stats, failed list), so
 * node-resque's and Resque's tools see our workers and their stuck jobs.
 *
 * Per job: one MULTI completes it (stats, failed record or retry, every middleware's writes, such as fan-out
 * results) and, in the same atomic step, picks the slot's next job (pop + working-on record); an idle slot
 * picks with a script of its own. A bad job (corrupt payload, unknown action, inputs that fail the Schema, a throw, a defect, a
 * timeout, a result that cannot be encoded) fails into the failed list and the worker goes on.
 *
 * Interrupting the layer's scope stops picking up jobs, lets running ones finish within the grace period,
 * fails the rest with "shutdown", and unregisters the workers; every Redis call on that path has a deadline,
 * so shutdown ends even when Redis is unreachable.
 *
 * @since 0.1.0
 */
import { hostname } from "node:os"
import { Cause, Clock, Context, Deferred, Duration, Effect, Exit, Fiber, Layer, LogLevel, PubSub, Schedule } from "effect"
import type { ChainableCommander } from "ioredis"
import { CorruptPayload, RedisError, UnknownAction } from "../domain/Errors.ts"
import * as Outcome from "../domain/Outcome.ts"
import * as Payload from "../domain/Payload.ts"
import { completeAndPick, completeAndPickInMemory, pick, type Picked, picked, pickInMemory, type Source } from "../internal/pick.ts"
import * as Recurring from "../internal/recurring.ts"
import { failed, failedEntry, failureOf, retryable, shutdown } from "../internal/jobFailure.ts"
import { nextAttempt } from "../internal/retry.ts"
import { ActionRegistry } from "./ActionRegistry.ts"
import { addPushAt, exec } from "./Queue.ts"
import { Redis } from "./Redis.ts"
import { type CompletedJob, defineScripts, WorkerMiddleware } from "./WorkerMiddleware.ts"

/**
 * Worker options.
 *
 * @category models
 */
export interface Options {
  /** Queues in priority order; `["*"]` (default) drains every queue. */
  readonly queues?: ReadonlyArray<string>
  /** Jobs run at once in this process (one Resque worker each). Default 10. */
  readonly concurrency?: number
  /** How long an idle worker waits before looking again. Default 50 ms. */
  readonly pollInterval?: Duration.Input
  /** How often workers refresh their ping record (read by stuck-worker checks). Default 5 s. */
  readonly pingInterval?: Duration.Input
  /** How long running jobs may take to finish on shutdown before they are failed. Default 10 s. */
  readonly gracePeriod?: Duration.Input
  /** Base worker name; default `hostname:pid`. Slots are named `BASE.N`. */
  readonly name?: string
}

/**
 * Something a worker did, for progress displays and tests.
 *
 * @category models
 */
export interface JobEvent {
  readonly worker: string
  readonly queue: string
  readonly job: Payload.ParsedJob | undefined
  readonly outcome: Outcome.Outcome
}

/**
 * The running worker pool.
 *
 * @category services
 */
export class Worker extends Context.Service<Worker, {
  /** Resque names of this pool's workers. */
  readonly names: ReadonlyArray<string>
  /** Every completed job, published after its completion is written. */
  readonly events: PubSub.PubSub<JobEvent>
}>()("effect-resque/Worker") {}

/** A job's outcome and what its completion writes; `runAt` is the run_at of the next job's record. */
interface Done {
  readonly job: Payload.ParsedJob | undefined
  readonly outcome: Outcome.Outcome
  readonly retryAt?: { readonly at: number; readonly payload: string } | undefined
  readonly now: number
  readonly runAt: string
}

/** A slot's pick source; `lastRunAt` keeps its records' run_at strictly increasing. */
interface SlotSource extends Source {
  lastRunAt: number
}

type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/** The next free slot number in this process (worker names are `host:pid.N`). */
let nextSlot = 0

/**
 * The worker layer. It needs the registry of actions it can run; a payload naming any other class fails.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Worker, never, Redis | ActionRegistry> =>
  Layer.effect(Worker, make(options))

/**
 * Starts the pool in the current scope.
 *
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const { client, keys, pkg } = yield* Redis
  const inMemory = pkg === "ioredis-mock"
  // ioredis-mock answers in microtasks: without a turn of the event loop between jobs, a busy pool would
  // starve every timer and every other fiber (scheduler, progress displays) until its queues are empty
  const letOthersRun = inMemory ? Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve))) : undefined
  const registry = yield* ActionRegistry
  const middlewares = yield* WorkerMiddleware
  const debug = yield* LogLevel.isEnabled("Debug")
  const queues = options.queues && options.queues.length > 0 ? options.queues : ["*"]
  const queuesString = queues.join(",")
  const concurrency = Math.max(1, options.concurrency ?? 10)
  const pollMillis = Duration.toMillis(options.pollInterval ?? "50 millis")
  const pingMillis = Duration.toMillis(options.pingInterval ?? "5 seconds")
  const graceMillis = Duration.toMillis(options.gracePeriod ?? "10 seconds")
  // shutdown ends within the grace period, Redis reachable or not: the last part of it (at most 1 s) is kept
  // for the bookkeeping writes (failing unfinished jobs, unregistering), the rest is for running jobs
  const writeDeadline = Math.min(1000, Math.round(graceMillis / 4))
  const jobsGraceMillis = graceMillis - writeDeadline
  const base = options.name ?? `${hostname()}:${process.pid}`
  // slot numbers are taken from a per-process counter: two pools in one process never share a name
  const names = Array.from({ length: concurrency }, () => `${base}.${nextSlot++}`)
  const events = yield* PubSub.unbounded<JobEvent>()
  const stop = yield* Deferred.make<void>()
  // set with `stop`: read on every job, where a plain flag is cheaper than the Deferred
  let stopping = false
  // numbers the jobs of this pool, for the span's job id (`worker#n`)
  let sequence = 0

  pick.define(client)
  completeAndPick.define(client)
  defineScripts(middlewares, client)
  Recurring.reschedule.define(client)

  const pingAll = Effect.gen(function*() {
    const time = Math.round((yield* Clock.currentTimeMillis) / 1000)
    const tx = client.multi()
    for (const name of names) {
      // re-registering is idempotent, and brings back a slow worker that a scheduler took for dead
      tx.set(keys.ping(name), JSON.stringify({ time, name, queues: queuesString })).sadd(keys.workers, `${name}:${queuesString}`)
    }
    yield* exec("worker ping", tx)
  })

  const register = Effect.gen(function*() {
    const seconds = Math.round((yield* Clock.currentTimeMillis) / 1000)
    const tx = client.multi()
    for (const name of names) {
      tx.sadd(keys.workers, `${name}:${queuesString}`).set(keys.started(name, queuesString), seconds)
    }
    yield* exec("register workers", tx)
    yield* pingAll
  })

  const unregister = Effect.gen(function*() {
    const tx = client.multi()
    for (const name of names) {
      tx.srem(keys.workers, `${name}:${queuesString}`)
        .del(keys.ping(name), keys.working(name, queuesString), keys.started(name, queuesString))
        .del(keys.stat("failed", name), keys.stat("processed", name))
    }
    yield* exec("unregister workers", tx)
  })

  /**
   * Completes a job in one MULTI (failed record or retry, middleware writes, stats, working-on record) that
   * also picks the slot's next job, unless the pool is stopping. Safe to run twice (see `completeAndPick`).
   */
  const complete = (source: SlotSource, current: Picked, done: Done) =>
    Effect.suspend(() => {
      const [queue, raw, record] = current
      const { job, outcome, now, runAt } = done
      const name = source.worker
      const tx = client.multi()
      const status = outcome._tag === "Success" ? "processed" : "failed"
      if (outcome._tag === "Failure" && outcome.final) tx.rpush(keys.failed, failedEntry(name, queue, raw, outcome, now))
      if (done.retryAt) addPushAt(tx, keys, done.retryAt.at, done.retryAt.payload)
      if (job) {
        const completed: CompletedJob = { job, outcome, worker: name }
        for (const middleware of middlewares) middleware.onComplete(completed, tx, { client, keys, now })
        if (job.meta.recurrence !== undefined) rescheduleRecurring(tx, job, job.meta.recurrence, now)
      }
      const next = !stopping
      if (inMemory) {
        tx.incr(keys.stat(status)).incr(keys.stat(status, name))
        return exec(`complete job on ${queue}`, tx).pipe(Effect.andThen(Effect.tryPromise({
          try: () => completeAndPickInMemory(client, source, record, next, runAt),
          catch: (cause) => new RedisError({ op: `complete job on ${queue}`, cause })
        })))
      }
      completeAndPick.queue(client, tx, [source.working, keys.queues, keys.stat(status), keys.stat(status, name)], [
        record,
        next ? "pick" : "stop",
        source.prefix,
        runAt,
        name,
        ...queues
      ])
      return Effect.map(exec(`complete job on ${queue}`, tx), (replies) => picked(replies[replies.length - 1]))
    })

  const rescheduleRecurring = (tx: ChainableCommander, job: Payload.ParsedJob, token: string, now: number) => {
    const entry = registry.entries.get(job.action)
    const frequency = entry?.frequencyMillis
    if (entry === undefined || frequency === undefined) return
    const queue = entry.action.task?.queue ?? job.queue
    const next = Recurring.newToken()
    const payload = Recurring.payload(queue, job.action, job.inputs, next)
    const seconds = Recurring.dueSecond(now + frequency)
    Recurring.reschedule.queue(client, tx, [
      keys.recurring(job.action),
      keys.delayed(seconds),
      keys.timestamps(payload),
      keys.delayedSchedule
    ], [token, next, payload, seconds, Recurring.markerTtlMillis(frequency)])
  }

  // a job that ran must not be reported twice: retry the bookkeeping write, never the job. Keep trying
  // through a Redis outage (up to 5 minutes) unless the worker is stopping: a completion given up leaves
  // the working-on record, and the slot's next pick hands the job back (run again rather than lost)
  const retryFast = { schedule: Schedule.exponential("50 millis"), times: 4 }
  const retrySlow = { schedule: Schedule.spaced("1 second"), times: 300, while: () => !stopping }
  const completeReliably = (source: SlotSource, current: Picked, done: Done) =>
    complete(source, current, done).pipe(
      Effect.retry(retryFast),
      Effect.retry(retrySlow),
      Effect.catch((error) => Effect.as(Effect.logError("could not record job completion", error), undefined))
    )

  /**
   * Runs one picked job to an outcome, completes it and returns the next job picked with the completion.
   * The slot is uninterruptible but for the job itself (`restore`): a job interrupted on shutdown is failed.
   */
  const handle = (source: SlotSource, current: Picked, restore: Restore) =>
    Effect.gen(function*() {
      const [queue, raw] = current
      const name = source.worker
      const startedAt = yield* Clock.currentTimeMillis
      const parsed = Payload.parse(raw, queue)
      const job = parsed._tag === "Success" ? parsed.success : undefined
      const entry = job && registry.entries.get(job.action)
      let outcome: Outcome.Outcome
      let retryAt: Done["retryAt"]
      let end = startedAt
      if (job === undefined || entry === undefined) {
        const error = job === undefined
          ? parsed._tag === "Failure" ? parsed.failure : new CorruptPayload({ detail: "unreadable" })
          : new UnknownAction({ action: job.action })
        outcome = Outcome.failure({ exception: error._tag, error: error.message, backtrace: [], final: true, durationMs: 0 })
      } else {
        const fanOut = job.meta.fanOut
        const attempt = job.meta.attempt ?? 1
        const jobId = fanOut ? `${fanOut}:${job.meta.index}` : `${name}#${++sequence}`
        const exit = yield* restore(entry.decode(job.inputs).pipe(
          Effect.flatMap(entry.execute),
          Effect.flatMap(entry.encodeResult),
          Effect.withSpan(job.action, {
            attributes: fanOut
              ? { queue, attempt, worker: name, jobId, fanOut, index: job.meta.index }
              : { queue, attempt, worker: name, jobId }
          }, { captureStackTrace: false })
        )).pipe(Effect.exit)
        end = yield* Clock.currentTimeMillis
        const durationMs = end - startedAt
        if (Exit.isSuccess(exit)) {
          outcome = Outcome.success(exit.value, durationMs)
        } else if (stopping && Cause.hasInterrupts(exit.cause)) {
          // shutdown after the grace period: fail the job, pick nothing, and end the slot
          yield* complete(source, current, { job, outcome: shutdown, now: end, runAt: "" }).pipe(Effect.timeout(writeDeadline), Effect.ignore)
          return undefined
        } else {
          const failure = failureOf(exit.cause)
          const retry = retryable(failure) ? yield* nextAttempt(entry.action.retry, job, queue) : undefined
          outcome = failed(exit.cause, failure, retry === undefined, durationMs)
          if (retry !== undefined) retryAt = { at: end + retry.delayMillis, payload: retry.payload }
        }
      }
      // run_at of the next pick: a slot's records never repeat, so a re-sent completion tells them apart
      source.lastRunAt = Math.max(end, source.lastRunAt + 1)
      const next = yield* completeReliably(source, current, { job, outcome, retryAt, now: end, runAt: new Date(source.lastRunAt).toISOString() })
      yield* PubSub.publish(events, { worker: name, queue, job, outcome })
      if (debug) {
        yield* Effect.logDebug("job done").pipe(
          Effect.annotateLogs({ worker: name, queue, action: job?.action ?? "?", outcome: outcome._tag })
        )
      }
      return next
    })

  const idle = Effect.raceFirst(Effect.sleep(pollMillis), Deferred.await(stop))

  const slot = (name: string) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        const source: SlotSource = { working: keys.working(name, queuesString), queuesKey: keys.queues, prefix: keys.queue(""), worker: name, queues, lastRunAt: 0 }
        let failures = 0
        while (!stopping) {
          source.lastRunAt = Math.max(yield* Clock.currentTimeMillis, source.lastRunAt + 1)
          const runAt = new Date(source.lastRunAt).toISOString()
          const reply = yield* Effect.result(Effect.tryPromise(() =>
            inMemory
              ? pickInMemory(client, source, runAt)
              : pick.run(client, [source.working, keys.queues], [source.prefix, runAt, name, ...queues])
          ))
          if (reply._tag === "Failure") {
            failures++
            if (failures === 1) yield* Effect.logWarning(`worker ${name} cannot reach Redis`, reply.failure)
            yield* restore(Effect.raceFirst(Effect.sleep(Math.min(pollMillis * 2 ** failures, 2000)), Deferred.await(stop)))
            continue
          }
          failures = 0
          let current = picked(reply.success)
          if (current === undefined) yield* restore(idle)
          // a job picked with a completion runs even when the pool is stopping: it is recorded as this slot's
          while (current !== undefined) {
            current = yield* handle(source, current, restore)
            if (letOthersRun) yield* letOthersRun
          }
        }
      })
    )

  yield* register.pipe(Effect.tapError((error) => Effect.logError("could not register workers", error)), Effect.ignore)
  const pinger = yield* pingAll.pipe(
    Effect.ignore,
    Effect.repeat(Schedule.spaced(pingMillis)),
    Effect.forkDetach
  )
  const fibers = yield* Effect.forEach(names, (name) => Effect.forkDetach(slot(name)))

  yield* Effect.addFinalizer(() =>
    Effect.gen(function*() {
      stopping = true
      yield* Deferred.succeed(stop, undefined)
      const finished = yield* Fiber.joinAll(fibers).pipe(Effect.timeoutOption(jobsGraceMillis))
      yield* Effect.gen(function*() {
        if (finished._tag === "None") {
          yield* Effect.logWarning(`shutdown grace period of ${graceMillis} ms passed: failing unfinished jobs`)
          yield* Fiber.interruptAll(fibers)
        }
        yield* Fiber.interrupt(pinger)
        yield* unregister.pipe(Effect.ignore)
      }).pipe(Effect.timeout(writeDeadline), Effect.ignore)
    })
  )

  return Worker.of({ names, events })
})
