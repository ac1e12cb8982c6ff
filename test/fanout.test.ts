/**
 * Fan-out, the basics on both backends: single and multi action, queue override, empty input, batches
 * smaller than the input, invalid children reported at enqueue, unknown actions rejected before any write,
 * results and errors collected with the child's index and inputs, unknown ids.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, PubSub } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import * as FanOutStore from "../src/layers/FanOut.ts"
import { ResqueQueue } from "../src/layers/Queue.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as Worker from "../src/layers/Worker.ts"
import { WorkerMiddleware } from "../src/layers/WorkerMiddleware.ts"
import { job } from "../src/programs/fanOut.ts"
import { backends } from "./support/backends.ts"
import { app, bare, finished, shout, square } from "./support/fanOutApp.ts"

const queueLength = (name: string) =>
  Effect.gen(function*() {
    const { queue } = yield* ResqueQueue
    return yield* Effect.promise(() => queue.length(name))
  })

/** Runs a worker on `queues` until `n` jobs completed. */
const work = (queues: ReadonlyArray<string>, n: number) =>
  Effect.scoped(Effect.gen(function*() {
    const worker = yield* Worker.make({ queues, concurrency: 4, pollInterval: "10 millis" })
    const sub = yield* PubSub.subscribe(worker.events)
    return yield* Effect.forEach(Array.from({ length: n }), () => PubSub.take(sub))
  }))

for (const backend of backends) {
  describe(`fan-out (${backend.name})`, () => {
    it.live("single action: children in Resque format, results with index and inputs, typed", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const result = yield* actions.fanOut(square, [{ n: 1 }, { n: "2" }, { n: 3 }], undefined, { batchSize: 2 })
        assert.strictEqual(result.total, 3)
        assert.strictEqual(result.enqueued, 3)
        assert.deepStrictEqual(result.errors, [])
        assert.deepStrictEqual(result.actionNames, ["square"])
        assert.deepStrictEqual(result.queues, ["fan"])
        const { queue } = yield* ResqueQueue
        const queued = yield* Effect.promise(() => queue.queued("fan", 0, -1))
        assert.deepStrictEqual(queued.map((j) => j.args[0]), [
          { n: 1, failOdd: false, _job: { fanOut: result.fanOutId, index: 0 } },
          { n: 2, failOdd: false, _job: { fanOut: result.fanOutId, index: 1 } },
          { n: 3, failOdd: false, _job: { fanOut: result.fanOutId, index: 2 } }
        ])
        const before = yield* actions.fanOutStatus(result.fanOutId, square)
        assert.deepStrictEqual([before.total, before.completed, before.failed, before.pending, before.done], [3, 0, 0, 3, false])
        yield* work(["fan"], 3)
        const status = yield* actions.fanOutStatus(result.fanOutId, square)
        const squares: ReadonlyArray<number> = status.results.map((r) => r.result)
        assert.deepStrictEqual(squares, [1, 4, 9])
        assert.deepStrictEqual(status.results.map((r) => [r.index, r.inputs.n]), [[0, 1], [1, 2], [2, 3]])
        assert.deepStrictEqual([status.total, status.completed, status.failed, status.pending, status.done], [3, 3, 0, 0, true])
        // each completion MULTI (recording included) ran once: no failed-and-retried completion
        const { client, keys } = yield* Redis
        assert.strictEqual(yield* Effect.promise(() => client.get(keys.stat("processed"))), "3")
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("multi action with per-job queue override; typed results decoded with the output Schema", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const result = yield* actions.fanOut([
          { action: square, inputs: { n: 4 } },
          { action: shout, inputs: { word: "hey" }, queue: "loud" },
          job(shout, { word: "ho" })
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
        const { fanOutId } = yield* actions.fanOut(square, inputs, "odd-even", { batchSize: 2, concurrency: 2, onComplete: finished })
        assert.strictEqual(yield* queueLength("odd-even"), 5)
        yield* work(["odd-even"], 5)
        const status = yield* actions.awaitFanOut(fanOutId, { timeout: "5 seconds" })
        assert.deepStrictEqual([status.total, status.completed, status.failed, status.done], [5, 2, 3, true])
        assert.deepStrictEqual(status.errors.map((e) => [e.index, e.error, e.inputs]), [
          [0, "odd 1", { n: 1, failOdd: true }],
          [2, "odd 3", { n: 3, failOdd: true }],
          [4, "odd 5", { n: 5, failOdd: true }]
        ])
        const { queue } = yield* ResqueQueue
        const done = yield* Effect.promise(() => queue.queued("done", 0, -1))
        assert.deepStrictEqual(done.map((j) => j.args[0]), [{ fanOutId, total: 5, completed: 2, failed: 3 }])
      }).pipe(Effect.provide(app(backend.layer()))))

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
        const { client, keys } = yield* Redis
        const error = yield* Effect.flip(actions.fanOut([{ action: square, inputs: { n: 1 } }, { action: "nope", inputs: {} }]))
        assert.strictEqual(error._tag, "UnknownAction")
        const onComplete = yield* Effect.flip(actions.fanOut(square, [{ n: 1 }], undefined, { onComplete: "nope" }))
        assert.strictEqual(onComplete._tag, "UnknownAction")
        const badCompletion = yield* Effect.flip(actions.fanOut(square, [{ n: 1 }], undefined, { onComplete: shout }))
        assert.strictEqual(badCompletion._tag, "InvalidInputs")
        const badBatch = yield* Effect.flip(actions.fanOut(square, [{ n: 1 }], undefined, { batchSize: 0 }))
        assert.strictEqual(badBatch._tag, "FanOutInvalidOptions")
        assert.include(badBatch.message, "batchSize")
        const badTtl = yield* Effect.flip(actions.fanOut(square, [{ n: 1 }], undefined, { resultTtl: Infinity }))
        assert.strictEqual(badTtl._tag, "FanOutInvalidOptions")
        assert.strictEqual(yield* queueLength("fan"), 0)
        assert.deepStrictEqual(yield* Effect.promise(() => client.keys(`${keys.namespace}:fanout:*`)), [])
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("an empty input array is a finished fan-out, and onComplete fires once", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const result = yield* actions.fanOut(square, [], undefined, { onComplete: { action: finished, queue: "after" } })
        assert.deepStrictEqual([result.total, result.enqueued, result.errors.length], [0, 0, 0])
        const status = yield* actions.awaitFanOut(result.fanOutId, { timeout: "1 second" })
        assert.deepStrictEqual([status.total, status.completed, status.failed, status.done], [0, 0, 0, true])
        const { queue } = yield* ResqueQueue
        const after = yield* Effect.promise(() => queue.queued("after", 0, -1))
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

    it.live("the recorder is on by default, and FanOutStore.layer puts it back into a custom middleware list", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const unrecorded = yield* actions.fanOut(square, [{ n: 5 }], "no-recorder")
        yield* work(["no-recorder"], 1).pipe(Effect.provide(Layer.succeed(WorkerMiddleware, [])))
        assert.strictEqual((yield* actions.fanOutStatus(unrecorded.fanOutId)).pending, 1)
        const restored = yield* actions.fanOut(square, [{ n: 6 }], "restored")
        yield* work(["restored"], 1).pipe(Effect.provide(FanOutStore.layer([])))
        assert.deepStrictEqual((yield* actions.fanOutStatus(restored.fanOutId)).results.map((r) => r.result), [36])
      }).pipe(Effect.provide(app(backend.layer()))))

    if (backend.name === "redis") {
      it.live("each batch is one round trip to Redis (socket writes of the client counted)", () =>
        Effect.gen(function*() {
          const actions = yield* Actions
          const { client } = yield* Redis
          yield* actions.fanOut(square, [{ n: 0 }], "warm-up") // loads the batch script on this connection
          const stream = (client as unknown as { readonly stream: { write: (...args: Array<unknown>) => boolean } }).stream
          const write = stream.write
          let writes = 0
          stream.write = (...args) => {
            writes++
            return write.apply(stream, args)
          }
          const result = yield* actions.fanOut(square, Array.from({ length: 25 }, (_, n) => ({ n })), "counted", { batchSize: 10 }).pipe(
            Effect.ensuring(Effect.sync(() => {
              stream.write = write
            }))
          )
          assert.strictEqual(result.enqueued, 25)
          assert.strictEqual(writes, 3)
        }).pipe(Effect.provide(app(backend.layer()))))
    }
  })
}
