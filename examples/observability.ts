/**
 * Traces, metrics and hooks, runnable: `npx tsx examples/observability.ts` (in-memory Redis, no server).
 *
 * - With `OTEL_EXPORTER_OTLP_ENDPOINT` set (e.g. `http://127.0.0.1:4318`, a local OpenTelemetry Collector or
 *   Jaeger), spans and metrics go there with Effect's OTLP exporters (`Otlp.layerJson`, over Node's `http`
 *   client: cheaper per span than the fetch client, see docs/observability.md). `TRACE_SAMPLE_RATIO` (e.g.
 *   `0.1`) records that share of the traces that start here (`JobHooks.layerTracing`).
 * - Without it, every span is printed to the console as it ends (trace, span, parent or link, attributes).
 *
 * Either way it ends by printing the job metrics in Prometheus's text format (what `jobs worker
 * --metrics-port` serves). `REDIS_URL` runs it on a real Redis (namespace `effect-resque-observability`).
 */
import { Effect, Layer, Option, Schema, Tracer } from "effect"
import { Otlp, PrometheusMetrics } from "effect/observability"
import { Action, Actions, Errors, JobHooks, JobMetrics, JobScheduler, Redis, RedisMemory, Resque, Worker } from "../src/index.ts"

const resize = Action.make({
  name: "resize",
  description: "Resizes one image",
  inputs: Schema.Struct({ url: Schema.String }),
  run: ({ url }) => Effect.log(`resized ${url}`).pipe(Effect.as(url.length)),
  task: { queue: "images" }
})

const album = Action.make({
  name: "album",
  description: "Fans out one resize per image",
  inputs: Schema.Struct({ urls: Schema.Array(Schema.String) }),
  run: ({ urls }) =>
    Effect.flatMap(Actions.Actions, (actions) => actions.fanOut(resize, urls.map((url) => ({ url })))).pipe(
      Effect.map((fanOut) => fanOut.fanOutId)
    ),
  task: { queue: "images" }
})

/** An application hook: every job carries its tenant; jobs for the "blocked" tenant are refused. */
const tenants: JobHooks.Hook = {
  name: "tenants",
  onEnqueue: (job) =>
    JSON.stringify(job.inputs).includes("blocked")
      ? Effect.fail(new Errors.EnqueueRefused({ action: job.action, hook: "tenants", reason: "tenant blocked" }))
      : Effect.succeed({ tenant: "acme" }),
  aroundJob: (job, run) => Effect.annotateLogs(run, "tenant", job.job.meta.headers?.["tenant"] ?? "none")
}

/** Prints each span when it ends: what a collector would receive. */
const consoleTracer = Tracer.make({
  span: (options) => {
    const span = new Tracer.NativeSpan(options)
    const end = span.end.bind(span)
    span.end = (endTime, exit) => {
      end(endTime, exit)
      const parent = Option.match(span.parent, { onNone: () => "", onSome: (p) => ` parent=${p.spanId}` })
      const links = span.links.map((link) => ` link=${link.span.traceId.slice(0, 8)}/${link.span.spanId}`).join("")
      const attributes = [...span.attributes].filter(([key]) => !key.startsWith("messaging.system")).map(([k, v]) => `${k}=${v}`).join(" ")
      console.log(`span ${span.kind.padEnd(8)} ${span.name.padEnd(16)} trace=${span.traceId.slice(0, 8)} span=${span.spanId}${parent}${links} ${exit._tag} ${attributes}`)
    }
    return span
  }
})

const endpoint = process.env["OTEL_EXPORTER_OTLP_ENDPOINT"]
const Telemetry = endpoint === undefined
  ? Layer.succeed(Tracer.Tracer, consoleTracer)
  // Node's http client, loaded only when there is a collector to send to
  : Layer.unwrap(Effect.map(Effect.promise(() => import("@effect/platform-node/NodeHttpClient")), (NodeHttpClient) =>
    Otlp.layerJson({ baseUrl: endpoint, resource: { serviceName: "effect-resque-example" } }).pipe(Layer.provide(NodeHttpClient.layerNodeHttp))))

// every trace that starts here unless TRACE_SAMPLE_RATIO says less; the jobs of a trace follow its decision
const Sampling = JobHooks.layerTracing({ rootSampleRatio: Number(process.env["TRACE_SAMPLE_RATIO"] ?? 1) })

const redisUrl = process.env["REDIS_URL"]
const RedisLayer = redisUrl === undefined ? RedisMemory.layer() : Redis.layer({ url: redisUrl, namespace: "effect-resque-observability" })

// hooks and telemetry below Resque.layer and the worker: both read them when they are built. The metrics
// hook comes after the hook that may refuse a job, so it counts only the jobs that are written.
const App = Layer.mergeAll(Worker.layer({ queues: ["images"] }), JobMetrics.layerGauges({ interval: "1 second" })).pipe(
  Layer.provideMerge(JobScheduler.layer()),
  Layer.provideMerge(Resque.layer({ actions: [resize, album] })),
  Layer.provideMerge(JobHooks.layer([tenants, JobMetrics.hook])),
  Layer.provideMerge(Sampling),
  Layer.provideMerge(RedisLayer),
  Layer.provideMerge(Telemetry)
)

const program = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  // an incoming request that enqueues: the job's span continues its trace
  yield* actions.enqueue(resize, { url: "cover.png" }).pipe(Effect.withSpan("POST /covers", { kind: "server" }))
  // a parent job that fans out: each child is a trace of its own, linked to the fan-out's send span
  yield* actions.enqueue(album, { urls: ["a.png", "b.png", "c.png"] })
  const refused = yield* Effect.flip(actions.enqueue(resize, { url: "blocked.png" }))
  console.log(`refused: ${refused.message}`)
  // wait for the work to be done, then for a gauge sample
  yield* Effect.sleep("1500 millis")
  console.log("\nmetrics (Prometheus text):")
  console.log((yield* PrometheusMetrics.format()).split("\n").filter((line) => line.startsWith("resque_") && !line.includes("_bucket{")).join("\n"))
  if (redisUrl !== undefined) yield* Effect.flatMap(Redis.Redis, (redis) => Effect.ignore(redis.send("eval", "for _, k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) end", 0, `${redis.keys.namespace}:*`)))
})

program.pipe(Effect.provide(App), Effect.runPromise).then(() => process.exit(0))
