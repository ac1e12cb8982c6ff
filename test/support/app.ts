/**
 * Test fixtures: a few actions and helpers to build the runtime on a backend and wait for worker events
 * (tests wait on what the worker reports, never on a sleep).
 */
import { Effect, Layer, PubSub, Schema } from "effect"
import * as Action from "../../src/domain/Action.ts"
import type * as Redis from "../../src/layers/Redis.ts"
import * as Runtime from "../../src/layers/Runtime.ts"
import * as Worker from "../../src/layers/Worker.ts"

export const add = Action.make({
  name: "add",
  description: "Adds two numbers",
  inputs: Schema.Struct({
    a: Schema.Union([Schema.Finite, Schema.FiniteFromString]),
    b: Schema.Finite.pipe(Schema.withDecodingDefault(Effect.succeed(0)))
  }),
  run: ({ a, b }) => Effect.succeed(a + b),
  task: { queue: "math" }
})

export class Boom extends Schema.TaggedError<Boom>()("Boom", { message: Schema.String }) {}

export const explode = Action.make({
  name: "explode",
  description: "Always fails",
  inputs: Schema.Struct({ why: Schema.String }),
  run: ({ why }) => Effect.fail(new Boom({ message: why })),
  task: { queue: "math" }
})

export const testActions = [add, explode] as const

/** The runtime core on a Redis layer. */
export const core = (redis: Layer.Layer<Redis.Redis, unknown>) =>
  Runtime.layer({ actions: testActions }).pipe(Layer.provideMerge(redis))

/** Takes `n` job events from a worker's event stream (subscribe before enqueueing). */
export const takeEvents = (subscription: PubSub.Subscription<Worker.JobEvent>, n: number) =>
  Effect.forEach(Array.from({ length: n }), () => PubSub.take(subscription))
