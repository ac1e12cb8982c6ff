/**
 * Retry decisions per error: the retry policy sees the error (`while` retries a timeout but not a validation
 * error; the schedule gets the error as input and gives a delay per error), an error marked unrecoverable (one
 * error, or its whole class) fails for good at once whatever the policy, and a delay below a second is kept
 * as well as Resque's whole-second schedule allows: never early, at most about a second late. Both backends;
 * the delays under `TestClock` too.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Layer, PubSub, Ref, Schedule, Schema } from "effect"
import * as Action from "../src/domain/Action.ts"
import type { JobTimedOut } from "../src/domain/Errors.ts"
import { Actions } from "../src/layers/Actions.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as RedisMemory from "../src/layers/RedisMemory.ts"
import * as Resque from "../src/layers/Resque.ts"
import * as Worker from "../src/layers/Worker.ts"
import * as Testing from "../src/programs/Testing.ts"
import { coreWith, failedJobs, takeEventsWithin } from "./support/app.ts"
import { backends } from "./support/backends.ts"

class Flaky extends Schema.TaggedError<Flaky>()("Flaky", { n: Schema.Finite }) {}
class Invalid extends Schema.TaggedError<Invalid>()("Invalid", { field: Schema.String }) {}
/** An error class that is unrecoverable by definition. */
class Gone extends Schema.TaggedError<Gone>()("Gone", { id: Schema.String }) {
  readonly [Action.Unrecoverable] = true
}

const Kind = Schema.Literals(["flaky", "invalid", "marked", "gone", "slow"])

/** Fails the way its input says; retried up to 4 runs, immediately, but only for `Flaky` and timeouts. */
const picky = Action.make({
  name: "picky",
  description: "Fails with the error its input names",
  inputs: Schema.Struct({ kind: Kind, n: Schema.Finite }),
  error: Schema.Union([Flaky, Invalid, Gone]),
  run: ({ kind, n }) =>
    kind === "flaky" ? Effect.fail(new Flaky({ n }))
    : kind === "invalid" ? Effect.fail(new Invalid({ field: "email" }))
    : kind === "marked" ? Effect.fail(Action.unrecoverable(new Flaky({ n })))
    : kind === "gone" ? Effect.fail(new Gone({ id: String(n) }))
    : Effect.sleep("1 minute"),
  timeout: "200 millis",
  retry: {
    attempts: 4,
    schedule: Schedule.spaced(0),
    // typed: what `run` fails with, or a timeout
    while: (error) => error._tag === "Flaky" || error._tag === "JobTimedOut"
  },
  task: { queue: "picky" }
})

for (const backend of backends) {
  describe(`retry decisions per error (${backend.name})`, () => {
    it.live("the policy retries the errors it accepts, fails the others at once; unrecoverable errors are never retried", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["picky"], concurrency: 4 })
          const sub = yield* PubSub.subscribe(worker.events)
          for (const [kind, n] of [["flaky", 1], ["invalid", 2], ["marked", 3], ["gone", 4], ["slow", 5]] as const) {
            yield* actions.enqueue(picky, { kind, n })
          }
          // flaky: 4 runs, slow (timeouts): 4 runs, the other three: 1 run each
          const events = yield* takeEventsWithin(sub, 11, "20 seconds")
          const runs = (kind: string) => events.filter((e) => (e.job?.inputs as { kind: string }).kind === kind)
          assert.deepStrictEqual(runs("flaky").map((e) => e.job?.meta.attempt ?? 1), [1, 2, 3, 4])
          assert.deepStrictEqual(runs("slow").map((e) => e.job?.meta.attempt ?? 1), [1, 2, 3, 4])
          for (const kind of ["invalid", "marked", "gone"]) assert.strictEqual(runs(kind).length, 1, kind)
        }))
        const failed = yield* failedJobs
        assert.deepStrictEqual(failed.map((f) => f.exception).sort(), ["Flaky", "Flaky", "Gone", "Invalid", "JobTimedOut"])
        // the mark is not part of the error's data
        const marked = failed.find((f) => f.exception === "Flaky" && (f.inputs as { kind: string }).kind === "marked")
        assert.deepStrictEqual(marked?.data, { _tag: "Flaky", n: 3 })
      }).pipe(Effect.provide(coreWith([picky], backend.layer()))))
  })
}

// ---------------------------------------------------------------------------------------------------------
// delays, under TestClock
// ---------------------------------------------------------------------------------------------------------

const runs = Ref.makeUnsafe<ReadonlyArray<number>>([])

class Busy extends Schema.TaggedError<Busy>()("Busy", { retryAfterMs: Schema.Finite }) {}

/** The delay each error asks for (a timeout: a minute). */
const askedDelay = Schedule.spaced("1 minute").pipe(
  Schedule.setInputType<Busy | JobTimedOut>(),
  Schedule.modifyDelay(({ input }) => Effect.succeed(Duration.millis(input._tag === "Busy" ? input.retryAfterMs : 60_000)))
)

/** Fails twice: the first error asks for 300 ms, the second for 5 s (the schedule reads it from the error). */
const polite = Action.make({
  name: "polite",
  description: "Fails twice, then succeeds; waits what each error asks",
  inputs: Schema.Struct({}),
  error: Busy,
  run: () =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const before = yield* Ref.getAndUpdate(runs, (all) => [...all, now])
      if (before.length === 0) return yield* new Busy({ retryAfterMs: 300 })
      if (before.length === 1) return yield* new Busy({ retryAfterMs: 5000 })
    }),
  retry: {
    attempts: 3,
    schedule: askedDelay
  },
  task: { queue: "q" }
})

const TestApp = Layer.mergeAll(Worker.layer({ queues: ["q"] }), JobScheduler.layer()).pipe(
  Layer.provideMerge(Resque.layer({ actions: [polite] })),
  Layer.provideMerge(RedisMemory.layer())
)

describe("retry delays per error, under TestClock (memory)", () => {
  it.effect("the schedule's delay comes from the error; below a second it is never early and at most a second late", () =>
    Effect.gen(function*() {
      yield* Ref.set(runs, [])
      // fail late in a second: rounding the retry's time to the nearest second would run it 200 ms early
      yield* Testing.advance("1900 millis", { step: "1900 millis" })
      yield* (yield* Actions).enqueue(polite, {})
      yield* Testing.drain()
      yield* Testing.advance("10 seconds", { step: "50 millis" })
      const [first = 0, second = 0, third = 0] = yield* Ref.get(runs)
      assert.strictEqual((yield* Ref.get(runs)).length, 3)
      const gaps = [second - first, third - second]
      console.log(`retry gaps under TestClock: asked 300 ms -> ${gaps[0]} ms, asked 5000 ms -> ${gaps[1]} ms`)
      assert.isAtLeast(gaps[0]!, 300, "never before the 300 ms asked")
      assert.isBelow(gaps[0]!, 300 + 1000 + 100, "at most the rest of its second (and a scheduler poll) later")
      assert.isAtLeast(gaps[1]!, 5000)
      assert.isBelow(gaps[1]!, 5000 + 1000 + 100)
    }).pipe(Effect.provide(TestApp)))
})
