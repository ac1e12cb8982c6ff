/**
 * Probe (not part of `npm run bench`): what the pieces of a job's observability cost on their own, in one
 * process with nothing else running, as the floor under what the processing case measures:
 *
 * - a job's span the way the tracing hook makes it (`Effect.useSpan`, the span as the run's parent), with a
 *   tracer whose span does nothing, then with Effect's `NativeSpan` and the job's ten attributes;
 * - the OTLP/JSON export of one span as Effect's `OtlpTracer` does it: its OTLP object (about 1.1 kB of JSON
 *   with a job's attributes and a link), `JSON.stringify` of a batch of 1 000, the UTF-8 bytes of the body;
 * - the metrics hook's updates (a counter and a histogram): one action, several actions in turn through one
 *   metric, and through a metric per action (what `JobMetrics` does).
 *
 *   node bench/probes/observabilityFloor.ts [--n 200000]
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Tracer from "effect/Tracer"

const at = process.argv.indexOf("--n")
const n = at >= 0 ? Number(process.argv[at + 1]) : 200_000

/** Median of three timed runs of `body`, in µs per iteration. */
const timed = async (iterations: number, body: () => unknown | Promise<unknown>): Promise<number> => {
  const runs: Array<number> = []
  for (let round = 0; round < 3; round++) {
    const started = process.hrtime.bigint()
    await body()
    runs.push(Number(process.hrtime.bigint() - started) / 1000 / iterations)
  }
  return runs.sort((a, b) => a - b)[1] ?? Number.NaN
}

const print = (label: string, microseconds: number) => process.stdout.write(`${microseconds.toFixed(2).padStart(7)} µs  ${label}\n`)

// --- a job's span ---------------------------------------------------------------------------------------

/** A span that records nothing: what Effect's span machinery costs without a tracer's own work. */
class NothingSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly traceId = "0af7651916cd43dd8448eb211c80319c"
  readonly spanId = "b7ad6b7169203331"
  readonly sampled = true
  readonly attributes = new Map<string, unknown>()
  readonly events: Array<[name: string, startTime: bigint, attributes: Record<string, unknown>]> = []
  readonly name: string
  readonly parent: Tracer.Span["parent"]
  readonly annotations: Tracer.Span["annotations"]
  readonly links: Tracer.Span["links"]
  readonly kind: Tracer.SpanKind
  status: Tracer.SpanStatus
  constructor(options: Parameters<Tracer.Tracer["span"]>[0]) {
    this.name = options.name
    this.parent = options.parent
    this.annotations = options.annotations
    this.links = options.links
    this.kind = options.kind
    this.status = { _tag: "Started", startTime: options.startTime }
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
  }
  attribute(): void {}
  event(): void {}
  addLinks(): void {}
}

const job = Effect.sync(() => 1)

const setJobAttributes = (span: Tracer.Span, i: number) => {
  span.attribute("messaging.system", "resque")
  span.attribute("messaging.operation.name", "process")
  span.attribute("messaging.operation.type", "process")
  span.attribute("messaging.destination.name", "bench")
  span.attribute("messaging.message.id", `167654cb-993f-4045-8c5f-096819e5846c:${i}`)
  span.attribute("messaging.client.id", "host~effect:11371.2")
  span.attribute("resque.action", "noop")
  span.attribute("resque.attempt", 1)
  span.attribute("resque.fan_out.id", "167654cb-993f-4045-8c5f-096819e5846c")
  span.attribute("resque.fan_out.index", i)
}

const jobs = (withAttributes: boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) {
      yield* Effect.useSpan("process bench", { kind: "consumer", root: true }, (span) => {
        if (withAttributes) setJobAttributes(span, i)
        return Effect.provideService(job, Tracer.ParentSpan, span)
      })
    }
  })

const plainJobs = Effect.gen(function*() {
  for (let i = 0; i < n; i++) yield* job
})

const withTracer = (tracer: Tracer.Tracer) => <A>(effect: Effect.Effect<A>) => effect.pipe(Effect.provide(Layer.succeed(Tracer.Tracer, tracer)))
const nothing = withTracer(Tracer.make({ span: (options) => new NothingSpan(options) }))
const native = withTracer(Tracer.make({ span: (options) => new Tracer.NativeSpan(options) }))

const plain = await timed(n, () => Effect.runPromise(plainJobs))
print("a job's effect without a span", plain)
print("+ its span, a tracer that records nothing (useSpan, the span as parent)", (await timed(n, () => Effect.runPromise(nothing(jobs(false))))) - plain)
print("+ its span, Effect's NativeSpan and the job's ten attributes", (await timed(n, () => Effect.runPromise(native(jobs(true))))) - plain)

// --- the OTLP/JSON export of a span ---------------------------------------------------------------------

const otlpSpan = (i: number) => ({
  traceId: "0af7651916cd43dd8448eb211c80319c",
  spanId: "b7ad6b7169203331",
  parentSpanId: undefined,
  name: "process bench",
  kind: 5,
  startTimeUnixNano: String(1_764_600_000_000_000_000n + BigInt(i)),
  endTimeUnixNano: String(1_764_600_000_000_050_000n + BigInt(i)),
  attributes: ([
    ["messaging.system", "resque"],
    ["messaging.operation.name", "process"],
    ["messaging.operation.type", "process"],
    ["messaging.destination.name", "bench"],
    ["messaging.message.id", `167654cb-993f-4045-8c5f-096819e5846c:${i}`],
    ["messaging.client.id", "host~effect:11371.2"],
    ["resque.action", "noop"],
    ["resque.attempt", 1],
    ["resque.fan_out.id", "167654cb-993f-4045-8c5f-096819e5846c"],
    ["resque.fan_out.index", i]
  ] as const).map(([key, value]) => ({ key, value: typeof value === "string" ? { stringValue: value } : { intValue: value } })),
  droppedAttributesCount: 0,
  events: [],
  droppedEventsCount: 0,
  status: { code: 1 },
  links: [{ traceId: "75e01c34a7d0186e75e01c34a7d0186e", spanId: "2953f2cff984d601", attributes: [], droppedAttributesCount: 0 }],
  droppedLinksCount: 0
})

const batch = 1_000
const batches = Math.max(1, Math.floor(n / batch / 4))
let built: Array<ReturnType<typeof otlpSpan>> = []
let body = ""
print("OTLP span object, built", await timed(batches * batch, () => {
  for (let b = 0; b < batches; b++) built = Array.from({ length: batch }, (_, i) => otlpSpan(i))
}))
print("JSON.stringify of it, in batches of 1 000", await timed(batches * batch, () => {
  for (let b = 0; b < batches; b++) body = JSON.stringify({ resourceSpans: [{ resource: {}, scopeSpans: [{ scope: {}, spans: built }] }] })
}))
print("its UTF-8 bytes", await timed(batches * batch, () => {
  for (let b = 0; b < batches; b++) Buffer.from(body)
}))
process.stdout.write(`         (${Math.round(body.length / batch)} bytes of JSON a span)\n`)

// --- metric updates -------------------------------------------------------------------------------------

const boundaries = Metric.exponentialBoundaries({ start: 1, factor: 2, count: 19 })
const registry = Context.make(Metric.MetricRegistry, new Map())
const actions = ["a", "b", "c", "d"]
const counter = Metric.counter("probe.processed", { incremental: true })
const histogram = Metric.histogram("probe.duration", { boundaries })
const contexts = actions.map((action) => Context.add(registry, Metric.CurrentMetricAttributes, { action, queue: "q" }))
const updates = (count: number) => () => {
  for (let i = 0; i < n; i++) {
    const context = contexts[i % count]!
    counter.updateUnsafe(1, context)
    histogram.updateUnsafe(3, context)
  }
}
const perAction = actions.map((action) => ({
  counter: Metric.counter("probe.processed", { incremental: true, attributes: { action, queue: "q" } }),
  histogram: Metric.histogram("probe.duration", { boundaries, attributes: { action, queue: "q" } })
}))
const plainContext = Context.add(registry, Metric.CurrentMetricAttributes, {})
print("a counter and a histogram update, one action", await timed(n, updates(1)))
print("the same, four actions in turn through one metric", await timed(n, updates(4)))
print("the same, four actions in turn, a metric per action", await timed(n, () => {
  for (let i = 0; i < n; i++) {
    const metrics = perAction[i % 4]!
    metrics.counter.updateUnsafe(1, plainContext)
    metrics.histogram.updateUnsafe(3, plainContext)
  }
}))
