/**
 * Jobs use the runtime that runs them: the application of examples/jobs-use-the-runtime.ts (a recurring
 * parent that fans out and returns its fan-out, an onComplete that sums its children's typed results, a chain
 * of three jobs, a parent that awaits its own fan-out) composed as the README composes an application, run on
 * both backends; and the same application under `TestClock`, driven by `Testing.drain` / `Testing.advance`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer, PubSub } from "effect"
import type { DuplicateAction, InvalidSchedule } from "../src/domain/Errors.ts"
import { Actions } from "../src/layers/Actions.ts"
import type { Redis } from "../src/layers/Redis.ts"
import * as RedisMemory from "../src/layers/RedisMemory.ts"
import * as Resque from "../src/layers/Resque.ts"
import * as Worker from "../src/layers/Worker.ts"
import * as Testing from "../src/programs/Testing.ts"
import * as App from "../examples/jobs-use-the-runtime.ts"
import { waitUntil } from "./support/app.ts"
import { backends } from "./support/backends.ts"

const users = ["ada", "grace", "ghost-1", "linus"]

/** Compile-time check: the runtime's own services are not among what the application must provide. */
export const requirements: Layer.Layer<Resque.Services, DuplicateAction | InvalidSchedule, Redis | App.Users | App.Reports> = Resque.layer({
  actions: App.actions
})

/** The parent's job result: the fan-out it started, as its `run` returned it. */
const parentResult = (events: PubSub.Subscription<Worker.JobEvent>) =>
  Effect.gen(function*() {
    while (true) {
      const event = yield* PubSub.take(events)
      if (event.job?.action === App.processAll.name && event.outcome._tag === "Success") {
        return JSON.parse(event.outcome.result) as { readonly fanOut: { readonly total: number; readonly fanOutId: string } }
      }
    }
  })

const expectedLines = [
  "charged A-1",
  "packed A-1",
  "shipped A-1",
  "report:\n## Intro\n## Numbers\n## Outlook",
  "summary: 3 users scored 13, missing ghost-1"
]

/** The lines of the reports in the order they are checked (the three flows interleave). */
const byFlow = (lines: ReadonlyArray<string>) => [
  ...lines.filter((l) => /^(charged|packed|shipped)/.test(l)),
  ...lines.filter((l) => l.startsWith("report")),
  ...lines.filter((l) => l.startsWith("summary"))
]

for (const backend of backends) {
  describe(`jobs use the runtime (${backend.name})`, () => {
    it.live("a recurring parent fans out and returns its fan-out; onComplete sums the typed results; a chain runs; a parent awaits its children", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const reports = yield* App.Reports
        const worker = yield* Worker.Worker
        const events = yield* PubSub.subscribe(worker.events)
        yield* actions.enqueue(App.charge, { orderId: "A-1" })
        yield* actions.enqueue(App.build, { titles: ["Intro", "Numbers", "Outlook"] })
        // the scheduler's leader starts the recurring parent on its first poll
        const parent = yield* parentResult(events).pipe(Effect.timeout("20 seconds"))
        assert.strictEqual(parent.fanOut.total, users.length)
        const lines = yield* waitUntil("every flow to finish", reports.lines, (l) => l.length >= expectedLines.length, { timeout: "20 seconds" })
        assert.deepStrictEqual(byFlow(lines), expectedLines)
        const status = yield* actions.fanOutStatus(parent.fanOut.fanOutId, { action: App.processOne })
        assert.deepStrictEqual(status.results.map((r) => r.result), [
          { userId: "ada", score: 3 },
          { userId: "grace", score: 5 },
          { userId: "linus", score: 5 }
        ])
        assert.deepStrictEqual(status.errors.map((e) => [e.exception, e.failure?.userId]), [["UserNotFound", "ghost-1"]])
      }).pipe(Effect.provide(App.app(backend.layer(), { users }))))
  })
}

describe("jobs use the runtime, under TestClock", () => {
  it.effect("Testing.drain runs every flow to its end without real sleeps; Testing.advance runs the next period of the recurring parent", () =>
    Effect.gen(function*() {
      const actions = yield* Actions
      const reports = yield* App.Reports
      yield* actions.enqueue(App.charge, { orderId: "A-1" })
      yield* actions.enqueue(App.build, { titles: ["Intro", "Numbers", "Outlook"] })
      yield* Testing.drain()
      assert.deepStrictEqual(byFlow(yield* reports.lines), expectedLines)
      // a period (1 hour, counted from the end of the last run, rounded up to Resque's second) later the
      // recurring parent has run once more, and only once
      yield* Testing.advance("61 minutes")
      const summaries = (yield* reports.lines).filter((l) => l.startsWith("summary"))
      assert.deepStrictEqual(summaries, [expectedLines[4], expectedLines[4]])
    }).pipe(Effect.provide(App.app(RedisMemory.layer(), {
      users,
      // an hour of simulated time: a scheduler that wakes every 10 s, not 5 times a second (an idle worker
      // pool wakes only when a job is pushed, or every poll interval: 5 s)
      scheduler: { pollInterval: "10 seconds" }
    }))))
})
