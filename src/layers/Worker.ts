/**
 * The worker: a pool of Resque workers in one process, as fibers. Each slot registers as a Resque worker
 * named `host:pid.N` (unique across processes), drains its queues left to right (`*` for all), and records
 * what it does exactly as node-resque does (workers set, ping, working-on, stats, failed list), so
 * node-resque's and Resque's tools see our workers and their stuck jobs.
 *
 * Per job: one round trip to pick it up (pop + working-on record, atomically) and one MULTI to complete it
 * (stats, failed record or retry, working-on cleared, and every middleware's writes, such as fan-out
 * results). A bad job (corrupt payload, unknown action, inputs that fail the Schema, a throw, a defect, a
 * timeout, a result that cannot be encoded) fails into the failed list and the worker goes on.
 *
 * Interrupting the layer's scope stops picking up jobs, lets running ones finish within the grace period,
 * fails the rest with "shutdown", and unregisters the workers; every Redis call on that path has a deadline,
 * so shutdown ends even when Redis is unreachable.
 *
 * @since 0.1.0
 */
import { hostname } from "node:os"
import { Clock, Context, Deferred, Duration, Effect, Exit, Fiber, Layer, PubSub, Schedule } from "effect"
import type { Redis as IORedis } from "ioredis"
import { CorruptPayload } from "../domain/Errors.ts"
import * as Outcome from "../domain/Outcome.ts"
import * as Payload from "../domain/Payload.ts"
import { pick, pickInMemory } from "../internal/pick.ts"
import * as Recurring from "../internal/recurring.ts"
import { nextAttempt } from "../internal/retry.ts"
import { ActionRegistry, causeMessage, type Entry } from "./ActionRegistry.ts"
import { addPushAt, exec } from "./Queue.ts"
import { Redis } from "./Redis.ts"
import { type CompletedJob, WorkerMiddleware } from "./WorkerMiddleware.ts"

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

interface Performed {
  readonly outcome: Outcome.Outcome
  readonly retryAt?: { readonly at: number; readonly payload: string } | undefined
}

const errorName = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
    ? error._tag
    : error instanceof Error
    ? error.name
    : "Error"

const backtraceOf = (error: unknown): ReadonlyArray<string> =>
  error instanceof Error && error.stack ? error.stack.split("\n").slice(1).map((line) => line.trim()) : []

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
  // ioredis-mock answers in microtasks: without a turn of the event loop between jobs, a busy pool would
  // starve every timer and every other fiber (scheduler, progress displays) until its queues are empty
  const letOthersRun = pkg === "ioredis-mock"
    ? Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    : Effect.void
  const registry = yield* ActionRegistry
  const middlewares = yield* WorkerMiddleware
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
  // numbers the jobs of this pool, for the span's job id (`worker#n`)
  let sequence = 0

  pick.define(client)
  for (const middleware of middlewares) for (const script of middleware.scripts ?? []) script.define(client)
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

  /** Completes a job in one MULTI: stats, failed record or retry, middleware writes, working-on cleared. */
  const complete = (name: string, queue: string, raw: string, job: Payload.ParsedJob | undefined, outcome: Outcome.Outcome, retryAt?: Performed["retryAt"]) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const tx = client.multi()
      const status = outcome._tag === "Success" ? "processed" : "failed"
      tx.incr(keys.stat(status)).incr(keys.stat(status, name))
      if (outcome._tag === "Failure" && outcome.final) {
        tx.rpush(keys.failed, JSON.stringify({
          worker: name,
          queue,
          payload: job ? JSON.parse(raw) : safeJson(raw),
          exception: outcome.exception,
          error: outcome.error,
          backtrace: outcome.backtrace,
          failed_at: new Date(now).toString()
        }))
      }
      if (retryAt) addPushAt(tx, keys, retryAt.at, retryAt.payload)
      if (job) {
        const completed: CompletedJob = { job, outcome, worker: name }
        for (const middleware of middlewares) middleware.onComplete(completed, tx, { client, keys, now })
        yield* rescheduleRecurring(tx, job, now)
      }
      tx.del(keys.working(name, queuesString))
      yield* exec(`complete job on ${queue}`, tx)
    })

  const rescheduleRecurring = (tx: ReturnType<IORedis["multi"]>, job: Payload.ParsedJob, now: number) =>
    Effect.gen(function*() {
      const token = job.meta.recurrence
      if (token === undefined) return
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
    })

  /** Runs one job to an outcome; never fails. */
  const perform = (name: string, queue: string, job: Payload.ParsedJob, entry: Entry, startedAt: number) =>
    Effect.gen(function*(): Effect.fn.Return<Performed> {
      const attempt = job.meta.attempt ?? 1
      const jobId = job.meta.fanOut ? `${job.meta.fanOut}:${job.meta.index}` : `${name}#${++sequence}`
      const exit = yield* entry.decode(job.inputs).pipe(
        Effect.flatMap((decoded) => entry.execute(decoded)),
        Effect.flatMap((result) => entry.encodeResult(result)),
        Effect.withSpan(job.action, {
          attributes: { queue, attempt, worker: name, jobId, ...(job.meta.fanOut ? { fanOut: job.meta.fanOut, index: job.meta.index } : {}) }
        }),
        Effect.exit
      )
      const durationMs = (yield* Clock.currentTimeMillis) - startedAt
      if (Exit.isSuccess(exit)) return { outcome: Outcome.success(exit.value, durationMs) }
      const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
      const failure = error?._tag === "Fail" ? error.error : undefined
      // defects and invalid inputs are not retried: another run would fail the same way
      const retry = failure !== undefined &&
          !(typeof failure === "object" && failure !== null && "_tag" in failure && failure._tag === "InvalidInputs")
        ? yield* nextAttempt(entry.action.retry, job, queue)
        : undefined
      const outcome = Outcome.failure({
        exception: failure === undefined ? "Defect" : errorName(failure),
        error: causeMessage(exit.cause),
        backtrace: backtraceOf(failure ?? exit.cause.reasons[0]),
        final: retry === undefined,
        durationMs
      })
      if (retry === undefined) return { outcome }
      return { outcome, retryAt: { at: startedAt + durationMs + retry.delayMillis, payload: retry.payload } }
    })

  /** Handles one picked-up payload from start to completion. */
  const handle = (name: string, queue: string, raw: string) =>
    Effect.gen(function*() {
      const startedAt = yield* Clock.currentTimeMillis
      const parsed = Payload.parse(raw, queue)
      const fail = (error: CorruptPayload | { readonly _tag: string; readonly message: string }): Performed =>
        ({ outcome: Outcome.failure({ exception: error._tag, error: error.message, backtrace: [], final: true, durationMs: 0 }) })
      const job = parsed._tag === "Success" ? parsed.success : undefined
      const result = job === undefined
        ? fail(parsed._tag === "Failure" ? parsed.failure : new CorruptPayload({ detail: "unreadable" }))
        : yield* registry.get(job.action).pipe(
          Effect.matchEffect({
            onFailure: (error) => Effect.succeed(fail(error)),
            onSuccess: (entry) =>
              perform(name, queue, job, entry, startedAt).pipe(
                Effect.onInterrupt(() =>
                  complete(name, queue, raw, job, Outcome.failure({
                    exception: "Shutdown",
                    error: "shutdown: the worker stopped before the job finished",
                    backtrace: [],
                    final: true,
                    durationMs: 0
                  })).pipe(Effect.timeout(writeDeadline), Effect.ignore)
                )
              )
          })
        )
      yield* complete(name, queue, raw, job, result.outcome, result.retryAt).pipe(
        // a job that ran must not be reported twice: retry the bookkeeping write, never the job. Keep trying
        // through a Redis outage (up to 5 minutes) unless the worker is stopping: a completion given up leaves
        // the working-on record, and the slot's next pick hands the job back (run again rather than lost)
        Effect.retry({ schedule: Schedule.exponential("50 millis"), times: 4 }),
        Effect.retry({ schedule: Schedule.spaced("1 second"), times: 300, while: () => Effect.map(Deferred.isDone(stop), (done) => !done) }),
        Effect.tapError((error) => Effect.logError("could not record job completion", error)),
        Effect.ignore,
        Effect.uninterruptible
      )
      yield* PubSub.publish(events, { worker: name, queue, job, outcome: result.outcome })
      yield* Effect.logDebug("job done").pipe(
        Effect.annotateLogs({ worker: name, queue, action: job?.action ?? "?", outcome: result.outcome._tag })
      )
    })

  const idle = Effect.raceFirst(Effect.sleep(pollMillis), Deferred.await(stop))

  const slot = (name: string) =>
    Effect.gen(function*() {
      const working = keys.working(name, queuesString)
      const args = [keys.queue(""), "", name, ...queues]
      let failures = 0
      while (!(yield* Deferred.isDone(stop))) {
        args[1] = new Date(yield* Clock.currentTimeMillis).toISOString()
        const picked = yield* Effect.tryPromise(() =>
          pkg === "ioredis-mock"
            ? pickInMemory(client, working, keys.queues, args[0] ?? "", args[1] ?? "", name, queues)
            : pick.run(client, [working, keys.queues], args)
        ).pipe(
          Effect.uninterruptible,
          Effect.result
        )
        if (picked._tag === "Failure") {
          failures++
          if (failures === 1) yield* Effect.logWarning(`worker ${name} cannot reach Redis`, picked.failure)
          yield* Effect.raceFirst(Effect.sleep(Math.min(pollMillis * 2 ** failures, 2000)), Deferred.await(stop))
          continue
        }
        failures = 0
        const reply = picked.success
        if (!Array.isArray(reply) || typeof reply[0] !== "string" || typeof reply[1] !== "string") {
          yield* idle
          continue
        }
        yield* handle(name, reply[0], reply[1])
        yield* letOthersRun
      }
    })

  yield* register.pipe(Effect.tapError((error) => Effect.logError("could not register workers", error)), Effect.ignore)
  const pinger = yield* pingAll.pipe(
    Effect.ignore,
    Effect.repeat(Schedule.spaced(pingMillis)),
    Effect.forkDetach
  )
  const fibers = yield* Effect.forEach(names, (name) => Effect.forkDetach(slot(name)))

  yield* Effect.addFinalizer(() =>
    Effect.gen(function*() {
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

const safeJson = (raw: string): unknown => {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}
