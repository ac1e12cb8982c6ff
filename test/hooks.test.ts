/**
 * Hooks on both backends: `onEnqueue` adds headers (kept in `_job`, never in the inputs) or refuses a job —
 * a refused fan-out child lands in the fan-out's `errors` and only that child is left out; `aroundJob` wraps
 * every run once, hooks compose in list order; `afterJob` is told every outcome, retries included.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, PubSub, Ref, Schedule, Schema } from "effect"
import * as Action from "../src/domain/Action.ts"
import { EnqueueRefused } from "../src/domain/Errors.ts"
import * as Job from "../src/domain/Job.ts"
import { Actions } from "../src/layers/Actions.ts"
import * as JobHooks from "../src/layers/JobHooks.ts"
import * as Resque from "../src/layers/Resque.ts"
import * as Worker from "../src/layers/Worker.ts"
import { add, queueLength, redisCall, takeEventsWithin } from "./support/app.ts"
import { backends } from "./support/backends.ts"

const seen = Ref.makeUnsafe<ReadonlyArray<unknown>>([])

/** Returns its inputs as it received them: the action never sees `_job`. */
const echo = Action.make({
  name: "echo",
  description: "Returns its inputs",
  inputs: Schema.Struct({ n: Schema.Finite }),
  run: (inputs) => Effect.as(Ref.update(seen, (all) => [...all, inputs]), inputs.n),
  task: { queue: "hooks" }
})

/** Fails its first attempt, succeeds on the second. */
const flaky = Action.make({
  name: "flaky",
  description: "Fails once",
  inputs: Schema.Struct({ key: Schema.String }),
  run: ({ key }) =>
    Effect.gen(function*() {
      const tries = yield* Ref.modify(seen, (all) => [all.filter((x) => x === key).length, [...all, key]])
      if (tries === 0) return yield* Effect.fail(new Error("first attempt fails"))
      return "ok"
    }),
  task: { queue: "hooks" },
  retry: { attempts: 2, schedule: Schedule.spaced(0) }
})

const actions = [echo, flaky, add] as const

/** A tenant header on every job; children with `n` 13 refused. */
const tenants: JobHooks.Hook = {
  name: "tenants",
  onEnqueue: (job) =>
    typeof job.inputs === "object" && job.inputs !== null && (job.inputs as { n?: unknown }).n === 13
      ? Effect.fail(new EnqueueRefused({ action: job.action, hook: "tenants", reason: "13 is unlucky" }))
      : Effect.succeed({ tenant: "acme", kind: job.fanOut === undefined ? (job.at === undefined ? "now" : "later") : `child ${job.fanOut.index}` })
}

const app = (backend: (typeof backends)[number], hooks: ReadonlyArray<JobHooks.Hook>) =>
  Resque.layer({ actions }).pipe(Layer.provideMerge(JobHooks.layer(hooks)), Layer.provideMerge(backend.layer()))

const payloads = (queue: string) => redisCall((client, keys) => client.lrange<ReadonlyArray<string>>(keys.queue(queue), 0, -1))

const headersOf = (payload: string) => {
  const parsed = Job.parse(payload)
  return parsed._tag === "Success" ? parsed.success.meta.headers : undefined
}

for (const backend of backends) {
  describe(`hooks (${backend.name})`, () => {
    it.live("onEnqueue adds headers in _job, for enqueue, delayed enqueue and every fan-out child; the action never sees them", () =>
      Effect.gen(function*() {
        yield* Ref.set(seen, [])
        const jobs = yield* Actions
        yield* jobs.enqueue(echo, { n: 1 })
        yield* jobs.enqueueIn("1 hour", echo, { n: 2 })
        const fanOut = yield* jobs.fanOut(echo, [{ n: 3 }, { n: 4 }])
        const queued = yield* payloads("hooks")
        assert.deepStrictEqual(queued.map((p) => JSON.parse(p).args[0].n), [1, 3, 4])
        assert.deepStrictEqual(queued.map(headersOf), [
          { tenant: "acme", kind: "now" },
          { tenant: "acme", kind: "child 0" },
          { tenant: "acme", kind: "child 1" }
        ])
        assert.deepStrictEqual(JSON.parse(queued[0]!).args[0], { n: 1, _job: { headers: { tenant: "acme", kind: "now" } } })
        const delayed = yield* redisCall((client, keys) =>
          client.zrange<ReadonlyArray<string>>(keys.delayedSchedule, 0, -1).then((seconds) => client.lrange<ReadonlyArray<string>>(keys.delayed(Number(seconds[0])), 0, -1))
        )
        assert.deepStrictEqual(delayed.map(headersOf), [{ tenant: "acme", kind: "later" }])
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["hooks"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          yield* takeEventsWithin(sub, 3)
        }))
        assert.deepStrictEqual(yield* Ref.get(seen), [{ n: 1 }, { n: 3 }, { n: 4 }])
        const status = yield* jobs.fanOutStatus(fanOut)
        assert.strictEqual(status.completed, 2)
      }).pipe(Effect.provide(app(backend, [tenants]))))

    it.live("a refused child is only that child: it lands in the fan-out's errors and the others run", () =>
      Effect.gen(function*() {
        const jobs = yield* Actions
        const fanOut = yield* jobs.fanOut(echo, [{ n: 12 }, { n: 13 }, { n: 14 }], { batchSize: 10 })
        assert.strictEqual(fanOut.total, 2)
        assert.strictEqual(fanOut.enqueued, 2)
        assert.deepStrictEqual(fanOut.errors, [{ index: 1, action: "echo", reason: "Refused", message: "echo refused by tenants: 13 is unlucky" }])
        assert.deepStrictEqual((yield* payloads("hooks")).map((p) => JSON.parse(p).args[0]._job.index), [0, 2])
        const status = yield* Effect.scoped(Effect.gen(function*() {
          yield* Worker.make({ queues: ["hooks"], concurrency: 2 })
          return yield* jobs.awaitFanOut(fanOut, { timeout: "10 seconds" })
        }))
        assert.deepStrictEqual(status.results.map((r) => r.index), [0, 2])
        assert.strictEqual(status.done, true)
      }).pipe(Effect.provide(app(backend, [tenants]))))

    it.live("a refused enqueue is an EnqueueRefused error and writes nothing", () =>
      Effect.gen(function*() {
        const jobs = yield* Actions
        const error = yield* Effect.flip(jobs.enqueue(echo, { n: 13 }))
        assert.strictEqual(error._tag, "EnqueueRefused")
        assert.strictEqual(error.message, "echo refused by tenants: 13 is unlucky")
        assert.strictEqual(yield* queueLength("hooks"), 0)
      }).pipe(Effect.provide(app(backend, [tenants]))))

    it.live("aroundJob wraps every run once, in list order; afterJob is told every outcome, retries included", () => {
      const calls: Array<string> = []
      const finished: Array<string> = []
      const around = (name: string): JobHooks.Hook => ({
        name,
        aroundJob: (job, run) =>
          Effect.gen(function*() {
            calls.push(`${name} > ${job.job.action}#${job.attempt} ${job.job.meta.headers?.["tenant"] ?? "-"}`)
            const result = yield* Effect.onExit(run, () => Effect.sync(() => calls.push(`${name} <`)))
            return result
          })
      })
      const after: JobHooks.Hook = {
        name: "after",
        afterJob: ({ job, outcome, retried }) => finished.push(`${job?.action} ${outcome._tag}${retried ? " retried" : ""}`)
      }
      return Effect.gen(function*() {
        yield* Ref.set(seen, [])
        const jobs = yield* Actions
        yield* jobs.enqueue(echo, { n: 1 })
        yield* jobs.enqueue(flaky, { key: "k" })
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["hooks"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          yield* takeEventsWithin(sub, 3)
        }))
        assert.deepStrictEqual(calls, [
          "outer > echo#1 acme",
          "inner > echo#1 acme",
          "inner <",
          "outer <",
          "outer > flaky#1 acme",
          "inner > flaky#1 acme",
          "inner <",
          "outer <",
          "outer > flaky#2 acme",
          "inner > flaky#2 acme",
          "inner <",
          "outer <"
        ])
        assert.deepStrictEqual(finished, ["echo Success", "flaky Failure retried", "flaky Success"])
      }).pipe(Effect.provide(app(backend, [tenants, around("outer"), around("inner"), after])))
    })

    it.live("an afterJob that throws harms no job: every job completes, the other hooks are told of each, the throw is logged", () => {
      const told: Array<string> = []
      const logged: Array<string> = []
      const throwing: JobHooks.Hook = { name: "throwing", afterJob: () => { throw new Error("hook bug") } }
      const counting: JobHooks.Hook = { name: "counting", afterJob: ({ job, outcome }) => told.push(`${job?.action} ${outcome._tag}`) }
      const logger = Logger.make(({ message }) => logged.push(String(Array.isArray(message) ? message[0] : message)))
      return Effect.gen(function*() {
        yield* Ref.set(seen, [])
        const jobs = yield* Actions
        for (const n of [1, 2, 3]) yield* jobs.enqueue(echo, { n })
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["hooks"], concurrency: 2 })
          const sub = yield* PubSub.subscribe(worker.events)
          const events = yield* takeEventsWithin(sub, 3)
          assert.deepStrictEqual(events.map((event) => event.outcome._tag), ["Success", "Success", "Success"])
        }))
        assert.deepStrictEqual(told, ["echo Success", "echo Success", "echo Success"])
        assert.isAtLeast(logged.filter((line) => line === "an afterJob hook threw").length, 1)
        assert.strictEqual(yield* queueLength("hooks"), 0)
      }).pipe(
        Effect.provide(app(backend, [throwing, counting])),
        Effect.provide(Logger.layer([logger]))
      )
    })
  })
}
