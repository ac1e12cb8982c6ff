/**
 * Traces across the queue, exported by Effect's OTLP tracer to a local OTLP/HTTP receiver, on both backends:
 * an HTTP-like span that enqueues and the job's span are one trace; a parent that fans out has children in
 * traces of their own, each linked to the fan-out's send span, and an `onComplete` that continues it; a retry
 * is attempt 2 in the same trace; a job from a foreign producer starts a trace of its own. Names, kinds,
 * parents, links and attributes follow OpenTelemetry's messaging conventions. Each run of a recurring action is
 * a trace of its own, linked to the run before. Sampling: a trace the root ratio leaves out, or whose
 * `traceparent` says not sampled, sends no span at all, and every job it causes (plain or fan-out child)
 * carries its trace id with flag `00`; a `tracestate` rides beside the `traceparent` and is restored.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, PubSub, Ref, Schema, Tracer } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpSerialization, OtlpTracer } from "effect/observability"
import * as Action from "../src/domain/Action.ts"
import * as FanOut from "../src/domain/FanOut.ts"
import * as Job from "../src/domain/Job.ts"
import { Actions } from "../src/layers/Actions.ts"
import * as JobHooks from "../src/layers/JobHooks.ts"
import * as JobMetrics from "../src/layers/JobMetrics.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as Resque from "../src/layers/Resque.ts"
import * as Worker from "../src/layers/Worker.ts"
import { pushPayloadAt, pushPayloads, redisCall, takeEventsWithin } from "./support/app.ts"
import { type Backend, backends } from "./support/backends.ts"
import { observedActions } from "./support/observedActions.ts"
import { fromTraceparent, traceparent, tracestateOf } from "../src/internal/Tracing.ts"
import { otlpReceiver, type ReceivedSpan } from "./support/otlpReceiver.ts"

const { echo, flaky, tries } = observedActions("traced")

const summary = Action.make({
  name: "summary",
  description: "Runs when the fan-out is done",
  inputs: FanOut.Completion,
  run: ({ completed }) => Effect.succeed(completed),
  task: { queue: "traced" }
})

const parent = Action.make({
  name: "parent",
  description: "Fans out three children",
  inputs: Schema.Struct({}),
  run: () =>
    Effect.flatMap(Actions, (actions) =>
      Effect.map(actions.fanOut(echo, [{ n: 1 }, { n: 2 }, { n: 3 }], { onComplete: summary }), (result) => result.fanOutId)),
  task: { queue: "traced" }
})

const tick = Action.make({
  name: "tick",
  description: "Recurs every second",
  inputs: Schema.Struct({}),
  run: () => Effect.void,
  task: { queue: "ticked", frequency: "1 second" }
})

/** Enqueues one echo and fans out two, inside a span of its own: what a job causes, and its own spans. */
const relay = Action.make({
  name: "relay",
  description: "Enqueues an echo and fans out two",
  inputs: Schema.Struct({}),
  run: () =>
    Effect.gen(function*() {
      const actions = yield* Actions
      yield* actions.enqueue(echo, { n: 1 })
      yield* actions.fanOut(echo, [{ n: 2 }, { n: 3 }])
    }).pipe(Effect.withSpan("inside relay")),
  task: { queue: "traced" }
})

/** What each run carried: its action, its `n` and its trace headers (an application hook, after tracing). */
const runs = Ref.makeUnsafe<ReadonlyArray<{ readonly action: string; readonly n: unknown; readonly traceparent: string | undefined; readonly tracestate: string | undefined }>>([])
const recorder: JobHooks.Hook = {
  name: "recorder",
  aroundJob: (running, run) =>
    Effect.andThen(
      Ref.update(runs, (all) => [...all, {
        action: running.job.action,
        n: (running.job.inputs as { n?: unknown }).n,
        traceparent: running.job.meta.headers?.["traceparent"],
        tracestate: running.job.meta.headers?.["tracestate"]
      }]),
      run
    )
}

/** The runtime, built with Effect's OTLP tracer exporting to `url` (spans are sent when the layer closes). */
const tracedApp = (backend: Backend, url: string, tracing?: JobHooks.TracingOptions, hooks: ReadonlyArray<JobHooks.Hook | Effect.Effect<JobHooks.Hook>> = [recorder]) =>
  Resque.layer({ actions: [echo, summary, parent, flaky, tick, relay] }).pipe(
    Layer.provideMerge(JobHooks.layer(hooks)),
    Layer.provideMerge(tracing === undefined ? Layer.empty : JobHooks.layerTracing(tracing)),
    Layer.provideMerge(backend.layer()),
    Layer.provideMerge(OtlpTracer.layer({ url: `${url}/v1/traces`, resource: { serviceName: "tracing-test" }, exportInterval: "1 hour" })),
    Layer.provide(OtlpSerialization.layerJson),
    Layer.provide(FetchHttpClient.layer)
  )

/** Runs a worker pool of `concurrency` slots on the `traced` queue until it has finished `jobs` jobs. */
const drain = (concurrency: number, jobs: number) =>
  Effect.scoped(Effect.gen(function*() {
    const worker = yield* Worker.make({ queues: ["traced"], concurrency })
    yield* takeEventsWithin(yield* PubSub.subscribe(worker.events), jobs)
  }))

const consumers = (spans: ReadonlyArray<ReceivedSpan>, action: string) =>
  spans.filter((span) => span.kind === "consumer" && span.attributes["resque.action"] === action)

const only = <A>(items: ReadonlyArray<A>, what: string): A => {
  assert.strictEqual(items.length, 1, `exactly one ${what}`)
  return items[0]!
}

describe("W3C traceparent", () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
  const spanId = "00f067aa0ba902b7"
  it("reads a valid header, sampled or not, and a later version's with more fields; writes it back the same", () => {
    assert.deepStrictEqual(fromTraceparent(`00-${traceId}-${spanId}-01`), Tracer.externalSpan({ traceId, spanId, sampled: true }))
    assert.strictEqual(fromTraceparent(`00-${traceId}-${spanId}-00`)?.sampled, false)
    assert.strictEqual(fromTraceparent(`01-${traceId}-${spanId}-01-extra`)?.spanId, spanId)
    assert.strictEqual(traceparent(Tracer.externalSpan({ traceId, spanId, sampled: true })), `00-${traceId}-${spanId}-01`)
  })
  it("keeps a tracestate in the span's annotations, found again from any span below it", () => {
    const parent = fromTraceparent(`00-${traceId}-${spanId}-01`, "rojo=00f067aa0ba902b7")!
    assert.strictEqual(Context.getOrUndefined(parent.annotations, JobHooks.TraceState), "rojo=00f067aa0ba902b7")
    const child = new Tracer.NativeSpan({ name: "child", parent: { _tag: "Some", value: parent } as never, annotations: Context.empty(), links: [], startTime: 0n, kind: "consumer", sampled: true })
    assert.strictEqual(tracestateOf(child), "rojo=00f067aa0ba902b7")
    assert.isUndefined(tracestateOf(fromTraceparent(`00-${traceId}-${spanId}-01`)!))
  })
  it("ignores a malformed one (the job then starts a trace of its own)", () => {
    for (const bad of [undefined, "", "00-x-y-01", `ff-${traceId}-${spanId}-01`, `00-${traceId.toUpperCase()}-${spanId}-01`, `00-${"0".repeat(32)}-${spanId}-01`, `00-${traceId}-${"0".repeat(16)}-01`, `00-${traceId}-${spanId}`]) {
      assert.isUndefined(fromTraceparent(bad), String(bad))
    }
  })
})

/** The parts of a version-00 `traceparent`. */
const parts = (header: string | undefined) => {
  const [, traceId, spanId, flags] = (header ?? "").split("-")
  return { traceId, spanId, flags }
}

const runOf = <A extends { readonly action: string; readonly n: unknown }>(all: ReadonlyArray<A>, action: string, n?: number): A =>
  only(all.filter((run) => run.action === action && (n === undefined || run.n === n)), `run of ${action} ${n ?? ""}`)

describe("root sampling", () => {
  it.effect("a ratio records about that share of the traces that start at a job; 0 none, 1 all", () =>
    Effect.gen(function*() {
      const tracer = Tracer.make({ span: (options) => new Tracer.NativeSpan(options) })
      const sampledOf = (ratio: number, n: number) =>
        Effect.gen(function*() {
          const hooks = JobHooks.composed.pipe(Effect.provide(JobHooks.layerTracing({ rootSampleRatio: ratio })), Effect.provideService(Tracer.Tracer, tracer))
          const { aroundJob } = yield* hooks
          let sampled = 0
          for (let i = 0; i < n; i++) {
            const running = { job: { action: "echo", queue: "q", inputs: {}, meta: {} }, queue: "q", worker: "w", jobId: `w#${i}`, attempt: 1, startedAt: 0 } as unknown as JobHooks.Running
            const parent = yield* aroundJob!(running, Effect.withFiberSucceed((fiber) => fiber.cache.span))
            if (parent?.sampled === true) sampled++
          }
          return sampled
        })
      assert.strictEqual(yield* sampledOf(0, 200), 0)
      assert.strictEqual(yield* sampledOf(1, 200), 200)
      // 2 000 draws at 0.25: 500 expected, standard deviation about 19
      const quarter = yield* sampledOf(0.25, 2_000)
      assert.isAtLeast(quarter, 400)
      assert.isAtMost(quarter, 600)
    }))

  it.effect("a recurring run and a send outside any span are roots: the ratio decides, whatever the run before was", () =>
    Effect.gen(function*() {
      const tracer = Tracer.make({ span: (options) => new Tracer.NativeSpan(options) })
      const hooksAt = (ratio: number) =>
        JobHooks.composed.pipe(Effect.provide(JobHooks.layerTracing({ rootSampleRatio: ratio })), Effect.provideService(Tracer.Tracer, tracer))
      const before = `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`
      const recurring = { job: { action: "tick", queue: "q", inputs: {}, meta: { recurrence: "t", headers: { traceparent: before } } }, queue: "q", worker: "w", jobId: "w#1", attempt: 1, startedAt: 0 } as unknown as JobHooks.Running
      const currentSpan = Effect.withFiberSucceed((fiber) => fiber.cache.span)
      const none = yield* hooksAt(0)
      assert.strictEqual((yield* none.aroundJob!(recurring, currentSpan))?.sampled, false)
      assert.strictEqual((yield* none.aroundEnqueue!({ kind: "enqueue", action: "a", queue: "q", count: 1 }, currentSpan))?.sampled, false)
      const all = yield* hooksAt(1)
      const run = yield* all.aroundJob!(recurring, currentSpan)
      assert.strictEqual(run?._tag, "Span")
      assert.strictEqual(run?.sampled, true)
      assert.notStrictEqual(run?.traceId, "4bf92f3577b34da6a3ce929d0e0e4736")
      assert.deepStrictEqual((run as Tracer.Span).links.map((link) => link.span.spanId), ["00f067aa0ba902b7"])
      assert.strictEqual((yield* all.aroundEnqueue!({ kind: "enqueue", action: "a", queue: "q", count: 1 }, currentSpan))?.sampled, true)
    }))
})

for (const backend of backends) {
  describe(`sampling across the queue (${backend.name})`, () => {
    it.live("a trace the root ratio leaves out sends no span, and every job it causes carries its trace id with flag 00", () =>
      Effect.gen(function*() {
        yield* Ref.set(runs, [])
        const receiver = yield* otlpReceiver
        yield* Effect.gen(function*() {
          const actions = yield* Actions
          yield* actions.enqueue(relay, {})
          yield* pushPayloads("traced", [JSON.stringify({ class: "echo", queue: "traced", args: [{ n: 99 }] })])
          // relay, its echo, its two children, the foreign echo
          yield* drain(2, 5)
        }).pipe(Effect.provide(tracedApp(backend, receiver.url, { rootSampleRatio: 0 })))
        // nothing at all: no send span, no job span, not the action's own span
        assert.deepStrictEqual(receiver.spans, [])
        const all = yield* Ref.get(runs)
        const root = parts(runOf(all, "relay").traceparent)
        assert.strictEqual(root.flags, "00")
        assert.match(root.traceId ?? "", /^[0-9a-f]{32}$/)
        for (const n of [1, 2, 3]) {
          const caused = parts(runOf(all, "echo", n).traceparent)
          assert.strictEqual(caused.traceId, root.traceId, `echo ${n} is in the relay's trace`)
          assert.strictEqual(caused.flags, "00", `echo ${n} is not sampled`)
        }
        assert.isUndefined(runOf(all, "echo", 99).traceparent)
      }).pipe(Effect.scoped))

    it.live("foreign jobs the root ratio leaves out, one after the other on one slot, each pass on a trace id of their own", () =>
      Effect.gen(function*() {
        yield* Ref.set(runs, [])
        const receiver = yield* otlpReceiver
        yield* Effect.gen(function*() {
          // two parents from a producer that writes no trace context: each starts a trace, which ratio 0 leaves
          // out, and fans out from it directly (no span of its own between)
          const foreign = JSON.stringify({ class: "parent", queue: "traced", args: [{}] })
          yield* pushPayloads("traced", [foreign, foreign])
          // two parents, each with its three children and its summary
          yield* drain(1, 10)
        }).pipe(Effect.provide(tracedApp(backend, receiver.url, { rootSampleRatio: 0 })))
        assert.deepStrictEqual(receiver.spans, [])
        const children = (yield* Ref.get(runs)).filter((run) => run.action === "echo").map((run) => ({ n: run.n, ...parts(run.traceparent) }))
        assert.strictEqual(children.length, 6)
        for (const child of children) assert.strictEqual(child.flags, "00")
        const byTrace = new Map<string, Array<unknown>>()
        for (const child of children) byTrace.set(child.traceId ?? "", [...(byTrace.get(child.traceId ?? "") ?? []), child.n])
        // one trace per parent, each holding that parent's three children
        assert.strictEqual(byTrace.size, 2)
        for (const ns of byTrace.values()) assert.deepStrictEqual([...ns].sort(), [1, 2, 3])
      }).pipe(Effect.scoped))

    it.live("parent-based: a job whose traceparent says not sampled sends no span and passes flag 00 on; sampled ones are traced", () =>
      Effect.gen(function*() {
        yield* Ref.set(runs, [])
        const receiver = yield* otlpReceiver
        const upstream = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" }
        const foreign = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" }
        yield* Effect.gen(function*() {
          const actions = yield* Actions
          // an incoming request that its caller did not sample
          yield* actions.enqueue(relay, {}).pipe(Effect.withParentSpan(Tracer.externalSpan({ ...upstream, sampled: false })))
          // another producer's jobs with trace context: not sampled, and sampled
          yield* pushPayloads("traced", [
            JSON.stringify({ class: "echo", queue: "traced", args: [{ n: 98, _job: { headers: { traceparent: `00-${foreign.traceId}-${foreign.spanId}-00` } } }] }),
            JSON.stringify({ class: "echo", queue: "traced", args: [{ n: 97, _job: { headers: { traceparent: `00-${foreign.traceId}-${foreign.spanId}-01` } } }] })
          ])
          // a root that the default ratio (every trace) records
          yield* actions.enqueue(echo, { n: 96 })
          // tracing turned off where it enqueues: no trace context at all
          yield* actions.enqueue(echo, { n: 95 }).pipe(Effect.withSpan("untraced"), Effect.withTracerEnabled(false))
          yield* drain(2, 8)
        }).pipe(Effect.provide(tracedApp(backend, receiver.url)))
        const all = yield* Ref.get(runs)
        // the request's trace: no span anywhere, its id and flag 00 on the relay and all it caused
        assert.notInclude(receiver.spans.map((span) => span.traceId), upstream.traceId)
        assert.deepStrictEqual(parts(runOf(all, "relay").traceparent), { ...upstream, flags: "00" })
        for (const n of [1, 2, 3]) {
          const caused = parts(runOf(all, "echo", n).traceparent)
          assert.strictEqual(caused.traceId, upstream.traceId)
          assert.strictEqual(caused.flags, "00")
        }
        assert.strictEqual(consumers(receiver.spans, "relay").length, 0)
        // the foreign job that says not sampled: no span; the one that says sampled continues its trace
        const foreignRuns = consumers(receiver.spans, "echo").filter((span) => span.traceId === foreign.traceId)
        assert.strictEqual(only(foreignRuns, "sampled foreign run").parentSpanId, foreign.spanId)
        // the root: a send span and its job's span, flag 01
        const rootRun = parts(runOf(all, "echo", 96).traceparent)
        assert.strictEqual(rootRun.flags, "01")
        const send = only(receiver.spans.filter((span) => span.kind === "producer" && span.traceId === rootRun.traceId), "root send span")
        assert.strictEqual(send.spanId, rootRun.spanId)
        assert.strictEqual(only(consumers(receiver.spans, "echo").filter((span) => span.traceId === rootRun.traceId), "root run").parentSpanId, send.spanId)
        // sampled traces only: 1 send + 1 run, and the sampled foreign run (the untraced job's is a root)
        assert.isUndefined(runOf(all, "echo", 95).traceparent)
        assert.strictEqual(receiver.spans.filter((span) => span.kind === "producer").length, 1)
        assert.strictEqual(receiver.spans.length, 4)
      }).pipe(Effect.scoped))

    it.live("a tracestate rides with the traceparent: the job's span continues it and what the job enqueues carries it on", () =>
      Effect.gen(function*() {
        yield* Ref.set(runs, [])
        const receiver = yield* otlpReceiver
        const upstream = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" }
        const tracestate = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
        yield* Effect.gen(function*() {
          const actions = yield* Actions
          const request = Tracer.externalSpan({ ...upstream, sampled: true, annotations: Context.make(JobHooks.TraceState, tracestate) })
          yield* actions.enqueue(relay, {}).pipe(Effect.withParentSpan(request))
          yield* drain(2, 4)
        }).pipe(Effect.provide(tracedApp(backend, receiver.url)))
        const all = yield* Ref.get(runs)
        for (const run of all) assert.strictEqual(run.tracestate, tracestate, `${run.action} ${String(run.n)}`)
        // the request's trace goes on through the send span and the relay's run
        const relayRun = only(consumers(receiver.spans, "relay"), "relay run")
        assert.strictEqual(relayRun.traceId, upstream.traceId)
        assert.strictEqual(parts(runOf(all, "echo", 1).traceparent).traceId, upstream.traceId)
        assert.strictEqual(parts(runOf(all, "echo", 1).traceparent).flags, "01")
      }).pipe(Effect.scoped))
  })

  describe(`delayed jobs with tracing on (${backend.name})`, () => {
    it.live("enqueueAt of the same job at the same second writes it once, whatever each call's trace, as without tracing; once it ran, that second takes it again", () =>
      Effect.gen(function*() {
        const receiver = yield* otlpReceiver
        yield* Effect.gen(function*() {
          const actions = yield* Actions
          const second = Math.floor(Date.now() / 1000) + 3600
          const delayedAt = (seconds: number) => redisCall((client, keys) => client.lrange<ReadonlyArray<string>>(keys.delayed(seconds), 0, -1))
          // two requests, two traces, two send times within the second (the metrics hook's sentAt)
          const first = yield* actions.enqueueAt(second * 1000 + 100, echo, { n: 5 }).pipe(Effect.withSpan("request 1"))
          const again = yield* actions.enqueueAt(second * 1000 + 400, echo, { n: 5 }).pipe(Effect.withSpan("request 2"))
          const other = yield* actions.enqueueAt(second * 1000 + 100, echo, { n: 6 }).pipe(Effect.withSpan("request 3"))
          assert.deepStrictEqual([first.alreadyScheduled, again.alreadyScheduled, other.alreadyScheduled], [false, true, false])
          const written = yield* delayedAt(second)
          assert.strictEqual(written.length, 2)
          assert.isString(Job.parse(written[0]!)._tag === "Success" ? (Job.parse(written[0]!) as { success: Job.ParsedJob }).success.meta.headers?.["traceparent"] : undefined)
          // the same job written without trace context (tracing off: the metrics hook's header only) counts, both ways
          yield* pushPayloadAt((second + 1) * 1000, Job.encode("traced", "echo", { n: 7 }, { headers: { sentAt: String((second + 1) * 1000) } }))
          const traced = yield* actions.enqueueAt((second + 1) * 1000, echo, { n: 7 })
          const tracedFirst = yield* actions.enqueueAt((second + 2) * 1000, echo, { n: 8 })
          const untraced = yield* actions.enqueueAt((second + 2) * 1000, echo, { n: 8 }).pipe(Effect.withTracerEnabled(false))
          assert.deepStrictEqual([traced.alreadyScheduled, tracedFirst.alreadyScheduled, untraced.alreadyScheduled], [true, false, true])
          assert.strictEqual((yield* delayedAt(second + 1)).length, 1)
          assert.strictEqual((yield* delayedAt(second + 2)).length, 1)

          // a second that has passed: the job is promoted and runs; the same job at that second is written again
          const past = Math.floor(Date.now() / 1000) - 5
          assert.isFalse((yield* actions.enqueueAt(past * 1000, echo, { n: 9 })).alreadyScheduled)
          assert.isTrue((yield* actions.enqueueAt(past * 1000, echo, { n: 9 }).pipe(Effect.withSpan("request 4"))).alreadyScheduled)
          yield* Effect.scoped(Effect.gen(function*() {
            const worker = yield* Worker.make({ queues: ["traced"], concurrency: 1 })
            const sub = yield* PubSub.subscribe(worker.events)
            yield* JobScheduler.make({ pollInterval: "50 millis" })
            yield* takeEventsWithin(sub, 1)
          }))
          assert.isFalse((yield* actions.enqueueAt(past * 1000, echo, { n: 9 }).pipe(Effect.withSpan("request 5"))).alreadyScheduled)
        }).pipe(Effect.provide(tracedApp(backend, receiver.url, undefined, [JobMetrics.hook])))
      }).pipe(Effect.scoped))
  })

  describe(`tracing across the queue (${backend.name})`, () => {
    it.live("enqueue → job in one trace; fan-out children linked; onComplete continues; a retry stays in its trace; foreign jobs start their own", () =>
      Effect.gen(function*() {
        yield* Ref.set(tries, 0)
        const receiver = yield* otlpReceiver
        yield* Effect.gen(function*() {
          const actions = yield* Actions
          yield* actions.enqueue(echo, { n: 0 }).pipe(Effect.withSpan("POST /signup", { kind: "server" }))
          yield* actions.enqueue(parent, {})
          yield* actions.enqueue(flaky, {})
          yield* pushPayloads("traced", [JSON.stringify({ class: "echo", queue: "traced", args: [{ n: 99 }] })])
          // echo, parent, 3 children, summary, flaky twice, the foreign echo
          yield* drain(2, 9)
        }).pipe(Effect.provide(tracedApp(backend, receiver.url)))
        const spans = receiver.spans

        // an HTTP-like span enqueues: its producer span is its child, the job's consumer span the producer's
        const http = only(spans.filter((span) => span.name === "POST /signup"), "request span")
        const sendEcho = only(spans.filter((span) => span.kind === "producer" && span.parentSpanId === http.spanId), "send span of the request")
        assert.strictEqual(sendEcho.name, "send traced")
        assert.strictEqual(sendEcho.traceId, http.traceId)
        assert.deepStrictEqual(
          [sendEcho.attributes["messaging.system"], sendEcho.attributes["messaging.operation.name"], sendEcho.attributes["messaging.destination.name"], sendEcho.attributes["resque.action"]],
          ["resque", "send", "traced", "echo"]
        )
        const echoRuns = consumers(spans, "echo")
        assert.strictEqual(echoRuns.length, 5) // the request's, 3 children, the foreign one
        const echoRun = only(echoRuns.filter((span) => span.parentSpanId === sendEcho.spanId), "run of the request's job")
        assert.strictEqual(echoRun.name, "process traced")
        assert.strictEqual(echoRun.traceId, http.traceId)
        assert.strictEqual(echoRun.attributes["messaging.operation.name"], "process")
        assert.strictEqual(echoRun.attributes["messaging.destination.name"], "traced")
        assert.strictEqual(echoRun.attributes["resque.attempt"], 1)
        assert.match(String(echoRun.attributes["messaging.message.id"]), /#\d+$/)

        // a parent fans out: its send span is a child of its run; each child is a trace of its own, linked to it
        const parentRun = only(consumers(spans, "parent"), "parent run")
        const sendFanOut = only(spans.filter((span) => span.kind === "producer" && span.parentSpanId === parentRun.spanId), "fan-out send span")
        assert.strictEqual(sendFanOut.traceId, parentRun.traceId)
        assert.strictEqual(sendFanOut.attributes["messaging.batch.message_count"], 3)
        const fanOutId = sendFanOut.attributes["resque.fan_out.id"]
        assert.isString(fanOutId)
        const children = echoRuns.filter((span) => span.attributes["resque.fan_out.id"] === fanOutId)
        assert.deepStrictEqual(children.map((span) => span.attributes["resque.fan_out.index"]).sort(), [0, 1, 2])
        for (const child of children) {
          assert.isUndefined(child.parentSpanId)
          assert.notStrictEqual(child.traceId, parentRun.traceId)
          assert.deepStrictEqual(child.links, [{ traceId: sendFanOut.traceId, spanId: sendFanOut.spanId }])
          assert.strictEqual(child.attributes["messaging.message.id"], `${fanOutId}:${child.attributes["resque.fan_out.index"]}`)
        }
        assert.strictEqual(new Set(children.map((span) => span.traceId)).size, 3)
        // the onComplete job continues the fan-out's trace
        const summaryRun = only(consumers(spans, "summary"), "onComplete run")
        assert.strictEqual(summaryRun.parentSpanId, sendFanOut.spanId)
        assert.strictEqual(summaryRun.traceId, parentRun.traceId)

        // a retry: attempt 2 in the same trace, under the same send span
        const flakyRuns = consumers(spans, "flaky")
        assert.deepStrictEqual(flakyRuns.map((span) => span.attributes["resque.attempt"]).sort(), [1, 2])
        const sendFlaky = only(spans.filter((span) => span.kind === "producer" && span.attributes["resque.action"] === "flaky"), "flaky send span")
        for (const run of flakyRuns) {
          assert.strictEqual(run.traceId, sendFlaky.traceId)
          assert.strictEqual(run.parentSpanId, sendFlaky.spanId)
        }
        assert.deepStrictEqual(flakyRuns.map((span) => span.status).sort(), [1, 2]) // Ok, Error

        // a job without trace context (another Resque client wrote it) starts a trace of its own
        const foreign = only(echoRuns.filter((span) => span.parentSpanId === undefined && span.links.length === 0), "foreign run")
        assert.notInclude(spans.filter((span) => span !== foreign).map((span) => span.traceId), foreign.traceId)
      }).pipe(Effect.scoped))

    it.live("each run of a recurring action is a trace of its own, linked to the run before", () =>
      Effect.gen(function*() {
        const receiver = yield* otlpReceiver
        yield* Effect.gen(function*() {
          yield* Effect.scoped(Effect.gen(function*() {
            const worker = yield* Worker.make({ queues: ["ticked"], concurrency: 1 })
            const sub = yield* PubSub.subscribe(worker.events)
            yield* JobScheduler.make({ pollInterval: "50 millis" })
            yield* takeEventsWithin(sub, 2, "15 seconds")
          }))
        }).pipe(Effect.provide(tracedApp(backend, receiver.url)))
        const runs = consumers(receiver.spans, "tick")
        assert.isAtLeast(runs.length, 2)
        const [first, second] = runs
        assert.strictEqual(first?.attributes["resque.recurring"], true)
        assert.deepStrictEqual(first?.links, [])
        assert.isUndefined(second?.parentSpanId)
        assert.notStrictEqual(second?.traceId, first?.traceId)
        assert.deepStrictEqual(second?.links, [{ traceId: first!.traceId, spanId: first!.spanId }])
      }).pipe(Effect.scoped))
  })
}
