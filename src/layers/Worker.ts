/**
 * The worker: a pool of Resque workers in one process. Each slot registers as a Resque worker named
 * `host~effect:pid.N` (unique across processes; `defaultName` says why the host part is marked), drains
 * its queues left to right (`*` for all), and keeps the records node-resque and Ruby Resque keep (workers
 * set, ping, heartbeat, start time, working-on record, counters, failed list), so node-resque's and Resque's
 * tools (resque-web) see each slot and the job it runs.
 *
 * The Redis work is done per pool, not per slot:
 *
 * - **Picking.** One script fills every idle slot (`internal/Pick.ts`: one job each, each slot's record
 *   written in the same step). When the queues are empty the pool blocks on the wake-up marker (`BZPOPMIN` on
 *   a connection of its own) that every write path of this runtime adds to, so a new job starts at once and
 *   an idle pool sends one command per poll interval; jobs written by other Resque clients, which do not wake
 *   it, are found when the poll interval passes.
 * - **Completing.** A job's completion is data (`internal/Completion.ts`: stats, failed record or retry,
 *   every middleware's writes, its recurring chain's next copy); completions that finish close together are
 *   written by one script (group commit), each still atomic and guarded by its slot's record, which also
 *   picks each slot's next job.
 *
 * A bad job (corrupt payload, unknown action, inputs that fail the Schema, a failure, a defect, a timeout, a
 * result that cannot be encoded) fails into the failed list and the worker goes on. Jobs run with the
 * runtime's own services (`Actions.Provided`) and the application's, so an action can enqueue, fan out and
 * inspect the queue that runs it.
 *
 * Interrupting the layer's scope stops picking up jobs, lets running ones finish within the grace period,
 * fails the rest with "shutdown", and unregisters the workers; the whole stop, a pick in flight included,
 * ends within the grace period, even when Redis is unreachable.
 *
 * @since 0.1.0
 */
import { hostname } from "node:os"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Semaphore from "effect/Semaphore"
import type * as Action from "../domain/Action.ts"
import { type CorruptPayload, UnknownAction } from "../domain/Errors.ts"
import type * as Hooks from "../domain/Hooks.ts"
import * as Job from "../domain/Job.ts"
import * as Outcome from "../domain/Outcome.ts"
import type { Entry } from "../internal/ActionEntry.ts"
import * as CancelListener from "../internal/CancelListener.ts"
import * as Completion from "../internal/Completion.ts"
import * as JobLog from "../internal/JobLog.ts"
import type { Connection } from "../internal/Connection.ts"
import * as HandBack from "../internal/HandBack.ts"
import * as Limits from "../internal/Limits.ts"
import * as Pick from "../internal/Pick.ts"
import * as Retry from "../internal/Retry.ts"
import * as RunOutcome from "../internal/RunOutcome.ts"
import * as WorkerScripts from "../internal/WorkerScripts.ts"
import { ActionRegistry } from "./ActionRegistry.ts"
import * as Actions from "./Actions.ts"
import * as CurrentJob from "./CurrentJob.ts"
import * as JobHooks from "./JobHooks.ts"
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
  /**
   * How long an idle pool waits for a wake-up before it looks at its queues anyway: the longest a job
   * written by another Resque client (which does not wake this runtime's workers) waits. Jobs written by this
   * runtime start at once. Default 5 seconds.
   */
  readonly pollInterval?: Duration.Input
  /** How often the pool refreshes its workers' pings (read by dead-worker checks). Default 5 s. */
  readonly pingInterval?: Duration.Input
  /** How long running jobs may take to finish on shutdown before they are failed. Default 10 s. */
  readonly gracePeriod?: Duration.Input
  /**
   * A job for an action this worker does not know (a rolling deploy: a newer producer enqueued it) is handed
   * back, due again 1 s later for a worker that knows it, for this long from its first hand-back; then it
   * fails as `UnknownAction`. Counted in `stat:handed_back` (`Operations.stats`'s `handedBack`). 0: fail at
   * once. Default 10 minutes.
   */
  readonly handBackFor?: Duration.Input
  /**
   * Base worker name; default `hostname~effect:pid` (see {@link defaultName}). Slots are named `BASE.N`.
   * A name of the form `hostname:pid` on a host that also runs Ruby Resque workers gets these workers
   * unregistered, and their running jobs failed as `Resque::DirtyExit`, by every Ruby worker that starts.
   */
  readonly name?: string
  /**
   * Rate limits and global concurrency per queue (`{ mail: { rate: { limit: 10, per: "1 second" } } }`),
   * across every worker that is given the same limits; actions have their own (`Action.limit`). A job over a
   * limit waits in its queue. See docs/schedules-and-limits.md.
   */
  readonly queueLimits?: Readonly<Record<string, Action.Limit>>
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
  readonly handBack: HandBack.Policy
  /** The last part of the grace period (at most 1 s), kept for the writes of a shutdown. */
  readonly writeDeadline: number
}

/** The next free slot number in this process (worker names are `host~effect:pid.N`). */
let nextSlot = 0

/**
 * The default base name of a pool's workers: `hostname~effect:pid`. Ruby Resque ids are `host:pid:queues`,
 * and a Ruby worker starting on a host unregisters every worker registered under that host name whose pid
 * part is not one of its own running Ruby workers (its startup prune), failing their jobs as
 * `Resque::DirtyExit`. The host part `hostname~effect` is never a host name (`~` is not allowed in one), so
 * that prune passes these workers by, while resque-web and node-resque still list them (as
 * `hostname~effect:pid.N`) with the job each runs. A dead worker is still pruned by the heartbeat it stops
 * writing, as a Ruby worker would be.
 *
 * @category constructors
 */
export const defaultName = (): string => `${hostname()}~effect:${process.pid}`

const settingsOf = (options: Options): Settings => {
  const queues = options.queues && options.queues.length > 0 ? options.queues : ["*"]
  const concurrency = Math.max(1, options.concurrency ?? 10)
  const graceMillis = Duration.toMillis(options.gracePeriod ?? "10 seconds")
  const base = options.name ?? defaultName()
  return {
    queues,
    queuesString: queues.join(","),
    // slot numbers are taken from a per-process counter: two pools in one process never share a name
    names: Array.from({ length: concurrency }, () => `${base}.${nextSlot++}`),
    pollMillis: Math.max(1, Duration.toMillis(options.pollInterval ?? "5 seconds")),
    pingMillis: Duration.toMillis(options.pingInterval ?? "5 seconds"),
    graceMillis,
    handBack: HandBack.policy(options.handBackFor),
    writeDeadline: Math.min(1000, Math.round(graceMillis / 4))
  }
}

/** What the dispatcher hands a slot: a job, or the order to stop. */
type Delivery = Pick.Assigned | "stop"

/** One slot of the pool: a Resque worker running one job at a time. */
interface Slot {
  readonly index: number
  readonly name: string
  readonly inbox: Queue.Queue<Delivery>
  /** The last run_at it wrote: a slot's records never repeat, so a re-sent completion tells them apart. */
  lastRunAt: number
  /**
   * Whether its working-on record may hold a job while the slot is idle: true at start (a process that had
   * this name before may have left one) and after a script call whose answer was lost; false once a script
   * call is known to have left no record. The pick reads only the records that may hold a job.
   */
  mayHold: boolean
  /**
   * The contexts its jobs run in: the slot fiber's context (`base`) merged with each action's
   * (`Entry.contextFor`), built once and reused while the fiber's context stays the same.
   */
  readonly contexts: { base: Context.Context<never> | undefined; readonly merged: Map<Entry, Context.Context<never>> }
}

/** The run_at of a slot's next working-on record: now, and always later than its last one. */
const nextRunAt = (slot: Slot, now: number): string => {
  slot.lastRunAt = Math.max(now, slot.lastRunAt + 1)
  return isoTime(slot.lastRunAt)
}

/** The second whose ISO text (`2026-12-01T10:00:00.`) {@link isoTime} last built, and that text. */
const isoSecond = { second: Number.NaN, text: "" }

/**
 * `new Date(ms).toISOString()`, building the date part once a second: the pool writes a run_at for every job.
 */
const isoTime = (ms: number): string => {
  const second = Math.floor(ms / 1000)
  if (second !== isoSecond.second) {
    isoSecond.second = second
    isoSecond.text = new Date(second * 1000).toISOString().slice(0, 20)
  }
  const millis = ms - second * 1000
  return `${isoSecond.text}${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`
}

/** What a job came to, and where its retry goes if it has one. */
interface Ran {
  readonly job: Job.ParsedJob | undefined
  readonly entry: Entry | undefined
  readonly outcome: Outcome.Outcome
  readonly retry?: { readonly queue: string; readonly payload: string; readonly at?: number } | undefined
  readonly end: number
  /** Headers a hook gave the next copy of a recurring chain. */
  readonly successorHeaders?: Readonly<Record<string, string>> | undefined
  /** A job handed back: these writes instead of the bookkeeping of a run. */
  readonly handedBack?: ReadonlyArray<Completion.Write> | undefined
}

/** A completion waiting for the pool's next commit, and how its slot gets its next job. */
interface Pending {
  readonly slot: Slot
  readonly plan: Completion.Plan
  /** What the pool's events say of it once its completion is done. */
  readonly event: JobEvent
  readonly resume: (next: Pick.Assigned | undefined) => void
  /** What the hooks' `afterJob` is told once the completion is written (when a hook has one). */
  readonly finished: Hooks.Finished | undefined
}

/** A payload that cannot run: unreadable, or naming an action this worker does not know. */
const refusal = (parsed: Result.Result<Job.ParsedJob, CorruptPayload>): Outcome.Failure =>
  RunOutcome.refused(Result.isFailure(parsed) ? parsed.failure : new UnknownAction({ action: parsed.success.action }))

type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

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
  const limits = Limits.make({ entries: registry.entries.values(), queues: options.queueLimits ?? {}, pingMillis: settings.pingMillis })
  /** What the pick scripts get to apply the limits at `now` (nothing when there are none). */
  const limitsAt = (now: number) => (limits === Limits.none ? undefined : { limits, now })
  const events = yield* PubSub.unbounded<JobEvent>()
  const stop = yield* Deferred.make<void>()
  // the wake-up wait blocks its connection: it gets one of its own (without one, the pool polls)
  const blocking: Connection | undefined = yield* redis.connect.pipe(
    Effect.tapError((error) => Effect.logWarning("no connection for the wake-up wait: polling instead", error)),
    Effect.orElseSucceed(() => undefined)
  )
  const idleSlots = yield* Queue.unbounded<number>()
  const clock = yield* Clock.Clock
  const slots: ReadonlyArray<Slot> = yield* Effect.forEach(names, (name, index) =>
    Effect.map(Queue.unbounded<Delivery>(), (inbox): Slot => ({ index, name, inbox, lastRunAt: 0, mayHold: true, contexts: { base: undefined, merged: new Map() } })))
  const state = {
    // set with `stop`: read on every job, where a plain flag is cheaper than the Deferred
    stopping: false,
    // numbers the jobs of this pool, for the span's job id (`worker#n`)
    sequence: 0,
    // slots holding a job: from the pick that gave it to the completion that gave no next one
    busy: 0
  }
  const pool = (seconds: number): WorkerScripts.Pool => ({ keys, names, queues: queuesString, seconds })
  const nowSeconds = Effect.map(Clock.currentTimeMillis, (now) => Math.round(now / 1000))

  // the ping interval beside the registration: dead-worker checks wait three of them (SchedulerReclaim)
  const register = Effect.flatMap(nowSeconds, (seconds) => redis.eval(WorkerScripts.register, pool(seconds))).pipe(
    Effect.andThen(redis.send("hset", keys.pingIntervals, ...names.flatMap((name) => [name, settings.pingMillis])))
  )
  const pingOnly = Effect.flatMap(nowSeconds, (seconds) => redis.eval(WorkerScripts.ping, pool(seconds)))
  // the concurrency slots the pool's workers hold are renewed with their pings
  const pingAll = Limits.holdsSlots(limits)
    ? Effect.andThen(pingOnly, Effect.flatMap(Clock.currentTimeMillis, (now) => redis.eval(Limits.renew, { keys, limits, names, now })))
    : pingOnly
  const unregister = redis.multi(names.flatMap((name) => Completion.unregister(keys, name, queuesString)))

  // the hooks (tracing when a tracer records spans, the application's): none costs a branch per job
  const hooks = yield* JobHooks.composed

  /** What the hooks see of a job: its id (`JobControl`'s), else `fanOutId:index` for a fan-out child, else `worker#n`. */
  const runningOf = (job: Job.ParsedJob, queue: string, worker: string, startedAt: number): Hooks.Running => {
    const fanOut = job.meta.fanOut
    const jobId = job.meta.id ?? (fanOut ? `${fanOut}:${job.meta.index}` : `${worker}#${++state.sequence}`)
    return { job, queue, worker, jobId, attempt: job.meta.attempt ?? 1, startedAt }
  }

  /**
   * A job's run: its action on its decoded inputs, with the runtime's services, its result encoded, inside
   * the hooks' `aroundJob` when there is one. The Schema work takes the synchronous path when it can (plain
   * code around the action's Effect).
   */
  const runAction = (slot: Slot, entry: Entry, job: Job.ParsedJob, running: Hooks.Running | undefined): Effect.Effect<string, unknown> => {
    const decoded = entry.decodeSync(job.inputs)
    const executed = decoded === undefined
      ? Effect.flatMap(entry.decode(job.inputs), (inputs) => entry.runBare(inputs))
      : entry.runBare(decoded.value)
    const encoded: Effect.Effect<string, unknown> = Effect.flatMap(executed, (result) => {
      const json = entry.encodeResultSync(result)
      return json === undefined ? entry.encodeResult(result) : Effect.succeed(json)
    })
    // the hooks run inside the job's context: what a hook adds per job (a span) goes on top of the slot's
    // merged context, which then stays the same from job to job (merged once, not once per job)
    const hooked = running === undefined || hooks.aroundJob === undefined ? encoded : hooks.aroundJob(running, encoded)
    return Effect.updateContext(hooked, (current: Context.Context<never>) => jobContext(slot, entry, current))
  }

  /** The context a job of `entry` runs in on `slot`: the fiber's and the action's, merged once (see `Slot`). */
  const jobContext = (slot: Slot, entry: Entry, current: Context.Context<never>): Context.Context<never> => {
    const { contexts } = slot
    if (contexts.base !== current) {
      contexts.base = current
      contexts.merged.clear()
    }
    let merged = contexts.merged.get(entry)
    if (merged === undefined) {
      merged = Context.merge(current, entry.contextFor(runtime))
      contexts.merged.set(entry, merged)
    }
    return merged
  }

  // tracked jobs run where a cancel reaches them, with their progress report (see `CurrentJob`)
  const cancels = yield* CancelListener.make({ cancelKeys: names.map((name) => keys.cancel(name)), connect: redis.connect })
  const tracked = (job: Job.ParsedJob, run: Effect.Effect<string, unknown>): Effect.Effect<string, unknown> => {
    const { id, track } = job.meta
    if (id === undefined || track === undefined) return run
    const current = CurrentJob.make({ redis, keys, id, ttlMillis: track })
    return cancels.run(id, Effect.provideService(run, CurrentJob.CurrentJob, current))
  }

  /** What a failed run comes to: retried under the action's policy, or failed for good. */
  const failedRun = (entry: Entry, job: Job.ParsedJob, cause: Cause.Cause<unknown>, end: number, durationMs: number) =>
    Effect.gen(function*() {
      const failure = RunOutcome.failureOf(cause)
      const next = failure !== undefined && RunOutcome.retryable(failure) ? yield* Retry.nextAttempt(entry.action.retry, job, failure, entry.action.task) : undefined
      const outcome = RunOutcome.failed({ cause, encodeError: entry.encodeError, final: next === undefined, durationMs })
      return { job, entry, outcome, retry: next === undefined ? undefined : Retry.target(next, end), end } satisfies Ran
    })

  /** The completion of a job: its bookkeeping, the middlewares' writes, its chain's next copy, the next pick. */
  const planOf = (slot: Slot, picked: Pick.Assigned, ran: Ran, pickNext: boolean): Completion.Plan => {
    const [queue, raw, runAt] = picked
    const { job, entry, outcome, end } = ran
    const worker = slot.name
    const writes: Array<Completion.Write> = ran.handedBack !== undefined
      ? [...ran.handedBack]
      : Completion.bookkeeping(keys, { worker, queue, payload: raw, outcome, now: end, retry: ran.retry })
    if (job !== undefined && ran.handedBack === undefined) {
      const completed = { job, outcome, worker }
      const context = { keys, now: end }
      for (const middleware of middlewares) for (const write of middleware.onComplete(completed, context)) writes.push(write)
      if (limits !== Limits.none) writes.push(...Limits.release(keys, limits, { queue, action: job.action, worker }))
      const token = job.meta.recurrence
      if (token !== undefined && entry?.recurrence !== undefined) {
        const chain = { action: job.action, queue: entry.queue, inputs: job.inputs, recurrence: entry.recurrence }
        writes.push(Completion.continueChain(keys, { chain, token, now: end, headers: ran.successorHeaders }))
      }
    }
    return {
      worker,
      expected: runAt,
      counted: ran.handedBack !== undefined ? undefined : outcome._tag === "Success" ? "processed" : "failed",
      writes,
      next: pickNext ? { runAt: nextRunAt(slot, end) } : undefined
    }
  }

  const completeMany = (plans: ReadonlyArray<Completion.Plan>) =>
    limits === Limits.none
      ? redis.eval(Completion.completeMany, { keys, workerQueues: queuesString, plans, queues })
      : Effect.flatMap(Clock.currentTimeMillis, (now) => redis.eval(Completion.completeMany, { keys, workerQueues: queuesString, plans, queues, limits: limitsAt(now) }))

  // a job that ran must not be reported twice: retry the bookkeeping write, never the job. Keep trying
  // through a Redis outage (up to 5 minutes) unless the pool is stopping: a completion given up leaves the
  // working-on record, and the slot's next pick hands the job back (run again rather than lost)
  const retryFast = { schedule: Schedule.exponential("50 millis"), times: 4 }
  const retrySlow = { schedule: Schedule.spaced("1 second"), times: 300, while: () => !state.stopping }

  /**
   * Writes every completion of a batch in one script call, publishes their events (together: a subscriber
   * wakes once per batch, not once per job), tells the hooks' `afterJob` (plain calls here, not a step of
   * each slot's fiber; one that throws is logged and harms neither the batch nor the pool), and hands each
   * slot its next job.
   */
  const commit = (batch: ReadonlyArray<Pending>) =>
    completeMany(batch.map((p) => p.plan)).pipe(
      Effect.retry(retryFast),
      Effect.retry(retrySlow),
      Effect.map((next): ReadonlyMap<number, Pick.Handed> | undefined => next),
      Effect.catch((error) => Effect.as(Effect.logError("could not record job completions", error), undefined)),
      Effect.flatMap((next) => {
        // the hooks first: a subscriber to the events sees jobs the hooks have been told of
        const thrown = hooks.afterJob === undefined ? [] : tellAfterJob(hooks.afterJob, batch)
        const resumed = Effect.sync(() =>
          batch.forEach((p, i) => {
            const handed = next?.get(i)
            const runAt = p.plan.next?.runAt
            // recorded: a slot handed nothing has no record left; given up (`next` undefined): its record may
            // still hold the job, and the slot's next pick hands it back
            p.slot.mayHold = next === undefined
            p.resume(handed === undefined || runAt === undefined ? undefined : Pick.assignedFor(handed, runAt))
          })
        )
        const published = Effect.andThen(PubSub.publishAll(events, batch.map((p) => p.event)), resumed)
        return thrown.length === 0 ? published : Effect.andThen(published, Effect.logError("an afterJob hook threw", ...thrown))
      })
    )

  /** Calls `afterJob` for each completion of a batch; answers what the calls threw. */
  const tellAfterJob = (afterJob: (finished: Hooks.Finished) => void, batch: ReadonlyArray<Pending>): Array<unknown> => {
    const thrown: Array<unknown> = []
    for (const { finished } of batch) {
      if (finished === undefined) continue
      try {
        afterJob(finished)
      } catch (error) {
        thrown.push(error)
      }
    }
    return thrown
  }

  // completions waiting for the next commit: a plain list, filled by the slots and emptied by the committer
  const waiting: Array<Pending> = []
  let wakeCommitter: (() => void) | undefined
  const nextBatch = Effect.callback<void>((resume) => {
    if (waiting.length > 0) return resume(Effect.void)
    wakeCommitter = () => {
      wakeCommitter = undefined
      resume(Effect.void)
    }
  })

  /**
   * The group commit: the completions that arrived while a commit was in flight go together in the next one.
   * Two commits are in flight at most, each with at most half the slots: while Redis runs one, this process
   * runs the jobs the other one handed back, so neither waits on the other. Before it takes a batch the
   * committer yields once, so every slot that finishes in the same turn joins it (one call, not one for the
   * first slot and one for the rest).
   */
  const commitsInFlight = 2
  const batchLimit = Math.ceil(slots.length / commitsInFlight)
  const inFlight = yield* Semaphore.make(commitsInFlight)
  const commitNext = Effect.suspend(() =>
    Effect.forkChild(Effect.ensuring(commit(waiting.splice(0, batchLimit)), inFlight.release(1)))
  )
  const committer = Effect.forever(
    Effect.andThen(inFlight.take(1), Effect.andThen(nextBatch, Effect.andThen(Effect.yieldNow, commitNext)))
  )

  /** Hands a slot's completion to the next commit and resumes with the slot's next job. */
  const complete = (slot: Slot, plan: Completion.Plan, event: JobEvent, finished: Hooks.Finished | undefined) =>
    Effect.callback<Pick.Assigned | undefined>((resume) => {
      waiting.push({ slot, plan, event, finished, resume: (next) => resume(Effect.succeed(next)) })
      wakeCommitter?.()
    })

  /** After a job: its completion and event, the hooks' `afterJob` (told by the commit), its log line; the slot's next job. */
  const finish = (slot: Slot, picked: Pick.Assigned, ran: Ran): Effect.Effect<Pick.Assigned | undefined> => {
    const [queue] = picked
    const { job, outcome } = ran
    const event: JobEvent = { worker: slot.name, queue, job, outcome }
    const finished = hooks.afterJob === undefined
      ? undefined
      : { job, queue, worker: slot.name, outcome, retried: ran.retry !== undefined, startedAt: ran.end - outcome.durationMs }
    const completed = complete(slot, planOf(slot, picked, ran, !state.stopping), event, finished)
    return debug ? Effect.tap(completed, () => JobLog.log(event, "Debug")) : completed
  }

  /**
   * Runs one picked job to an outcome, completes it and returns the next job picked with the completion.
   * The slot is uninterruptible but for the job itself (`restore`): a job interrupted on shutdown is failed.
   * Everything around the action's Effect is plain code.
   */
  const handle = (slot: Slot, picked: Pick.Assigned, restore: Restore): Effect.Effect<Pick.Assigned | undefined> => {
    const [queue, raw] = picked
    const startedAt = clock.currentTimeMillisUnsafe()
    const parsed = Job.parse(raw, queue)
    const job = Result.isSuccess(parsed) ? parsed.success : undefined
    const entry = job && registry.entries.get(job.action)
    if (job === undefined || entry === undefined) {
      const handed = job === undefined ? undefined : HandBack.handBack(keys, job, queue, startedAt, settings.handBack)
      return handed === undefined
        ? finish(slot, picked, { job, entry, outcome: refusal(parsed), end: startedAt })
        : finish(slot, picked, { job, entry, outcome: handed.outcome, end: startedAt, handedBack: handed.writes })
    }
    const running = hooks.aroundJob === undefined ? undefined : runningOf(job, queue, slot.name, startedAt)
    const run = runAction(slot, entry, job, running)
    return Effect.flatMap(Effect.exit(restore(job.meta.track === undefined ? run : tracked(job, run))), (exit) => {
      const end = clock.currentTimeMillisUnsafe()
      if (Exit.isSuccess(exit)) {
        const outcome = Outcome.success(exit.value, end - startedAt)
        return finish(slot, picked, { job, entry, outcome, end, successorHeaders: running?.successorHeaders })
      }
      if (state.stopping && Cause.hasInterrupts(exit.cause)) {
        // shutdown after the grace period: fail the job, pick nothing, and end the slot
        const plan = planOf(slot, picked, { job, entry, outcome: RunOutcome.shutdown, end }, false)
        return Effect.as(completeMany([plan]).pipe(Effect.timeout(settings.writeDeadline), Effect.ignore), undefined)
      }
      return Effect.flatMap(
        failedRun(entry, job, exit.cause, end, end - startedAt),
        (ran) => finish(slot, picked, running?.successorHeaders === undefined ? ran : { ...ran, successorHeaders: running.successorHeaders })
      )
    })
  }

  /** A slot: runs the jobs the dispatcher hands it and the next ones its completions pick, until told to stop. */
  const runSlot = (slot: Slot) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        while (true) {
          const delivery = yield* Queue.take(slot.inbox)
          if (delivery === "stop") return
          // a job picked with a completion runs even when the pool is stopping: it is recorded as this slot's
          let current: Pick.Assigned | undefined = delivery
          while (current !== undefined) current = yield* handle(slot, current, restore)
          state.busy--
          if (!state.stopping) yield* Queue.offer(idleSlots, slot.index)
        }
      })
    )

  /**
   * Fills up to `most` idle slots (and every one that may hold a job) with one script call; answers how many
   * it asked for and how many it filled (fewer: the queues are empty, or held back by a limit), and how long
   * until a rate limit allows the next run (-1: none held one back).
   */
  const fill = (idle: Set<number>, most: number) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      // a slot whose record may still hold a job (a completion given up) is always asked: its job comes back
      const waiting: Array<Slot> = []
      for (const index of idle) {
        const slot = slots[index]!
        if (slot.mayHold || waiting.length < most) waiting.push(slot)
      }
      // most idle slots take the call's run_at (their last one is older): its text is built once
      const nowText = isoTime(now)
      const runAts = waiting.map((slot) => {
        if (slot.lastRunAt >= now) return nextRunAt(slot, now)
        slot.lastRunAt = now
        return nowText
      })
      const asked = waiting.map((slot, i): Pick.IdleSlot => ({ worker: slot.name, runAt: runAts[i]!, mayHold: slot.mayHold }))
      // until the answer arrives, the pick may have stored a job in any of these records
      for (const slot of waiting) slot.mayHold = true
      const picked = yield* redis.eval(Pick.pickMany, { keys, workerQueues: queuesString, queues, slots: asked, limits: limitsAt(now) })
      for (const slot of waiting) slot.mayHold = false
      for (const [position, handed] of picked.bySlot) {
        const slot = waiting[position]!
        idle.delete(slot.index)
        // counted busy from the moment it is picked: the slot takes it from its inbox a turn later
        state.busy++
        yield* Queue.offer(slot.inbox, Pick.assignedFor(handed, runAts[position]!))
      }
      return { asked: waiting.length, handed: picked.bySlot.size, waitMs: picked.waitMs }
    })

  /**
   * Blocks until a job is pushed (the wake-up marker) or the poll interval passes (or, when a rate limit held
   * a queue back, until it allows the next run, if sooner). The dispatcher is interrupted here when the pool
   * stops.
   */
  const awaitWork = (waitMs: number): Effect.Effect<boolean> => {
    const millis = waitMs >= 0 ? Math.min(Math.max(waitMs, 1), settings.pollMillis) : settings.pollMillis
    // true: a producer's marker ended the wait (a timeout answers nil)
    return blocking === undefined
      ? Effect.as(Effect.sleep(millis), false)
      : blocking.send("bzpopmin", ...wakeKeys, millis / 1000).pipe(
        Effect.map((reply) => reply !== null && reply !== undefined),
        Effect.catch(() => Effect.as(Effect.sleep(millis), false))
      )
  }

  /**
   * The markers this pool waits on: the `*` marker when it drains every queue, else its queues' own, so it
   * never takes a wake-up meant for a pool of other queues (which would then wait for its poll interval).
   */
  const wakeKeys = queues.includes("*") ? [keys.wake] : queues.map((queue) => keys.wakeQueue(queue))

  /** Waits after a failed pick, longer each time (up to 2 s). */
  const backOff = (failures: number) => Effect.sleep(Math.min(Math.max(settings.pollMillis, 50) * 2 ** failures, 2000))

  /**
   * The dispatcher: hands jobs to idle slots, a pick per round. While it has idle slots and the queues are
   * empty it waits for work; while it has none it waits for a slot to be free.
   *
   * A pick asks for every idle slot, except after a producer's wake-up: that says one job is waiting, so
   * the pick asks for one slot, and for twice as many each time it fills all it asked for (a burst reaches
   * every slot in a few picks). A lone job's pick then carries one slot's record, not the whole pool's: the
   * pick-up latency of an idle pool is that call's round trip.
   */
  const dispatcher = Effect.gen(function*() {
    const idle = new Set<number>(slots.map((slot) => slot.index))
    let failures = 0
    let most = slots.length
    while (!state.stopping) {
      if (idle.size === 0) for (const index of yield* Queue.takeAll(idleSlots)) idle.add(index)
      for (const index of yield* Queue.clear(idleSlots)) idle.add(index)
      // a pick and its delivery go together: a job picked for a slot always reaches it
      const left = yield* Effect.result(Effect.uninterruptible(fill(idle, most)))
      if (Result.isFailure(left)) {
        failures++
        if (failures === 1) yield* Effect.logWarning(`worker pool ${names[0]}… cannot reach Redis`, left.failure)
        most = slots.length
        yield* backOff(failures)
        continue
      }
      failures = 0
      const { asked, handed, waitMs } = left.success
      // the slots just handed a job run first: their jobs start before this fiber sends its next wait
      if (handed > 0) yield* Effect.yieldNow
      if (handed < asked) most = (yield* awaitWork(waitMs)) ? 1 : slots.length
      else most = Math.min(most * 2, slots.length)
    }
  })

  const shutdown = (fibers: ReadonlyArray<Fiber.Fiber<void>>, background: ReadonlyArray<Fiber.Fiber<unknown>>, [dispatching, committing]: readonly [Fiber.Fiber<unknown>, Fiber.Fiber<unknown>]) =>
    Effect.gen(function*() {
      state.stopping = true
      yield* Deferred.succeed(stop, undefined)
      const deadline = clock.currentTimeMillisUnsafe() + settings.graceMillis - settings.writeDeadline
      const left = () => Math.max(0, deadline - clock.currentTimeMillisUnsafe())
      // a pick in flight (one request, uninterruptible) is waited for within the grace period only
      yield* Fiber.interrupt(dispatching).pipe(Effect.timeoutOption(left()))
      yield* Effect.forEach(slots, (slot) => Queue.offer(slot.inbox, "stop"), { discard: true })
      const finished = yield* Fiber.joinAll(fibers).pipe(Effect.timeoutOption(left()))
      yield* Effect.gen(function*() {
        if (finished._tag === "None") {
          yield* Effect.logWarning(`shutdown grace period of ${settings.graceMillis} ms passed: failing unfinished jobs`)
          yield* Fiber.interruptAll(fibers)
        }
        yield* Fiber.interruptAll([committing, ...background])
        yield* unregister.pipe(Effect.ignore)
      }).pipe(Effect.timeout(settings.writeDeadline), Effect.ignore)
    })

  yield* register.pipe(Effect.tapError((error) => Effect.logError("could not register workers", error)), Effect.ignore)
  const pinger = yield* pingAll.pipe(Effect.ignore, Effect.repeat(Schedule.spaced(settings.pingMillis)), Effect.forkDetach)
  const fibers = yield* Effect.forEach(slots, (slot) => Effect.forkDetach(runSlot(slot)))
  const committing = yield* Effect.forkDetach(committer)
  const dispatching = yield* Effect.forkDetach(dispatcher)
  yield* Effect.addFinalizer(() => shutdown(fibers, [pinger], [dispatching, committing]))

  return Worker.of({ names, queues, events, busy: Effect.sync(() => state.busy) })
})

/**
 * The worker layer, on the Resque queue layer (`Resque.layer`) and a Redis layer.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Worker, never, Redis | ActionRegistry | Actions.Provided> =>
  Layer.effect(Worker, make(options))
