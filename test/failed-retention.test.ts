/**
 * A retention bound for the failed list: `WorkerMiddleware.failedRetention({ maxCount })` keeps the newest
 * records, trimmed in each failing job's own completion; without it (the default) every record is kept.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, PubSub } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import * as Worker from "../src/layers/Worker.ts"
import * as WorkerMiddleware from "../src/layers/WorkerMiddleware.ts"
import { core, explode, failedJobs, takeEventsWithin } from "./support/app.ts"
import { backends } from "./support/backends.ts"

/** Runs `n` failing jobs through a worker with the given middlewares; answers the failed list's reasons. */
const failMany = (n: number, middlewares: ReadonlyArray<WorkerMiddleware.Middleware>) =>
  Effect.gen(function*() {
    const actions = yield* Actions
    const worker = yield* Worker.make({ queues: ["math"], concurrency: 3 }).pipe(Effect.provide(WorkerMiddleware.layer(middlewares)))
    const events = yield* PubSub.subscribe(worker.events)
    for (let i = 0; i < n; i++) yield* actions.enqueue(explode, { why: `job ${i}` })
    yield* takeEventsWithin(events, n)
    return (yield* failedJobs).map((job) => job.error)
  }).pipe(Effect.scoped)

for (const backend of backends) {
  describe(`failed-list retention (${backend.name})`, () => {
    it.live("with failedRetention({ maxCount: 5 }) the list keeps the 5 newest failures", () =>
      Effect.gen(function*() {
        const kept = yield* failMany(12, [...WorkerMiddleware.defaults, WorkerMiddleware.failedRetention({ maxCount: 5 })])
        assert.strictEqual(kept.length, 5)
        // the oldest were trimmed: jobs run three at a time, so the survivors are among the last ones run
        assert.isTrue(kept.every((error) => Number(error.replace("job ", "")) >= 5), kept.join(", "))
      }).pipe(Effect.provide(core(backend.layer()))))

    it.live("by default every failure is kept", () =>
      Effect.gen(function*() {
        assert.strictEqual((yield* failMany(12, WorkerMiddleware.defaults)).length, 12)
      }).pipe(Effect.provide(core(backend.layer()))))
  })
}
