/**
 * The worker: a pool of Resque workers in one process, as fibers. Each slot registers as a Resque worker
 * named `host:pid.N` (unique across processes), drains its queues left to right (`*` for all), and records
 * what it does as node-resque does (workers set, ping, working-on record, stats, failed list), so
 * node-resque's and Resque's tools see our workers and their jobs.
 *
 * Per job: one script completes it (`internal/Completion.ts`: stats, failed record or retry, every
 * middleware's writes such as its fan-out outcome, the next copy of a recurring chain) and, in the same
 * atomic step, picks the slot's next job; an idle slot picks with a script of its own. A bad job (corrupt
 * payload, unknown action, inputs that fail the Schema, a failure, a defect, a timeout, a result that cannot
 * be encoded) fails into the failed list and the worker goes on.
 *
 * Jobs run with the runtime's own services (`Actions.Provided`) and the application's, so an action can
 * enqueue, fan out and inspect the queue that runs it.
 *
 * Interrupting the layer's scope stops picking up jobs, lets running ones finish within the grace period,
 * fails the rest with "shutdown", and unregisters the workers; every Redis call on that path has a deadline,
 * so shutdown ends even when Redis is unreachable.
 *
 * @since 0.1.0
 */
import { hostname } from "node:os"
import { Cause, Clock, Context, Deferred, Duration, Effect, Exit, Fiber, Layer, LogLevel, PubSub, Result, Schedule } from "effect"
import { type CorruptPayload, UnknownAction } from "../domain/Errors.ts"
import * as Job from "../domain/Job.ts"
import * as Outcome from "../domain/Outcome.ts"
import * as Resque from "../domain/Resque.ts"
import type { Entry } from "../internal/ActionEntry.ts"
import * as Completion from "../internal/Completion.ts"
import * as Pick from "../internal/Pick.ts"
import * as Recurring from "../internal/Recurring.ts"
import * as Retry from "../internal/Retry.ts"
import * as RunOutcome from "../internal/RunOutcome.ts"
import { ActionRegistry } from "./ActionRegistry.ts"
import * as Actions from "./Actions.ts"
import { Redis } from "./Redis.ts"
import * as WorkerMiddleware from "./WorkerMiddleware.ts"

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
  /** How often workers refresh their ping record (read by dead-worker checks). Default 5 s. */
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
  readonly job: Job.ParsedJob | undefined
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
  /** The queues it drains, in priority order (`*`: every queue). */
  readonly queues: ReadonlyArray<string>
  /**
   * Every job that ran (or could not run), published once its completion step is done: written, skipped
   * because a reclaim completed the job first, or given up after a Redis outage (the job then runs again).
   */
  readonly events: PubSub.PubSub<JobEvent>
  /** Slots holding a job now (picked, running, or being completed). */
  readonly busy: Effect.Effect<number>
}>()("effect-resque/Worker") {}

/** The options with their defaults, and the pool's worker names. */
interface Settings {
  readonly queues: ReadonlyArray<string>
  readonly queuesString: string
  readonly names: ReadonlyArray<string>
  readonly pollMillis: number
  readonly pingMillis: number
  readonly graceMillis: number
  /** The last part of the grace period (at most 1 s), kept for the writes of a shutdown. */
  readonly writeDeadline: number
}

/** The next free slot number in this process (worker names are `host:pid.N`). */
let nextSlot = 0

const settingsOf = (options: Options): Settings => {
  const queues = options.queues && options.queues.length > 0 ? options.queues : ["*"]
  const concurrency = Math.max(1, options.concurrency ?? 10)
  const graceMillis = Duration.toMillis(options.gracePeriod ?? "10 seconds")
  const base = options.name ?? `${hostname()}:${process.pid}`
  return {
    queues,
    queuesString: queues.join(","),
    // slot numbers are taken from a per-process counter: two pools in one process never share a name
    names: Array.from({ length: concurrency }, () => `${base}.${nextSlot++}`),
    pollMillis: Duration.toMillis(options.pollInterval ?? "50 millis"),
    pingMillis: Duration.toMillis(options.pingInterval ?? "5 seconds"),
    graceMillis,
    writeDeadline: Math.min(1000, Math.round(graceMillis / 4))
  }
}

/** What a slot keeps between jobs. */
interface Slot {
  readonly source: Pick.Source
  /** The last run_at it wrote: a slot's records never repeat, so a re-sent completion tells them apart. */
  lastRunAt: number
}

/** The run_at of a slot's next working-on record: now, and always later than its last one. */
const nextRunAt = (slot: Slot, now: number): string => {
  slot.lastRunAt = Math.max(now, slot.lastRunAt + 1)
  return new Date(slot.lastRunAt).toISOString()
}

/** What a job came to, and where its retry goes if it has one. */
interface Ran {
  readonly job: Job.ParsedJob | undefined
  readonly entry: Entry | undefined
  readonly outcome: Outcome.Outcome
  readonly retry?: { readonly queue: string; readonly payload: string; readonly at?: number } | undefined
  readonly end: number
}

/** A payload that cannot run: unreadable, or naming an action this worker does not know. */
const refusal = (parsed: Result.Result<Job.ParsedJob, CorruptPayload>): Outcome.Failure =>
  RunOutcome.refused(Result.isFailure(parsed) ? parsed.failure : new UnknownAction({ action: parsed.success.action }))

/**
 * The pool in the current scope.
 *
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const redis = yield* Redis
  const { keys } = redis
  const registry = yield* ActionRegistry
  const middlewares = yield* WorkerMiddleware.WorkerMiddleware
  const runtime = yield* Actions.runtimeContext
  const debug = yield* LogLevel.isEnabled("Debug")
  const settings = settingsOf(options)
  const { names, queues, queuesString } = settings
  const events = yield* PubSub.unbounded<JobEvent>()
  const stop = yield* Deferred.make<void>()
  const state = {
    // set with `stop`: read on every job, where a plain flag is cheaper than the Deferred
    stopping: false,
    // numbers the jobs of this pool, for the span's job id (`worker#n`)
    sequence: 0,
    // slots holding a job: from the pick that gave it to the completion that gave no next one
    busy: 0
  }

  const pingAll = Effect.gen(function*() {
    const seconds = Math.round((yield* Clock.currentTimeMillis) / 1000)
    // re-registering is idempotent, and brings back a slow worker that a scheduler took for dead
    yield* redis.multi(names.flatMap((name) => [
      ["set", keys.ping(name), Resque.pingRecord(name, queuesString, seconds)],
      ["sadd", keys.workers, Resque.member(name, queuesString)]
    ] as const))
  })

  const register = Effect.gen(function*() {
    const seconds = Math.round((yield* Clock.currentTimeMillis) / 1000)
    yield* redis.multi(names.flatMap((name) => [
      ["sadd", keys.workers, Resque.member(name, queuesString)],
      ["set", keys.started(name, queuesString), seconds]
    ] as const))
    yield* pingAll
  })

  const unregister = redis.multi(names.flatMap((name) => Completion.unregister(keys, name, queuesString)))

  /** Runs a job's action to an Exit: decode, run (with the runtime's services), encode the result. */
  const runAction = (entry: Entry, job: Job.ParsedJob, queue: string, worker: string) => {
    const fanOut = job.meta.fanOut
    const attempt = job.meta.attempt ?? 1
    const jobId = fanOut ? `${fanOut}:${job.meta.index}` : `${worker}#${++state.sequence}`
    return entry.decode(job.inputs).pipe(
      Effect.flatMap((decoded) => entry.execute(decoded, runtime)),
      Effect.flatMap(entry.encodeResult),
      Effect.withSpan(job.action, {
        attributes: fanOut
          ? { queue, attempt, worker, jobId, fanOut, index: job.meta.index }
          : { queue, attempt, worker, jobId }
      }, { captureStackTrace: false })
    )
  }

  /** What a failed run comes to: retried under the action's policy, or failed for good. */
  const failedRun = (entry: Entry, job: Job.ParsedJob, cause: Cause.Cause<unknown>, end: number, durationMs: number) =>
    Effect.gen(function*() {
      const failure = RunOutcome.failureOf(cause)
      const next = RunOutcome.retryable(failure) ? yield* Retry.nextAttempt(entry.action.retry, job) : undefined
      const outcome = RunOutcome.failed({ cause, encodeError: entry.encodeError, final: next === undefined, durationMs })
      return { job, entry, outcome, retry: next === undefined ? undefined : Retry.target(next, end), end } satisfies Ran
    })

  /** The completion of a job: its bookkeeping, the middlewares' writes, its chain's next copy, the next pick. */
  const planOf = (slot: Slot, picked: Pick.Picked, ran: Ran, pickNext: boolean): Completion.Plan => {
    const [queue, raw, record] = picked
    const { job, entry, outcome, end } = ran
    const worker = slot.source.worker
    const writes: Array<Completion.Write> = [
      ...Completion.bookkeeping(keys, { worker, queue, payload: raw, outcome, now: end, countForWorker: true, retry: ran.retry })
    ]
    if (job !== undefined) {
      writes.push(...WorkerMiddleware.writes(middlewares, { job, outcome, worker }, { keys, now: end }))
      const token = job.meta.recurrence
      if (token !== undefined && entry?.frequencyMillis !== undefined) {
        const chain = { action: job.action, queue: entry.queue, inputs: job.inputs, frequencyMillis: entry.frequencyMillis }
        writes.push(Completion.continueChain(keys, { chain, token, next: Recurring.newToken(), now: end }))
      }
    }
    return {
      mode: "worker",
      working: slot.source.working,
      expected: record,
      worker,
      writes,
      next: pickNext ? { source: slot.source, runAt: nextRunAt(slot, end) } : undefined
    }
  }

  // a job that ran must not be reported twice: retry the bookkeeping write, never the job. Keep trying
  // through a Redis outage (up to 5 minutes) unless the worker is stopping: a completion given up leaves
  // the working-on record, and the slot's next pick hands the job back (run again rather than lost)
  const retryFast = { schedule: Schedule.exponential("50 millis"), times: 4 }
  const retrySlow = { schedule: Schedule.spaced("1 second"), times: 300, while: () => !state.stopping }
  const completeReliably = (plan: Completion.Plan) =>
    redis.eval(Completion.complete, plan).pipe(
      Effect.retry(retryFast),
      Effect.retry(retrySlow),
      Effect.map((result) => (result._tag === "Completed" ? result.next : undefined)),
      Effect.catch((error) => Effect.as(Effect.logError("could not record job completion", error), undefined))
    )

  type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

  /**
   * Runs one picked job to an outcome, completes it and returns the next job picked with the completion.
   * The slot is uninterruptible but for the job itself (`restore`): a job interrupted on shutdown is failed.
   */
  const handle = (slot: Slot, picked: Pick.Picked, restore: Restore) =>
    Effect.gen(function*() {
      const [queue, raw] = picked
      const worker = slot.source.worker
      const startedAt = yield* Clock.currentTimeMillis
      const parsed = Job.parse(raw, queue)
      const job = Result.isSuccess(parsed) ? parsed.success : undefined
      const entry = job && registry.entries.get(job.action)
      let ran: Ran
      if (job === undefined || entry === undefined) {
        ran = { job, entry, outcome: refusal(parsed), end: startedAt }
      } else {
        const exit = yield* Effect.exit(restore(runAction(entry, job, queue, worker)))
        const end = yield* Clock.currentTimeMillis
        if (Exit.isSuccess(exit)) {
          ran = { job, entry, outcome: Outcome.success(exit.value, end - startedAt), end }
        } else if (state.stopping && Cause.hasInterrupts(exit.cause)) {
          // shutdown after the grace period: fail the job, pick nothing, and end the slot
          const shutdown = planOf(slot, picked, { job, entry, outcome: RunOutcome.shutdown, end }, false)
          yield* redis.eval(Completion.complete, shutdown).pipe(Effect.timeout(settings.writeDeadline), Effect.ignore)
          return undefined
        } else {
          ran = yield* failedRun(entry, job, exit.cause, end, end - startedAt)
        }
      }
      const next = yield* completeReliably(planOf(slot, picked, ran, !state.stopping))
      yield* PubSub.publish(events, { worker, queue, job, outcome: ran.outcome })
      if (debug) {
        yield* Effect.logDebug("job done").pipe(
          Effect.annotateLogs({ worker, queue, action: job?.action ?? "?", outcome: ran.outcome._tag })
        )
      }
      return next
    })

  const idle = Effect.raceFirst(Effect.sleep(settings.pollMillis), Deferred.await(stop))

  /** Waits after a failed pick, longer each time (up to 2 s), or until the pool stops. */
  const backOff = (failures: number) =>
    Effect.raceFirst(Effect.sleep(Math.min(settings.pollMillis * 2 ** failures, 2000)), Deferred.await(stop))

  const runSlot = (name: string) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        const slot: Slot = {
          source: { working: keys.working(name, queuesString), queuesKey: keys.queues, prefix: keys.queue(""), worker: name, queues },
          lastRunAt: 0
        }
        let failures = 0
        while (!state.stopping) {
          const runAt = nextRunAt(slot, yield* Clock.currentTimeMillis)
          const reply = yield* Effect.result(redis.eval(Pick.pick, { source: slot.source, runAt }))
          if (Result.isFailure(reply)) {
            failures++
            if (failures === 1) yield* Effect.logWarning(`worker ${name} cannot reach Redis`, reply.failure)
            yield* restore(backOff(failures))
            continue
          }
          failures = 0
          let current = reply.success
          if (current === undefined) {
            yield* restore(idle)
            continue
          }
          state.busy++
          // a job picked with a completion runs even when the pool is stopping: it is recorded as this slot's
          while (current !== undefined) current = yield* handle(slot, current, restore)
          state.busy--
        }
      })
    )

  const shutdown = (fibers: ReadonlyArray<Fiber.Fiber<void>>, pinger: Fiber.Fiber<unknown>) =>
    Effect.gen(function*() {
      state.stopping = true
      yield* Deferred.succeed(stop, undefined)
      const finished = yield* Fiber.joinAll(fibers).pipe(Effect.timeoutOption(settings.graceMillis - settings.writeDeadline))
      yield* Effect.gen(function*() {
        if (finished._tag === "None") {
          yield* Effect.logWarning(`shutdown grace period of ${settings.graceMillis} ms passed: failing unfinished jobs`)
          yield* Fiber.interruptAll(fibers)
        }
        yield* Fiber.interrupt(pinger)
        yield* unregister.pipe(Effect.ignore)
      }).pipe(Effect.timeout(settings.writeDeadline), Effect.ignore)
    })

  yield* register.pipe(Effect.tapError((error) => Effect.logError("could not register workers", error)), Effect.ignore)
  const pinger = yield* pingAll.pipe(Effect.ignore, Effect.repeat(Schedule.spaced(settings.pingMillis)), Effect.forkDetach)
  const fibers = yield* Effect.forEach(names, (name) => Effect.forkDetach(runSlot(name)))
  yield* Effect.addFinalizer(() => shutdown(fibers, pinger))

  return Worker.of({ names, queues, events, busy: Effect.sync(() => state.busy) })
})

/**
 * The worker layer, on the Resque queue layer (`Resque.layer`) and a Redis layer.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Worker, never, Redis | ActionRegistry | Actions.Provided> =>
  Layer.effect(Worker, make(options))
