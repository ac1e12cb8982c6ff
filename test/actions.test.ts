/**
 * Defining, registering, running and enqueueing actions, and delayed jobs (`enqueueAt`/`enqueueIn`) promoted
 * by the scheduler. The `@ts-expect-error` lines are checked by `npx tsc -p .`: they fail the type check if
 * the compiler stops rejecting them. The check that node-resque's own inspection reads our delayed jobs runs
 * on the real Redis only (node-resque cannot run on the in-memory backend).
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, PubSub, Schema } from "effect"
import * as Action from "../src/domain/Action.ts"
import type { InvalidInputs, JobTimedOut } from "../src/domain/Errors.ts"
import * as ActionRegistry from "../src/layers/ActionRegistry.ts"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as Resque from "../src/layers/Resque.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as Worker from "../src/layers/Worker.ts"
import { add, Boom, coreWith, explode, queueLength, redisCall, takeEventsWithin } from "./support/app.ts"
import { backends, memory, real } from "./support/backends.ts"
import { plainQueue } from "./support/nodeResque.ts"

/** A service an action needs from the environment. */
class Greeting extends Context.Service<Greeting, { readonly word: string }>()("test/Greeting") {}

const greet = Action.make({
  name: "greet",
  description: "Greets with the word from the Greeting service",
  inputs: Schema.Struct({ who: Schema.String, times: Schema.Finite.pipe(Schema.withDecodingDefault(Effect.succeed(1))) }),
  run: ({ who, times }) =>
    Effect.gen(function*() {
      const { word } = yield* Greeting
      return `${word} ${who}`.repeat(times)
    })
})

/** No `task`: enqueued on `default` unless a queue is given. */
const untasked = Action.make({
  name: "untasked",
  description: "Has no task",
  inputs: Schema.Struct({ n: Schema.Finite }),
  run: ({ n }) => Effect.succeed(n * 2)
})

/** Every key under the test's namespace. */
const storedKeys = redisCall((client, keys) => client.keys<ReadonlyArray<string>>(`${keys.namespace}:*`))

/** Sleeps past its own timeout. */
const dawdle = Action.make({
  name: "dawdle",
  description: "Sleeps longer than its timeout",
  inputs: Schema.Struct({}),
  run: () => Effect.as(Effect.sleep("1 hour"), "woke up"),
  timeout: "100 millis"
})

const actionsUnderTest = [add, explode, greet, untasked, dawdle] as const
const greetingLayer = Layer.succeed(Greeting, { word: "hello" })

/** Compile-time checks only: never called. */
export const typeChecks = (actions: Actions["Service"]) => {
  Action.make({
    name: "typed",
    description: "run's argument is inferred from the Schema",
    inputs: Schema.Struct({ n: Schema.Number }),
    run: ({ n }) => {
      const doubled: number = n * 2
      // @ts-expect-error n is a number, not a string
      const wrong: string = n
      return Effect.succeed([doubled, wrong])
    }
  })
  // encoded inputs: `a` may be a string (FiniteFromString), `b` may be omitted (decoding default)
  actions.enqueue(add, { a: "1" })
  // @ts-expect-error `a` is required
  actions.enqueue(add, { b: 1 })
  // @ts-expect-error `a` is a number or a numeric string, not a boolean
  actions.enqueue(add, { a: true })
  // @ts-expect-error greet has no input `whom`
  actions.enqueueIn("1 second", greet, { whom: "x" })
  // @ts-expect-error the time comes first
  actions.enqueueAt(greet, Date.now(), { who: "x" })
  // by name, inputs are unknown: checked at run time
  actions.enqueue("add", { anything: 1 })
  const ran: Effect.Effect<number, InvalidInputs | JobTimedOut> = actions.run(add, { a: 1 })
  // @ts-expect-error greet needs the Greeting service: the requirement shows in the type
  const unprovided: Effect.Effect<string, unknown> = actions.run(greet, { who: "x" })
  const failing: Effect.Effect<never, Boom | InvalidInputs | JobTimedOut> = actions.run(explode, { why: "x" })
  return [ran, unprovided, failing]
}

describe("action registry", () => {
  it.effect("rejects two actions of one name when it is built", () =>
    Effect.gen(function*() {
      const twin = Action.make({ ...untasked, description: "same name" })
      const error = yield* Effect.flip(ActionRegistry.make([untasked, add, twin]))
      assert.strictEqual(error._tag, "DuplicateAction")
      assert.strictEqual(error.message, "action untasked is defined more than once")
      const fromLayer = yield* Effect.flip(
        Effect.provide(Effect.gen(function*() {
          return yield* Actions
        }), Resque.layer({ actions: [add, add] }).pipe(Layer.provide(memory.layer())))
      )
      assert.strictEqual(fromLayer._tag, "DuplicateAction")
    }))

  it.effect("looks actions up by name, with a typed error for an unknown one", () =>
    Effect.gen(function*() {
      const registry = yield* ActionRegistry.make([add, untasked])
      assert.deepStrictEqual([...registry.entries.keys()], ["add", "untasked"])
      assert.strictEqual((yield* registry.get("add")).action, add)
      const error = yield* Effect.flip(registry.get("missing"))
      assert.strictEqual(error._tag, "UnknownAction")
      assert.strictEqual(error.message, "unknown action missing")
    }))
})

for (const backend of backends) {
  const app = () => coreWith(actionsUnderTest, backend.layer()).pipe(Layer.provide(greetingLayer))

  describe(`Actions.run (${backend.name})`, () => {
    it.live("runs a definition in the caller's fiber with services from the caller", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const viaCaller = yield* actions.run(greet, { who: "you", times: 2 }).pipe(
          Effect.provideService(Greeting, { word: "hi" })
        )
        assert.strictEqual(viaCaller, "hi youhi you")
        assert.strictEqual(yield* actions.run(add, { a: "2", b: 3 }), 5)
        const failure = yield* Effect.flip(actions.run(explode, { why: "direct" }))
        assert.instanceOf(failure, Boom)
        const invalid = yield* Effect.flip(actions.run(add, { a: "x" }))
        assert.strictEqual(invalid._tag, "InvalidInputs")
        assert.include(invalid.message, "at [\"a\"]")
      }).pipe(Effect.provide(app())))

    it.live("applies the action's timeout by definition as by name: JobTimedOut past it", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const bounded = <A, E>(effect: Effect.Effect<A, E>) =>
          Effect.flip(effect).pipe(Effect.timeoutOrElse({ duration: "5 seconds", orElse: () => Effect.die(new Error("the timeout was not applied")) }))
        const byDefinition = yield* bounded(actions.run(dawdle, {}))
        const byName = yield* bounded(actions.run("dawdle", {}))
        for (const error of [byDefinition, byName]) {
          assert.strictEqual(error instanceof Error ? error.message : "", "dawdle timed out after 100 ms")
        }
        assert.strictEqual(byDefinition._tag, "JobTimedOut")
      }).pipe(Effect.provide(app())))

    it.live("runs by name with services from the registry and inputs checked at run time", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        assert.strictEqual(yield* actions.run("greet", { who: "there" }), "hello there")
        const invalid = yield* Effect.flip(actions.run("greet", { who: 3 }))
        assert.strictEqual(invalid instanceof Error ? invalid.message : "", "invalid inputs for greet: Expected string\n  at [\"who\"]")
        const unknown = yield* Effect.flip(actions.run("missing", {}))
        assert.strictEqual(unknown instanceof Error ? unknown.message : "", "unknown action missing")
        // nothing was enqueued by a direct run
        const queues = yield* redisCall((client, keys) => client.smembers(keys.queues))
        assert.deepStrictEqual(queues, [])
      }).pipe(Effect.provide(app())))
  })

  describe(`Actions.enqueue (${backend.name})`, () => {
    it.live("writes the Resque payload on the action's task queue, a given queue, or `default`", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const operations = yield* Operations
        const onTask = yield* actions.enqueue(add, { a: "1" })
        assert.strictEqual(onTask.queue, "math")
        // inputs are normalized by the Schema: coerced and defaulted before they travel
        assert.strictEqual(onTask.payload, JSON.stringify({ class: "add", queue: "math", args: [{ a: 1, b: 0 }] }))
        const onGiven = yield* actions.enqueue("add", { a: 2 }, { queue: "urgent" })
        assert.strictEqual(onGiven.queue, "urgent")
        const onDefault = yield* actions.enqueue(untasked, { n: 1 })
        assert.strictEqual(onDefault.queue, "default")
        assert.deepStrictEqual((yield* operations.queues).map((q) => q.name).sort(), ["default", "math", "urgent"])
        assert.deepStrictEqual((yield* operations.queued("urgent", 0, -1)).map((job) => JSON.parse(job.raw)), [
          { class: "add", queue: "urgent", args: [{ a: 2, b: 0 }] }
        ])
      }).pipe(Effect.provide(app())))

    it.live("refuses invalid inputs, unknown actions and oversized payloads, writing nothing", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const bad = yield* Effect.flip(actions.enqueue(add, { a: "x" }))
        assert.strictEqual(bad._tag, "InvalidInputs")
        // the Schema's readable message, with the path of the bad field
        assert.match(bad.message, /^invalid inputs for add: .+\n  at \["a"\]/s)
        const badAt = yield* Effect.flip(actions.enqueueAt(Date.now(), "greet", { who: 1 }))
        assert.strictEqual(badAt._tag, "InvalidInputs")
        const badIn = yield* Effect.flip(actions.enqueueIn("1 second", untasked, { n: Number.NaN }))
        assert.strictEqual(badIn._tag, "InvalidInputs")
        const unknown = yield* Effect.flip(actions.enqueue("missing", {}))
        assert.strictEqual(unknown._tag, "UnknownAction")
        assert.strictEqual(unknown.message, "unknown action missing")
        const unknownAt = yield* Effect.flip(actions.enqueueIn(1000, "missing", {}))
        assert.strictEqual(unknownAt._tag, "UnknownAction")
        assert.deepStrictEqual(yield* storedKeys, [])
      }).pipe(Effect.provide(app())))

    it.live("refuses a payload over the size limit", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const error = yield* Effect.flip(actions.enqueue(greet, { who: "x".repeat(2000) }))
        assert.strictEqual(error._tag, "PayloadTooLarge")
        assert.deepStrictEqual(yield* storedKeys, [])
      }).pipe(
        Effect.provide(
          Resque.layer({ actions: actionsUnderTest, maxPayloadBytes: 1000 }).pipe(
            Layer.provideMerge(backend.layer()),
            Layer.provide(greetingLayer)
          )
        )
      ))
  })

  describe(`delayed jobs (${backend.name})`, () => {
    it.live("enqueueAt and enqueueIn write Resque's delayed structures", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const operations = yield* Operations
        const at = Date.now() + 3_600_000
        const job = yield* actions.enqueueAt(new Date(at), add, { a: 1 })
        const seconds = Math.round(at / 1000)
        const state = yield* Effect.flatMap(Redis, (redis) =>
          redis.multi([
            ["zrange", redis.keys.delayedSchedule, 0, -1, "WITHSCORES"],
            ["lrange", redis.keys.delayed(seconds), 0, -1],
            ["smembers", redis.keys.timestamps(job.payload)]
          ]))
        assert.deepStrictEqual(state, [
          [String(seconds), String(seconds)],
          [job.payload],
          [`delayed:${seconds}`]
        ])
        // the operations API finds it by action and inputs, as enqueue wrote them (times in ms)
        const scheduled = yield* operations.scheduledAt(add, { a: 1, b: 0 }, { queue: "math" })
        assert.deepStrictEqual(scheduled, [seconds * 1000])
        const later = yield* actions.enqueueIn("2 hours", untasked, { n: 1 })
        const timestamps = yield* operations.scheduledAt("untasked", { n: 1 }, { queue: "default" })
        assert.strictEqual(timestamps.length, 1)
        assert.approximately(Number(timestamps[0]) / 1000, Math.round((Date.now() + 7_200_000) / 1000), 5)
        assert.strictEqual(later.queue, "default")
        assert.strictEqual(yield* queueLength("math"), 0)
      }).pipe(Effect.provide(app())))

    it.live("the same job at the same second twice is written once, and the second call says alreadyScheduled", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const second = Math.round(Date.now() / 1000) + 3600
        const first = yield* actions.enqueueAt(second * 1000, add, { a: 1 })
        // 300 ms later is the same second once rounded
        const again = yield* actions.enqueueAt(second * 1000 + 300, add, { a: 1 })
        assert.deepStrictEqual([first.alreadyScheduled, again.alreadyScheduled, first.at, again.at], [false, true, second * 1000, second * 1000])
        // other inputs, or another second, are other jobs
        const other = yield* actions.enqueueAt(second * 1000, add, { a: 2 })
        const later = yield* actions.enqueueAt((second + 1) * 1000, add, { a: 1 })
        assert.deepStrictEqual([other.alreadyScheduled, later.alreadyScheduled], [false, false])
        const state = yield* Effect.flatMap(Redis, (redis) =>
          redis.multi([["lrange", redis.keys.delayed(second), 0, -1], ["zcard", redis.keys.delayedSchedule]]))
        assert.deepStrictEqual(state, [[first.payload, other.payload], 2])
      }).pipe(Effect.provide(app())))

    it.live("an invalid time (NaN, Infinity, an invalid Date) is a typed error and writes nothing", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        for (const at of [Number.NaN, Number.POSITIVE_INFINITY, new Date("not a date")]) {
          const error = yield* Effect.flip(actions.enqueueAt(at, add, { a: 1 }))
          assert.strictEqual(error._tag, "InvalidInputs")
          assert.include(error.message, "invalid time")
        }
        const never = yield* Effect.flip(actions.enqueueIn("Infinity", "add", { a: 1 }))
        assert.strictEqual(never._tag, "InvalidInputs")
        assert.deepStrictEqual(yield* storedKeys, [])
      }).pipe(Effect.provide(app())))

    it.live("the scheduler promotes due delayed jobs to their queue and a worker runs them", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const operations = yield* Operations
        yield* actions.enqueueAt(Date.now() - 2000, add, { a: 1 })
        yield* actions.enqueueIn("1 second", add, { a: 2 })
        yield* actions.enqueueIn("1 hour", add, { a: 3 })
        const events = yield* Effect.scoped(Effect.gen(function*() {
          yield* JobScheduler.make({ pollInterval: "100 millis" })
          const worker = yield* Worker.make({ queues: ["math"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          return yield* takeEventsWithin(sub, 2, "8 seconds")
        }))
        assert.deepStrictEqual(events.map((e) => e.outcome._tag === "Success" ? e.outcome.result : "failed"), ["1", "2"])
        // the one due in an hour is still waiting
        const waiting = yield* operations.scheduledAt(add, { a: 3, b: 0 }, { queue: "math" })
        assert.strictEqual(waiting.length, 1)
      }).pipe(Effect.provide(app())))
  })
}

// node-resque drives a real server: it cannot run on the in-memory backend
describe(`delayed jobs read by node-resque (${real.name} only)`, () => {
  it.live("node-resque's own inspection finds jobs delayed by enqueueAt and enqueueIn", () =>
    Effect.scoped(Effect.gen(function*() {
      const actions = yield* Actions
      const queue = yield* plainQueue
      const at = Date.now() + 3_600_000
      yield* actions.enqueueAt(new Date(at), add, { a: 1 })
      const scheduled = yield* Effect.promise(() => queue.scheduledAt("math", "add", [{ a: 1, b: 0 }]))
      assert.deepStrictEqual(scheduled.map(Number), [Math.round(at / 1000)])
      const later = yield* actions.enqueueIn("2 hours", untasked, { n: 1 })
      const timestamps = yield* Effect.promise(() => queue.scheduledAt("default", "untasked", [{ n: 1 }]))
      assert.strictEqual(timestamps.length, 1)
      assert.approximately(Number(timestamps[0]), Math.round((Date.now() + 7_200_000) / 1000), 5)
      assert.strictEqual(later.queue, "default")
      assert.strictEqual(yield* Effect.promise(() => queue.length("math")), 0)
    })).pipe(Effect.provide(coreWith(actionsUnderTest, real.layer()).pipe(Layer.provide(greetingLayer)))))
})
