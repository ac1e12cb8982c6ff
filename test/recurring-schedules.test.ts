/**
 * Recurring actions on a schedule: a cron expression (Effect's `Cron`, in a time zone) or a frequency. Runs
 * fall on the schedule's times, not a period after the last run ended (no drift), over several periods under
 * `TestClock`; a time zone moves them; runs missed while no scheduler ran are not replayed; a live run on a
 * real redis-server with two schedulers starts within milliseconds of its second, once; schedules that do not
 * parse are refused when the runtime is built.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, type Duration, Effect, Layer, PubSub, Ref, Result, Schema } from "effect"
import { TestClock } from "effect/testing"
import * as Action from "../src/domain/Action.ts"
import * as Recurrence from "../src/internal/Recurrence.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as RedisMemory from "../src/layers/RedisMemory.ts"
import * as Resque from "../src/layers/Resque.ts"
import * as Worker from "../src/layers/Worker.ts"
import * as Testing from "../src/programs/Testing.ts"
import { takeEventsWithin } from "./support/app.ts"
import { real, uniqueNamespace } from "./support/backends.ts"

/** Start times (clock ms) of the runs, by action. */
const starts = Ref.makeUnsafe<Record<string, ReadonlyArray<number>>>({})
const noteStart = (name: string) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(starts, (all) => ({ ...all, [name]: [...(all[name] ?? []), now] })))
const startsOf = (name: string) => Effect.map(Ref.get(starts), (all) => all[name] ?? [])

/** Every 20 s, at seconds 0, 20 and 40; each run takes 3 s (of test time). */
const everyTwenty = Action.make({
  name: "everyTwenty",
  description: "Runs at seconds 0, 20 and 40 of every minute",
  inputs: Schema.Struct({}),
  run: () => Effect.andThen(noteStart("everyTwenty"), Effect.sleep("3 seconds")),
  task: { queue: "cron", cron: "*/20 * * * * *" }
})

/** Every 10 s; each run takes 3 s: the next run is still 10 s after the last one was due. */
const everyTen = Action.make({
  name: "everyTen",
  description: "Recurs every 10 seconds",
  inputs: Schema.Struct({}),
  run: () => Effect.andThen(noteStart("everyTen"), Effect.sleep("3 seconds")),
  task: { queue: "cron", frequency: "10 seconds" }
})

/** 09:00 in Paris: 08:00 UTC in winter, 07:00 UTC in summer. */
const morning = Action.make({
  name: "morning",
  description: "Every day at 9 in Paris",
  inputs: Schema.Struct({}),
  run: () => noteStart("morning"),
  task: { queue: "cron", cron: "0 9 * * *", timeZone: "Europe/Paris" }
})

const appOf = <const Defs extends ReadonlyArray<Action.Any<never>>>(actions: Defs, options: { readonly worker?: Worker.Options; readonly scheduler?: JobScheduler.Options } = {}) =>
  Layer.mergeAll(Worker.layer({ queues: ["cron"], ...options.worker }), JobScheduler.layer(options.scheduler)).pipe(
    Layer.provideMerge(Resque.layer({ actions })),
    Layer.provideMerge(RedisMemory.layer())
  )

describe("recurring schedules under TestClock (memory)", () => {
  it.effect("a cron runs at the schedule's seconds, three periods in a row, however long each run takes", () =>
    Effect.gen(function*() {
      yield* Ref.set(starts, {})
      yield* Testing.drain()
      yield* Testing.advance("65 seconds")
      // the leader started the chain at 0: its first run is the next time of the schedule, 20 s
      assert.deepStrictEqual(yield* startsOf("everyTwenty"), [20_000, 40_000, 60_000])
    }).pipe(Effect.provide(appOf([everyTwenty]))))

  it.effect("a frequency counts from when the run was due, not from when it ended: no drift", () =>
    Effect.gen(function*() {
      yield* Ref.set(starts, {})
      yield* Testing.drain()
      yield* Testing.advance("45 seconds")
      // each run takes 3 s; counted from its end, they would start at 0, 13, 26, 39
      assert.deepStrictEqual(yield* startsOf("everyTen"), [0, 10_000, 20_000, 30_000, 40_000])
    }).pipe(Effect.provide(appOf([everyTen]))))

  it.effect("runs missed while no scheduler ran are not replayed: the late run once, then the schedule's next time", () =>
    Effect.gen(function*() {
      yield* Ref.set(starts, {})
      const withScheduler = (duration: Duration.Input) =>
        Effect.scoped(Effect.andThen(JobScheduler.make(), Testing.advance(duration)))
      yield* withScheduler("25 seconds")
      // no scheduler from 25 s to 65 s: the run due at 30 s waits in the delayed schedule
      yield* TestClock.adjust("40 seconds")
      yield* withScheduler("16 seconds")
      assert.deepStrictEqual(yield* startsOf("everyTen"), [0, 10_000, 20_000, 65_000, 70_000, 80_000])
    }).pipe(Effect.provide(Worker.layer({ queues: ["cron"] }).pipe(
      Layer.provideMerge(Resque.layer({ actions: [everyTen] })),
      Layer.provideMerge(RedisMemory.layer())
    ))))

  it.effect("a cron in a time zone runs at its local time (9:00 in Paris is 8:00 UTC in winter)", () =>
    Effect.gen(function*() {
      yield* Ref.set(starts, {})
      // the application starts on a Monday at 07:00 UTC (08:00 in Paris)
      yield* TestClock.setTime(Date.parse("2026-01-05T07:00:00Z"))
      yield* Effect.gen(function*() {
        yield* Testing.drain()
        yield* Testing.advance("50 hours", { step: "1 hour" })
      }).pipe(Effect.provide(appOf([morning], { worker: { pollInterval: "1 hour", pingInterval: "1 hour" }, scheduler: { pollInterval: "1 hour" } })))
      assert.deepStrictEqual((yield* startsOf("morning")).map((t) => new Date(t).toISOString()), [
        "2026-01-05T08:00:00.000Z",
        "2026-01-06T08:00:00.000Z",
        "2026-01-07T08:00:00.000Z"
      ])
    }))
})

describe("recurrence (pure)", () => {
  const cronOf = (cron: string, timeZone?: string) => {
    const parsed = Recurrence.fromTask("x", { queue: "q", cron, ...(timeZone === undefined ? {} : { timeZone }) })
    if (Result.isFailure(parsed) || parsed.success === undefined) throw new Error("expected a schedule")
    return parsed.success
  }
  it("the next run is the schedule's next time after the due one; missed times are skipped, not replayed", () => {
    const every = { _tag: "Every", millis: 10_000 } as const
    assert.strictEqual(Recurrence.nextRun(every, 0, 3_000), 10_000)
    // the run was due at 0 but ended at 35 s (late, or long): 10, 20 and 30 are missed, the next is 40
    assert.strictEqual(Recurrence.nextRun(every, 0, 35_000), 40_000)
    // a copy of an older version (no due time): a period after it ended
    assert.strictEqual(Recurrence.nextRun(every, undefined, 35_000), 45_000)
    const hourly = cronOf("0 * * * *")
    const at = (iso: string) => Date.parse(iso)
    assert.strictEqual(Recurrence.nextRun(hourly, at("2026-12-01T10:00:00Z"), at("2026-12-01T10:00:02Z")), at("2026-12-01T11:00:00Z"))
    assert.strictEqual(Recurrence.nextRun(hourly, at("2026-12-01T10:00:00Z"), at("2026-12-01T13:20:00Z")), at("2026-12-01T14:00:00Z"))
    // a run that started (and ended) before its time, under a scheduler that promotes early: never twice
    assert.strictEqual(Recurrence.nextRun(hourly, at("2026-12-01T10:00:00Z"), at("2026-12-01T09:59:59.600Z")), at("2026-12-01T11:00:00Z"))
  })

  it("time zones follow summer time", () => {
    const paris = cronOf("0 9 * * *", "Europe/Paris")
    assert.strictEqual(new Date(Recurrence.firstRun(paris, Date.parse("2026-07-01T00:00:00Z"))).toISOString(), "2026-07-01T07:00:00.000Z")
    assert.strictEqual(new Date(Recurrence.firstRun(paris, Date.parse("2026-01-01T00:00:00Z"))).toISOString(), "2026-01-01T08:00:00.000Z")
    assert.strictEqual(Recurrence.describe(paris), "cron 0 9 * * * (Europe/Paris)")
    assert.strictEqual(Recurrence.describe({ _tag: "Every", millis: 5000 }), "every 5s")
  })
})

describe("schedules that cannot be used", () => {
  const build = (task: Action.Task) =>
    Effect.flip(Layer.build(Resque.layer({ actions: [Action.make({ name: "bad", description: "", inputs: Schema.Struct({}), run: () => Effect.void, task })] }).pipe(
      Layer.provide(RedisMemory.layer())
    )))
  it.effect("a cron or time zone that does not parse, or both frequency and cron, fail the runtime with InvalidSchedule", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Action.Task, string]> = [
        [{ queue: "q", cron: "61 * * * *" }, "invalid schedule for action bad"],
        [{ queue: "q", cron: "* * *" }, "Invalid number of segments"],
        [{ queue: "q", cron: "0 9 * * *", timeZone: "Mars/Olympus" }, "Invalid time zone"],
        [{ queue: "q", cron: "0 9 * * *", frequency: "1 hour" }, "not both"],
        [{ queue: "q", frequency: 0 }, "positive"]
      ]
      for (const [task, text] of cases) {
        const error = yield* Effect.scoped(build(task))
        assert.strictEqual(error._tag, "InvalidSchedule", JSON.stringify(task))
        assert.include(error.message, text)
      }
    }))
})

describe("recurring schedules live (redis)", () => {
  /** Every 2 s, on even seconds. */
  const everyOther = Action.make({
    name: "everyOther",
    description: "Runs at every even second",
    inputs: Schema.Struct({}),
    run: () => noteStart("everyOther"),
    task: { queue: "cron", cron: "*/2 * * * * *" }
  })

  it.live("two schedulers, one run per time of the schedule, each within milliseconds of its second", () => {
    const namespace = uniqueNamespace()
    const runtime = Resque.layer({ actions: [everyOther] }).pipe(Layer.provideMerge(real.layer(namespace)))
    return Effect.gen(function*() {
      yield* Ref.set(starts, {})
      yield* Effect.scoped(Effect.gen(function*() {
        const worker = yield* Worker.make({ queues: ["cron"], concurrency: 2 })
        const sub = yield* PubSub.subscribe(worker.events)
        yield* JobScheduler.make({ name: "s1" })
        yield* JobScheduler.make({ name: "s2" })
        yield* takeEventsWithin(sub, 3, "12 seconds")
      }))
      const runs = yield* startsOf("everyOther")
      const late = runs.map((t) => t % 2000)
      console.log(`cron */2 s on redis: runs started ${late.map((ms) => `${ms} ms`).join(", ")} after their even second`)
      assert.isAtLeast(runs.length, 3)
      for (const ms of late) assert.isBelow(ms, 500, "a run starts soon after its second (never before it)")
      const seconds = runs.map((t) => Math.floor(t / 2000))
      assert.deepStrictEqual(seconds, seconds.map((_, i) => seconds[0]! + i), "one run per time of the schedule, none missed, none twice")
    }).pipe(Effect.provide(runtime))
  })
})
