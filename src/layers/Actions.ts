/**
 * The facade the application (and every job) uses: enqueue actions now, at a time or after a delay, run
 * them directly, fan out to child jobs and read or await where a fan-out stands. Actions are named by their
 * definition (inputs typed by the Schema's encoded side, checked at compile time) or by name (inputs checked
 * at run time). Inputs are validated against the Schema before anything is written: a bad input is an
 * {@link InvalidInputs} error with the Schema's readable message, and nothing is enqueued.
 *
 * **Jobs use the runtime.** Inside any action's `run`, `yield* Actions.Actions` (and
 * `yield* Operations.Operations`) gives the runtime that runs the job: the services in {@link Provided} are
 * handed to every job by the runtime, so they never appear among the services the application must supply.
 * A recurring parent that fans out to children, a chain of jobs that enqueue the next, an `onComplete` that
 * reads its children's results, a parent that awaits its own fan-out: all are plain actions.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type * as Action from "../domain/Action.ts"
import { type EnqueueRefused, InvalidInputs, type JobTimedOut, PayloadTooLarge, type RedisError, type UnknownAction } from "../domain/Errors.ts"
import type * as FanOut from "../domain/FanOut.ts"
import * as Job from "../domain/Job.ts"
import type * as JobControl from "../domain/JobControl.ts"
import { type Entry, withTimeout } from "../internal/ActionEntry.ts"
import * as Enqueue from "../internal/Enqueue.ts"
import * as FanOutEngine from "../internal/FanOutEngine.ts"
import * as JobControlEngine from "../internal/JobControl.ts"
import * as Tracing from "../internal/Tracing.ts"
import { ActionRegistry } from "./ActionRegistry.ts"
import * as JobHooks from "./JobHooks.ts"
import { Operations } from "./Operations.ts"
import { Redis } from "./Redis.ts"

/** Why an enqueue was refused. @category errors */
export type EnqueueError = RedisError | InvalidInputs | UnknownAction | PayloadTooLarge | EnqueueRefused

/** Why a whole fan-out was refused (nothing written). @category errors */
export type FanOutError = FanOutEngine.FanOutError

/** Why a fan-out's status could not be read. @category errors */
export type StatusError = FanOutEngine.StatusError

/** Why waiting for a fan-out ended without its final status. @category errors */
export type AwaitError = FanOutEngine.AwaitError

/** An action named by its definition or by its name. @category models */
export type ActionRef = Action.Any | string

/** Options of `enqueue`, `enqueueAt` and `enqueueIn`. @category models */
export interface EnqueueOptions {
  /** The queue to use instead of the action's own (`task.queue`, else `default`). */
  readonly queue?: string
  /** Keep this job's status, progress and result (see `JobControl.Track`; default: the action's `track`). */
  readonly track?: JobControl.Track
  /**
   * Make this job unique (see `JobControl.Unique`; default: the action's `unique`; `false`: not unique even if
   * the action is). Another enqueue while the claim holds answers the holder's id and writes nothing.
   */
  readonly unique?: JobControl.Unique | false
}

/** Why a job's status could not be read. @category errors */
export type JobStatusError = RedisError

/** Why waiting for a job ended without its result (besides the action's own typed error). @category errors */
export type AwaitJobError = RedisError | JobControl.JobNotFound | JobControl.JobAwaitTimeout | JobControl.JobFailed | JobControl.JobCancelled

/**
 * The children of a multi-action fan-out, each checked against its action's Schema at compile time when the
 * action is given as a definition.
 *
 * @category models
 */
export type FanOutJobs<J extends ReadonlyArray<FanOut.Job>> = {
  readonly [K in keyof J]: J[K] extends { readonly action: Action.Action<infer _I, infer IE, infer _A, infer _E, infer _R> }
    ? { readonly action: J[K]["action"]; readonly inputs: IE; readonly queue?: string }
    : J[K]
}

/** A job ready to be written. @category models */
export interface PreparedJob {
  readonly action: string
  readonly queue: string
  readonly payload: string
}

/**
 * A job scheduled for later: the second it is filed under (Resque rounds to the second; `at` in ms) and
 * whether this very job (same payload) was already scheduled at that second, in which case nothing was
 * written. node-resque refuses that second copy with an error; here scheduling is idempotent per second and
 * says so.
 *
 * @category models
 */
export interface ScheduledJob extends PreparedJob {
  readonly at: number
  readonly alreadyScheduled: boolean
}

/**
 * The Actions service.
 *
 * @category services
 */
export class Actions extends Context.Service<Actions, {
  /** Validates inputs and appends the job to its queue; answers its handle (its id, typed by the action). */
  readonly enqueue: {
    <I, IE, A, E, R>(action: Action.Action<I, IE, A, E, R>, inputs: IE, options?: EnqueueOptions): Effect.Effect<JobControl.JobHandle<A, E>, EnqueueError>
    (action: string, inputs: unknown, options?: EnqueueOptions): Effect.Effect<JobControl.JobHandle, EnqueueError>
  }
  /**
   * Like `enqueue`, to run at a time (epoch ms or Date; Resque rounds to the second). The same job (same
   * payload) scheduled again at the same second is not written twice: `alreadyScheduled` says so.
   */
  readonly enqueueAt: {
    <I, IE, A, E, R>(at: number | Date, action: Action.Action<I, IE, A, E, R>, inputs: IE, options?: EnqueueOptions): Effect.Effect<JobControl.JobHandle<A, E> & ScheduledJob, EnqueueError>
    (at: number | Date, action: string, inputs: unknown, options?: EnqueueOptions): Effect.Effect<JobControl.JobHandle & ScheduledJob, EnqueueError>
  }
  /** Like `enqueue`, to run after a delay. */
  readonly enqueueIn: {
    <I, IE, A, E, R>(delay: Duration.Input, action: Action.Action<I, IE, A, E, R>, inputs: IE, options?: EnqueueOptions): Effect.Effect<JobControl.JobHandle<A, E> & ScheduledJob, EnqueueError>
    (delay: Duration.Input, action: string, inputs: unknown, options?: EnqueueOptions): Effect.Effect<JobControl.JobHandle & ScheduledJob, EnqueueError>
  }
  /**
   * Where a job stands (one round trip): queued, delayed, running (on which worker), succeeded, failed,
   * cancelled, or unknown. Tracked jobs (`track`) keep their status, progress and result; for others only
   * `running` is known. Typed by the handle, or by `options.action`.
   */
  readonly jobStatus: {
    <A, E>(job: JobControl.JobHandle<A, E>): Effect.Effect<JobControl.JobStatus<A, E>, JobStatusError>
    <I, IE, A, E, R>(id: string, options: { readonly action: Action.Action<I, IE, A, E, R> }): Effect.Effect<JobControl.JobStatus<A, E>, JobStatusError>
    (id: string): Effect.Effect<JobControl.JobStatus, JobStatusError>
  }
  /**
   * Waits until a tracked job ends: its result, decoded by the action's `output` Schema, or its error,
   * decoded by its `error` Schema (else `JobFailed`); `JobCancelled`, `JobNotFound`, `JobAwaitTimeout`.
   */
  readonly awaitJob: {
    <A, E>(job: JobControl.JobHandle<A, E>, options?: JobControl.AwaitOptions): Effect.Effect<A, E | AwaitJobError>
    <I, IE, A, E, R>(id: string, options: JobControl.AwaitOptions & { readonly action: Action.Action<I, IE, A, E, R> }): Effect.Effect<A, E | AwaitJobError>
    (id: string, options?: JobControl.AwaitOptions): Effect.Effect<unknown, unknown>
  }
  /**
   * Cancels a tracked job: a queued or delayed one is removed (`removed`), a running one is interrupted by
   * the worker running it, in whatever process (`interrupting`; it ends as cancelled, not retried).
   */
  readonly cancel: (job: string | JobControl.JobHandle) => Effect.Effect<JobControl.CancelResult, RedisError>
  /**
   * Runs an action in the caller's fiber: decodes the inputs, runs it under its `timeout` (`JobTimedOut` past
   * it), returns its result. With a definition, the action's services come from the caller (but the runtime's
   * own, which it is given); by name, from the registry.
   */
  readonly run: {
    <I, IE, A, E, R>(action: Action.Action<I, IE, A, E, R>, inputs: IE): Effect.Effect<A, E | InvalidInputs | JobTimedOut, Exclude<R, Provided>>
    (action: string, inputs: unknown): Effect.Effect<unknown, unknown>
  }
  /** Validates and encodes a job without writing it. */
  readonly prepare: (action: ActionRef, inputs: unknown, options?: EnqueueOptions) => Effect.Effect<PreparedJob, EnqueueError>
  /**
   * Fans out: one child job per input (single action) or per `{ action, inputs, queue? }` (multi action), in
   * batches of one round trip. Invalid inputs come back in `errors` (not counted); an unknown action fails
   * the whole call before anything is written. The result's type remembers the children's types.
   */
  readonly fanOut: {
    <I, IE, A, E, R>(action: Action.Action<I, IE, A, E, R>, inputs: ReadonlyArray<IE>, options?: FanOut.SingleOptions<IE>): Effect.Effect<FanOut.FanOutResult<A, IE, E>, FanOutError>
    (action: string, inputs: ReadonlyArray<unknown>, options?: FanOut.SingleOptions): Effect.Effect<FanOut.FanOutResult, FanOutError>
    <const J extends ReadonlyArray<FanOut.Job>>(jobs: J & FanOutJobs<J>, options?: FanOut.Options): Effect.Effect<FanOut.FanOutResult, FanOutError>
  }
  /**
   * Counts, results and errors of a fan-out, read atomically. Typed by the fan-out's result, or by
   * `options.action`; results are decoded with each child's `output` Schema, errors with its `error` Schema.
   */
  readonly fanOutStatus: {
    <A, IE, E>(fanOut: FanOut.FanOutResult<A, IE, E>): Effect.Effect<FanOut.FanOutStatus<A, IE, E>, StatusError>
    <I, IE, A, E, R>(fanOutId: string, options: { readonly action: Action.Action<I, IE, A, E, R> }): Effect.Effect<FanOut.FanOutStatus<A, IE, E>, StatusError>
    (fanOutId: string): Effect.Effect<FanOut.FanOutStatus, StatusError>
  }
  /** Waits (bounded poll with backoff) until every child has an outcome, then reads the status; optional timeout. */
  readonly awaitFanOut: {
    <A, IE, E>(fanOut: FanOut.FanOutResult<A, IE, E>, options?: FanOut.AwaitOptions): Effect.Effect<FanOut.FanOutStatus<A, IE, E>, AwaitError>
    <I, IE, A, E, R>(fanOutId: string, options: FanOut.AwaitOptions & { readonly action: Action.Action<I, IE, A, E, R> }): Effect.Effect<FanOut.FanOutStatus<A, IE, E>, AwaitError>
    (fanOutId: string, options?: FanOut.AwaitOptions): Effect.Effect<FanOut.FanOutStatus, AwaitError>
  }
}>()("effect-resque/Actions") {}

/**
 * The services the runtime hands to every job it runs (and to a direct `run`): an action's `run` may use them
 * without the application providing them.
 *
 * @category models
 */
export type Provided = Actions | Operations

/**
 * Options of the Actions service.
 *
 * @category models
 */
export interface Options {
  /** Largest payload accepted at enqueue, in bytes. Default 512 KiB. */
  readonly maxPayloadBytes?: number
}

const nameOf = (action: ActionRef | { readonly name: string }): string => (typeof action === "string" ? action : action.name)

const idOf = (fanOut: string | { readonly fanOutId: string }): string => (typeof fanOut === "string" ? fanOut : fanOut.fanOutId)

/**
 * Builds the service. Jobs it runs by name (and direct runs of a definition) are given it and the
 * {@link Operations} service.
 *
 * @category constructors
 */
export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const registry = yield* ActionRegistry
    const redis = yield* Redis
    const operations = yield* Operations
    const { keys } = redis
    const limit = options.maxPayloadBytes ?? 512 * 1024
    const hooks = yield* JobHooks.composed
    const engine: FanOutEngine.Context = {
      redis,
      keys,
      entry: registry.get,
      entryIfKnown: (name) => registry.entries.get(name),
      maxPayloadBytes: limit,
      hooks
    }

    const normalized = (entry: Entry, inputs: unknown): Effect.Effect<unknown, InvalidInputs> => {
      const fast = entry.normalizeSync(inputs)
      return fast !== undefined ? Effect.succeed(fast.value) : entry.normalize(inputs)
    }

    const encodeJob = (entry: Entry, encoded: unknown, queue?: string, meta?: Job.JobMeta): Effect.Effect<PreparedJob, PayloadTooLarge> => {
      const target = queue ?? entry.queue
      // a tracked job's metadata rides beside `args` for an action with `plainArgs`, as its retries' does
      const payload = Job.encode(target, entry.name, encoded, meta, { besideArgs: entry.action.task?.plainArgs === true })
      const bytes = Buffer.byteLength(payload)
      if (bytes > limit) return Effect.fail(new PayloadTooLarge({ action: entry.name, bytes, limit }))
      return Effect.succeed({ action: entry.name, queue: target, payload })
    }

    const prepareWith = (entry: Entry, inputs: unknown, queue?: string) =>
      Effect.flatMap(normalized(entry, inputs), (encoded) => encodeJob(entry, encoded, queue))

    const prepare = (action: ActionRef, inputs: unknown, options?: EnqueueOptions) =>
      Effect.flatMap(registry.get(nameOf(action)), (entry) => prepareWith(entry, inputs, options?.queue))

    const jobs: JobControlEngine.Context = { redis, keys, entry: (name) => registry.entries.get(name) }

    /**
     * Writes a job with its id (see `JobControl`): now, or at `at` (epoch ms). One MULTI; a tracked job's
     * record goes in it, a unique job is one script (claim, record and job together).
     */
    const submit = (action: ActionRef, inputs: unknown, options: EnqueueOptions | undefined, at: number | undefined) =>
      Effect.flatMap(registry.get(nameOf(action)), (entry) => {
        const queue = options?.queue ?? entry.queue
        const written = Effect.gen(function*() {
          const encoded = yield* normalized(entry, inputs)
          const plan = JobControlEngine.plan(keys, entry, encoded, options)
          // the enqueue hooks may add headers (kept in `_job`) or refuse the job, before anything is written
          const headers = hooks.onEnqueue === undefined ? undefined : yield* hooks.onEnqueue({ action: entry.name, queue, inputs: encoded, at })
          const meta = headers === undefined ? plan.meta : { ...plan.meta, headers }
          const job = yield* encodeJob(entry, encoded, options?.queue, meta)
          if (plan.ttlMillis === undefined) {
            // an untracked delayed job is written once per second it is due at (`scheduleOnce`): the same job
            // is its payload without trace headers, which differ from send to send
            if (at === undefined) yield* redis.eval(Enqueue.pushOne, { keys, queue: job.queue, payload: job.payload })
            const scheduled = at === undefined || (yield* redis.eval(Enqueue.scheduleOnce, {
              keys,
              timestampMs: at,
              payload: job.payload,
              identity: Tracing.withoutTraceHeaders(meta, (untraced) => Job.encode(job.queue, entry.name, encoded, untraced, { besideArgs: entry.action.task?.plainArgs === true })),
              nowMs: yield* Clock.currentTimeMillis
            }))
            return { ...job, id: plan.id, enqueued: true, tracked: false, alreadyScheduled: !scheduled }
          }
          const now = yield* Clock.currentTimeMillis
          const recorded = yield* JobControlEngine.write(jobs, plan, job, at, now)
          return { ...job, ...recorded, tracked: true, alreadyScheduled: false }
        })
        // the whole send inside `aroundEnqueue` (tracing's producer span)
        return hooks.aroundEnqueue === undefined
          ? written
          : hooks.aroundEnqueue({ kind: "enqueue", action: entry.name, queue, count: 1, at }, written)
      })

    const enqueue = (action: ActionRef, inputs: unknown, options?: EnqueueOptions) => submit(action, inputs, options, undefined)

    const enqueueAt = (at: number | Date, action: ActionRef, inputs: unknown, options?: EnqueueOptions) => {
      const millis = typeof at === "number" ? at : at.getTime()
      // an invalid time would fail the ZADD inside the MULTI after the RPUSH ran: a job never promoted
      if (!Number.isFinite(millis)) {
        return Effect.fail(new InvalidInputs({ action: nameOf(action), detail: `invalid time to run at: ${String(at)}` }))
      }
      return Effect.map(submit(action, inputs, options, millis), (handle) => ({ ...handle, at: Enqueue.delayedSecond(millis) * 1000 }))
    }

    const enqueueIn = (delay: Duration.Input, action: ActionRef, inputs: unknown, options?: EnqueueOptions) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => enqueueAt(now + Duration.toMillis(delay), action, inputs, options))

    // the runtime a job sees: this service and the operations, built once
    let runtime: Context.Context<never> = Context.empty()

    const runByName = (action: string, inputs: unknown): Effect.Effect<unknown, unknown> =>
      Effect.flatMap(registry.get(action), (entry) => Effect.flatMap(entry.decode(inputs), (decoded) => entry.execute(decoded, runtime))).pipe(
        Effect.withSpan(action)
      )

    const runDefinition = <I, IE, A, E, R>(action: Action.Action<I, IE, A, E, R>, inputs: IE) =>
      Effect.flatMap(
        Effect.mapError(
          Effect.suspend(() => Schema.decodeUnknownEffect(action.inputs)(inputs)),
          (error) => new InvalidInputs({ action: action.name, detail: error.message })
        ),
        (decoded) => withTimeout(action)(action.run(decoded))
      ).pipe(
        Effect.withSpan(action.name),
        // the runtime's own services: `Exclude<R, Provided>` is what is left for the caller
        (effect) => Effect.provideContext(effect, runtime as Context.Context<Provided>)
      )

    function run<I, IE, A, E, R>(action: Action.Action<I, IE, A, E, R>, inputs: IE): Effect.Effect<A, E | InvalidInputs | JobTimedOut, Exclude<R, Provided>>
    function run(action: string, inputs: unknown): Effect.Effect<unknown, unknown>
    function run<I, IE, A, E, R>(action: Action.Action<I, IE, A, E, R> | string, inputs: IE | unknown) {
      return typeof action === "string" ? runByName(action, inputs) : runDefinition(action, inputs as IE)
    }

    function fanOut(first: ActionRef | ReadonlyArray<FanOut.Job>, second?: ReadonlyArray<unknown> | FanOut.Options, third?: FanOut.SingleOptions) {
      if (Array.isArray(first)) return FanOutEngine.fanOut(engine, first, second as FanOut.Options | undefined)
      const action = first as ActionRef
      const queue = third?.queue
      const jobs = ((second ?? []) as ReadonlyArray<unknown>).map((inputs): FanOut.Job =>
        queue === undefined ? { action, inputs } : { action, inputs, queue }
      )
      return FanOutEngine.fanOut(engine, jobs, third)
    }

    const fanOutStatus = (fanOut: string | FanOut.FanOutResult) => FanOutEngine.status(engine, idOf(fanOut))

    const awaitFanOut = (fanOut: string | FanOut.FanOutResult, options?: FanOut.AwaitOptions) =>
      FanOutEngine.await_(engine, idOf(fanOut), options)

    const jobStatus = (job: string | JobControl.JobHandle) => JobControlEngine.status(jobs, typeof job === "string" ? job : job.id)

    const awaitJob = (job: string | JobControl.JobHandle, options?: JobControl.AwaitOptions) =>
      JobControlEngine.await_(jobs, typeof job === "string" ? job : job.id, options)

    const cancel = (job: string | JobControl.JobHandle) => JobControlEngine.cancel(jobs, typeof job === "string" ? job : job.id)

    const service = Actions.of({
      cancel,
      enqueue: enqueue as Actions["Service"]["enqueue"],
      enqueueAt: enqueueAt as Actions["Service"]["enqueueAt"],
      enqueueIn: enqueueIn as Actions["Service"]["enqueueIn"],
      jobStatus: jobStatus as Actions["Service"]["jobStatus"],
      awaitJob: awaitJob as Actions["Service"]["awaitJob"],
      run,
      prepare,
      fanOut: fanOut as Actions["Service"]["fanOut"],
      fanOutStatus: fanOutStatus as Actions["Service"]["fanOutStatus"],
      awaitFanOut: awaitFanOut as Actions["Service"]["awaitFanOut"]
    })
    runtime = Context.make(Actions, service).pipe(Context.add(Operations, operations)) as Context.Context<never>
    return service
  })

/**
 * The Actions layer.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Actions, never, ActionRegistry | Redis | Operations> =>
  Layer.effect(Actions, make(options))

/**
 * The runtime's services as one context, for the places that run jobs (the worker, the command line).
 *
 * @category constructors
 */
export const runtimeContext: Effect.Effect<Context.Context<never>, never, Provided> = Effect.gen(function*() {
  const actions = yield* Actions
  const operations = yield* Operations
  return Context.make(Actions, actions).pipe(Context.add(Operations, operations)) as Context.Context<never>
})
