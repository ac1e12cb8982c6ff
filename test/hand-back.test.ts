/**
 * Rolling deploys: a worker that does not know a job's action hands the job back (due again a second later)
 * for a worker that knows it, for `handBackFor` from the first hand-back, counted in `stats.handedBack`; only
 * then does the job fail as `UnknownAction`. Two runtimes share one Redis here: an old one that knows `add`
 * only, and a new one that also knows `note`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, PubSub } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import { Operations } from "../src/layers/Operations.ts"
import type * as Redis from "../src/layers/Redis.ts"
import { Redis as RedisService } from "../src/layers/Redis.ts"
import * as Resque from "../src/layers/Resque.ts"
import * as Worker from "../src/layers/Worker.ts"
import { add, note, notes, pushPayloads, takeEventsWithin, waitUntil } from "./support/app.ts"
import { backends } from "./support/backends.ts"

/** The old and the new runtime on one Redis (built once, so the in-memory one is shared too). */
const runtimes = (redis: Layer.Layer<Redis.Redis, unknown>) =>
  Effect.gen(function*() {
    const shared = yield* Layer.build(redis)
    const old = yield* Layer.build(Resque.layer({ actions: [add] }).pipe(Layer.provideMerge(Layer.succeedContext(shared))))
    const current = yield* Layer.build(Resque.layer({ actions: [add, note] }).pipe(Layer.provideMerge(Layer.succeedContext(shared))))
    return { old, current }
  })

for (const backend of backends) {
  describe(`hand-back of jobs for unknown actions (${backend.name})`, () => {
    it.live("an old worker hands a new action's job back; a new worker runs it; nothing fails", () =>
      Effect.gen(function*() {
        const { old, current } = yield* runtimes(backend.layer())
        const oldWorker = yield* Worker.make({ queues: ["notes"], concurrency: 1 }).pipe(Effect.provideContext(old))
        yield* JobScheduler.make({ pollInterval: "100 millis" }).pipe(Effect.provideContext(old))
        const events = yield* PubSub.subscribe(oldWorker.events)
        yield* Context.get(current, Actions).enqueue(note, { id: "deployed" })
        const [handed] = yield* takeEventsWithin(events, 1)
        assert.deepStrictEqual([handed?.outcome._tag, handed?.outcome._tag === "Failure" ? handed.outcome.exception : ""], ["Failure", "HandedBack"])
        const ops = Context.get(current, Operations)
        assert.isAtLeast((yield* ops.stats).handedBack, 1)
        // the new version's worker comes up and runs it
        yield* Worker.make({ queues: ["notes"], concurrency: 1 }).pipe(Effect.provideContext(current))
        yield* waitUntil("the job to run", notes.pipe(Effect.provideContext(current)), (ids) => ids.length === 1)
        assert.deepStrictEqual(yield* notes.pipe(Effect.provideContext(current)), ["deployed"])
        assert.strictEqual(yield* ops.failedCount, 0)
      }).pipe(Effect.scoped), 30_000)

    it.live("a plain job handed back keeps its args exactly: the metadata rides beside them", () =>
      Effect.gen(function*() {
        const { old } = yield* runtimes(backend.layer())
        const worker = yield* Worker.make({ queues: ["notes"], concurrency: 1 }).pipe(Effect.provideContext(old))
        const events = yield* PubSub.subscribe(worker.events)
        // as Ruby Resque writes a job: no queue field, args not ours to change
        yield* pushPayloads("notes", [JSON.stringify({ class: "note", args: [{ id: "ruby" }, 2] })]).pipe(Effect.provideContext(old))
        yield* takeEventsWithin(events, 1)
        const redis = Context.get(old, RedisService)
        const [second] = yield* redis.send<ReadonlyArray<string>>("zrange", redis.keys.delayedSchedule, 0, -1)
        const [payload] = yield* redis.send<ReadonlyArray<string>>("lrange", redis.keys.delayed(Number(second)), 0, -1)
        const job = JSON.parse(payload ?? "{}")
        assert.deepStrictEqual(job.args, [{ id: "ruby" }, 2])
        assert.strictEqual(typeof job._job?.handedBackAt, "number")
      }).pipe(Effect.scoped))

    it.live("past handBackFor (from the first hand-back) the job fails as UnknownAction; 0 fails it at once", () =>
      Effect.gen(function*() {
        const { old, current } = yield* runtimes(backend.layer())
        const ops = Context.get(current, Operations)
        yield* Worker.make({ queues: ["notes"], concurrency: 1, handBackFor: "500 millis" }).pipe(Effect.provideContext(old))
        yield* JobScheduler.make({ pollInterval: "100 millis" }).pipe(Effect.provideContext(old))
        yield* Context.get(current, Actions).enqueue(note, { id: "never" })
        yield* waitUntil("the job to fail", ops.failedCount, (n) => n === 1, { timeout: "15 seconds" })
        const [failed] = yield* ops.failed(0, 0)
        assert.strictEqual(failed?.exception, "UnknownAction")
        assert.strictEqual((yield* ops.stats).handedBack, 1)

        const { old: strict, current: producer } = yield* runtimes(backend.layer())
        const strictWorker = yield* Worker.make({ queues: ["notes"], concurrency: 1, handBackFor: 0 }).pipe(Effect.provideContext(strict))
        const events = yield* PubSub.subscribe(strictWorker.events)
        yield* Context.get(producer, Actions).enqueue(note, { id: "at once" })
        const [event] = yield* takeEventsWithin(events, 1)
        assert.strictEqual(event?.outcome._tag === "Failure" ? event.outcome.exception : "", "UnknownAction")
        assert.strictEqual((yield* Context.get(producer, Operations).stats).handedBack, 0)
      }).pipe(Effect.scoped), 30_000)
  })
}
