/**
 * The worker pool: queue priority, `*`, unique names, real concurrency, bad payloads
 * pushed by other clients, statistics and the Resque worker records. Every test runs on both backends.
 */
import { hostname } from "node:os"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, PubSub, Schema } from "effect"
import * as Action from "../src/domain/Action.ts"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as Worker from "../src/layers/Worker.ts"
import { add, coreWith, explode, failedJobs, note, notes, pushPayloads, redisCall, takeEventsWithin, waitUntil } from "./support/app.ts"
import { backends } from "./support/backends.ts"

/** Blocks until `n` copies of it have started: only a pool running `n` jobs at once can finish them. */
const barrier = Action.make({
  name: "barrier",
  description: "Waits until n barrier jobs run at the same time",
  inputs: Schema.Struct({ n: Schema.Finite }),
  run: ({ n }) =>
    Effect.gen(function*() {
      const redis = yield* Redis
      yield* redis.send("incr", redis.keys.key("barrier"))
      yield* waitUntil("all barrier jobs to start", redis.send<string | null>("get", redis.keys.key("barrier")), (v) =>
        Number(v) >= n, { timeout: "5 seconds", interval: "10 millis" })
      return n
    }),
  task: { queue: "barrier" }
})

const workerActions = [add, explode, note, barrier] as const

for (const backend of backends) {
  const app = () => coreWith(workerActions, backend.layer())

  describe(`worker (${backend.name})`, () => {
    it.live("drains queues left to right: every job of the first queue before any of the second", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        for (const id of ["l1", "l2", "l3"]) yield* actions.enqueue(note, { id }, { queue: "low" })
        for (const id of ["h1", "h2", "h3"]) yield* actions.enqueue(note, { id }, { queue: "high" })
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["high", "low"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          yield* takeEventsWithin(sub, 6)
        }))
        assert.deepStrictEqual(yield* notes, ["h1", "h2", "h3", "l1", "l2", "l3"])
      }).pipe(Effect.provide(app())))

    it.live("\"*\" (and the default) drains every queue", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        for (const queue of ["a", "b", "c"]) yield* actions.enqueue(note, { id: queue }, { queue })
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["*"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          const events = yield* takeEventsWithin(sub, 3)
          assert.deepStrictEqual(events.map((e) => e.queue).sort(), ["a", "b", "c"])
        }))
        yield* actions.enqueue(note, { id: "d" }, { queue: "d" })
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          yield* takeEventsWithin(sub, 1)
        }))
        assert.deepStrictEqual([...(yield* notes)].sort(), ["a", "b", "c", "d"])
      }).pipe(Effect.provide(app())))

    it.live("an idle worker picks up a job enqueued after it started", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["notes"], concurrency: 1, pollInterval: "20 millis" })
          const sub = yield* PubSub.subscribe(worker.events)
          // idle: registered, nothing to do
          yield* waitUntil("the worker to register", redisCall((client, keys) => client.scard(keys.workers)), (n) => n === 1)
          yield* actions.enqueue(note, { id: "late" })
          const [event] = yield* takeEventsWithin(sub, 1)
          assert.strictEqual(event?.outcome._tag, "Success")
        }))
        assert.deepStrictEqual(yield* notes, ["late"])
      }).pipe(Effect.provide(app())))

    it.live("names are host~effect:pid.N and unique across two pools; both pools register and unregister", () =>
      Effect.gen(function*() {
        const operations = yield* Operations
        const registeredNames = Effect.map(operations.workers, (workers) => workers.map((w) => w.name))
        const [first, second] = yield* Effect.scoped(Effect.gen(function*() {
          const first = yield* Worker.make({ queues: ["a"], concurrency: 2 })
          const second = yield* Worker.make({ queues: ["a"], concurrency: 2 })
          const registered = yield* registeredNames
          assert.strictEqual(registered.length, 4)
          assert.deepStrictEqual([...registered].sort(), [...first.names, ...second.names].sort())
          return [first.names, second.names] as const
        }))
        const all = [...first, ...second]
        assert.strictEqual(new Set(all).size, 4)
        for (const name of all) assert.match(name, new RegExp(`^${hostname()}~effect:${process.pid}\\.\\d+$`))
        assert.deepStrictEqual(yield* registeredNames, [])
      }).pipe(Effect.provide(app())))

    it.live("runs `concurrency` jobs at the same time", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        for (let i = 0; i < 3; i++) yield* actions.enqueue(barrier, { n: 3 })
        const events = yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["barrier"], concurrency: 3 })
          const sub = yield* PubSub.subscribe(worker.events)
          return yield* takeEventsWithin(sub, 3)
        }))
        assert.deepStrictEqual(events.map((e) => e.outcome._tag), ["Success", "Success", "Success"])
        assert.strictEqual(new Set(events.map((e) => e.worker)).size, 3)
      }).pipe(Effect.provide(app())))

    it.live("a raw payload with bad inputs, an unknown action or no JSON fails into the failed list; the worker goes on", () =>
      Effect.gen(function*() {
        const raw = [
          JSON.stringify({ class: "add", queue: "math", args: [{ a: "not a number" }] }),
          JSON.stringify({ class: "nope", queue: "math", args: [{}] }),
          "{not json",
          JSON.stringify({ class: "add", queue: "math", args: "nope" }),
          JSON.stringify({ class: "add", queue: "math", args: [{ a: 40, b: 2 }] })
        ]
        yield* pushPayloads("math", raw)
        const events = yield* Effect.scoped(Effect.gen(function*() {
          // an unknown action fails at once, not handed back for another worker (`handBackFor` 0)
          const worker = yield* Worker.make({ queues: ["math"], concurrency: 1, handBackFor: 0 })
          const sub = yield* PubSub.subscribe(worker.events)
          return yield* takeEventsWithin(sub, 5)
        }))
        assert.deepStrictEqual(events.map((e) => e.outcome._tag), ["Failure", "Failure", "Failure", "Failure", "Success"])
        const failed = yield* failedJobs
        assert.strictEqual(failed.length, 4)
        assert.strictEqual(failed[0]?.exception, "InvalidInputs")
        assert.include(failed[0]?.error, "at [\"a\"]")
        assert.strictEqual(failed[1]?.exception, "UnknownAction")
        assert.strictEqual(failed[1]?.error, "unknown action nope")
        assert.strictEqual(failed[2]?.exception, "CorruptPayload")
        assert.include(failed[2]?.error, "not JSON")
        assert.strictEqual(failed[3]?.exception, "CorruptPayload")
        assert.include(failed[3]?.error, "not an array")
        // the failed record keeps the payload as written, so it can be retried by any Resque tool
        assert.deepStrictEqual(failed[1]?.payload, { class: "nope", queue: "math", args: [{}] })
        assert.strictEqual(failed[0]?.queue, "math")
      }).pipe(Effect.provide(app())))

    it.live("keeps Resque statistics and per-action statistics", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const operations = yield* Operations
        yield* actions.enqueue(add, { a: 1 })
        yield* actions.enqueue(add, { a: 2 })
        yield* actions.enqueue(explode, { why: "no" })
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["math"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          yield* takeEventsWithin(sub, 3)
        }))
        // Resque's counters, as node-resque's and Resque's tools read them, and through the operations API
        const counters = yield* redisCall((client, keys) =>
          Promise.all([client.get(keys.stat("processed")), client.get(keys.stat("failed"))])
        )
        assert.deepStrictEqual(counters, ["2", "1"])
        const stats = yield* operations.stats
        assert.strictEqual(stats.processed, 2)
        assert.strictEqual(stats.failed, 1)
        const addStats = yield* redisCall((client, keys) => client.hgetall<Record<string, string>>(keys.actionStats("add")))
        assert.strictEqual(addStats["runs"], "2")
        assert.strictEqual(addStats["failures"], undefined)
        const explodeStats = yield* redisCall((client, keys) => client.hgetall<Record<string, string>>(keys.actionStats("explode")))
        assert.strictEqual(explodeStats["runs"], "1")
        assert.strictEqual(explodeStats["failures"], "1")
      }).pipe(Effect.provide(app())))

    it.live("records what each worker is working on, as node-resque does", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const operations = yield* Operations
        yield* actions.enqueue(note, { id: "slow", ms: 400 })
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["notes"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          const name = worker.names[0] ?? ""
          const working = yield* waitUntil("the worker's working-on record", operations.allWorkingOn, (all) => all.length > 0)
          const record = working.find((w) => w.worker === name)
          assert.isDefined(record)
          assert.strictEqual(record?.queue, "notes")
          const stored = JSON.parse(record?.raw ?? "{}") as { worker?: string; payload?: { args?: unknown } }
          // node-resque's record: the worker's name and the payload as it was queued
          assert.strictEqual(stored.worker, name)
          assert.deepStrictEqual(stored.payload?.args, [{ id: "slow", ms: 400 }])
          yield* takeEventsWithin(sub, 1)
          // idle again: still registered ("started", in node-resque's words), with no working-on record
          assert.include((yield* operations.workers).map((w) => w.name), name)
          assert.isTrue(Option.isNone(yield* operations.workingOn(name)))
          assert.deepStrictEqual(yield* operations.allWorkingOn, [])
        }))
      }).pipe(Effect.provide(app())))
  })
}
