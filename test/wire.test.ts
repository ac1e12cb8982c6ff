/**
 * Wire compatibility with plain node-resque, both ways: a job written by node-resque's `Queue.enqueue` (or
 * delayed by its `enqueueAt`) is run by our worker (promoted by our scheduler), and a job we enqueue (or
 * delay) is run by node-resque's `Worker` with a plain job function. node-resque gets its own ioredis
 * connection, as a separate client would. The payload format is checked on both backends; the tests that
 * drive node-resque run on the real Redis only (node-resque cannot run on the in-memory backend).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, PubSub } from "effect"
import { Redis as IORedis } from "ioredis"
import { Queue as NodeResqueQueue, Worker as NodeResqueWorker } from "node-resque"
import { Actions } from "../src/layers/Actions.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as Worker from "../src/layers/Worker.ts"
import { add, core, redisCall, takeEventsWithin, waitUntil } from "./support/app.ts"
import { backends, real, redisUrl } from "./support/backends.ts"

/** node-resque's connection options: a fresh ioredis connection to the test's Redis, under the test's namespace, quit with the scope. */
const nodeResqueConnection = Effect.gen(function*() {
  const { keys } = yield* Redis
  const client = yield* Effect.acquireRelease(
    Effect.sync(() => new IORedis(redisUrl())),
    (client) => Effect.promise(() => client.quit()).pipe(Effect.ignore)
  )
  return { redis: client, namespace: keys.namespace }
})

/** A plain node-resque Queue, ended with the scope. */
const plainQueue = Effect.gen(function*() {
  const connection = yield* nodeResqueConnection
  const queue = new NodeResqueQueue({ connection })
  queue.on("error", () => {})
  yield* Effect.acquireRelease(Effect.promise(() => queue.connect()), () => Effect.promise(() => queue.end()))
  return queue
})

for (const backend of backends) {
  describe(`Resque payload format (${backend.name})`, () => {
    it.live("our enqueue writes {class, queue, args:[inputs]} on resque:queue:q with q in resque:queues", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        yield* actions.enqueue(add, { a: "4", b: 5 })
        const stored = yield* redisCall((client, keys) =>
          Promise.all([client.lrange(`${keys.namespace}:queue:math`, 0, -1), client.smembers(`${keys.namespace}:queues`)])
        )
        assert.deepStrictEqual(stored, [[JSON.stringify({ class: "add", queue: "math", args: [{ a: 4, b: 5 }] })], ["math"]])
      }).pipe(Effect.provide(core(backend.layer()))))
  })
}

describe(`wire compatibility with node-resque (${real.name} only: node-resque needs a real server)`, () => {
  it.live("a job enqueued by plain node-resque Queue.enqueue is run by our worker", () =>
    Effect.scoped(Effect.gen(function*() {
      const queue = yield* plainQueue
      yield* Effect.promise(() => queue.enqueue("math", "add", [{ a: 20, b: 22 }]))
      yield* Effect.promise(() => queue.enqueue("math", "add", [{ a: "1" }]))
      const worker = yield* Worker.make({ queues: ["math"], concurrency: 1 })
      const sub = yield* PubSub.subscribe(worker.events)
      const events = yield* takeEventsWithin(sub, 2)
      assert.deepStrictEqual(events.map((e) => e.outcome._tag === "Success" ? e.outcome.result : e.outcome.error), ["42", "1"])
      assert.strictEqual(yield* Effect.promise(() => queue.length("math")), 0)
    })).pipe(Effect.provide(core(real.layer()))))

  it.live("a job delayed by plain node-resque enqueueAt is promoted by our scheduler and run by our worker", () =>
    Effect.scoped(Effect.gen(function*() {
      const queue = yield* plainQueue
      yield* Effect.promise(() => queue.enqueueAt(Date.now() - 1000, "math", "add", [{ a: 7 }]))
      yield* JobScheduler.make({ pollInterval: "100 millis" })
      const worker = yield* Worker.make({ queues: ["math"], concurrency: 1 })
      const sub = yield* PubSub.subscribe(worker.events)
      const [event] = yield* takeEventsWithin(sub, 1)
      assert.strictEqual(event?.outcome._tag === "Success" ? event.outcome.result : "", "7")
    })).pipe(Effect.provide(core(real.layer()))))

  it.live("a job we enqueue is run by a plain node-resque Worker with a plain job function", () =>
    Effect.scoped(Effect.gen(function*() {
      const actions = yield* Actions
      yield* actions.enqueue(add, { a: "2", b: 3 })
      yield* actions.enqueueAt(Date.now() - 1000, add, { a: 10 })
      const connection = yield* nodeResqueConnection
      const seen: Array<unknown> = []
      const worker = new NodeResqueWorker({ connection, queues: ["math"], timeout: 20 }, {
        add: {
          perform: async (inputs: { readonly a: number; readonly b: number }) => {
            seen.push(inputs)
            return inputs.a + inputs.b
          }
        }
      })
      const results: Array<unknown> = []
      worker.on("success", (_queue, _job, result) => results.push(result))
      worker.on("error", () => {})
      yield* Effect.acquireRelease(
        Effect.promise(async () => {
          await worker.connect()
          await worker.start()
        }),
        () => Effect.promise(() => worker.end())
      )
      // the delayed one needs a scheduler: ours, promoting for node-resque's worker
      yield* JobScheduler.make({ pollInterval: "100 millis" })
      yield* waitUntil("node-resque's worker to run both jobs", Effect.sync(() => results.length), (n) => n >= 2)
      assert.deepStrictEqual(results, [5, 10])
      assert.deepStrictEqual(seen, [{ a: 2, b: 3 }, { a: 10, b: 0 }])
    })).pipe(Effect.provide(core(real.layer()))))
})
