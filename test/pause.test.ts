/**
 * Pausing a queue: workers take none of its jobs while they go on with the other queues, the jobs stay, the
 * pause holds across a worker restart (it lives in Redis) and shows in the operations, the overview and the
 * dashboard's summary; a resume wakes idle workers at once. Every test runs on both backends.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, PubSub } from "effect"
import { InvalidQueue } from "../src/domain/Errors.ts"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import * as Worker from "../src/layers/Worker.ts"
import { coreWith, note, notes, queueLength, takeEventsWithin } from "./support/app.ts"
import { backends, uniqueNamespace } from "./support/backends.ts"

const actions = [note] as const

for (const backend of backends) {
  describe(`pause and resume a queue (${backend.name})`, () => {
    it.live("a paused queue keeps its jobs, even first in priority, across a worker restart; resumed, they run at once", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const enqueue = (id: string, queue: string) => Effect.flatMap(Actions, (a) => a.enqueue(note, { id }, { queue }))
        assert.isTrue(yield* ops.pauseQueue("held"))
        assert.isFalse(yield* ops.pauseQueue("held"), "pausing twice changes nothing")
        yield* enqueue("h1", "held")
        yield* enqueue("h2", "held")
        yield* enqueue("o1", "other")
        // `held` comes first: a pick that ignored the pause would take its jobs before `other`'s
        const runOthers = (n: number) =>
          Effect.scoped(Effect.gen(function*() {
            const worker = yield* Worker.make({ queues: ["held", "other"], concurrency: 1, pollInterval: "1 minute" })
            const sub = yield* PubSub.subscribe(worker.events)
            const events = yield* takeEventsWithin(sub, n)
            assert.deepStrictEqual(events.map((e) => e.queue), Array.from({ length: n }, () => "other"))
          }))
        yield* runOthers(1)
        assert.strictEqual(yield* queueLength("held"), 2)
        // a new worker (the restart) sees the pause too
        yield* enqueue("o2", "other")
        yield* runOthers(1)
        assert.strictEqual(yield* queueLength("held"), 2)
        assert.deepStrictEqual(yield* notes, ["o1", "o2"])

        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["held", "other"], concurrency: 1, pollInterval: "1 minute" })
          const sub = yield* PubSub.subscribe(worker.events)
          // the pool is idle, blocked on the wake-up marker for a minute: the resume wakes it
          assert.isTrue(yield* ops.resumeQueue("held"))
          const events = yield* takeEventsWithin(sub, 2, "5 seconds")
          assert.deepStrictEqual(events.map((e) => e.queue), ["held", "held"])
        }))
        assert.deepStrictEqual(yield* notes, ["o1", "o2", "h1", "h2"])
        assert.isFalse(yield* ops.resumeQueue("held"), "resuming a running queue changes nothing")
      }).pipe(Effect.provide(coreWith(actions, backend.layer()))))

    it.live("`*` workers skip a paused queue and take the others", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        const enqueue = (id: string, queue: string) => Effect.flatMap(Actions, (a) => a.enqueue(note, { id }, { queue }))
        yield* ops.pauseQueue("a-held")
        yield* enqueue("h1", "a-held")
        yield* enqueue("b1", "b")
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["*"], concurrency: 2 })
          const sub = yield* PubSub.subscribe(worker.events)
          const events = yield* takeEventsWithin(sub, 1)
          assert.deepStrictEqual(events.map((e) => e.queue), ["b"])
        }))
        assert.strictEqual(yield* queueLength("a-held"), 1)
      }).pipe(Effect.provide(coreWith(actions, backend.layer()))))

    it.live("the pause shows in the operations, the overview and the summary; `*` and \"\" are refused", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        yield* Effect.flatMap(Actions, (a) => a.enqueue(note, { id: "x" }, { queue: "running" }))
        yield* ops.pauseQueue("held")
        const paused = yield* ops.pausedQueues
        assert.deepStrictEqual(paused.map((p) => p.queue), ["held"])
        assert.isAbove(paused[0]!.pausedAt, Date.now() - 60_000)
        assert.deepStrictEqual(yield* ops.queues, [{ name: "held", length: 0, paused: true }, { name: "running", length: 1, paused: false }])
        assert.deepStrictEqual((yield* ops.taskDetails).queues, { held: { length: 0, paused: true }, running: { length: 1, paused: false } })
        assert.deepStrictEqual((yield* ops.summary).queues.map((q) => [q.name, q.paused]), [["held", true], ["running", false]])
        for (const queue of ["*", ""]) {
          const error = yield* Effect.flip(ops.pauseQueue(queue))
          assert.instanceOf(error, InvalidQueue)
          assert.include(error.message, "invalid queue name")
        }
        yield* ops.resumeQueue("held")
        assert.deepStrictEqual(yield* ops.pausedQueues, [])
      }).pipe(Effect.provide(coreWith(actions, backend.layer()))))
  })
}

describe("pause and resume a queue (redis, a new runtime)", () => {
  it.live("a pause written by one runtime holds for a runtime started later on the same Redis", () => {
    const namespace = uniqueNamespace()
    const [, real] = backends
    const runtime = () => coreWith(actions, real!.layer(namespace))
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* (yield* Operations).pauseQueue("held")
        yield* (yield* Actions).enqueue(note, { id: "h1" }, { queue: "held" })
        yield* (yield* Actions).enqueue(note, { id: "o1" }, { queue: "other" })
      }).pipe(Effect.provide(runtime()))
      yield* Effect.gen(function*() {
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["held", "other"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          assert.deepStrictEqual((yield* takeEventsWithin(sub, 1)).map((e) => e.queue), ["other"])
        }))
        assert.strictEqual(yield* queueLength("held"), 1)
        yield* (yield* Operations).delQueue("held")
        yield* (yield* Operations).resumeQueue("held")
      }).pipe(Effect.provide(runtime()))
    })
  })
})
