/**
 * Job metrics on both backends: after a known workload the counters and histogram counts are exactly its
 * numbers, by action and queue; the gauges sampled by the scheduler's leader match `taskDetails`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Metric, PubSub, Ref } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import * as JobMetrics from "../src/layers/JobMetrics.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import { Operations } from "../src/layers/Operations.ts"
import * as Resque from "../src/layers/Resque.ts"
import * as Worker from "../src/layers/Worker.ts"
import { explode, takeEventsWithin, waitUntil } from "./support/app.ts"
import { type Backend, backends } from "./support/backends.ts"
import { observedActions } from "./support/observedActions.ts"

const { echo, flaky, tries } = observedActions("measured")

/** The runtime with the metrics hook, on a metric registry of its own (the test reads exactly its numbers). */
const measuredApp = (backend: Backend) =>
  Resque.layer({ actions: [echo, flaky, explode] }).pipe(
    Layer.provideMerge(JobMetrics.layer),
    Layer.provideMerge(backend.layer()),
    Layer.provideMerge(Layer.succeed(Metric.MetricRegistry, new Map()))
  )

/** `{ "action/queue": value }` of one metric in the snapshot. */
const valuesOf = (snapshot: ReadonlyArray<Metric.Metric.Snapshot>, id: string) =>
  Object.fromEntries(
    snapshot.filter((entry) => entry.id === id).map((entry) => {
      const attributes = entry.attributes ?? {}
      const key = [attributes["action"], attributes["queue"]].filter((part) => part !== undefined).join("/")
      const state = entry.state as { count?: number; value?: number }
      return [key, entry.type === "Gauge" ? state.value : state.count]
    })
  )

for (const backend of backends) {
  describe(`job metrics (${backend.name})`, () => {
    it.live("after 3 ok, 2 failed and 1 retried job and a fan-out of 2, the counters and histogram counts are exactly those", () =>
      Effect.gen(function*() {
        yield* Ref.set(tries, 0)
        const actions = yield* Actions
        for (const n of [1, 2, 3]) yield* actions.enqueue(echo, { n })
        yield* actions.enqueue(explode, { why: "a" }, { queue: "measured" })
        yield* actions.enqueue(explode, { why: "b" }, { queue: "measured" })
        yield* actions.enqueue(flaky, {})
        yield* actions.fanOut(echo, [{ n: 4 }, { n: 5 }])
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["measured"], concurrency: 3 })
          const sub = yield* PubSub.subscribe(worker.events)
          yield* takeEventsWithin(sub, 9) // 5 echo, 2 explode, flaky twice
        }))
        const snapshot = yield* Metric.snapshot
        assert.deepStrictEqual(valuesOf(snapshot, "resque.jobs.enqueued"), { "echo/measured": 5, "explode/measured": 2, "flaky/measured": 1 })
        assert.deepStrictEqual(valuesOf(snapshot, "resque.fanout.children"), { "echo/measured": 2 })
        assert.deepStrictEqual(valuesOf(snapshot, "resque.jobs.processed"), { "echo/measured": 5, "flaky/measured": 1 })
        assert.deepStrictEqual(valuesOf(snapshot, "resque.jobs.failed"), { "explode/measured": 2 })
        assert.deepStrictEqual(valuesOf(snapshot, "resque.jobs.retried"), { "flaky/measured": 1 })
        assert.deepStrictEqual(valuesOf(snapshot, "resque.job.duration"), { "echo/measured": 5, "explode/measured": 2, "flaky/measured": 2 })
        assert.deepStrictEqual(valuesOf(snapshot, "resque.job.wait"), { "echo/measured": 5, "explode/measured": 2, "flaky/measured": 2 })
      }).pipe(Effect.provide(measuredApp(backend))))

    it.live("the application's own metric attributes are on every series, and the exported metrics with attributes read those series", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        yield* actions.enqueue(echo, { n: 1 })
        yield* actions.enqueue(explode, { why: "a" }, { queue: "measured" })
        yield* actions.enqueue(echo, { n: 2 })
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["measured"], concurrency: 1 })
          yield* takeEventsWithin(yield* PubSub.subscribe(worker.events), 3)
        }))
        const snapshot = yield* Metric.snapshot
        const processed = snapshot.filter((entry) => entry.id === "resque.jobs.processed")
        assert.deepStrictEqual(processed.map((entry) => entry.attributes), [{ service: "billing", action: "echo", queue: "measured" }])
        const read = (metric: Metric.Metric<number, Metric.CounterState<number>>, action: string) =>
          Effect.map(Metric.value(Metric.withAttributes(metric, { service: "billing", action, queue: "measured" })), (state) => state.count)
        assert.strictEqual(yield* read(JobMetrics.processed, "echo"), 2)
        assert.strictEqual(yield* read(JobMetrics.failed, "explode"), 1)
        assert.strictEqual(yield* read(JobMetrics.enqueued, "echo"), 2)
      }).pipe(
        Effect.provide(Resque.layer({ actions: [echo, flaky, explode] }).pipe(
          Layer.provideMerge(JobMetrics.layer),
          Layer.provideMerge(backend.layer()),
          Layer.provideMerge(Layer.succeed(Metric.MetricRegistry, new Map())),
          Layer.provideMerge(Layer.succeed(Metric.CurrentMetricAttributes, { service: "billing" }))
        ))
      ))

    it.live("the leader's gauges match taskDetails: queue lengths, failed, delayed, workers and busy workers", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const operations = yield* Operations
        yield* actions.enqueue(explode, { why: "a" }, { queue: "measured" })
        yield* actions.enqueue(explode, { why: "b" }, { queue: "measured" })
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["measured"], concurrency: 1 })
          yield* takeEventsWithin(yield* PubSub.subscribe(worker.events), 2)
        }))
        for (const n of [1, 2, 3]) yield* actions.enqueue(echo, { n }, { queue: "idle" })
        yield* actions.enqueue(echo, { n: 4 }, { queue: "other" })
        yield* actions.enqueueIn("1 hour", echo, { n: 5 })
        yield* actions.enqueueIn("2 hours", echo, { n: 6 })
        yield* Effect.scoped(Effect.gen(function*() {
          yield* Worker.make({ queues: ["measured"], concurrency: 2 })
          yield* Layer.build(JobMetrics.layerGauges({ interval: "20 millis" }))
          const snapshot = yield* waitUntil("the gauges", Metric.snapshot, (s) => valuesOf(s, "resque.workers")[""] === 2)
          const details = yield* operations.taskDetails
          const queues = valuesOf(snapshot, "resque.queue.length")
          assert.deepStrictEqual(queues, Object.fromEntries(Object.entries(details.queues).map(([name, { length }]) => [name, length])))
          assert.deepStrictEqual(queues, { idle: 3, measured: 0, other: 1 })
          assert.strictEqual(valuesOf(snapshot, "resque.failed.jobs")[""], yield* operations.failedCount)
          assert.strictEqual(valuesOf(snapshot, "resque.failed.jobs")[""], 2)
          assert.strictEqual(valuesOf(snapshot, "resque.delayed.jobs")[""], 2)
          assert.strictEqual(valuesOf(snapshot, "resque.workers")[""], details.workers.length)
          assert.strictEqual(valuesOf(snapshot, "resque.workers.busy")[""], details.workers.filter((w) => w.workingOn !== null).length)
        }))
      }).pipe(Effect.provide(Layer.mergeAll(JobScheduler.layer({ pollInterval: "20 millis" })).pipe(Layer.provideMerge(measuredApp(backend))))))
  })
}
