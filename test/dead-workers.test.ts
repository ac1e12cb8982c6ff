/**
 * Dead workers are found in minutes, live ones are never taken for dead: the scheduler's default dead-worker
 * timeout is one minute, and a worker is never reclaimed before three of its own ping intervals (recorded when
 * its pool registers) have passed, whatever timeout a scheduler was given.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, PubSub } from "effect"
import * as Resque from "../src/domain/Resque.ts"
import { Actions } from "../src/layers/Actions.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as Worker from "../src/layers/Worker.ts"
import { coreWith, failedJobs, note, takeEventsWithin } from "./support/app.ts"
import { backends } from "./support/backends.ts"

/** A worker of another process that stopped `silentSeconds` ago, with the job it was running. */
const ghost = (name: string, silentSeconds: number) =>
  Effect.gen(function*() {
    const redis = yield* Redis
    const { keys } = redis
    const seconds = Math.round(Date.now() / 1000) - silentSeconds
    const payload = { class: "note", queue: "notes", args: [{ id: name }] }
    yield* redis.multi([
      ["sadd", keys.workers, Resque.member(name, "notes")],
      ["set", keys.ping(name), Resque.pingRecord(name, "notes", seconds)],
      ["set", keys.working(name, "notes"), JSON.stringify({ run_at: new Date(seconds * 1000).toISOString(), queue: "notes", payload, worker: name })]
    ])
  })

for (const backend of backends) {
  describe(`dead workers (${backend.name})`, () => {
    it.live("by default a worker silent for more than a minute is reclaimed, one silent for 30 s is not", () =>
      Effect.gen(function*() {
        yield* ghost("ghost-a:1.0", 90)
        yield* ghost("ghost-b:2.0", 30)
        const reclaimed = yield* Effect.scoped(Effect.gen(function*() {
          const scheduler = yield* JobScheduler.make({ pollInterval: "1 hour" })
          return yield* scheduler.reclaimStuckWorkers
        }))
        assert.strictEqual(reclaimed, 1)
        const failed = yield* failedJobs
        assert.deepStrictEqual(failed.map((f) => [f.worker, f.exception]), [["ghost-a:1.0", "WorkerDied"]])
      }).pipe(Effect.provide(coreWith([note], backend.layer()))))

    it.live("a live worker pinging less often than the scheduler's timeout keeps its job: three of its pings are waited for", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        // pings every second; the scheduler's timeout (300 ms) is below that, so three pings (3 s) apply
        const worker = yield* Worker.make({ queues: ["notes"], concurrency: 1, pingInterval: "1 second" })
        const events = yield* PubSub.subscribe(worker.events)
        yield* JobScheduler.make({ pollInterval: "100 millis", stuckWorkerTimeout: "300 millis" })
        yield* actions.enqueue(note, { id: "long", ms: 2500 })
        const [event] = yield* takeEventsWithin(events, 1, "15 seconds")
        assert.strictEqual(event?.outcome._tag, "Success")
        assert.deepStrictEqual(yield* failedJobs, [])
        const redis = yield* Redis
        assert.deepStrictEqual(yield* redis.send("hget", redis.keys.pingIntervals, worker.names[0]!), "1000")
      }).pipe(Effect.scoped, Effect.provide(coreWith([note], backend.layer()))), 30_000)
  })
}
