/**
 * Testing an application built on effect-resque without real sleeps. Under `it.effect` (Effect's `TestClock`)
 * time only moves when the test moves it, so an idle worker, the scheduler and a job that sleeps all wait for
 * the test. {@link drain} moves the clock for them: it runs every job waiting in the worker's queues or due,
 * and the jobs those jobs enqueue, until the queues are empty, nothing is due and no job is running (a job
 * that sleeps is woken). {@link advance} moves the clock by a duration, running what falls due on the way:
 * delayed jobs, retries (a retry is a delayed job), the next copies of recurring actions.
 *
 * The application under test is the one it runs in production, on the in-memory Redis:
 *
 * @example
 * import { assert, it } from "@effect/vitest"
 * import * as Testing from "effect-resque/testing"
 *
 * const TestApp = Layer.mergeAll(Worker.layer({ queues: ["*"] }), JobScheduler.layer()).pipe(
 *   Layer.provideMerge(Resque.layer({ actions: [signup, welcome] })),
 *   Layer.provideMerge(RedisMemory.layer())
 * )
 *
 * it.effect("a signup sends the welcome mail", () =>
 *   Effect.gen(function*() {
 *     const actions = yield* Actions.Actions
 *     yield* actions.enqueue(signup, { email: "a@b.c" })
 *     yield* Testing.drain()
 *     assert.deepStrictEqual(yield* Outbox.sent, ["a@b.c"])
 *   }).pipe(Effect.provide(TestApp)))
 *
 * **Gotchas**
 *
 * - Delayed jobs and recurring actions need a `JobScheduler` in the application: it promotes them when they are
 *   due. Without one, a due delayed job never runs and `drain` fails with {@link JobsStillPending}.
 * - The clock moves in steps (default 50 ms, the worker's default poll interval): a job that waits on the
 *   clock (a sleep, a timeout) sees it move; a job that waits on real I/O gets an event-loop turn per step.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/testing/TestClock"
import * as Resque from "../domain/Resque.ts"
import { Operations } from "../layers/Operations.ts"
import { Redis } from "../layers/Redis.ts"
import { Worker } from "../layers/Worker.ts"

/**
 * Options of {@link drain} and {@link advance}.
 *
 * @category models
 */
export interface Options {
  /** How far the clock moves per step. Default 50 ms. */
  readonly step?: Duration.Input
  /** Steps after which `drain` gives up with {@link JobsStillPending}. Default 10 000 (500 s of test time). */
  readonly maxSteps?: number
}

/**
 * `drain` gave up: jobs were still queued, due or running after its last step.
 *
 * @category errors
 */
export class JobsStillPending extends Schema.TaggedError<JobsStillPending>()("JobsStillPending", {
  steps: Schema.Number,
  queued: Schema.Number,
  due: Schema.Number,
  running: Schema.Number
}) {
  override get message(): string {
    return `jobs still pending after ${this.steps} steps: ${this.queued} queued, ${this.due} delayed and due, ${this.running} running` +
      (this.due > 0 ? " (is a JobScheduler in the application? it promotes delayed jobs)" : "")
  }
}

/** One turn of the event loop, so fibers and real I/O that are ready run. */
const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Where the worker's work stands: jobs waiting in its queues (paused ones aside), delayed jobs due now, jobs running. */
const pending = Effect.gen(function*() {
  const worker = yield* Worker
  const ops = yield* Operations
  const redis = yield* Redis
  const all = worker.queues.includes("*")
  // a paused queue's jobs wait for a resume, not for the worker
  const queued = (yield* ops.queues).filter((q) => !q.paused && (all || worker.queues.includes(q.name))).reduce((n, q) => n + q.length, 0)
  // the seconds the job scheduler promotes now
  const nowSeconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
  const due = yield* redis.send<number>("zcount", redis.keys.delayedSchedule, "-inf", nowSeconds)
  const [processed, failed] = yield* redis.send<ReadonlyArray<string | null>>("mget", redis.keys.stat("processed"), redis.keys.stat("failed"))
  const running = yield* worker.busy
  return { queued, due: Resque.count(due), running, done: Resque.count(processed) + Resque.count(failed) }
})

const stepMillis = (options: Options) => Duration.toMillis(options.step ?? "50 millis")

/**
 * Runs jobs until the worker's queues are empty, no delayed job is due and no job is running, moving the
 * `TestClock` a step at a time while nothing else moves. Fails with {@link JobsStillPending} after
 * `maxSteps`.
 *
 * @category testing
 */
export const drain = (options: Options = {}) =>
  Effect.gen(function*() {
    const step = stepMillis(options)
    const maxSteps = options.maxSteps ?? 10_000
    let last = yield* pending
    let still = 0
    for (let steps = 0; steps < maxSteps; steps++) {
      yield* turn
      const now = yield* pending
      if (now.queued === 0 && now.due === 0 && now.running === 0) return
      // jobs are moving on their own: give them turns; once nothing moves, it waits on the clock
      const moved = now.done !== last.done || now.queued !== last.queued || now.running !== last.running
      last = now
      still = moved ? 0 : still + 1
      if (still >= 2) yield* TestClock.adjust(step)
    }
    return yield* new JobsStillPending({ steps: maxSteps, queued: last.queued, due: last.due, running: last.running })
  })

/**
 * Moves the `TestClock` forward by `duration`, a step at a time (default 1 second), running what falls due on
 * the way (delayed jobs, the next copies of recurring actions, jobs that sleep), then drains what is left.
 *
 * Simulated time costs what the application does in it: an idle worker pool wakes when a job is pushed and
 * once per poll interval (5 s by default), the job scheduler once per its own (1 s by default), a pinger
 * every ping interval. An hour is a few thousand wake-ups: give the test's scheduler a longer poll interval
 * to advance days.
 *
 * @category testing
 */
export const advance = (duration: Duration.Input, options: Options = {}) =>
  Effect.gen(function*() {
    const step = Duration.toMillis(options.step ?? "1 second")
    const target = (yield* Clock.currentTimeMillis) + Duration.toMillis(duration)
    while ((yield* Clock.currentTimeMillis) < target) {
      yield* TestClock.adjust(Math.min(step, target - (yield* Clock.currentTimeMillis)))
      yield* turn
    }
    yield* drain(options)
  })
