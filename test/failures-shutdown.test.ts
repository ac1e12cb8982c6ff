/**
 * Failure suite, graceful shutdown (in process): jobs in flight finish within the grace period or are failed
 * with "shutdown"; nothing is left "working"; and shutdown ends even when Redis is unreachable.
 * The SIGTERM-to-a-process variant is in `test/reliability/shutdown.test.ts`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Context, Effect, Exit, Layer, PubSub, Schedule, Scope } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import * as Redis from "../src/layers/Redis.ts"
import * as Worker from "../src/layers/Worker.ts"
import { core } from "./reliability/fixtures/actions.ts"
import { failedJobs, queueLength, redisCall, takeEvents } from "./support/app.ts"
import { backends, uniqueNamespace } from "./support/backends.ts"
import { startRedisServer } from "./support/redisServer.ts"

const IN_FLIGHT = 50

/** Waits (bounded) until `n` workers have a working-on record. */
const awaitWorking = (n: number) =>
  redisCall((client, keys) => client.keys<ReadonlyArray<string>>(`${keys.namespace}:worker:*:slow`)).pipe(Effect.repeat({ until: (working) => working.length >= n, schedule: Schedule.spaced("20 millis"), times: 500 }))

const workingLeft = redisCall((client, keys) => client.keys<ReadonlyArray<string>>(`${keys.namespace}:worker:*`)).pipe(
  Effect.map((working) => working.length)
)

for (const backend of backends) {
  describe(`failures: graceful shutdown (${backend.name})`, () => {
    it.live(`${IN_FLIGHT} jobs in flight all finish within the grace period`, () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const ops = yield* Operations
        const scope = yield* Scope.make()
        const worker = yield* Worker.make({ queues: ["slow"], concurrency: IN_FLIGHT, gracePeriod: "10 seconds" }).pipe(Scope.provide(scope))
        // subscribed in the test's scope, which outlives the worker's
        const sub = yield* PubSub.subscribe(worker.events)
        for (let i = 0; i < IN_FLIGHT; i++) yield* actions.enqueue("sleep", { ms: 400 })
        yield* awaitWorking(IN_FLIGHT)
        yield* Effect.forkChild(Scope.close(scope, Exit.void))
        const events = yield* takeEvents(sub, IN_FLIGHT)
        assert.deepStrictEqual(events.filter((e) => e.outcome._tag === "Success").length, IN_FLIGHT)
        assert.strictEqual(yield* ops.failedCount, 0)
        yield* queueLength("slow").pipe(Effect.map((n) => assert.strictEqual(n, 0)))
        // the close has unregistered every slot and its records
        yield* workingLeft.pipe(Effect.repeat({ until: (n) => n === 0, schedule: Schedule.spaced("20 millis"), times: 200 }))
      }).pipe(Effect.scoped, Effect.provide(core(backend.layer()))))

    it.live("past the grace period, unfinished jobs are failed with \"shutdown\" and none stays working", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        yield* Effect.scoped(Effect.gen(function*() {
          yield* Worker.make({ queues: ["slow"], concurrency: IN_FLIGHT, gracePeriod: "1 second" })
          for (let i = 0; i < IN_FLIGHT; i++) yield* actions.enqueue("sleep", { ms: 60_000 })
          yield* awaitWorking(IN_FLIGHT)
        }))
        const failed = yield* failedJobs
        assert.strictEqual(failed.length, IN_FLIGHT)
        assert.isTrue(failed.every((f) => f.exception === "Shutdown" && f.error.includes("shutdown")))
        assert.strictEqual(yield* workingLeft, 0)
      }).pipe(Effect.provide(core(backend.layer()))))
  })
}

describe("failures: shutdown with Redis unreachable", () => {
  it.live("the worker and the Redis layer close in bounded time after the server dies", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startRedisServer()), (s) => Effect.promise(() => s.stop()))
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(core(Redis.layer({ url: server.url, namespace: uniqueNamespace() })), scope)
      const actions = Context.get(context, Actions)
      yield* Worker.make({ queues: ["slow"], concurrency: 5, gracePeriod: "500 millis" }).pipe(
        Scope.provide(scope),
        Effect.provideContext(context)
      )
      for (let i = 0; i < 5; i++) yield* actions.enqueue("sleep", { ms: 60_000 })
      yield* awaitWorking(5).pipe(Effect.provideContext(context))
      yield* Effect.promise(() => server.stop())
      const started = yield* Clock.currentTimeMillis
      const closed = yield* Scope.close(scope, Exit.void).pipe(Effect.timeoutOption("20 seconds"))
      const elapsed = (yield* Clock.currentTimeMillis) - started
      assert.strictEqual(closed._tag, "Some", "shutdown never finished")
      // the worker's writes come out of its grace period (0.5 s) and a disconnected client skips QUIT; the
      // margin is for a loaded machine (before the fix this took 3.7 s: grace + 1 s + 1 s + the 2 s quit timeout)
      assert.isBelow(elapsed, 1500)
      console.log(`shutdown with Redis down took ${elapsed} ms`)
    }).pipe(Effect.scoped), 30_000)
})
