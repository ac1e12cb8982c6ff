/**
 * Test fixtures: a few actions and helpers to build the runtime on a backend and wait for worker events
 * (tests wait on what the worker reports, never on a sleep).
 */
import { Duration, Effect, Layer, PubSub, Schema } from "effect"
import * as Action from "../../src/domain/Action.ts"
import type { Keys } from "../../src/domain/Keys.ts"
import type { Arg } from "../../src/internal/Connection.ts"
import * as Enqueue from "../../src/internal/Enqueue.ts"
import { Operations } from "../../src/layers/Operations.ts"
import type * as Redis from "../../src/layers/Redis.ts"
import { Redis as RedisService } from "../../src/layers/Redis.ts"
import * as Resque from "../../src/layers/Resque.ts"
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

/** The Resque queue of the test actions on a Redis layer. */
export const core = (redis: Layer.Layer<Redis.Redis, unknown>) =>
  Resque.layer({ actions: testActions }).pipe(Layer.provideMerge(redis))

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

/** The Resque queue of a given set of actions on a Redis layer. */
export const coreWith = <const Defs extends ReadonlyArray<Action.Any>>(
  actions: Defs,
  redis: Layer.Layer<Redis.Redis, unknown>
) => Resque.layer({ actions }).pipe(Layer.provideMerge(redis))

/**
 * Redis commands as promises, for assertions on the stored state and for seeding it (`client.lrange(key, 0,
 * -1)`): every method is the command of its name, sent through the test's Redis service, so it runs on
 * either backend. Replies are the seam's (`HGETALL` an object).
 */
export type TestClient = Readonly<Record<string, <A = any>(...args: ReadonlyArray<Arg>) => Promise<A>>>

const testClient = (redis: Redis.Redis["Service"]): TestClient =>
  new Proxy({}, {
    get: (_target, command) => (...args: ReadonlyArray<Arg>) => Effect.runPromise(redis.send(String(command), ...args))
  }) as TestClient

/** Runs Redis commands of the test's backend (for assertions on the stored state). */
export const redisCall = <A>(f: (client: TestClient, keys: Keys) => Promise<A>) =>
  Effect.gen(function*() {
    const redis = yield* RedisService
    return yield* Effect.promise(() => f(testClient(redis), redis.keys))
  })

/** Appends payloads to a queue as any producer would (`SADD queues` + `RPUSH`), in one MULTI. */
export const pushPayloads = (queue: string, payloads: ReadonlyArray<string>) =>
  Effect.flatMap(RedisService, (redis) => redis.multi(Enqueue.push(redis.keys, queue, payloads)))

/** Schedules a payload at a time (ms) as any producer would. */
export const pushPayloadAt = (timestampMs: number, payload: string) =>
  Effect.flatMap(RedisService, (redis) => redis.multi(Enqueue.pushAt(redis.keys, timestampMs, payload)))

/** Jobs waiting in a queue. */
export const queueLength = (queue: string) => Effect.flatMap(Operations, (ops) => ops.length(queue))

/** Every record of the failed list, decoded. */
export const failedJobs = Effect.flatMap(Operations, (ops) => ops.failed(0, -1))

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
      const redis = yield* RedisService
      yield* redis.send("rpush", redis.keys.key("started"), id)
      if (ms > 0) yield* Effect.sleep(ms)
      yield* redis.send("rpush", redis.keys.key("notes"), id)
      return id
    }),
  task: { queue: "notes" }
})

/** The ids recorded by {@link note}, in order. */
export const notes = redisCall((client, keys) => client.lrange<ReadonlyArray<string>>(keys.key("notes"), 0, -1))
