/**
 * Fan-out, the basics on both backends: single and multi action, queue override, empty input, batches
 * smaller than the input, invalid children reported at enqueue, unknown actions rejected before any write,
 * results and errors collected with the child's index and inputs, unknown ids, the worker middleware list,
 * and one round trip per batch.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, PubSub, Schema } from "effect"
import * as Action from "../src/domain/Action.ts"
import * as FanOut from "../src/domain/FanOut.ts"
import { Actions } from "../src/layers/Actions.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as Resque from "../src/layers/Resque.ts"
import * as Worker from "../src/layers/Worker.ts"
import * as WorkerMiddleware from "../src/layers/WorkerMiddleware.ts"
import { queueLength, redisCall } from "./support/app.ts"
import { backends } from "./support/backends.ts"
import { app, bare, fanOutActions, finished, Odd, shout, square } from "./support/fanOutApp.ts"

/** A child action that declares its error Schema: its fan-out errors give the error back decoded. */
const picky = Action.make({
  name: "picky",
  description: "Fails on odd numbers with a typed error",
  inputs: Schema.Struct({ n: Schema.Finite }),
  error: Odd,
  run: ({ n }) => (n % 2 === 0 ? Effect.succeed(n) : Effect.fail(new Odd({ message: `odd ${n}` }))),
  task: { queue: "fan" }
})

/** The fan-out actions and {@link picky} on a Redis layer. */
const pickyApp = (redis: Layer.Layer<Redis, unknown>) =>
  Resque.layer({ actions: [...fanOutActions, picky] }).pipe(Layer.provideMerge(redis))

/** The payloads of a queue as stored (Resque format), parsed. */
const queuedPayloads = (name: string) =>
  redisCall(async (client, keys) =>
    (await client.lrange<ReadonlyArray<string>>(keys.queue(name), 0, -1)).map((raw) =>
      JSON.parse(raw) as { readonly class: string; readonly queue: string; readonly args: ReadonlyArray<Record<string, unknown>> }
    )
  )

/** Runs a worker on `queues` until `n` jobs completed. */
const work = (queues: ReadonlyArray<string>, n: number) =>
  Effect.scoped(Effect.gen(function*() {
    const worker = yield* Worker.make({ queues, concurrency: 4, pollInterval: "10 millis" })
    const sub = yield* PubSub.subscribe(worker.events)
    return yield* Effect.forEach(Array.from({ length: n }), () => PubSub.take(sub))
  }))

/**
 * A Redis layer that counts the round trips made through the seam (each `send`, `multi`, `pipeline` and
 * `eval` is one), counted when they run, so a retried call counts again.
 */
const countingRedis = (layer: Layer.Layer<Redis, unknown>) => {
  const counter = { calls: 0 }
  const counted = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.andThen(Effect.sync(() => counter.calls++), effect)
  const wrapped = Layer.effect(
    Redis,
    Effect.gen(function*() {
      const redis = yield* Redis
      return Redis.of({
        ...redis,
        send: (command, ...args) => counted(redis.send(command, ...args)),
        multi: (commands) => counted(redis.multi(commands)),
        pipeline: (commands) => counted(redis.pipeline(commands)),
        eval: (script, input) => counted(redis.eval(script, input))
      })
    })
  ).pipe(Layer.provide(layer))
  return { counter, layer: wrapped }
}

for (const backend of backends) {
  describe(`fan-out (${backend.name})`, () => {
    it.live("single action: children in Resque format, results with index and inputs, typed", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const result = yield* actions.fanOut(square, [{ n: 1 }, { n: "2" }, { n: 3 }], { batchSize: 2 })
        assert.strictEqual(result.total, 3)
        assert.strictEqual(result.enqueued, 3)
        assert.deepStrictEqual(result.errors, [])
        assert.deepStrictEqual(result.actionNames, ["square"])
        assert.deepStrictEqual(result.queues, ["fan"])
        const queued = yield* queuedPayloads("fan")
        assert.deepStrictEqual(queued.map((j) => j.args[0]), [
          { n: 1, failOdd: false, _job: { fanOut: result.fanOutId, index: 0 } },
          { n: 2, failOdd: false, _job: { fanOut: result.fanOutId, index: 1 } },
          { n: 3, failOdd: false, _job: { fanOut: result.fanOutId, index: 2 } }
        ])
        const before = yield* actions.fanOutStatus(result)
        assert.deepStrictEqual([before.total, before.completed, before.failed, before.pending, before.done], [3, 0, 0, 3, false])
        yield* work(["fan"], 3)
        const status = yield* actions.fanOutStatus(result)
        const squares: ReadonlyArray<number> = status.results.map((r) => r.result)
        assert.deepStrictEqual(squares, [1, 4, 9])
        assert.deepStrictEqual(status.results.map((r) => [r.index, r.inputs.n]), [[0, 1], [1, 2], [2, 3]])
        assert.deepStrictEqual([status.total, status.completed, status.failed, status.pending, status.done], [3, 3, 0, 0, true])
        // each completion (recording included) ran once: no failed-and-retried completion
        assert.strictEqual(yield* redisCall((client, keys) => client.get(keys.stat("processed"))), "3")
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("multi action with per-job queue override; typed results decoded with the output Schema", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const result = yield* actions.fanOut([
          { action: square, inputs: { n: 4 } },
          { action: shout, inputs: { word: "hey" }, queue: "loud" },
          FanOut.job(shout, { word: "ho" })
        ])
        assert.deepStrictEqual(result.actionNames, ["square", "shout"])
        assert.deepStrictEqual(result.queues, ["fan", "loud", "words"])
        assert.deepStrictEqual(
          [yield* queueLength("fan"), yield* queueLength("loud"), yield* queueLength("words")],
          [1, 1, 1]
        )
        yield* work(["fan", "loud", "words"], 3)
        const status = yield* actions.fanOutStatus(result.fanOutId)
        assert.deepStrictEqual(status.results.map((r) => [r.index, r.action, r.result]), [
          [0, "square", 16],
          [1, "shout", { loud: "HEY" }],
          [2, "shout", { loud: "HO" }]
        ])
        assert.isTrue(status.done)
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("failing children are collected with their messages and still finish the fan-out", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const inputs = [1, 2, 3, 4, 5].map((n) => ({ n, failOdd: true }))
        const result = yield* actions.fanOut(square, inputs, { queue: "odd-even", batchSize: 2, concurrency: 2, onComplete: finished })
        const { fanOutId } = result
        assert.strictEqual(yield* queueLength("odd-even"), 5)
        yield* work(["odd-even"], 5)
        const status = yield* actions.awaitFanOut(result, { timeout: "5 seconds" })
        assert.deepStrictEqual([status.total, status.completed, status.failed, status.done], [5, 2, 3, true])
        assert.deepStrictEqual(status.errors.map((e) => [e.index, e.error, e.inputs]), [
          [0, "odd 1", { n: 1, failOdd: true }],
          [2, "odd 3", { n: 3, failOdd: true }],
          [4, "odd 5", { n: 5, failOdd: true }]
        ])
        // the error's tag travels with its text
        assert.deepStrictEqual(status.errors.map((e) => e.exception), ["Odd", "Odd", "Odd"])
        const done = yield* queuedPayloads("done")
        assert.deepStrictEqual(done.map((j) => j.args[0]), [{ fanOutId, total: 5, completed: 2, failed: 3 }])
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("a failed child's error comes back as data: decoded by the action's error Schema, plain fields without one", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const typed = yield* actions.fanOut(picky, [{ n: 1 }, { n: 2 }])
        const plain = yield* actions.fanOut(square, [{ n: 3, failOdd: true }])
        yield* work(["fan"], 3)
        const status = yield* actions.fanOutStatus(typed)
        assert.deepStrictEqual([status.completed, status.failed, status.done], [1, 1, true])
        const [error] = status.errors
        assert.deepStrictEqual([error?.index, error?.exception, error?.error], [0, "Odd", "odd 1"])
        assert.instanceOf(error?.failure, Odd)
        assert.strictEqual(error?.failure?.message, "odd 1")
        const untyped = yield* actions.fanOutStatus(plain)
        assert.deepStrictEqual(untyped.errors.map((e) => [e.exception, e.error]), [["Odd", "odd 3"]])
        assert.notInstanceOf(untyped.errors[0]?.failure, Odd)
        assert.deepStrictEqual(untyped.errors[0]?.failure, { _tag: "Odd", message: "odd 3" })
      }).pipe(Effect.provide(pickyApp(backend.layer()))))

    it.live("invalid children are reported at enqueue with index and Schema message, and not counted", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const result = yield* actions.fanOut("square", [{ n: 1 }, { n: "x" }, {}, { n: 2 }])
        assert.strictEqual(result.total, 2)
        assert.strictEqual(result.enqueued, 2)
        assert.deepStrictEqual(result.errors.map((e) => [e.index, e.reason]), [[1, "InvalidInputs"], [2, "InvalidInputs"]])
        assert.include(result.errors[0]?.message ?? "", "at [\"n\"]")
        assert.strictEqual(yield* queueLength("fan"), 2)
        const status = yield* actions.fanOutStatus(result.fanOutId)
        assert.strictEqual(status.total, 2)
        const nonObject = yield* actions.fanOut(bare, ["a"])
        assert.deepStrictEqual(nonObject.errors.map((e) => [e.index, e.reason]), [[0, "InvalidInputs"]])
        assert.include(nonObject.errors[0]?.message ?? "", "must be an object")
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("an unknown action or a bad option fails the whole call before anything is written", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const error = yield* Effect.flip(actions.fanOut([{ action: square, inputs: { n: 1 } }, { action: "nope", inputs: {} }]))
        assert.strictEqual(error._tag, "UnknownAction")
        const onComplete = yield* Effect.flip(actions.fanOut(square, [{ n: 1 }], { onComplete: "nope" }))
        assert.strictEqual(onComplete._tag, "UnknownAction")
        const badCompletion = yield* Effect.flip(actions.fanOut(square, [{ n: 1 }], { onComplete: shout }))
        assert.strictEqual(badCompletion._tag, "InvalidInputs")
        const badBatch = yield* Effect.flip(actions.fanOut(square, [{ n: 1 }], { batchSize: 0 }))
        assert.strictEqual(badBatch._tag, "FanOutInvalidOptions")
        assert.include(badBatch.message, "batchSize")
        const badTtl = yield* Effect.flip(actions.fanOut(square, [{ n: 1 }], { resultTtl: Infinity }))
        assert.strictEqual(badTtl._tag, "FanOutInvalidOptions")
        assert.strictEqual(yield* queueLength("fan"), 0)
        assert.deepStrictEqual(yield* redisCall((client, keys) => client.keys(`${keys.namespace}:fanout:*`)), [])
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("an empty input array is a finished fan-out, and onComplete fires once", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const result = yield* actions.fanOut(square, [], { onComplete: { action: finished, queue: "after" } })
        assert.deepStrictEqual([result.total, result.enqueued, result.errors.length], [0, 0, 0])
        const status = yield* actions.awaitFanOut(result, { timeout: "1 second" })
        assert.deepStrictEqual([status.total, status.completed, status.failed, status.done], [0, 0, 0, true])
        const after = yield* queuedPayloads("after")
        assert.deepStrictEqual(after.map((j) => j.args[0]), [{ fanOutId: result.fanOutId, total: 0, completed: 0, failed: 0 }])
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("an unknown id is FanOutNotFound, never a row of zeros", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const error = yield* Effect.flip(actions.fanOutStatus("no-such-id"))
        assert.strictEqual(error._tag, "FanOutNotFound")
        const waited = yield* Effect.flip(actions.awaitFanOut("no-such-id"))
        assert.strictEqual(waited._tag, "FanOutNotFound")
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("the recorder is in the default middleware list: a list without it records nothing, defaults plus one's own do", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const unrecorded = yield* actions.fanOut(square, [{ n: 5 }], { queue: "no-recorder" })
        yield* work(["no-recorder"], 1).pipe(Effect.provide(WorkerMiddleware.layer([])))
        assert.strictEqual((yield* actions.fanOutStatus(unrecorded)).pending, 1)
        const mine: WorkerMiddleware.Middleware = {
          name: "mine",
          onComplete: ({ job }, { keys }) => [WorkerMiddleware.Write.rpush(keys.key("mine"), job.action)]
        }
        const restored = yield* actions.fanOut(square, [{ n: 6 }], { queue: "restored" })
        yield* work(["restored"], 1).pipe(Effect.provide(WorkerMiddleware.layer([...WorkerMiddleware.defaults, mine])))
        assert.deepStrictEqual((yield* actions.fanOutStatus(restored)).results.map((r) => r.result), [36])
        assert.deepStrictEqual(yield* redisCall((client, keys) => client.lrange(keys.key("mine"), 0, -1)), ["square"])
        // and without a layer, the defaults are in force
        const byDefault = yield* actions.fanOut(square, [{ n: 7 }], { queue: "by-default" })
        yield* work(["by-default"], 1)
        assert.deepStrictEqual((yield* actions.fanOutStatus(byDefault)).results.map((r) => r.result), [49])
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("each batch is one round trip to Redis (calls through the Redis seam counted)", () => {
      const counting = countingRedis(backend.layer())
      return Effect.gen(function*() {
        const actions = yield* Actions
        yield* actions.fanOut(square, [{ n: 0 }], { queue: "warm-up" }) // a live server learns the batch script
        const before = counting.counter.calls
        const result = yield* actions.fanOut(square, Array.from({ length: 25 }, (_, n) => ({ n })), { queue: "counted", batchSize: 10 })
        const calls = counting.counter.calls - before
        assert.strictEqual(result.enqueued, 25)
        assert.strictEqual(calls, 3)
      }).pipe(Effect.provide(app(counting.layer)))
    })
  })
}
