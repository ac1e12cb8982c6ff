import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Logger, PubSub, References, Tracer } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as Worker from "../src/layers/Worker.ts"
import { add, core, explode, failedJobs, queueLength, takeEvents, takeEventsWithin } from "./support/app.ts"
import { backends } from "./support/backends.ts"

for (const backend of backends) {
  describe(`core runtime (${backend.name})`, () => {
    it.live("enqueues a typed job in Resque format and a worker runs it", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const job = yield* actions.enqueue(add, { a: "2", b: 3 })
        assert.deepStrictEqual(JSON.parse(job.payload), { class: "add", queue: "math", args: [{ a: 2, b: 3 }] })
        assert.strictEqual(yield* queueLength("math"), 1)
        const events = yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["math"], concurrency: 2 })
          const sub = yield* PubSub.subscribe(worker.events)
          return yield* takeEvents(sub, 1)
        }))
        assert.strictEqual(events[0]?.outcome._tag, "Success")
        assert.strictEqual(events[0]?.outcome._tag === "Success" ? events[0].outcome.result : "", "5")
      }).pipe(Effect.provide(core(backend.layer()))))

    it.live("rejects invalid inputs at enqueue with the Schema message and writes nothing", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const error = yield* Effect.flip(actions.enqueue("add", { a: "x" }))
        assert.strictEqual(error._tag, "InvalidInputs")
        assert.include(error.message, "at [\"a\"]")
        const unknown = yield* Effect.flip(actions.enqueue("nope", {}))
        assert.strictEqual(unknown._tag, "UnknownAction")
        assert.strictEqual(yield* queueLength("math"), 0)
      }).pipe(Effect.provide(core(backend.layer()))))

    it.live("a failing job lands in the failed list and the worker keeps going", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const events = yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["math"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          yield* actions.enqueue(explode, { why: "kaboom" })
          yield* actions.enqueue(add, { a: 1 })
          return yield* takeEvents(sub, 2)
        }))
        assert.deepStrictEqual(events.map((e) => e.outcome._tag), ["Failure", "Success"])
        const failed = yield* failedJobs
        assert.strictEqual(failed.length, 1)
        assert.strictEqual(failed[0]?.error, "kaboom")
        assert.strictEqual(failed[0]?.exception, "Boom")
      }).pipe(Effect.provide(core(backend.layer()))))
  })
}


/** A tracer that keeps every span it creates, to read names and attributes back. */
const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
}

/** A logger that keeps every message with its level and annotations. */
const recordingLogger = () => {
  const lines: Array<{ readonly level: string; readonly message: unknown; readonly annotations: Record<string, unknown> }> = []
  const logger = Logger.make((options) => {
    lines.push({
      level: options.logLevel,
      message: options.message,
      annotations: { ...options.fiber.getRef(References.CurrentLogAnnotations) }
    })
  })
  return { lines, logger }
}

for (const backend of backends) {
  describe(`observability (${backend.name})`, () => {
    it.live("each job runs in a consumer span `process <queue>`, with action, attempt, worker and message id", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const { spans, tracer } = recordingTracer()
        yield* actions.enqueue(add, { a: 1, b: 1 })
        yield* actions.enqueue(explode, { why: "traced" })
        const events = yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["math"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          return yield* takeEventsWithin(sub, 2)
        })).pipe(Effect.withTracer(tracer))
        const jobSpans = spans.filter((span) => span.name === "process math")
        assert.deepStrictEqual(jobSpans.map((span) => span.attributes.get("resque.action")), ["add", "explode"])
        const [addSpan, explodeSpan] = jobSpans
        assert.strictEqual(addSpan?.kind, "consumer")
        assert.strictEqual(addSpan?.attributes.get("messaging.destination.name"), "math")
        assert.strictEqual(addSpan?.attributes.get("messaging.system"), "resque")
        assert.strictEqual(addSpan?.attributes.get("resque.attempt"), 1)
        assert.strictEqual(addSpan?.attributes.get("messaging.client.id"), events[0]?.worker)
        assert.match(String(addSpan?.attributes.get("messaging.message.id")), /#\d+$/)
        assert.notStrictEqual(addSpan?.attributes.get("messaging.message.id"), explodeSpan?.attributes.get("messaging.message.id"))
        assert.strictEqual(addSpan?.status._tag, "Ended")
        const explodeExit = explodeSpan?.status._tag === "Ended" ? explodeSpan.status.exit : undefined
        assert.isTrue(explodeExit !== undefined && Exit.isFailure(explodeExit))
      }).pipe(Effect.provide(core(backend.layer()))))

    it.live("a direct run is a span named after the action too, by definition or by name", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const { spans, tracer } = recordingTracer()
        yield* actions.run(add, { a: 1 }).pipe(Effect.withTracer(tracer))
        yield* actions.run("add", { a: 2 }).pipe(Effect.withTracer(tracer))
        assert.deepStrictEqual(spans.map((span) => span.name), ["add", "add"])
      }).pipe(Effect.provide(core(backend.layer()))))

    it.live("each job outcome is one log line through Effect's Logger, annotated with worker, queue, action, attempt, outcome and duration", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const { lines, logger } = recordingLogger()
        yield* actions.enqueue(add, { a: 1 })
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["math"], concurrency: 1 })
          const sub = yield* PubSub.subscribe(worker.events)
          return yield* takeEventsWithin(sub, 1)
        })).pipe(
          Effect.provide(Logger.layer([logger])),
          Effect.provideService(References.MinimumLogLevel, "Debug")
        )
        const done = lines.filter((line) => Array.isArray(line.message) && String(line.message[0]).startsWith("ok add on math by "))
        assert.strictEqual(done.length, 1)
        assert.strictEqual(done[0]?.level, "Debug")
        const { durationMs, worker, ...annotations } = done[0]?.annotations ?? {}
        assert.deepStrictEqual(annotations, { action: "add", queue: "math", attempt: 1, outcome: "Success" })
        assert.isNumber(durationMs)
        assert.isString(worker)
      }).pipe(Effect.provide(core(backend.layer()))))
  })

  describe(`composed layers (${backend.name})`, () => {
    it.live("Worker and Scheduler layers on the runtime layer process a queued job, and the in-memory layer loses none", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const worker = yield* Worker.Worker
        const sub = yield* PubSub.subscribe(worker.events)
        for (let i = 0; i < 20; i++) yield* actions.enqueue(add, { a: i })
        const events = yield* takeEventsWithin(sub, 20)
        const results = events.map((e) => (e.outcome._tag === "Success" ? Number(e.outcome.result) : -1))
        assert.deepStrictEqual(results.sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i))
        assert.strictEqual(yield* queueLength("math"), 0)
        assert.deepStrictEqual(yield* failedJobs, [])
      }).pipe(
        Effect.provide(
          Layer.mergeAll(Worker.layer({ queues: ["math"], concurrency: 4 }), JobScheduler.layer({ pollInterval: "100 millis" })).pipe(
            Layer.provideMerge(core(backend.layer()))
          )
        )
      ))
  })
}
