/**
 * Waking idle worker pools: a job pushed by this runtime wakes a pool that can take it at once, whatever
 * other pools of other queues wait on the same Redis; the poll interval (a minute here) is never what a job
 * waits for. Both backends.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, PubSub } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import * as Worker from "../src/layers/Worker.ts"
import { coreWith, note, takeEventsWithin } from "./support/app.ts"
import { backends } from "./support/backends.ts"

const pollInterval = "1 minute"

for (const backend of backends) {
  const app = () => coreWith([note], backend.layer())

  describe(`wake-up (${backend.name})`, () => {
    it.live("a pool of other queues never takes the wake-up of a job it cannot run", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        yield* Effect.scoped(Effect.gen(function*() {
          // two idle pools on one Redis, each of its own queue. The `a` pool runs a job first, so it is back
          // waiting before the `b` pool starts: Redis answers the client that waits longest first, so a shared
          // wake-up would go to the `a` pool, and the `b` pool would wait its poll interval
          const forA = yield* Worker.make({ queues: ["a"], concurrency: 1, pollInterval })
          const doneA = yield* PubSub.subscribe(forA.events)
          yield* actions.enqueue(note, { id: "a1" }, { queue: "a" })
          yield* takeEventsWithin(doneA, 1, "5 seconds")
          const forB = yield* Worker.make({ queues: ["b"], concurrency: 1, pollInterval })
          const done = yield* PubSub.subscribe(forB.events)
          // both pools reach their wait (the check holds however long this is: it only sets the scene)
          yield* Effect.sleep("300 millis")
          for (const id of ["b1", "b2", "b3", "b4"]) {
            yield* actions.enqueue(note, { id }, { queue: "b" })
            const [event] = yield* takeEventsWithin(done, 1, "5 seconds")
            assert.strictEqual(event?.queue, "b")
            assert.strictEqual(event?.outcome._tag, "Success")
          }
        }))
      }).pipe(Effect.provide(app())))

    it.live("a pool of every queue and a pool of one queue both wake for their jobs", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        yield* Effect.scoped(Effect.gen(function*() {
          const forAll = yield* Worker.make({ queues: ["*"], concurrency: 1, pollInterval })
          const forB = yield* Worker.make({ queues: ["b"], concurrency: 1, pollInterval })
          const all = yield* PubSub.subscribe(forAll.events)
          const onlyB = yield* PubSub.subscribe(forB.events)
          // a job of `c` only the `*` pool can run; a job of `b` either pool may run
          for (const [id, queue] of [["c1", "c"], ["b1", "b"], ["c2", "c"], ["b2", "b"]] as const) {
            yield* actions.enqueue(note, { id }, { queue })
            const event = yield* Effect.raceFirst(
              Effect.map(takeEventsWithin(all, 1, "5 seconds"), ([e]) => e),
              Effect.map(takeEventsWithin(onlyB, 1, "5 seconds"), ([e]) => e)
            )
            assert.strictEqual(event?.queue, queue)
          }
        }))
      }).pipe(Effect.provide(app())))
  })
}
