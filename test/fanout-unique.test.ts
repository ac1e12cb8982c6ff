/**
 * Unique fan-out children on both backends: overlapping fan-outs (and single enqueues) of the same keys write
 * each key's job once; a child whose claim another job holds is recorded at once as a duplicate naming that
 * job, so its fan-out finishes with exact counts and `onComplete` fires once; a unique child is tracked, and
 * its claim is released as a single unique job's is (its end, its start, the window, a cancel). Without
 * unique children a fan-out writes what it wrote before, in as many round trips.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import * as Action from "../src/domain/Action.ts"
import * as FanOut from "../src/domain/FanOut.ts"
import type { Keys } from "../src/domain/Keys.ts"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import * as Worker from "../src/layers/Worker.ts"
import { coreWith, queueLength, redisCall, waitUntil } from "./support/app.ts"
import { backends } from "./support/backends.ts"
import { hold, jobControlActions, once, square } from "./support/jobControlApp.ts"
import { counted } from "./support/roundTrips.ts"

/** The onComplete action: keeps the inputs it received, in order. */
const tally = Action.make({
  name: "tally",
  description: "Records a fan-out's completion",
  inputs: FanOut.Completion,
  run: (completion) =>
    Effect.flatMap(
      redisCall((client, keys) => client.rpush(keys.key("tallies"), JSON.stringify(completion))),
      () => Effect.succeed(completion.fanOutId)
    ),
  task: { queue: "tallies" }
})

/** A unique action with a static key: all its jobs share one claim. */
const solo = Action.make({
  name: "solo",
  description: "One at a time",
  inputs: Schema.Struct({ n: Schema.Finite }),
  run: ({ n }) => Effect.succeed(n),
  unique: { key: "solo" },
  task: { queue: "control" }
})

const tallies = redisCall(async (client, keys) =>
  (await client.lrange<ReadonlyArray<string>>(keys.key("tallies"), 0, -1)).map((raw) => JSON.parse(raw) as FanOut.Completion)
)

const release = (name: string) => redisCall((client, keys) => client.set(keys.key("release", name), "1"))
const runningCount = (name: string) => redisCall((client, keys) => client.llen<number>(keys.key("running", name)))
const keysMatching = (pattern: (keys: Keys) => string) =>
  redisCall((client, keys) => client.keys<ReadonlyArray<string>>(pattern(keys)))

const worker = Worker.make({ queues: ["control", "tallies"], concurrency: 4, pollInterval: "20 millis" })

for (const backend of backends) {
  const app = () => coreWith([...jobControlActions, tally, solo], backend.layer())

  describe(`unique fan-out children (${backend.name})`, () => {
    it.live("50 overlapping fan-outs of the same 10 keys write each key's job once; every other child is a duplicate of it; each fan-out finishes once with exact counts", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const inputs = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}` }))
        const results = yield* Effect.forEach(
          Array.from({ length: 50 }),
          () => actions.fanOut(once, inputs, { onComplete: tally, batchSize: 3 }),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(yield* queueLength("control"), 10)
        // the written child of each key, and every duplicate names it
        const holders = new Map<string, string>()
        for (const result of results) {
          assert.strictEqual(result.total, 10)
          assert.strictEqual(result.enqueued + result.duplicates.length, 10)
          const duplicated = new Set(result.duplicates.map((d) => d.index))
          inputs.forEach(({ key }, index) => {
            if (duplicated.has(index)) return
            assert.isFalse(holders.has(key), `${key} written twice`)
            holders.set(key, `${result.fanOutId}:${index}`)
          })
        }
        assert.strictEqual(holders.size, 10)
        for (const result of results) {
          for (const duplicate of result.duplicates) {
            assert.strictEqual(duplicate.action, "once")
            assert.strictEqual(duplicate.jobId, holders.get(inputs[duplicate.index]!.key))
          }
        }
        const [statuses, seen] = yield* Effect.scoped(Effect.andThen(
          worker,
          Effect.all([
            Effect.forEach(results, (result) => actions.awaitFanOut(result, { timeout: "20 seconds" })),
            waitUntil("every onComplete to run", tallies, (list) => list.length >= 50, { timeout: "20 seconds" })
          ])
        ))
        let completed = 0
        statuses.forEach((status, i) => {
          assert.isTrue(status.done)
          assert.strictEqual(status.failed, 0)
          assert.strictEqual(status.pending, 0)
          assert.strictEqual(status.completed + status.duplicate, 10)
          assert.strictEqual(status.completed, results[i]!.enqueued)
          assert.deepStrictEqual(status.duplicates.map((d) => [d.index, d.jobId]), results[i]!.duplicates.map((d) => [d.index, d.jobId]))
          assert.deepStrictEqual(status.duplicates.map((d) => d.inputs), results[i]!.duplicates.map((d) => inputs[d.index]))
          completed += status.completed
        })
        assert.strictEqual(completed, 10)
        assert.strictEqual(seen.length, 50)
        assert.strictEqual(new Set(seen.map((t) => t.fanOutId)).size, 50)
        for (const tallied of seen) {
          const status = statuses.find((s) => s.fanOutId === tallied.fanOutId)!
          const counts = { fanOutId: status.fanOutId, total: 10, completed: status.completed, failed: 0 }
          assert.deepStrictEqual(tallied, status.duplicate === 0 ? counts : { ...counts, duplicate: status.duplicate })
        }
      }).pipe(Effect.provide(app())), 60_000)

    it.live("a child whose key another job holds is a duplicate at once; a fan-out of duplicates only is done at enqueue and its onComplete queued", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const single = yield* actions.enqueue(once, { key: "s" })
        const mixed = yield* actions.fanOut(once, [{ key: "s" }, { key: "t" }, { key: "t" }], { onComplete: tally })
        assert.strictEqual(mixed.enqueued, 1)
        assert.deepStrictEqual(mixed.duplicates, [
          { index: 0, action: "once", jobId: single.id },
          { index: 2, action: "once", jobId: `${mixed.fanOutId}:1` }
        ])
        const status = yield* actions.fanOutStatus(mixed)
        assert.deepStrictEqual([status.total, status.completed, status.failed, status.duplicate, status.pending, status.done], [3, 0, 0, 2, 1, false])
        assert.deepStrictEqual(status.duplicates, [
          { index: 0, action: "once", inputs: { key: "s" }, jobId: single.id },
          { index: 2, action: "once", inputs: { key: "t" }, jobId: `${mixed.fanOutId}:1` }
        ])
        assert.deepStrictEqual(status.errors, [])
        // a single enqueue meets a child's claim the same way
        const again = yield* actions.enqueue(once, { key: "t" })
        assert.isFalse(again.enqueued)
        assert.strictEqual(again.id, `${mixed.fanOutId}:1`)
        const only = yield* actions.fanOut(once, [{ key: "s" }], { onComplete: tally })
        assert.strictEqual(only.enqueued, 0)
        const done = yield* actions.fanOutStatus(only)
        assert.deepStrictEqual([done.total, done.duplicate, done.pending, done.done], [1, 1, 0, true])
        const completions = yield* redisCall((client, keys) => client.lrange<ReadonlyArray<string>>(keys.queue("tallies"), 0, -1))
        assert.deepStrictEqual(completions.map((raw) => JSON.parse(raw).args[0]), [{ fanOutId: only.fanOutId, total: 1, completed: 0, failed: 0, duplicate: 1 }])
        assert.strictEqual(yield* queueLength("control"), 2)
      }).pipe(Effect.provide(app())))

    it.live("until-done: a unique child is tracked; its key is held while it waits and runs, and released when it ends", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const unique = { key: () => "h" } as const
        const first = yield* actions.fanOut(hold, [{ name: "u1" }], { unique })
        const id = `${first.fanOutId}:0`
        assert.strictEqual((yield* actions.jobStatus(id)).state, "queued")
        assert.strictEqual((yield* actions.fanOut(hold, [{ name: "u0" }], { unique })).duplicates[0]?.jobId, id)
        yield* Effect.scoped(Effect.gen(function*() {
          yield* worker
          yield* waitUntil("the child to run", runningCount("u1"), (n) => n === 1)
          assert.strictEqual((yield* actions.jobStatus(id)).state, "running")
          const during = yield* actions.fanOut(hold, [{ name: "u2" }], { unique })
          assert.deepStrictEqual(during.duplicates, [{ index: 0, action: "hold", jobId: id }])
          const single = yield* actions.enqueue(hold, { name: "u2" }, { unique: { key: "h" } })
          assert.isFalse(single.enqueued)
          assert.strictEqual(single.id, id)
          yield* release("u1")
          const status = yield* actions.awaitFanOut(first, { timeout: "10 seconds" })
          assert.deepStrictEqual([status.completed, status.duplicate], [1, 0])
        }))
        const ended = yield* actions.jobStatus(id)
        assert.strictEqual(ended.state, "succeeded")
        assert.strictEqual(ended.result, "u1")
        const after = yield* actions.fanOut(hold, [{ name: "u3" }], { unique })
        assert.strictEqual(after.enqueued, 1)
        assert.deepStrictEqual(after.duplicates, [])
      }).pipe(Effect.provide(app())))

    it.live("until-started: another child of the key is written once the first runs; window: a child stays a duplicate after its holder ended", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const started = { key: () => "s", mode: "until-started" } as const
        const first = yield* actions.fanOut(hold, [{ name: "s1" }], { unique: started })
        assert.strictEqual((yield* actions.fanOut(hold, [{ name: "s0" }], { unique: started })).enqueued, 0)
        yield* Effect.scoped(Effect.gen(function*() {
          yield* worker
          yield* waitUntil("the child to run", runningCount("s1"), (n) => n === 1)
          const second = yield* actions.fanOut(square, [{ n: 3 }], { unique: started })
          assert.strictEqual(second.enqueued, 1)
          yield* release("s1")
          yield* actions.awaitFanOut(first, { timeout: "10 seconds" })
          yield* actions.awaitFanOut(second, { timeout: "10 seconds" })
          const windowed = { mode: "window", window: "1 minute" } as const
          const w1 = yield* actions.fanOut(square, [{ n: 4 }], { unique: windowed })
          assert.strictEqual(w1.enqueued, 1)
          yield* actions.awaitFanOut(w1, { timeout: "10 seconds" })
          assert.strictEqual((yield* actions.jobStatus(`${w1.fanOutId}:0`)).state, "succeeded")
          const w2 = yield* actions.fanOut(square, [{ n: 4 }], { unique: windowed })
          assert.deepStrictEqual(w2.duplicates, [{ index: 0, action: "square", jobId: `${w1.fanOutId}:0` }])
        }))
      }).pipe(Effect.provide(app())))

    it.live("cancelling a waiting unique child removes it, records it failed with JobCancelled, finishes its fan-out once and releases its key", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const fanOut = yield* actions.fanOut(once, [{ key: "c1" }, { key: "c2" }], { onComplete: tally })
        assert.strictEqual(yield* actions.cancel(`${fanOut.fanOutId}:0`), "removed")
        assert.strictEqual(yield* queueLength("control"), 1)
        const cancelled = yield* actions.fanOutStatus(fanOut)
        assert.deepStrictEqual([cancelled.failed, cancelled.pending], [1, 1])
        assert.deepStrictEqual(cancelled.errors.map((e) => [e.index, e.exception, e.error, e.inputs]), [[0, "JobCancelled", "cancelled before it ran", { key: "c1" }]])
        assert.strictEqual((yield* actions.jobStatus(`${fanOut.fanOutId}:0`)).state, "cancelled")
        assert.strictEqual((yield* actions.fanOut(once, [{ key: "c1" }])).enqueued, 1)
        const status = yield* Effect.scoped(Effect.andThen(worker, Effect.gen(function*() {
          const done = yield* actions.awaitFanOut(fanOut, { timeout: "10 seconds" })
          yield* waitUntil("the onComplete to run", tallies, (list) => list.length >= 1)
          return done
        })))
        assert.deepStrictEqual([status.completed, status.failed, status.duplicate], [1, 1, 0])
        assert.deepStrictEqual(yield* tallies, [{ fanOutId: fanOut.fanOutId, total: 2, completed: 1, failed: 1 }])
      }).pipe(Effect.provide(app())))

    it.live("the fan-out's unique option: false turns the action's off, a key function, the action's static key shared by every child", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const off = yield* actions.fanOut(once, [{ key: "z" }, { key: "z" }], { unique: false })
        assert.strictEqual(off.enqueued, 2)
        assert.deepStrictEqual(yield* keysMatching((keys) => keys.key("unique", "*")), [])
        const keyed = yield* actions.fanOut(square, [{ n: 1 }, { n: 2 }, { n: 3 }], { unique: { key: ({ n }) => String(n % 2) } })
        assert.deepStrictEqual(keyed.duplicates, [{ index: 2, action: "square", jobId: `${keyed.fanOutId}:0` }])
        const fixed = yield* actions.fanOut(solo, [{ n: 1 }, { n: 2 }, { n: 3 }])
        assert.deepStrictEqual(fixed.duplicates.map((d) => [d.index, d.jobId]), [[1, `${fixed.fanOutId}:0`], [2, `${fixed.fanOutId}:0`]])
        const bad = yield* Effect.flip(actions.fanOut(square, [{ n: 1 }], { unique: { window: -5 } }))
        assert.instanceOf(bad, FanOut.FanOutInvalidOptions)
      }).pipe(Effect.provide(app())))

    it.live("the operations show duplicates: a fan-out's summary counts them apart, its children list them with the holder's id", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const ops = yield* Operations
        const fanOut = yield* actions.fanOut(once, [{ key: "o1" }, { key: "o1" }, { key: "o2" }])
        const summary = yield* ops.fanOutSummary(fanOut.fanOutId)
        assert.deepStrictEqual([summary.total, summary.completed, summary.failed, summary.duplicate, summary.pending, summary.done], [3, 0, 0, 1, 2, false])
        const duplicates = yield* ops.fanOutChildren(fanOut.fanOutId, { status: "duplicate" })
        assert.strictEqual(duplicates.matched, 1)
        assert.deepStrictEqual(duplicates.children, [{ index: 1, status: "duplicate", action: "once", inputs: { key: "o1" }, duplicateOf: `${fanOut.fanOutId}:0` }])
        const all = yield* ops.fanOutChildren(fanOut.fanOutId)
        assert.deepStrictEqual(all.children.map((c) => c.status), ["pending", "duplicate", "pending"])
        assert.strictEqual((yield* ops.fanOutChildren(fanOut.fanOutId, { status: "failed" })).matched, 0)
      }).pipe(Effect.provide(app())))

    it.live("a re-run under the same id writes nothing again and reports the same duplicates", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const inputs = [{ key: "r1" }, { key: "r1" }, { key: "r2" }]
        const first = yield* actions.fanOut(once, inputs, { id: "rerun", batchSize: 2 })
        const again = yield* actions.fanOut(once, inputs, { id: "rerun", batchSize: 2 })
        assert.deepStrictEqual(again.duplicates, first.duplicates)
        assert.deepStrictEqual(first.duplicates, [{ index: 1, action: "once", jobId: "rerun:0" }])
        assert.strictEqual(again.enqueued, 2)
        assert.strictEqual(yield* queueLength("control"), 2)
        assert.strictEqual((yield* actions.fanOutStatus("rerun")).duplicate, 1)
      }).pipe(Effect.provide(app())))
  })

  describe(`fan-out cost with and without unique children (${backend.name})`, () => {
    const counter = { trips: 0 }
    const countedApp = () => coreWith([...jobControlActions, tally, solo], counted(backend.layer(), counter))

    it.live("one round trip per batch either way; without unique children no record or claim is written and payloads carry no id", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const inputs = Array.from({ length: 250 }, (_, i) => ({ key: `c${i}` }))
        counter.trips = 0
        const plain = yield* actions.fanOut(once, inputs, { unique: false })
        assert.strictEqual(counter.trips, 3)
        assert.deepStrictEqual(yield* keysMatching((keys) => keys.job("*")), [])
        assert.deepStrictEqual(yield* keysMatching((keys) => keys.key("unique", "*")), [])
        const payload = yield* redisCall((client, keys) => client.lindex<string>(keys.queue("control"), 0))
        assert.strictEqual(payload, `{"class":"once","queue":"control","args":[{"key":"c0","_job":{"fanOut":"${plain.fanOutId}","index":0}}]}`)
        counter.trips = 0
        const unique = yield* actions.fanOut(once, inputs)
        assert.strictEqual(counter.trips, 3)
        assert.strictEqual(unique.enqueued, 250)
        assert.lengthOf(yield* keysMatching((keys) => keys.key("unique", "*")), 250)
        counter.trips = 0
        const duplicates = yield* actions.fanOut(once, inputs)
        assert.strictEqual(counter.trips, 3)
        assert.strictEqual(duplicates.duplicates.length, 250)
        assert.isTrue((yield* actions.fanOutStatus(duplicates)).done)
      }).pipe(Effect.provide(countedApp().pipe(Layer.orDie))))
  })
}
