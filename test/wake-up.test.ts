/**
 * Waking idle worker pools: a job pushed by this runtime wakes a pool that can take it at once, whatever
 * other pools of other queues wait on the same Redis; the poll interval (a minute here) is never what a job
 * waits for. Both backends.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, PubSub, Schema } from "effect"
import * as Action from "../src/domain/Action.ts"
import { Actions } from "../src/layers/Actions.ts"
import * as Worker from "../src/layers/Worker.ts"
import { coreWith, note, takeEventsWithin } from "./support/app.ts"
import { backends } from "./support/backends.ts"

const pollInterval = "1 minute"

/** Slots of the burst test's pool, and jobs of its burst. */
const burst = 8

/**
 * Runs until `burst` of its jobs run at once: a job returns only when every job of the burst has started,
 * so the burst finishes only if the pool runs them all side by side.
 */
const makeGate = () => {
  let started = 0
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return Action.make({
    name: "gate",
    description: "Waits until the whole burst has started",
    inputs: Schema.Struct({ i: Schema.Finite }),
    run: () =>
      Effect.promise(() => {
        if (++started === burst) open()
        return opened
      }),
    task: { queue: "gates" }
  })
}

for (const backend of backends) {
  const app = () => coreWith([note], backend.layer())
  const gate = makeGate()

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

    it.live("a burst written to an idle pool runs on every slot at once, though the pick after a wake-up asks for one slot", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        yield* Effect.scoped(Effect.gen(function*() {
          const pool = yield* Worker.make({ queues: ["gates"], concurrency: burst, pollInterval })
          const done = yield* PubSub.subscribe(pool.events)
          // the pool reaches its wait first (the check holds however long this is: it only sets the scene)
          yield* Effect.sleep("300 millis")
          // one write and one wake-up for the whole burst; no job ends until all of them run at once
          const sent = yield* actions.fanOut(gate, Array.from({ length: burst }, (_, i) => ({ i })))
          assert.strictEqual(sent.enqueued, burst)
          const events = yield* takeEventsWithin(done, burst, "10 seconds")
          assert.deepStrictEqual(events.map((event) => event.outcome._tag), Array.from({ length: burst }, () => "Success"))
        }))
      }).pipe(Effect.provide(coreWith([gate], backend.layer()))))
  })
}
