/**
 * The operations API: queues, delayed jobs, failed jobs, locks, and the scenario "fail a job, list it, retry
 * it, see it succeed, see the counts move". Every test runs on both backends.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, PubSub } from "effect"
import * as Job from "../src/domain/Job.ts"
import type { Command } from "../src/internal/Connection.ts"
import * as Enqueue from "../src/internal/Enqueue.ts"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as Worker from "../src/layers/Worker.ts"
import { add, explode, pushPayloads, redisCall, takeEventsWithin } from "./support/app.ts"
import { backends } from "./support/backends.ts"
import { broken, flaky, opsApp } from "./support/tasksApp.ts"
import { counted, type Counter } from "./support/roundTrips.ts"


/** Runs an effect and counts the round trips it makes. */
const roundTrips = <A, E, R>(counter: Counter, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    counter.trips = 0
    const result = yield* effect
    return { result, writes: counter.trips }
  })

for (const backend of backends) {
  describe(`operations: round trips (${backend.name})`, () => {
    const counter: Counter = { trips: 0 }
    it.live("the overview is one round trip, listings a fixed number whatever their size", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const redis = yield* Redis
        const { keys } = redis
        const seed: Array<Command> = []
        for (let q = 0; q < 50; q++) seed.push(...Enqueue.push(keys, `q${q}`, [Job.encode(`q${q}`, "add", { a: q, b: 0 })]))
        for (let w = 0; w < 20; w++) seed.push(["sadd", keys.workers, `host:${w}.0:q1,q2`], ["set", keys.stat("processed", `host:${w}.0`), w])
        for (let i = 0; i < 1500; i++) seed.push(...Enqueue.pushAt(keys, 2_000_000_000_000 + i * 1000, Job.encode("q1", "add", { a: i, b: 0 })))
        for (let i = 0; i < 300; i++) seed.push(["rpush", keys.failed, JSON.stringify({ worker: "w", queue: "q1", payload: { class: "add", queue: "q1", args: [{ a: i }] }, exception: "E", error: "e", backtrace: [], failed_at: new Date().toString() })])
        yield* redis.multi(seed)
        yield* ops.taskDetails // the first call of a script may load it (EVALSHA, then EVAL)
        const details = yield* roundTrips(counter, ops.taskDetails)
        assert.strictEqual(Object.keys(details.result.queues).length, 50)
        assert.strictEqual(details.result.workers.length, 20)
        assert.strictEqual(details.writes, 1, "taskDetails")
        assert.strictEqual((yield* roundTrips(counter, ops.queues)).writes, 2, "queues")
        assert.strictEqual((yield* roundTrips(counter, ops.workers)).writes, 2, "workers")
        assert.strictEqual((yield* roundTrips(counter, ops.allWorkingOn)).writes, 2, "allWorkingOn")
        assert.strictEqual((yield* roundTrips(counter, ops.stats)).writes, 2, "stats")
        assert.strictEqual((yield* roundTrips(counter, ops.failed(0, -1))).writes, 1, "failed")
        assert.strictEqual((yield* roundTrips(counter, ops.allDelayed)).writes, 3, "allDelayed: schedule + 2 pipelines of 1000")
        assert.strictEqual((yield* roundTrips(counter, ops.timestamps)).writes, 2, "timestamps")
        const retried = yield* roundTrips(counter, ops.retryAllFailed())
        assert.strictEqual(retried.result, 300)
        assert.strictEqual(retried.writes, 2, "retryAllFailed: read + one pipeline per 500")
      }).pipe(Effect.provide(opsApp(counted(backend.layer(), counter)))))
  })
}

for (const backend of backends) {
  const app = () => opsApp(backend.layer())

  describe(`operations: queues (${backend.name})`, () => {
    it.live("lists queues with lengths and decoded jobs, deletes jobs and queues", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const actions = yield* Actions
        // empty: no errors, just nothing
        assert.deepStrictEqual(yield* ops.queues, [])
        assert.strictEqual(yield* ops.length("math"), 0)
        assert.deepStrictEqual(yield* ops.queued("math", 0, -1), [])
        assert.strictEqual(yield* ops.delQueue("math"), 0)

        yield* actions.enqueue(add, { a: 1 })
        yield* actions.enqueue(add, { a: 2 })
        yield* actions.enqueue(add, { a: "1" })
        yield* actions.enqueue(explode, { why: "x" })
        yield* pushPayloads("math", [Job.encode("math", "add", { a: 1, b: 0 }, { fanOut: "F", index: 3, attempt: 2 }), "not json"])
        yield* actions.enqueue(flaky, { key: "k" })

        assert.deepStrictEqual(yield* ops.queues, [{ name: "math", length: 6, paused: false }, { name: "ops", length: 1, paused: false }])
        assert.strictEqual(yield* ops.length("math"), 6)
        const jobs = yield* ops.queued("math", 0, -1)
        assert.deepStrictEqual(jobs.map((j) => j.action), ["add", "add", "add", "explode", "add", null])
        assert.deepStrictEqual(jobs[0]?.inputs, { a: 1, b: 0 })
        const child = jobs[4]
        assert.deepStrictEqual(child?.inputs, { a: 1, b: 0 }, "the _job metadata is stripped from the inputs")
        assert.strictEqual(child?.fanOut, "F")
        assert.strictEqual(child?.index, 3)
        assert.strictEqual(child?.attempt, 2)
        assert.strictEqual(jobs[5]?.raw, "not json")
        assert.include(jobs[5]?.corrupt ?? "", "not JSON")
        assert.deepStrictEqual((yield* ops.queued("math", 1, 1)).map((j) => j.inputs), [{ a: 2, b: 0 }])

        // errors: unknown action, inputs the Schema rejects
        assert.strictEqual((yield* Effect.flip(ops.del("math", "nope", {}))). _tag, "UnknownAction")
        const invalid = yield* Effect.flip(ops.del("math", add, { a: "x" }))
        assert.strictEqual(invalid._tag, "InvalidInputs")
        // by inputs (normalized: "1" and 1 are the same job, metadata ignored), by action, by retired name
        assert.strictEqual(yield* ops.del("math", add, { a: "1" }), 3)
        assert.strictEqual(yield* ops.del("math", "explode"), 1)
        assert.strictEqual(yield* ops.del("math", "retired-action"), 0)
        assert.deepStrictEqual((yield* ops.queued("math", 0, -1)).map((j) => j.action), ["add", null])
        assert.strictEqual(yield* ops.delQueue("math"), 2)
        assert.deepStrictEqual(yield* ops.queues, [{ name: "ops", length: 1, paused: false }])
        assert.deepStrictEqual((yield* ops.taskDetails).queues, { ops: { length: 1, paused: false } })
      }).pipe(Effect.provide(app())))
  })

  describe(`operations: delayed (${backend.name})`, () => {
    it.live("finds, lists and removes delayed jobs, in milliseconds", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const actions = yield* Actions
        assert.deepStrictEqual(yield* ops.timestamps, [])
        assert.deepStrictEqual(yield* ops.allDelayed, [])
        assert.deepStrictEqual(yield* ops.delayedAt(Date.now()), [])
        const t = Math.round((yield* Clock.currentTimeMillis) / 1000) * 1000 + 60_000
        yield* actions.enqueueAt(t, add, { a: 1 })
        yield* actions.enqueueAt(t + 5000, add, { a: 1 })
        yield* actions.enqueueAt(t, explode, { why: "w" })

        assert.deepStrictEqual(yield* ops.scheduledAt(add, { a: "1" }), [t, t + 5000])
        assert.deepStrictEqual(yield* ops.scheduledAt(add, { a: 1 }, { queue: "other" }), [])
        assert.deepStrictEqual(yield* ops.timestamps, [t, t + 5000])
        assert.deepStrictEqual((yield* ops.delayedAt(t + 200)).map((j) => j.action), ["add", "explode"])
        const all = yield* ops.allDelayed
        assert.deepStrictEqual(all.map((d) => [d.at, d.jobs.length]), [[t, 2], [t + 5000, 1]])

        assert.strictEqual((yield* Effect.flip(ops.scheduledAt("nope", {})))._tag, "UnknownAction")
        assert.strictEqual((yield* Effect.flip(ops.delDelayed(add, { a: "x" })))._tag, "InvalidInputs")
        assert.deepStrictEqual(yield* ops.delDelayed(add, { a: 1 }), [t, t + 5000])
        assert.deepStrictEqual(yield* ops.delDelayed(add, { a: 1 }), [], "nothing left to remove")
        assert.deepStrictEqual(yield* ops.scheduledAt(add, { a: 1 }), [])
        assert.deepStrictEqual(yield* ops.timestamps, [t], "an emptied time is gone from the schedule")
        assert.deepStrictEqual(yield* ops.delayedAt(t + 5000), [])
      }).pipe(Effect.provide(app())))

    it.live("allDelayed is complete and ordered with thousands of entries", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const base = 2_000_000_000_000
        const redis = yield* Redis
        // 3000 jobs over 1500 distinct seconds, written in one MULTI, in reverse order
        const seed: Array<Command> = []
        for (let i = 2999; i >= 0; i--) seed.push(...Enqueue.pushAt(redis.keys, base + Math.floor(i / 2) * 1000, Job.encode("math", "add", { a: i, b: 0 })))
        yield* redis.multi(seed)
        const all = yield* ops.allDelayed
        assert.strictEqual(all.length, 1500)
        assert.strictEqual(all.reduce((n, d) => n + d.jobs.length, 0), 3000)
        assert.deepStrictEqual(all.map((d) => d.at), Array.from({ length: 1500 }, (_, i) => base + i * 1000))
        assert.deepStrictEqual(all[1499]?.jobs.map((j) => j.inputs), [{ a: 2999, b: 0 }, { a: 2998, b: 0 }])
        assert.strictEqual((yield* ops.timestamps).length, 1500)
      }).pipe(Effect.provide(app())))
  })

  describe(`operations: failed jobs (${backend.name})`, () => {
    it.live("scenario: fail a job, list it, retry it, see it succeed, see the counts move", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const actions = yield* Actions
        const key = `scenario-${backend.name}`
        broken.add(key)
        assert.deepStrictEqual(yield* ops.failed(0, -1), [])
        assert.strictEqual(yield* ops.failedCount, 0)
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["ops"], concurrency: 1 })
          const events = yield* PubSub.subscribe(worker.events)
          const before = yield* Clock.currentTimeMillis
          yield* actions.enqueue(flaky, { key })
          const [failure] = yield* takeEventsWithin(events, 1)
          assert.strictEqual(failure?.outcome._tag, "Failure")

          assert.strictEqual(yield* ops.failedCount, 1)
          const [job] = yield* ops.failed(0, -1)
          assert.isDefined(job)
          if (job === undefined) return
          assert.strictEqual(job.action, "flaky")
          assert.strictEqual(job.queue, "ops")
          assert.deepStrictEqual(job.inputs, { key })
          assert.strictEqual(job.exception, "Boom")
          assert.strictEqual(job.error, `broken: ${key}`)
          assert.isArray(job.backtrace)
          assert.include(worker.names, job.worker)
          assert.isNotNull(job.failedAt)
          assert.isAtLeast(job.failedAt ?? 0, Math.floor(before / 1000) * 1000)
          const failedStats = yield* ops.stats
          assert.deepStrictEqual([failedStats.processed, failedStats.failed], [0, 1])
          assert.deepStrictEqual(failedStats.actions.find((a) => a.action === "flaky"), {
            action: "flaky",
            runs: 1,
            failures: 1,
            durationMs: failedStats.actions.find((a) => a.action === "flaky")?.durationMs ?? -1
          })
          assert.strictEqual(failedStats.workers.reduce((n, w) => n + w.failed, 0), 1)

          broken.delete(key)
          yield* ops.retryAndRemoveFailed(job)
          const [success] = yield* takeEventsWithin(events, 1)
          assert.strictEqual(success?.outcome._tag, "Success")
          assert.strictEqual(yield* ops.failedCount, 0)
          const stats = yield* ops.stats
          assert.deepStrictEqual([stats.processed, stats.failed], [1, 1])
          const flakyStats = stats.actions.find((a) => a.action === "flaky")
          assert.deepStrictEqual([flakyStats?.runs, flakyStats?.failures], [2, 1])
          assert.strictEqual(stats.workers.reduce((n, w) => n + w.processed, 0), 1)
          assert.deepStrictEqual((yield* ops.taskDetails).stats, { processed: 1, failed: 1 })

          // the record is gone: a second retry or removal is a typed error
          assert.strictEqual((yield* Effect.flip(ops.retryAndRemoveFailed(job)))._tag, "FailedJobNotFound")
          assert.strictEqual((yield* Effect.flip(ops.removeFailed(job)))._tag, "FailedJobNotFound")
        }))
      }).pipe(Effect.provide(app())))

    it.live("removes, retries with metadata kept, retries all by filter; unreadable records stay manageable", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const actions = yield* Actions
        const child = Job.encode("math", "explode", { why: "child" }, { fanOut: "F", index: 2 })
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["math"], concurrency: 1 })
          const events = yield* PubSub.subscribe(worker.events)
          for (const why of ["a", "b", "c"]) yield* actions.enqueue(explode, { why })
          yield* pushPayloads("math", [child])
          yield* takeEventsWithin(events, 4)
        }))
        yield* redisCall((client, keys) => client.rpush(keys.failed, "garbage"))
        const failed = yield* ops.failed(0, -1)
        assert.deepStrictEqual(failed.map((f) => f.error), ["a", "b", "c", "child", ""])
        const garbage = failed[4]
        assert.strictEqual(garbage?.action, null)
        assert.strictEqual(garbage?.raw, "garbage")

        // retrying the fan-out child re-enqueues its original payload, _job metadata and all
        const retried = failed[3]
        assert.strictEqual(retried?.fanOut, "F")
        assert.strictEqual(retried?.index, 2)
        if (retried !== undefined) yield* ops.retryAndRemoveFailed(retried)
        const queued = yield* ops.queued("math", 0, -1)
        assert.deepStrictEqual(queued.map((j) => j.raw), [child])
        assert.deepStrictEqual([queued[0]?.fanOut, queued[0]?.index], ["F", 2])

        if (failed[1] !== undefined) yield* ops.removeFailed(failed[1])
        if (garbage !== undefined) {
          assert.strictEqual((yield* Effect.flip(ops.retryAndRemoveFailed(garbage)))._tag, "CorruptPayload")
          yield* ops.removeFailed(garbage)
        }
        assert.strictEqual(yield* ops.failedCount, 2)
        assert.strictEqual(yield* ops.retryAllFailed((job) => job.error === "c"), 1)
        assert.deepStrictEqual((yield* ops.failed(0, -1)).map((f) => f.error), ["a"])
        assert.strictEqual(yield* ops.retryAllFailed(), 1)
        assert.strictEqual(yield* ops.failedCount, 0)
        assert.strictEqual(yield* ops.retryAllFailed(), 0, "empty failed list: nothing to retry")
        assert.deepStrictEqual((yield* ops.queued("math", 0, -1)).map((j) => j.inputs), [{ why: "child" }, { why: "c" }, { why: "a" }])
      }).pipe(Effect.provide(app())))
  })

  describe(`operations: locks (${backend.name})`, () => {
    it.live("lists and deletes plugin locks", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        assert.deepStrictEqual(yield* ops.locks, [])
        assert.isFalse(yield* ops.delLock("lock:none"))
        yield* redisCall((client, keys) => client.mset(keys.key("lock:job:a"), "123", keys.key("workerslock:w:b"), "w1", keys.key("other"), "x"))
        assert.deepStrictEqual(yield* ops.locks, [{ key: "lock:job:a", value: "123" }, { key: "workerslock:w:b", value: "w1" }])
        assert.isTrue(yield* ops.delLock("lock:job:a"))
        assert.isFalse(yield* ops.delLock("lock:job:a"))
        assert.deepStrictEqual(yield* ops.locks, [{ key: "workerslock:w:b", value: "w1" }])
      }).pipe(Effect.provide(app())))
  })
}
