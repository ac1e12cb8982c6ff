import { assert, describe, it } from "@effect/vitest"
import { Effect, PubSub } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import { ResqueQueue } from "../src/layers/Queue.ts"
import * as Worker from "../src/layers/Worker.ts"
import { add, core, explode, takeEvents } from "./support/app.ts"
import { backends } from "./support/backends.ts"

for (const backend of backends) {
  describe(`core runtime (${backend.name})`, () => {
    it.live("enqueues a typed job in Resque format and a worker runs it", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const { queue } = yield* ResqueQueue
        const job = yield* actions.enqueue(add, { a: "2", b: 3 })
        assert.deepStrictEqual(JSON.parse(job.payload), { class: "add", queue: "math", args: [{ a: 2, b: 3 }] })
        assert.strictEqual(yield* Effect.promise(() => queue.length("math")), 1)
        const events = yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["math"], concurrency: 2 })
          const sub = yield* PubSub.subscribe(worker.events)
          return yield* takeEvents(sub, 1)
        }))
        assert.strictEqual(events[0]?.outcome._tag, "Success")
        assert.strictEqual(events[0]?.outcome._tag === "Success" ? events[0].outcome.result : "", "5")
      }).pipe(Effect.provide(core(backend.layer()))))

    it.live("rejects invalid inputs at enqueue with the Schema message and writes nothing", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const { queue } = yield* ResqueQueue
        const error = yield* Effect.flip(actions.enqueue("add", { a: "x" }))
        assert.strictEqual(error._tag, "InvalidInputs")
        assert.include(error.message, "at [\"a\"]")
        const unknown = yield* Effect.flip(actions.enqueue("nope", {}))
        assert.strictEqual(unknown._tag, "UnknownAction")
        assert.strictEqual(yield* Effect.promise(() => queue.length("math")), 0)
      }).pipe(Effect.provide(core(backend.layer()))))

    it.live("a failing job lands in the failed list and the worker keeps going", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const { queue } = yield* ResqueQueue
        const events = yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["math"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          yield* actions.enqueue(explode, { why: "kaboom" })
          yield* actions.enqueue(add, { a: 1 })
          return yield* takeEvents(sub, 2)
        }))
        assert.deepStrictEqual(events.map((e) => e.outcome._tag), ["Failure", "Success"])
        const failed = yield* Effect.promise(() => queue.failed(0, -1))
        assert.strictEqual(failed.length, 1)
        assert.strictEqual(failed[0]?.error, "kaboom")
        assert.strictEqual(failed[0]?.exception, "Boom")
      }).pipe(Effect.provide(core(backend.layer()))))
  })
}

