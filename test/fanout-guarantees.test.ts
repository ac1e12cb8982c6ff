/**
 * Fan-out guarantees on both backends: never stuck (failed, unwritten and removed children finish the
 * fan-out), never early (a child with retries left has no outcome yet), never twice (onComplete exactly once,
 * even when the last two children finish at once on two workers, and not again after a manual retry), exact
 * counts (a retried child moves from failed to completed), sliding TTL, no keys resurrected after expiry.
 * A failed child retried by plain node-resque (wire compatibility) is checked on the real Redis only:
 * node-resque cannot run on the in-memory backend.
 */
import { randomUUID } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, PubSub } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import { Operations } from "../src/layers/Operations.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as Worker from "../src/layers/Worker.ts"
import { redisCall } from "./support/app.ts"
import { backends, real } from "./support/backends.ts"
import { plainQueue } from "./support/nodeResque.ts"
import { app, eventually, finished, gate, heal, healed, resetBarrier, retried, square } from "./support/fanOutApp.ts"

/** The payloads of a queue as stored (Resque format), parsed. */
const queued = (name: string) =>
  redisCall(async (client, keys) =>
    (await client.lrange<ReadonlyArray<string>>(keys.queue(name), 0, -1)).map((raw) =>
      JSON.parse(raw) as {
        readonly class: string
        readonly queue: string
        readonly args: ReadonlyArray<{ readonly [key: string]: unknown; readonly fanOutId?: string; readonly _job?: { readonly index?: number } }>
      }
    )
  )

/** Runs a worker on `queues` until `n` jobs completed; returns their outcomes. */
const work = (queues: ReadonlyArray<string>, n: number, name?: string) =>
  Effect.scoped(Effect.gen(function*() {
    const worker = yield* Worker.make({ queues, concurrency: 1, pollInterval: "10 millis", ...(name ? { name } : {}) })
    const sub = yield* PubSub.subscribe(worker.events)
    return yield* Effect.forEach(Array.from({ length: n }), () => PubSub.take(sub))
  }))

const fanOutKeys = redisCall(async (client, keys) =>
  [...await client.keys<ReadonlyArray<string>>(`${keys.namespace}:fanout:*`)].sort()
)

/** Fans out three `heal` children, two of them failing for good; returns the fan-out and the sick tokens. */
const twoSickChildren = Effect.gen(function*() {
  const actions = yield* Actions
  const [sickA, sickB, well] = [randomUUID(), randomUUID(), randomUUID()]
  healed.add(well)
  const result = yield* actions.fanOut(heal, [{ token: sickA }, { token: well }, { token: sickB }], { onComplete: finished })
  yield* work(["fan"], 3)
  const first = yield* actions.fanOutStatus(result.fanOutId, { action: heal })
  assert.deepStrictEqual([first.total, first.completed, first.failed, first.done], [3, 1, 2, true])
  assert.deepStrictEqual(first.errors.map((e) => [e.index, e.error, e.inputs.token]), [
    [0, `sick ${sickA}`, sickA],
    [2, `sick ${sickB}`, sickB]
  ])
  assert.deepStrictEqual((yield* queued("done")).map((j) => j.args[0]), [{ fanOutId: result.fanOutId, total: 3, completed: 1, failed: 2 }])
  healed.add(sickA)
  healed.add(sickB)
  return { result, sickA, sickB, well }
})

/** After both sick children were retried: every child completed, onComplete did not fire again. */
const allHealed = (fanOut: { readonly result: { readonly fanOutId: string }; readonly sickA: string; readonly sickB: string; readonly well: string }) =>
  Effect.gen(function*() {
    const actions = yield* Actions
    yield* work(["fan"], 2)
    const after = yield* actions.fanOutStatus(fanOut.result.fanOutId, { action: heal })
    assert.deepStrictEqual([after.total, after.completed, after.failed, after.pending], [3, 3, 0, 0])
    assert.deepStrictEqual(after.results.map((r) => [r.index, r.result]), [
      [0, `ok ${fanOut.sickA}`],
      [1, `ok ${fanOut.well}`],
      [2, `ok ${fanOut.sickB}`]
    ])
    assert.deepStrictEqual(after.errors, [])
    assert.strictEqual((yield* queued("done")).length, 1)
  })

for (const backend of backends) {
  describe(`fan-out guarantees (${backend.name})`, () => {
    it.live("failed children retried through the failed-job API move to completed; onComplete does not fire again", () =>
      Effect.gen(function*() {
        const operations = yield* Operations
        const fanOut = yield* twoSickChildren
        const { fanOutId } = fanOut.result
        // one retried by its record, one by a filter over the failed list
        const failedA = (yield* operations.failed(0, -1)).filter((f) => f.fanOut === fanOutId && f.index === 0)
        assert.strictEqual(failedA.length, 1)
        yield* operations.retryAndRemoveFailed(failedA[0]!)
        assert.strictEqual(yield* operations.retryAllFailed((f) => f.fanOut === fanOutId && f.index === 2), 1)
        assert.strictEqual(yield* operations.failedCount, 0)
        yield* allHealed(fanOut)
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("a child with retries left has no outcome yet; its successful retry completes the fan-out", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const { fanOutId } = yield* actions.fanOut(retried, [{ token: randomUUID() }], { onComplete: finished })
        const outcomes = yield* Effect.scoped(Effect.gen(function*() {
          yield* JobScheduler.make({ pollInterval: "50 millis" })
          const worker = yield* Worker.make({ queues: ["fan"], concurrency: 1, pollInterval: "10 millis" })
          const sub = yield* PubSub.subscribe(worker.events)
          const first = yield* PubSub.take(sub)
          const between = yield* actions.fanOutStatus(fanOutId)
          assert.deepStrictEqual([between.completed, between.failed, between.pending, between.done], [0, 0, 1, false])
          assert.strictEqual((yield* queued("done")).length, 0)
          const second = yield* PubSub.take(sub)
          return [first, second]
        }))
        assert.deepStrictEqual(outcomes.map((e) => e.outcome._tag), ["Failure", "Success"])
        const status = yield* actions.fanOutStatus(fanOutId)
        assert.deepStrictEqual([status.completed, status.failed, status.done], [1, 0, true])
        assert.strictEqual((yield* queued("done")).length, 1)
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("onComplete is enqueued exactly once when the last two children finish together on two workers", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const ids: Array<string> = []
        for (let round = 0; round < 3; round++) {
          resetBarrier(2)
          const result = yield* actions.fanOut(gate, [{ n: 1 }, { n: 2 }], { onComplete: finished })
          ids.push(result.fanOutId)
          yield* Effect.all([work(["gated"], 1, `one-${round}`), work(["gated"], 1, `two-${round}`)], { concurrency: 2 })
          const status = yield* actions.fanOutStatus(result)
          assert.deepStrictEqual([status.completed, status.failed, status.done], [2, 0, true])
        }
        const done = (yield* queued("done")).map((j) => j.args[0]?.fanOutId)
        assert.deepStrictEqual(done, ids)
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("a child delivered twice is counted once: the fan-out does not finish early, onComplete fires once", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        // the last child waits on a queue of its own, so the first worker run takes exactly three jobs
        const { fanOutId } = yield* actions.fanOut([
          { action: square, inputs: { n: 1 } },
          { action: square, inputs: { n: 2 } },
          { action: square, inputs: { n: 3 }, queue: "last" }
        ], { onComplete: finished })
        // at-least-once delivery: a copy of child 0 at the head of the queue (as after a redelivery)
        yield* redisCall(async (client, keys) => {
          const [head] = await client.lrange<ReadonlyArray<string>>(keys.queue("fan"), 0, 0)
          await client.lpush(keys.queue("fan"), head!)
        })
        yield* work(["fan"], 3)
        const early = yield* actions.fanOutStatus(fanOutId)
        assert.deepStrictEqual([early.completed, early.failed, early.pending, early.done], [2, 0, 1, false])
        assert.strictEqual((yield* queued("done")).length, 0)
        yield* work(["last"], 1)
        const status = yield* actions.fanOutStatus(fanOutId)
        assert.deepStrictEqual([status.completed, status.failed, status.done], [3, 0, true])
        assert.deepStrictEqual((yield* queued("done")).map((j) => j.args[0]), [{ fanOutId, total: 3, completed: 3, failed: 0 }])
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("a parent re-run with the same id writes only the missing batches, and onComplete fires once", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const id = `parent-${randomUUID()}`
        const inputs = [1, 2, 3, 4, 5].map((n) => ({ n }))
        const options = { id, batchSize: 2, onComplete: finished, queue: "rerun" }
        const first = yield* actions.fanOut(square, inputs, options)
        assert.deepStrictEqual([first.fanOutId, first.total, first.enqueued], [id, 5, 5])
        // as if the parent had died after its first batch: the later batches never reached Redis
        yield* redisCall(async (client, keys) => {
          await client.ltrim(keys.queue("rerun"), 0, 1)
          await client.hdel(keys.fanOut(id), "b2", "b4")
        })
        const again = yield* actions.fanOut(square, inputs, options)
        assert.deepStrictEqual([again.fanOutId, again.total, again.enqueued], [id, 5, 5])
        yield* actions.fanOut(square, inputs, options)
        const indexes = (yield* queued("rerun")).map((j) => j.args[0]?._job?.index)
        assert.deepStrictEqual(indexes, [0, 1, 2, 3, 4])
        const conflict = yield* Effect.flip(actions.fanOut(square, inputs.slice(0, 3), options))
        assert.strictEqual(conflict._tag, "FanOutInvalidOptions")
        const badId = yield* Effect.flip(actions.fanOut(square, inputs, { queue: "rerun", id: "no spaces" }))
        assert.strictEqual(badId._tag, "FanOutInvalidOptions")
        yield* work(["rerun"], 5)
        const status = yield* actions.fanOutStatus(id)
        assert.deepStrictEqual([status.total, status.completed, status.done], [5, 5, true])
        // an empty fan-out run twice: done once, onComplete once
        const empty = `empty-${randomUUID()}`
        yield* actions.fanOut(square, [], { id: empty, onComplete: finished })
        yield* actions.fanOut(square, [], { id: empty, onComplete: finished })
        assert.deepStrictEqual((yield* queued("done")).map((j) => j.args[0]?.fanOutId), [id, empty])
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("awaitFanOut returns the final status when done and times out when not", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const result = yield* actions.fanOut(square, [{ n: 2 }, { n: 3 }])
        const timedOut = yield* Effect.flip(actions.awaitFanOut(result.fanOutId, { timeout: "150 millis" }))
        assert.strictEqual(timedOut._tag, "FanOutTimeout")
        assert.include(timedOut.message, "0 of 2")
        const waiting = yield* Effect.forkChild(actions.awaitFanOut(result, { timeout: "10 seconds", maxPollInterval: "50 millis" }))
        yield* work(["fan"], 2)
        const status = yield* Fiber.join(waiting)
        assert.deepStrictEqual(status.results.map((r) => r.result), [4, 9])
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("custom TTL is applied, and every child completion slides it for all the fan-out's keys", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const { fanOutId } = yield* actions.fanOut(square, [{ n: 1 }], { resultTtl: "1 minute" })
        const initial = yield* redisCall((client, keys) => client.pttl<number>(keys.fanOut(fanOutId)))
        assert.isTrue(initial > 50_000 && initial <= 60_000, `pttl ${initial}`)
        // as if most of the TTL had passed while the child waited in its queue
        yield* redisCall((client, keys) => client.pexpire(keys.fanOut(fanOutId), 3_000))
        yield* work(["fan"], 1)
        const meta = yield* redisCall((client, keys) => client.pttl<number>(keys.fanOut(fanOutId)))
        const outcomes = yield* redisCall((client, keys) => client.pttl<number>(keys.fanOutOutcomes(fanOutId)))
        assert.isTrue(meta > 50_000 && outcomes > 50_000, `pttl ${meta} / ${outcomes}`)
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("an expired fan-out is FanOutNotFound, and a late child does not resurrect its keys", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const { fanOutId } = yield* actions.fanOut(square, [{ n: 1 }], { resultTtl: "150 millis" })
        yield* eventually(Effect.map(Effect.flip(actions.fanOutStatus(fanOutId)), (e) => (e._tag === "FanOutNotFound" ? e : undefined)).pipe(
          Effect.catch(() => Effect.succeed(undefined))
        ))
        const [event] = yield* work(["fan"], 1)
        assert.strictEqual(event?.outcome._tag, "Success")
        assert.deepStrictEqual(yield* fanOutKeys, [])
        assert.strictEqual((yield* Effect.flip(actions.fanOutStatus(fanOutId)))._tag, "FanOutNotFound")
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("children whose batch Redis refused are reported, counted as failed, and the fan-out still finishes", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        yield* redisCall((client, keys) => client.set(keys.queue("broken"), "not a list"))
        const result = yield* actions.fanOut([
          { action: square, inputs: { n: 1 }, queue: "broken" },
          { action: square, inputs: { n: 2 } },
          { action: square, inputs: { n: 3 }, queue: "broken" }
        ], { batchSize: 1, onComplete: finished })
        assert.deepStrictEqual([result.total, result.enqueued], [3, 1])
        assert.deepStrictEqual(result.errors.map((e) => [e.index, e.reason]), [[0, "NotEnqueued"], [2, "NotEnqueued"]])
        yield* work(["fan"], 1)
        const status = yield* actions.fanOutStatus(result.fanOutId)
        assert.deepStrictEqual([status.total, status.completed, status.failed, status.done], [3, 1, 2, true])
        assert.include(status.errors[0]?.error ?? "", "not enqueued")
        assert.deepStrictEqual((yield* queued("done")).map((j) => j.args[0]?.failed), [2])
      }).pipe(Effect.provide(app(backend.layer()))))

    it.live("children removed from their queue by an operator get an outcome, so the parent is never stuck", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const operations = yield* Operations
        const { fanOutId } = yield* actions.fanOut(square, [{ n: 1 }, { n: 2 }, { n: 3 }], { queue: "holding", onComplete: finished })
        assert.strictEqual(yield* operations.del("holding", square, { n: 2 }), 1)
        const partly = yield* actions.fanOutStatus(fanOutId)
        assert.deepStrictEqual([partly.failed, partly.pending, partly.done], [1, 2, false])
        assert.deepStrictEqual(partly.errors.map((e) => [e.index, e.error]), [[1, "removed from queue holding"]])
        assert.strictEqual((yield* queued("done")).length, 0)
        assert.strictEqual(yield* operations.delQueue("holding"), 2)
        const status = yield* actions.fanOutStatus(fanOutId)
        assert.deepStrictEqual([status.total, status.completed, status.failed, status.done], [3, 0, 3, true])
        assert.deepStrictEqual((yield* queued("done")).map((j) => j.args[0]), [{ fanOutId, total: 3, completed: 0, failed: 3 }])
      }).pipe(Effect.provide(app(backend.layer()))))
  })
}

// node-resque drives a real server: it cannot run on the in-memory backend
describe(`fan-out guarantees with node-resque (${real.name} only)`, () => {
  it.live("failed children retried by node-resque's own retryAndRemoveFailed move to completed; onComplete does not fire again", () =>
    Effect.scoped(Effect.gen(function*() {
      const queue = yield* plainQueue
      const fanOut = yield* twoSickChildren
      // node-resque reads our failed records and re-enqueues their payloads, `_job` metadata included
      const records = yield* Effect.promise(() => queue.failed(0, -1))
      const sick = records.filter((f) => (f.payload.args[0] as { _job?: { fanOut?: string } } | undefined)?._job?.fanOut === fanOut.result.fanOutId)
      assert.strictEqual(sick.length, 2)
      for (const record of sick) yield* Effect.promise(() => queue.retryAndRemoveFailed(record))
      assert.strictEqual(yield* Effect.promise(() => queue.failedCount()), 0)
      yield* allHealed(fanOut)
    })).pipe(Effect.provide(app(real.layer()))))
})
