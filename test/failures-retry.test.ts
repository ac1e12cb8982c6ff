/**
 * Failure suite, retries and dead workers (in process): a failing job is re-enqueued
 * delayed with its attempt number, only its final outcome is recorded; the job of a dead worker is reclaimed
 * atomically and follows the same retry policy.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, PubSub } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as Worker from "../src/layers/Worker.ts"
import { core } from "./reliability/fixtures/actions.ts"
import { failedJobs, queueLength, redisCall, takeEvents } from "./support/app.ts"
import { backends } from "./support/backends.ts"

/** Writes what a worker killed in the middle of `payload` leaves in Redis: registered, working, silent. */
const leaveDeadWorker = (name: string, queue: string, payload: string, pingAgeSeconds: number) =>
  Effect.gen(function*() {
    const redis = yield* Redis
    const { keys } = redis
    const time = Math.round(Date.now() / 1000) - pingAgeSeconds
    yield* redis.multi([
      ["sadd", keys.workers, `${name}:${queue}`],
      ["set", keys.started(name, queue), time],
      ["set", keys.ping(name), JSON.stringify({ time, name, queues: queue })],
      ["set", keys.working(name, queue), JSON.stringify({ run_at: new Date().toISOString(), queue, payload: JSON.parse(payload), worker: name })]
    ])
  })

for (const backend of backends) {
  describe(`failures: retries (${backend.name})`, () => {
    it.live("a failing job is re-enqueued delayed with attempt + 1 until it succeeds; nothing lands in failed", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const ops = yield* Operations
        // without a scheduler the retry stays in the delayed schedule: the worker does not retry in a loop
        const first = yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["retry"], concurrency: 2 })
          const sub = yield* PubSub.subscribe(worker.events)
          yield* actions.enqueue("flaky", { id: "a", failures: 2 })
          return yield* takeEvents(sub, 1)
        }))
        assert.strictEqual(yield* queueLength("retry"), 0)
        const stamps = yield* ops.timestamps
        const waiting = yield* ops.delayedAt(stamps[0] ?? 0)
        assert.deepStrictEqual(waiting.map((j) => JSON.parse(j.raw).args), [[{ id: "a", failures: 2, _job: { attempt: 2 } }]])
        const rest = yield* Effect.scoped(Effect.gen(function*() {
          yield* JobScheduler.make({ pollInterval: "100 millis" })
          const worker = yield* Worker.make({ queues: ["retry"], concurrency: 2 })
          const sub = yield* PubSub.subscribe(worker.events)
          return yield* takeEvents(sub, 2)
        }))
        const attempts = [...first, ...rest].map((e) => [e.job?.meta.attempt ?? 1, e.outcome._tag, e.outcome._tag === "Failure" ? e.outcome.final : true])
        assert.deepStrictEqual(attempts, [[1, "Failure", false], [2, "Failure", false], [3, "Success", true]])
        assert.strictEqual(yield* ops.failedCount, 0)
      }).pipe(Effect.provide(core(backend.layer()))), 20_000)

    it.live("the last allowed attempt is final: one failed entry carrying its attempt number", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const events = yield* Effect.scoped(Effect.gen(function*() {
          yield* JobScheduler.make({ pollInterval: "100 millis" })
          const worker = yield* Worker.make({ queues: ["retry"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          yield* actions.enqueue("flaky", { id: "b", failures: 5 })
          return yield* takeEvents(sub, 3)
        }))
        assert.deepStrictEqual(events.map((e) => e.outcome._tag === "Failure" && e.outcome.final), [false, false, true])
        const failed = yield* failedJobs
        assert.strictEqual(failed.length, 1)
        assert.strictEqual(failed[0]?.exception, "Flaky")
        assert.strictEqual(failed[0]?.error, "attempt 3 of b failed")
        assert.strictEqual(failed[0]?.attempt, 3)
      }).pipe(Effect.provide(core(backend.layer()))), 20_000)
  })

  describe(`failures: dead workers (${backend.name})`, () => {
    it.live("a dead worker's job fails with \"worker died\"; its working-on record and registration are gone", () =>
      Effect.gen(function*() {
        const { keys } = yield* Redis
        const payload = "{\"class\":\"sleep\",\"queue\":\"slow\",\"args\":[{\"ms\":1}]}"
        yield* leaveDeadWorker("ghost:1.0", "slow", payload, 60)
        yield* leaveDeadWorker("alive:1.0", "slow", payload, 0)
        const reclaimed = yield* Effect.scoped(Effect.gen(function*() {
          const scheduler = yield* JobScheduler.make({ pollInterval: "1 hour", stuckWorkerTimeout: "5 seconds" })
          return yield* scheduler.reclaimStuckWorkers
        }))
        assert.strictEqual(reclaimed, 1)
        const failed = yield* failedJobs
        assert.strictEqual(failed.length, 1)
        assert.strictEqual(failed[0]?.exception, "WorkerDied")
        assert.include(failed[0]?.error ?? "", "worker died")
        assert.deepStrictEqual(failed[0]?.action, "sleep")
        assert.strictEqual(yield* redisCall((client) => client.exists(keys.working("ghost:1.0", "slow"), keys.ping("ghost:1.0"))), 0)
        assert.deepStrictEqual(yield* redisCall((client) => client.smembers(keys.workers)), ["alive:1.0:slow"])
        assert.strictEqual(yield* redisCall((client) => client.exists(keys.working("alive:1.0", "slow"))), 1)
      }).pipe(Effect.provide(core(backend.layer()))))

    it.live("a dead worker's job follows its action's retry policy (attempt + 1), and retryStuckJobs covers the rest", () =>
      Effect.gen(function*() {
        const ops = yield* Operations
        yield* leaveDeadWorker("ghost:2.0", "slow", "{\"class\":\"sleepRetried\",\"queue\":\"slow\",\"args\":[{\"ms\":1}]}", 60)
        yield* leaveDeadWorker("ghost:2.1", "slow", "{\"class\":\"sleep\",\"queue\":\"slow\",\"args\":[{\"ms\":2}]}", 60)
        // the last allowed attempt of a policy is final even with retryStuckJobs
        yield* leaveDeadWorker("ghost:2.2", "slow", "{\"class\":\"sleepRetried\",\"queue\":\"slow\",\"args\":[{\"ms\":3,\"_job\":{\"attempt\":3}}]}", 60)
        const reclaimed = yield* Effect.scoped(Effect.gen(function*() {
          const scheduler = yield* JobScheduler.make({ pollInterval: "1 hour", stuckWorkerTimeout: "5 seconds", retryStuckJobs: true })
          return yield* scheduler.reclaimStuckWorkers
        }))
        assert.strictEqual(reclaimed, 3)
        // retried with a delay: waiting in the delayed schedule; retried by retryStuckJobs: back on the queue at once
        const delayed = (yield* ops.allDelayed).flatMap((d) => d.jobs)
        assert.deepStrictEqual(delayed.map((j) => [j.action, JSON.parse(j.raw).args]), [["sleepRetried", [{ ms: 1, _job: { attempt: 2 } }]]])
        const queued = yield* redisCall((client, keys) => client.lrange<ReadonlyArray<string>>(keys.queue("slow"), 0, -1))
        assert.deepStrictEqual(queued.map((p) => JSON.parse(p).args), [[{ ms: 2, _job: { attempt: 2 } }]])
        const failed = yield* failedJobs
        assert.deepStrictEqual(failed.map((f) => [f.action, f.exception]), [["sleepRetried", "WorkerDied"]])
        assert.deepStrictEqual(yield* redisCall((client, keys) => client.keys(`${keys.namespace}:worker:*`)), [])
      }).pipe(Effect.provide(core(backend.layer()))))
  })
}

for (const backend of backends) {
  describe(`failures: lost replies (${backend.name})`, () => {
    it.live("a worker whose working-on record still holds a job gets that job back before any other (never lost)", () =>
      Effect.gen(function*() {
        const redis = yield* Redis
        const { keys } = redis
        const actions = yield* Actions
        const stranded = "{\"class\":\"add\",\"queue\":\"math\",\"args\":[{\"a\":40,\"b\":2}]}"
        const { events, name } = yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["math"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          const name = worker.names[0] ?? ""
          // what a pick whose reply was lost leaves: the job popped and recorded as this slot's, nothing run
          yield* redis.send("set", keys.working(name, "math"), `{"run_at":"2026-01-01T00:00:00.000Z","queue":"math","payload":${stranded},"worker":"${name}"}`)
          yield* actions.enqueue("add", { a: 1, b: 1 })
          return { events: yield* takeEvents(sub, 2), name }
        }))
        assert.deepStrictEqual(events.map((e) => e.outcome._tag === "Success" ? e.outcome.result : e.outcome._tag), ["42", "2"])
        assert.strictEqual(yield* redisCall((client) => client.exists(keys.working(name, "math"))), 0)
      }).pipe(Effect.provide(core(backend.layer()))))
  })
}
