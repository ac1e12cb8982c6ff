/**
 * The public facade: enqueue actions now, at a time or after a delay, or run them directly. Actions are named
 * by their definition (inputs typed by the Schema's encoded side, checked at compile time) or by name
 * (inputs checked at run time). Inputs are validated against the Schema before anything is written: a bad
 * input is an {@link InvalidInputs} error with the Schema's readable message, and nothing is enqueued.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Layer, Schema } from "effect"
import type * as Action from "../domain/Action.ts"
import { InvalidInputs, PayloadTooLarge, type RedisError, type UnknownAction } from "../domain/Errors.ts"
import type * as FanOut from "../domain/FanOut.ts"
import * as Payload from "../domain/Payload.ts"
import * as FanOutPrograms from "../programs/fanOut.ts"
import { ActionRegistry, type Entry } from "./ActionRegistry.ts"
import { ResqueQueue } from "./Queue.ts"
import { Redis } from "./Redis.ts"

/** Why an enqueue was refused. @category errors */
export type EnqueueError = RedisError | InvalidInputs | UnknownAction | PayloadTooLarge

/** An action named by its definition or by its name. @category models */
export type ActionRef = Action.Any | string

/**
 * The children of a multi-action fan-out, each checked against its action's Schema at compile time when the
 * action is given as a definition. @category models
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
 * The Actions service.
 *
 * @category services
 */
export class Actions extends Context.Service<Actions, {
  /** Validates inputs and appends the job to its queue (default: the action's `task.queue`, else `default`). */
  readonly enqueue: {
    <I, IE, A, E, R>(action: Action.Action<I, IE, A, E, R>, inputs: IE, queue?: string): Effect.Effect<PreparedJob, EnqueueError>
    (action: string, inputs: unknown, queue?: string): Effect.Effect<PreparedJob, EnqueueError>
  }
  /** Like `enqueue`, to run at a time (epoch ms or Date; Resque rounds to the second). */
  readonly enqueueAt: {
    <I, IE, A, E, R>(at: number | Date, action: Action.Action<I, IE, A, E, R>, inputs: IE, queue?: string): Effect.Effect<PreparedJob, EnqueueError>
    (at: number | Date, action: string, inputs: unknown, queue?: string): Effect.Effect<PreparedJob, EnqueueError>
  }
  /** Like `enqueue`, to run after a delay. */
  readonly enqueueIn: {
    <I, IE, A, E, R>(delay: Duration.Input, action: Action.Action<I, IE, A, E, R>, inputs: IE, queue?: string): Effect.Effect<PreparedJob, EnqueueError>
    (delay: Duration.Input, action: string, inputs: unknown, queue?: string): Effect.Effect<PreparedJob, EnqueueError>
  }
  /**
   * Runs an action in the caller's fiber: decodes the inputs, runs it, returns its result. With a definition,
   * the action's services come from the caller; by name, from the registry.
   */
  readonly run: {
    <I, IE, A, E, R>(action: Action.Action<I, IE, A, E, R>, inputs: IE): Effect.Effect<A, E | InvalidInputs, R>
    (action: string, inputs: unknown): Effect.Effect<unknown, unknown>
  }
  /** Validates and encodes a job without writing it (used by fan-out and tools). */
  readonly prepare: (action: ActionRef, inputs: unknown, queue?: string) => Effect.Effect<PreparedJob, EnqueueError>
  /**
   * Fans out: one child job per input (single action) or per `{ action, inputs, queue? }` (multi action), in
   * batches of one round trip. Invalid inputs come back in `errors` (not counted); an unknown action fails
   * the whole call before anything is written. See `programs/fanOut.ts`.
   */
  readonly fanOut: {
    <I, IE, A, E, R>(action: Action.Action<I, IE, A, E, R>, inputs: ReadonlyArray<IE>, queue?: string, options?: FanOut.Options): Effect.Effect<FanOut.FanOutResult, FanOutPrograms.FanOutError>
    (action: string, inputs: ReadonlyArray<unknown>, queue?: string, options?: FanOut.Options): Effect.Effect<FanOut.FanOutResult, FanOutPrograms.FanOutError>
    <const J extends ReadonlyArray<FanOut.Job>>(jobs: J & FanOutJobs<J>, options?: FanOut.Options): Effect.Effect<FanOut.FanOutResult, FanOutPrograms.FanOutError>
  }
  /** Counts, results and errors of a fan-out, read atomically; results typed by the action when given. */
  readonly fanOutStatus: {
    <I, IE, A, E, R>(fanOutId: string, action: Action.Action<I, IE, A, E, R>): Effect.Effect<FanOut.FanOutStatus<A, IE>, FanOutPrograms.StatusError>
    (fanOutId: string): Effect.Effect<FanOut.FanOutStatus, FanOutPrograms.StatusError>
  }
  /** Waits (bounded poll with backoff) until every child has an outcome; optional timeout. */
  readonly awaitFanOut: {
    <I, IE, A, E, R>(fanOutId: string, action: Action.Action<I, IE, A, E, R>, options?: FanOut.AwaitOptions): Effect.Effect<FanOut.FanOutStatus<A, IE>, FanOutPrograms.AwaitError>
    (fanOutId: string, options?: FanOut.AwaitOptions): Effect.Effect<FanOut.FanOutStatus, FanOutPrograms.AwaitError>
  }
}>()("effect-resque/Actions") {}

/**
 * Options of the Actions service.
 *
 * @category models
 */
export interface Options {
  /** Largest payload accepted at enqueue, in bytes. Default 512 KiB. */
  readonly maxPayloadBytes?: number
}

const nameOf = (action: ActionRef): string => (typeof action === "string" ? action : action.name)

/**
 * Builds the service.
 *
 * @category constructors
 */
export const make = (options: Options = {}) =>
  Effect.gen(function*() {
    const registry = yield* ActionRegistry
    const queue = yield* ResqueQueue
    const redis = yield* Redis
    const limit = options.maxPayloadBytes ?? 512 * 1024

    const prepareWith = (entry: Entry, inputs: unknown, queueName?: string) =>
      Effect.gen(function*() {
        const fast = entry.normalizeSync(inputs)
        const encoded = fast !== undefined ? fast.value : yield* entry.normalize(inputs)
        const target = queueName ?? entry.action.task?.queue ?? "default"
        const payload = Payload.encode(target, entry.action.name, encoded)
        const bytes = Buffer.byteLength(payload)
        if (bytes > limit) return yield* new PayloadTooLarge({ action: entry.action.name, bytes, limit })
        return { action: entry.action.name, queue: target, payload }
      })

    const prepare = (action: ActionRef, inputs: unknown, queueName?: string) =>
      Effect.flatMap(registry.get(nameOf(action)), (entry) => prepareWith(entry, inputs, queueName))

    const enqueue = (action: ActionRef, inputs: unknown, queueName?: string) =>
      Effect.tap(prepare(action, inputs, queueName), (job) => queue.push(job.queue, [job.payload]))

    const enqueueAt = (at: number | Date, action: ActionRef, inputs: unknown, queueName?: string) => {
      const millis = typeof at === "number" ? at : at.getTime()
      // an invalid time would fail the ZADD inside the MULTI after the RPUSH ran: a job never promoted
      if (!Number.isFinite(millis)) {
        return Effect.fail(new InvalidInputs({ action: nameOf(action), detail: `invalid time to run at: ${String(at)}` }))
      }
      return Effect.tap(prepare(action, inputs, queueName), (job) => queue.pushAt(millis, job.payload))
    }

    const enqueueIn = (delay: Duration.Input, action: ActionRef, inputs: unknown, queueName?: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => enqueueAt(now + Duration.toMillis(delay), action, inputs, queueName))

    const runByName = (action: string, inputs: unknown): Effect.Effect<unknown, unknown> =>
      Effect.flatMap(registry.get(action), (entry) => Effect.flatMap(entry.decode(inputs), entry.execute)).pipe(
        Effect.withSpan(action)
      )

    const runDefinition = <I, IE, A, E, R>(action: Action.Action<I, IE, A, E, R>, inputs: IE) =>
      Effect.flatMap(
        Effect.mapError(
          Effect.suspend(() => decodeWith(action, inputs)),
          (error) => new InvalidInputs({ action: action.name, detail: error.message })
        ),
        (decoded) => action.run(decoded)
      ).pipe(Effect.withSpan(action.name))

    function run<I, IE, A, E, R>(action: Action.Action<I, IE, A, E, R>, inputs: IE): Effect.Effect<A, E | InvalidInputs, R>
    function run(action: string, inputs: unknown): Effect.Effect<unknown, unknown>
    function run<I, IE, A, E, R>(action: Action.Action<I, IE, A, E, R> | string, inputs: IE | unknown) {
      return typeof action === "string" ? runByName(action, inputs) : runDefinition(action, inputs as IE)
    }

    const provideFanOut = <A, E>(effect: Effect.Effect<A, E, Redis | ActionRegistry>) =>
      effect.pipe(Effect.provideService(Redis, redis), Effect.provideService(ActionRegistry, registry))
    const fanOutOptions = (options: FanOut.Options | undefined): FanOutPrograms.RunOptions => ({ ...options, maxPayloadBytes: limit })

    function fanOut(
      first: ActionRef | ReadonlyArray<FanOut.Job>,
      second?: ReadonlyArray<unknown> | FanOut.Options,
      queueName?: string,
      options?: FanOut.Options
    ) {
      if (Array.isArray(first)) {
        return provideFanOut(FanOutPrograms.fanOut(first, fanOutOptions(second as FanOut.Options | undefined)))
      }
      const action = first as ActionRef
      const jobs = ((second ?? []) as ReadonlyArray<unknown>).map((inputs): FanOut.Job =>
        queueName === undefined ? { action, inputs } : { action, inputs, queue: queueName }
      )
      return provideFanOut(FanOutPrograms.fanOut(jobs, fanOutOptions(options)))
    }

    const fanOutStatus = (fanOutId: string, _action?: ActionRef) => provideFanOut(FanOutPrograms.fanOutStatus(fanOutId))

    const awaitFanOut = (fanOutId: string, second?: ActionRef | FanOut.AwaitOptions, third?: FanOut.AwaitOptions) => {
      const options = second !== undefined && typeof second === "object" && !("run" in second) ? second : third
      return provideFanOut(FanOutPrograms.awaitFanOut(fanOutId, options))
    }

    return Actions.of({
      enqueue,
      enqueueAt,
      enqueueIn,
      run,
      prepare,
      fanOut: fanOut as Actions["Service"]["fanOut"],
      fanOutStatus: fanOutStatus as Actions["Service"]["fanOutStatus"],
      awaitFanOut: awaitFanOut as Actions["Service"]["awaitFanOut"]
    })
  })

const decodeWith = <I, IE>(action: { readonly inputs: Schema.Codec<I, IE> }, inputs: unknown) =>
  Schema.decodeUnknownEffect(action.inputs)(inputs)

/**
 * The Actions layer.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Actions, never, ActionRegistry | ResqueQueue | Redis> =>
  Layer.effect(Actions, make(options))
