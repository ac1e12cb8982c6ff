/**
 * Test fixtures: a few actions and helpers to build the runtime on a backend and wait for worker events
 * (tests wait on what the worker reports, never on a sleep).
 */
import { Duration, Effect, Layer, PubSub, Schema } from "effect"
import * as Action from "../../src/domain/Action.ts"
import type * as Redis from "../../src/layers/Redis.ts"
import { Redis as RedisService } from "../../src/layers/Redis.ts"
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

/**
 * Runs `check` until `done` holds, polling every `interval`; dies with `what` once `timeout` passes. Tests wait
 * on observable state with a bounded deadline instead of sleeping.
 */
export const waitUntil = <A, E, R>(
  what: string,
  check: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  options: { readonly timeout?: Duration.Input; readonly interval?: Duration.Input } = {}
): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const deadline = Date.now() + Duration.toMillis(options.timeout ?? "10 seconds")
    const interval = Duration.toMillis(options.interval ?? "20 millis")
    let last: A = yield* check
    while (!done(last)) {
      if (Date.now() > deadline) {
        return yield* Effect.die(new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`))
      }
      yield* Effect.sleep(interval)
      last = yield* check
    }
    return last
  })

/** Like {@link takeEvents}, failing the test instead of hanging when the events do not come. */
export const takeEventsWithin = (
  subscription: PubSub.Subscription<Worker.JobEvent>,
  n: number,
  timeout: Duration.Input = "10 seconds"
) =>
  takeEvents(subscription, n).pipe(
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () => Effect.die(new Error(`expected ${n} job events within ${Duration.toMillis(timeout)} ms`))
    })
  )

/** The runtime core with a given set of actions on a Redis layer. */
export const coreWith = <const Defs extends ReadonlyArray<Action.Any>>(
  actions: Defs,
  redis: Layer.Layer<Redis.Redis, unknown>
) => Runtime.layer({ actions }).pipe(Layer.provideMerge(redis))

/** Runs one Redis command of the test's backend (for assertions on the stored state). */
export const redisCall = <A>(f: (client: Redis.Redis["Service"]["client"], keys: Redis.Redis["Service"]["keys"]) => Promise<A>) =>
  Effect.gen(function*() {
    const { client, keys } = yield* RedisService
    return yield* Effect.promise(() => f(client, keys))
  })

/**
 * Records that it ran, in the list `KEY:notes` of the runtime's Redis (an action using a service from the
 * environment); sleeps `ms` first and marks `KEY:started` when it begins, so tests can see in-flight jobs.
 */
export const note = Action.make({
  name: "note",
  description: "Appends its id to a Redis list",
  inputs: Schema.Struct({
    id: Schema.String,
    ms: Schema.Finite.pipe(Schema.withDecodingDefault(Effect.succeed(0)))
  }),
  run: ({ id, ms }) =>
    Effect.gen(function*() {
      const { client, keys } = yield* RedisService
      yield* Effect.promise(() => client.rpush(keys.key("started"), id))
      if (ms > 0) yield* Effect.sleep(ms)
      yield* Effect.promise(() => client.rpush(keys.key("notes"), id))
      return id
    }),
  task: { queue: "notes" }
})

/** The ids recorded by {@link note}, in order. */
export const notes = redisCall((client, keys) => client.lrange(keys.key("notes"), 0, -1))
