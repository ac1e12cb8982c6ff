/**
 * Wire compatibility with plain node-resque, both ways: a job written by node-resque's `Queue.enqueue` (or
 * delayed by its `enqueueAt`) is run by our worker (promoted by our scheduler), and a job we enqueue (or
 * delay) is run by node-resque's `Worker` with a plain job function. node-resque gets its own ioredis
 * connection, as a separate client would. node-resque's inspection sees our workers and what they run, and
 * our job scheduler and node-resque's share one leader lock. The payload format is checked on both backends;
 * the tests that drive node-resque run on the real Redis only (node-resque cannot run on the in-memory
 * backend).
 */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, PubSub, Schema } from "effect"
import * as Action from "../src/domain/Action.ts"
import { Scheduler as NodeResqueScheduler, Worker as NodeResqueWorker } from "node-resque"
import { Actions } from "../src/layers/Actions.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as Worker from "../src/layers/Worker.ts"
import { add, core, coreWith, redisCall, takeEventsWithin, testActions, waitUntil } from "./support/app.ts"
import { backends, real } from "./support/backends.ts"
import { nodeResqueConnection, plainQueue } from "./support/nodeResque.ts"

/** Opened by the test that holds a job running while node-resque looks at it. */
const release = Deferred.makeUnsafe<void>()

const hold = Action.make({
  name: "hold",
  description: "Runs until the test releases it",
  inputs: Schema.Struct({ id: Schema.String }),
  run: ({ id }) => Effect.as(Deferred.await(release), id),
  task: { queue: "hold" }
})

/** The holder of the shared leader lock. */
const leaderLock = redisCall((client, keys) => client.get<string | null>(keys.leaderLock))

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

  it.live("node-resque's inspection sees our workers and the job each runs", () =>
    Effect.scoped(Effect.gen(function*() {
      const actions = yield* Actions
      const queue = yield* plainQueue
      const worker = yield* Worker.make({ queues: ["hold"], concurrency: 2 })
      yield* actions.enqueue(hold, { id: "seen-by-node-resque" })
      const busy = yield* waitUntil(
        "node-resque to see the running job",
        Effect.promise(() => queue.allWorkingOn()),
        (all) => Object.values(all).some((w) => typeof w === "object" && w !== null)
      )
      const [name, record] = Object.entries(busy).find(([, w]) => typeof w === "object" && w !== null) ?? []
      assert.include(worker.names, name)
      assert.deepStrictEqual(typeof record === "object" && record !== null ? [record.queue, record.payload.class, record.payload.args] : [], [
        "hold",
        "hold",
        [{ id: "seen-by-node-resque" }]
      ])
      const registered = Object.keys(yield* Effect.promise(() => queue.workers()))
      assert.deepStrictEqual([...registered].sort(), [...worker.names].sort())
      yield* Deferred.succeed(release, undefined)
    })).pipe(Effect.provide(coreWith([...testActions, hold], real.layer()))))

  it.live("our job scheduler and node-resque's Scheduler share one leader lock: one leads, the other takes over when it stops", () =>
    Effect.gen(function*() {
      const connection = yield* nodeResqueConnection
      const theirs = new NodeResqueScheduler({ connection, name: "node-resque-scheduler", timeout: 50, leaderLockTimeout: 10 })
      theirs.on("error", () => {})
      yield* Effect.promise(async () => {
        await theirs.connect()
        await theirs.start()
      })
      yield* waitUntil("node-resque's scheduler to lead", Effect.sync(() => theirs.leader), (leader) => leader)
      const ours = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
        const scheduler = yield* JobScheduler.make({ name: "ours", pollInterval: "50 millis", leaderLockTimeout: "10 seconds" })
        // while node-resque's holds the lock, ours never leads
        for (let i = 0; i < 5; i++) {
          assert.isFalse(yield* scheduler.isLeader)
          yield* Effect.sleep("60 millis")
        }
        yield* Effect.promise(() => theirs.end())
        yield* waitUntil("ours to take over", scheduler.isLeader, (leader) => leader)
        assert.strictEqual(yield* leaderLock, "ours")
        // and node-resque's, started again, does not take it back
        yield* Effect.promise(() => theirs.start())
        yield* Effect.sleep("300 millis")
        assert.isFalse(theirs.leader)
        assert.strictEqual(yield* leaderLock, "ours")
        yield* Effect.promise(() => theirs.end())
      })))
      yield* Fiber.join(ours)
    }).pipe(Effect.scoped, Effect.provide(core(real.layer()))))
})
