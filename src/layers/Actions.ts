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
import * as Payload from "../domain/Payload.ts"
import { ActionRegistry, type Entry } from "./ActionRegistry.ts"
import { ResqueQueue } from "./Queue.ts"

/** Why an enqueue was refused. @category errors */
export type EnqueueError = RedisError | InvalidInputs | UnknownAction | PayloadTooLarge

/** An action named by its definition or by its name. @category models */
export type ActionRef = Action.Any | string

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
    const limit = options.maxPayloadBytes ?? 512 * 1024

    const prepareWith = (entry: Entry, inputs: unknown, queueName?: string) =>
      Effect.gen(function*() {
        const encoded = yield* entry.normalize(inputs)
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

    const enqueueAt = (at: number | Date, action: ActionRef, inputs: unknown, queueName?: string) =>
      Effect.tap(prepare(action, inputs, queueName), (job) => queue.pushAt(typeof at === "number" ? at : at.getTime(), job.payload))

    const enqueueIn = (delay: Duration.Input, action: ActionRef, inputs: unknown, queueName?: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => enqueueAt(now + Duration.toMillis(delay), action, inputs, queueName))

    const runByName = (action: string, inputs: unknown): Effect.Effect<unknown, unknown> =>
      Effect.flatMap(registry.get(action), (entry) => Effect.flatMap(entry.decode(inputs), entry.execute))

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

    return Actions.of({ enqueue, enqueueAt, enqueueIn, run, prepare })
  })

const decodeWith = <I, IE>(action: { readonly inputs: Schema.Codec<I, IE> }, inputs: unknown) =>
  Schema.decodeUnknownEffect(action.inputs)(inputs)

/**
 * The Actions layer.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Actions, never, ActionRegistry | ResqueQueue> =>
  Layer.effect(Actions, make(options))
