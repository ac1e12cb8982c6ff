/**
 * Job control on both backends: every enqueue answers a handle with an id; a tracked job's status moves from
 * queued or delayed to running (on which worker, with its progress) to its end, with its result or typed
 * error, kept for its TTL; `awaitJob` gives the result back typed; an untracked job writes no record; unique
 * jobs under concurrent enqueues; cancel of queued, delayed and running jobs.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as JobControl from "../src/domain/JobControl.ts"
import { Actions } from "../src/layers/Actions.ts"
import * as Worker from "../src/layers/Worker.ts"
import { coreWith, failedJobs, note, queueLength, redisCall, waitUntil } from "./support/app.ts"
import { backends } from "./support/backends.ts"
import { hold, jobControlActions, lateRetry, once, Refused, refuse, square } from "./support/jobControlApp.ts"

const release = (name: string) => redisCall((client, keys) => client.set(keys.key("release", name), "1"))

const runningCount = (name: string) => redisCall((client, keys) => client.llen<number>(keys.key("running", name)))


for (const backend of backends) {
  const app = () => coreWith([...jobControlActions, note], backend.layer())
  const worker = Worker.make({ queues: ["control", "notes"], concurrency: 2, pollInterval: "200 millis" })

  describe(`job ids, status and results (${backend.name})`, () => {
    it.live("a tracked job: queued, then succeeded with its typed result, kept for its TTL", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const handle = yield* actions.enqueue(square, { n: 7 })
        assert.isTrue(handle.enqueued)
        assert.match(handle.id, /^[\w-]{13,}$/)
        const queued = yield* actions.jobStatus(handle)
        assert.strictEqual(queued.state, "queued")
        assert.strictEqual(queued.action, "square")
        assert.strictEqual(queued.queue, "control")
        const result = yield* Effect.scoped(Effect.andThen(worker, actions.awaitJob(handle, { timeout: "10 seconds" })))
        const typed: number = result
        assert.strictEqual(typed, 49)
        const done = yield* actions.jobStatus(handle)
        assert.strictEqual(done.state, "succeeded")
        assert.strictEqual(done.result, 49)
        assert.strictEqual(done.attempt, 1)
        assert.isString(done.worker)
        assert.isNumber(done.finishedAt)
        const ttl = yield* redisCall((client, keys) => client.pttl<number>(keys.job(handle.id)))
        assert.isAbove(ttl, 50_000)
        assert.isAtMost(ttl, 60_000)
      }).pipe(Effect.provide(app())))

    it.live("a failed tracked job gives back its typed error; its status keeps tag, text and data", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const handle = yield* actions.enqueue(refuse, { reason: "no" })
        const error = yield* Effect.scoped(Effect.andThen(worker, Effect.flip(actions.awaitJob(handle, { timeout: "10 seconds" }))))
        assert.instanceOf(error, Refused)
        assert.strictEqual((error as Refused).reason, "no")
        const status = yield* actions.jobStatus(handle)
        assert.strictEqual(status.state, "failed")
        assert.deepStrictEqual(status.failure, { exception: "Refused", message: "{\"reason\":\"no\"}", data: { _tag: "Refused", reason: "no" } })
        assert.instanceOf(status.error, Refused)
      }).pipe(Effect.provide(app())))

    it.live("a delayed tracked job reads delayed", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const handle = yield* actions.enqueueIn("1 hour", square, { n: 2 })
        assert.strictEqual((yield* actions.jobStatus(handle)).state, "delayed")
      }).pipe(Effect.provide(app())))

    it.live("an untracked job travels as Resque writes it (no metadata), writes no record, and reads unknown", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const handle = yield* actions.enqueue(note, { id: "u" })
        assert.strictEqual(handle.payload, `{"class":"note","queue":"notes","args":[{"id":"u","ms":0}]}`)
        assert.strictEqual((yield* actions.jobStatus(handle)).state, "unknown")
        yield* Effect.scoped(Effect.andThen(worker, waitUntil("the job to run", queueLength("notes"), (n) => n === 0)))
        assert.strictEqual((yield* actions.jobStatus(handle)).state, "unknown")
        assert.deepStrictEqual(yield* redisCall((client, keys) => client.keys(keys.job("*"))), [])
      }).pipe(Effect.provide(app())))

    it.live("a tracked job reads running, on the worker that runs it", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const handle = yield* actions.enqueue(hold, { name: "r" }, { track: true })
        assert.include(handle.payload, `"_job":{"id":"${handle.id}","track":3600000}`)
        yield* Effect.scoped(Effect.gen(function*() {
          const pool = yield* worker
          yield* waitUntil("the job to run", runningCount("r"), (n) => n === 1)
          const running = yield* actions.jobStatus(handle)
          assert.strictEqual(running.state, "running")
          assert.include(pool.names, running.worker)
          yield* release("r")
          yield* actions.awaitJob(handle, { timeout: "10 seconds" })
        }))
      }).pipe(Effect.provide(app())))

    it.live("awaitJob: JobAwaitTimeout when the job does not end in time, JobNotFound for an untracked one", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const tracked = yield* actions.enqueue(square, { n: 1 })
        const timedOut = yield* Effect.flip(actions.awaitJob(tracked, { timeout: "60 millis" }))
        assert.instanceOf(timedOut, JobControl.JobAwaitTimeout)
        assert.strictEqual((timedOut as JobControl.JobAwaitTimeout).state, "queued")
        const untracked = yield* actions.enqueue(note, { id: "x" })
        assert.instanceOf(yield* Effect.flip(actions.awaitJob(untracked)), JobControl.JobNotFound)
      }).pipe(Effect.provide(app())))

    it.live("the enqueue may ask for tracking an action does not: its status, progress and result are kept", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const handle = yield* actions.enqueue(hold, { name: "p" }, { track: "30 seconds" })
        yield* Effect.scoped(Effect.gen(function*() {
          yield* worker
          yield* waitUntil("the job to run", runningCount("p"), (n) => n === 1)
          const running = yield* actions.jobStatus(handle)
          assert.strictEqual(running.state, "running")
          assert.deepStrictEqual(running.progress, { value: 50, data: { step: "holding" } })
          yield* release("p")
          assert.strictEqual(yield* actions.awaitJob(handle, { timeout: "10 seconds" }), "p")
        }))
        const done = yield* actions.jobStatus(handle)
        assert.strictEqual(done.state, "succeeded")
        assert.deepStrictEqual(done.progress, { value: 50, data: { step: "holding" } })
        const ttl = yield* redisCall((client, keys) => client.pttl<number>(keys.job(handle.id)))
        assert.isAtMost(ttl, 30_000)
      }).pipe(Effect.provide(app())))
  })

  describe(`cancel (${backend.name})`, () => {
    it.live("a queued job is removed and reads cancelled; awaiting it fails with JobCancelled", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const handle = yield* actions.enqueue(square, { n: 3 })
        assert.strictEqual(yield* actions.cancel(handle), "removed")
        assert.strictEqual(yield* queueLength("control"), 0)
        assert.strictEqual((yield* actions.jobStatus(handle)).state, "cancelled")
        assert.instanceOf(yield* Effect.flip(actions.awaitJob(handle)), JobControl.JobCancelled)
        assert.strictEqual(yield* actions.cancel(handle), "finished")
        assert.strictEqual(yield* actions.cancel("no-such-job"), "unknown")
      }).pipe(Effect.provide(app())))

    it.live("a job waiting for its retry reads delayed with its next attempt and last failure; cancel removes it", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const handle = yield* actions.enqueue(lateRetry, {})
        yield* Effect.scoped(Effect.andThen(worker, waitUntil("the first run to fail", actions.jobStatus(handle), (s) => s.attempt === 2)))
        const waiting = yield* actions.jobStatus(handle)
        assert.strictEqual(waiting.state, "delayed")
        assert.strictEqual(waiting.failure?.exception, "Refused")
        assert.instanceOf(waiting.error, Refused)
        assert.strictEqual(yield* actions.cancel(handle), "removed")
        assert.strictEqual(yield* redisCall((client, keys) => client.zcard<number>(keys.delayedSchedule)), 0)
        assert.strictEqual((yield* actions.jobStatus(handle)).state, "cancelled")
      }).pipe(Effect.provide(app())))

    it.live("a delayed job is taken off the delayed schedule", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const handle = yield* actions.enqueueIn("1 hour", square, { n: 3 })
        assert.strictEqual(yield* actions.cancel(handle), "removed")
        const schedule = yield* redisCall((client, keys) => client.zcard<number>(keys.delayedSchedule))
        assert.strictEqual(schedule, 0)
        assert.strictEqual((yield* actions.jobStatus(handle)).state, "cancelled")
      }).pipe(Effect.provide(app())))

    it.live("a running job is interrupted and ends cancelled: not retried, not in the failed list; the worker goes on", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const handle = yield* actions.enqueue(hold, { name: "c" }, { track: true })
        yield* Effect.scoped(Effect.gen(function*() {
          yield* worker
          yield* waitUntil("the job to run", runningCount("c"), (n) => n === 1)
          const waiting = yield* Effect.forkChild(Effect.flip(actions.awaitJob(handle, { timeout: "10 seconds" })))
          assert.strictEqual(yield* actions.cancel(handle), "interrupting")
          assert.instanceOf(yield* Fiber.join(waiting), JobControl.JobCancelled)
          const next = yield* actions.enqueue(square, { n: 4 })
          assert.strictEqual(yield* actions.awaitJob(next, { timeout: "10 seconds" }), 16)
        }))
        const status = yield* actions.jobStatus(handle)
        assert.strictEqual(status.state, "cancelled")
        assert.strictEqual(status.attempt, 1)
        assert.strictEqual(yield* runningCount("c"), 1)
        assert.lengthOf(yield* failedJobs, 0)
        assert.strictEqual(yield* queueLength("control"), 0)
      }).pipe(Effect.provide(app())))
  })

  describe(`cancel in a fan-out (${backend.name})`, () => {
    it.live("a tracked fan-out child is cancelled while it runs and counts as failed with JobCancelled; the others complete", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const fanOut = yield* actions.fanOut(hold, [{ name: "f0" }, { name: "f1" }], { track: true })
        const child = `${fanOut.fanOutId}:0`
        yield* Effect.scoped(Effect.gen(function*() {
          yield* worker
          yield* waitUntil("the children to run", Effect.zip(runningCount("f0"), runningCount("f1")), ([a, b]) => a === 1 && b === 1)
          assert.strictEqual((yield* actions.jobStatus(child)).state, "running")
          assert.strictEqual(yield* actions.cancel(child), "interrupting")
          yield* release("f1")
          const status = yield* actions.awaitFanOut(fanOut, { timeout: "10 seconds" })
          assert.strictEqual(status.completed, 1)
          assert.strictEqual(status.failed, 1)
          assert.deepStrictEqual(status.errors.map((e) => [e.index, e.exception]), [[0, "JobCancelled"]])
        }))
        assert.strictEqual((yield* actions.jobStatus(child)).state, "cancelled")
        assert.strictEqual((yield* actions.jobStatus(`${fanOut.fanOutId}:1`)).state, "succeeded")
        assert.lengthOf(yield* failedJobs, 0)
      }).pipe(Effect.provide(app())))
  })

  describe(`unique jobs (${backend.name})`, () => {
    it.live("50 concurrent enqueues of one key write one job; all answer its id", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const handles = yield* Effect.forEach(Array.from({ length: 50 }), () => actions.enqueue(once, { key: "k" }), { concurrency: "unbounded" })
        assert.strictEqual(handles.filter((h) => h.enqueued).length, 1)
        assert.strictEqual(new Set(handles.map((h) => h.id)).size, 1)
        assert.strictEqual(yield* queueLength("control"), 1)
        const other = yield* actions.enqueue(once, { key: "other" })
        assert.isTrue(other.enqueued)
        assert.strictEqual(yield* queueLength("control"), 2)
      }).pipe(Effect.provide(app())))

    it.live("until-done: the claim holds while the job runs and is released when it ends", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const unique = { key: "h" } as const
        const first = yield* actions.enqueue(hold, { name: "d1" }, { unique })
        yield* Effect.scoped(Effect.gen(function*() {
          yield* worker
          yield* waitUntil("the job to run", runningCount("d1"), (n) => n === 1)
          const during = yield* actions.enqueue(hold, { name: "d2" }, { unique })
          assert.isFalse(during.enqueued)
          assert.strictEqual(during.id, first.id)
          yield* release("d1")
          yield* actions.awaitJob(first, { timeout: "10 seconds" })
        }))
        const after = yield* actions.enqueue(hold, { name: "d3" }, { unique })
        assert.isTrue(after.enqueued)
        assert.notStrictEqual(after.id, first.id)
      }).pipe(Effect.provide(app())))

    it.live("until-started: another job may be enqueued once the first runs; window: not until the window passes", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const started = { key: "s", mode: "until-started" } as const
        const first = yield* actions.enqueue(hold, { name: "s1" }, { unique: started })
        assert.isFalse((yield* actions.enqueue(hold, { name: "s1" }, { unique: started })).enqueued)
        yield* Effect.scoped(Effect.gen(function*() {
          yield* worker
          yield* waitUntil("the job to run", runningCount("s1"), (n) => n === 1)
          const second = yield* actions.enqueue(square, { n: 1 }, { unique: started })
          assert.isTrue(second.enqueued)
          yield* release("s1")
          yield* actions.awaitJob(first, { timeout: "10 seconds" })
          yield* actions.awaitJob(second, { timeout: "10 seconds" })
          const windowed = { key: "w", mode: "window", window: "1 minute" } as const
          const w1 = yield* actions.enqueue(square, { n: 2 }, { unique: windowed })
          yield* actions.awaitJob(w1, { timeout: "10 seconds" })
          const w2 = yield* actions.enqueue(square, { n: 2 }, { unique: windowed })
          assert.isFalse(w2.enqueued)
          assert.strictEqual(w2.id, w1.id)
        }))
      }).pipe(Effect.provide(app())))

    it.live("cancelling a queued unique job releases its claim", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const first = yield* actions.enqueue(once, { key: "c" })
        assert.strictEqual(yield* actions.cancel(first), "removed")
        assert.isTrue((yield* actions.enqueue(once, { key: "c" })).enqueued)
      }).pipe(Effect.provide(app())))
  })
}
