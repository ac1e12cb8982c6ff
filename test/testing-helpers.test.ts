/**
 * Testing an application under `TestClock` (`it.effect`), with `Testing.drain` (runs what is queued or due,
 * and the jobs it enqueues) and `Testing.advance` (moves test time, running what falls due): jobs that sleep,
 * retries with a delay, delayed jobs and recurring actions all run without a real sleep, and a job nobody can
 * run is reported instead of hanging the test.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Layer, Ref, Schedule, Schema } from "effect"
import * as Action from "../src/domain/Action.ts"
import { Actions } from "../src/layers/Actions.ts"
import * as RedisMemory from "../src/layers/RedisMemory.ts"
import * as Resque from "../src/layers/Resque.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as Worker from "../src/layers/Worker.ts"
import * as Testing from "../src/programs/Testing.ts"

/** What the actions did, and when (test time, ms). */
const log = Ref.makeUnsafe<ReadonlyArray<string>>([])
const note = (line: string) => Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(log, (lines) => [...lines, `${now}: ${line}`]))

const Step = Schema.Struct({ n: Schema.Finite })

const last = Action.make({
  name: "last",
  description: "Sleeps a minute of test time, then notes it ran",
  inputs: Step,
  run: ({ n }) => Effect.sleep("1 minute").pipe(Effect.andThen(note(`last ${n}`))),
  task: { queue: "q" }
})

const first = Action.make({
  name: "first",
  description: "Notes it ran and enqueues `last`",
  inputs: Step,
  run: ({ n }) => note(`first ${n}`).pipe(Effect.andThen(Effect.flatMap(Actions, (actions) => actions.enqueue(last, { n })))),
  task: { queue: "q" }
})

const attempts = Ref.makeUnsafe(0)
class NotYet extends Schema.TaggedError<NotYet>()("NotYet", {}) {}

const third = Action.make({
  name: "third",
  description: "Fails twice, then succeeds; retried 10 s apart",
  inputs: Schema.Struct({}),
  run: () =>
    Ref.updateAndGet(attempts, (n) => n + 1).pipe(
      Effect.flatMap((n) => (n < 3 ? Effect.fail(new NotYet()) : note(`third on attempt ${n}`)))
    ),
  retry: { attempts: 3, schedule: Schedule.spaced("10 seconds") },
  task: { queue: "q" }
})

const tick = Action.make({
  name: "tick",
  description: "Recurs every minute",
  inputs: Schema.Struct({}),
  run: () => note("tick"),
  task: { queue: "q", frequency: "1 minute" }
})

const actions = [first, last, third, tick] as const
const core = Resque.layer({ actions }).pipe(Layer.provideMerge(RedisMemory.layer()))
const withScheduler = Layer.mergeAll(Worker.layer({ queues: ["q"] }), JobScheduler.layer()).pipe(Layer.provideMerge(core))
const withoutScheduler = Worker.layer({ queues: ["q"] }).pipe(Layer.provideMerge(core))

const reset = Effect.andThen(Ref.set(log, []), Ref.set(attempts, 0))
const lines = (match: RegExp) => Effect.map(Ref.get(log), (all) => all.filter((line) => match.test(line)))

describe("Testing helpers under TestClock", () => {
  it.effect("drain runs queued jobs, the jobs they enqueue and jobs that sleep, on test time", () =>
    Effect.gen(function*() {
      yield* reset
      const actions = yield* Actions
      yield* actions.enqueue(first, { n: 1 })
      yield* actions.enqueue(first, { n: 2 })
      yield* Testing.drain()
      const done = yield* lines(/first|last/)
      assert.deepStrictEqual(done.map((l) => l.replace(/^\d+: /, "")).sort(), ["first 1", "first 2", "last 1", "last 2"])
      // `last` slept a minute of test time, not of real time
      const sleptUntil = Number(done.find((l) => l.includes("last"))?.split(":")[0])
      assert.isAtLeast(sleptUntil, 60_000)
    }).pipe(Effect.provide(withScheduler)))

  it.effect("a retry is a delayed job: drain runs the first attempt, advance runs the retries when they fall due", () =>
    Effect.gen(function*() {
      yield* reset
      yield* (yield* Actions).enqueue(third, {})
      yield* Testing.drain()
      assert.strictEqual(yield* Ref.get(attempts), 1)
      yield* Testing.advance("30 seconds")
      assert.strictEqual(yield* Ref.get(attempts), 3)
      const [done] = yield* lines(/third/)
      assert.match(done ?? "", /third on attempt 3$/)
      // two retries, 10 s apart (Resque files a delayed job under its second)
      assert.isAtLeast(Number(done?.split(":")[0]), 20_000)
    }).pipe(Effect.provide(withScheduler)))

  it.effect("a delayed job runs when advance reaches its time, not before; a recurring action runs once a period", () =>
    Effect.gen(function*() {
      yield* reset
      const actions = yield* Actions
      yield* actions.enqueueIn("5 minutes", first, { n: 9 })
      yield* Testing.drain()
      assert.deepStrictEqual(yield* lines(/first 9/), [])
      yield* Testing.advance("5 minutes")
      assert.strictEqual((yield* lines(/first 9/)).length, 1)
      // the leader started `tick` at its first poll and it ran every minute after, on the minute (no drift),
      // until the clock stopped (`first` enqueued `last`, which sleeps a minute: 6 minutes in all)
      const end = yield* Clock.currentTimeMillis
      const minutes = Array.from({ length: Math.floor(end / 60_000) + 1 }, (_, i) => `${i * 60_000}: tick`)
      assert.isAtLeast(minutes.length, 6)
      assert.deepStrictEqual(yield* lines(/tick/), minutes)
    }).pipe(Effect.provide(withScheduler)))

  it.effect("without a scheduler a due delayed job cannot run: drain says so instead of hanging", () =>
    Effect.gen(function*() {
      yield* reset
      yield* (yield* Actions).enqueueAt(0, first, { n: 1 })
      const error = yield* Effect.flip(Testing.drain({ maxSteps: 50 }))
      if (error._tag !== "JobsStillPending") return assert.fail(`expected JobsStillPending, got ${error._tag}`)
      assert.strictEqual(error.due, 1)
      assert.include(error.message, "Scheduler")
    }).pipe(Effect.provide(withoutScheduler)))
})
