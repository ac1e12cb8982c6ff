/**
 * The BullMQ side of the benchmark: `Queue.add` / `addBulk`, `FlowProducer` for fan-out, `Worker` with
 * concurrency 50. Its `prefix` is the run's prefix. Completed jobs are removed (`removeOnComplete: true`), the
 * cheapest BullMQ setting and the closest to what Resque keeps (nothing per finished job).
 *
 * BullMQ 6 (pinned 6.7.0): the API used here is unchanged from 5 (`prefix` now belongs to its Redis-only
 * `KeyPrefixOptions`, still accepted by every class; worker defaults as before: `drainDelay` 5 s, stalled
 * check every 30 s). ioredis became an optional peer dependency that BullMQ loads with `require` when given
 * connection options: Node resolves `bullmq` to its CommonJS build (the package has no `exports` map), where
 * `require` exists, and finds the project's ioredis, so every BullMQ object still opens its own ioredis
 * connections (counted by the round-trip and idle cases like any other socket to the Redis port).
 */
import { performance } from "node:perf_hooks"
import { type FlowJob, FlowProducer, Job, type JobsOptions, Queue, Worker } from "bullmq"
import type { Redis as IORedis } from "ioredis"
import { type Checks, chunks, type E2eMeasured, redisUsedMemory, startWindow, waitUntil } from "../lib/child.ts"
import * as Latency from "../lib/latency.ts"
import { type Counter, perJob } from "../lib/monitor.ts"
import type { CaseInput } from "../lib/protocol.ts"

export const QUEUE = "bench"
export const PARENT_QUEUE = "bench-parent"

/** BullMQ connection options for the run's Redis (each BullMQ object opens its own connections). */
export const connection = (input: CaseInput) => {
  const url = new URL(input.redisUrl)
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {})
  }
}

const jobOptions = { removeOnComplete: true, removeOnFail: false } as const

/**
 * Tracing as a BullMQ application turns it on (`tracing` 1 in the entry's params): `bullmq-otel` on the
 * OpenTelemetry SDK, every span sampled, batched (up to 1 000 a request, as Effect's OTLP tracer sends) and
 * exported as OTLP JSON over HTTP to the same in-process sink as ours (`lib/otlpSink.ts`). The queue and the
 * worker get the telemetry; the modules are loaded only by the traced variant.
 */
export interface Tracing {
  readonly telemetry: unknown
  /** Flushes the exporter, closes the sink; answers the spans the sink received. */
  readonly shutdown: () => Promise<number>
}

let tracing: Tracing | undefined

/** Starts tracing for a traced entry (once per process); the queue and worker built after it use it. */
export const startTracing = async (): Promise<Tracing> => {
  const [{ startOtlpSink }, otel, sdk, { OTLPTraceExporter }, { BullMQOtel }] = await Promise.all([
    import("../lib/otlpSink.ts"),
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("bullmq-otel")
  ])
  const sink = await startOtlpSink()
  const exporter = new OTLPTraceExporter({ url: `${sink.url}/v1/traces` })
  // a queue long enough that no span is dropped at full speed (the default 2 048 drops most of them)
  const processor = new sdk.BatchSpanProcessor({ exporter, maxExportBatchSize: 1000, maxQueueSize: 1_000_000, scheduledDelayMillis: 5000 })
  const provider = new sdk.TracerProvider({ spanProcessors: [processor] })
  otel.trace.setGlobalTracerProvider(provider)
  tracing = {
    telemetry: new BullMQOtel({ tracerName: "bench" }),
    shutdown: async () => {
      await provider.shutdown()
      const spans = sink.spans()
      sink.close()
      return spans
    }
  }
  return tracing
}

/** The telemetry option of a BullMQ object: the traced variant's, else none. */
const telemetryOption = () => (tracing === undefined ? {} : { telemetry: tracing.telemetry as never })

/** A BullMQ queue under the run's prefix. */
export const queue = async (input: CaseInput, name = QUEUE): Promise<Queue> => {
  const q = new Queue(name, { connection: connection(input), prefix: input.prefix, defaultJobOptions: jobOptions, ...telemetryOption() })
  q.on("error", (error) => process.stderr.write(`bullmq queue error: ${String(error)}\n`))
  await q.waitUntilReady()
  return q
}

/** `queue.add` one at a time. */
export const enqueueSingle = async (q: Queue, from: number, to: number): Promise<void> => {
  for (let i = from; i < to; i++) await q.add("noop", { i })
}

/** One `addBulk` of the given indexes (one MULTI of one script call per job). */
export const enqueueBulk = async (q: Queue, indexes: ReadonlyArray<number>): Promise<void> => {
  await q.addBulk(indexes.map((i) => ({ name: "noop", data: { i } })))
}

/** A FlowProducer under the run's prefix. */
export const flowProducer = async (input: CaseInput): Promise<FlowProducer> => {
  const flow = new FlowProducer({ connection: connection(input), prefix: input.prefix })
  flow.on("error", (error) => process.stderr.write(`bullmq flow error: ${String(error)}\n`))
  await flow.waitUntilReady()
  return flow
}

/** One parent with `n` children: BullMQ's fan-out (built before the timed window, as a caller holds it). */
export const flowSpec = (n: number, parentOptions: JobsOptions = jobOptions): FlowJob => ({
  name: "parent",
  queueName: PARENT_QUEUE,
  data: {},
  opts: parentOptions,
  children: Array.from({ length: n }, (_, i) => ({ name: "noop", queueName: QUEUE, data: { i }, opts: jobOptions }))
})

export interface Processing {
  readonly worker: Worker
  readonly counts: { succeeded: number; failed: number; firstPickedAt: number | undefined }
}

/** A Worker on the bench queue with the given concurrency (default 50); `onJob` sees every job first. */
export const worker = (input: CaseInput, onPick: () => void, name = QUEUE, onJob: (job: Job) => void = () => {}): Processing => {
  const counts: Processing["counts"] = { succeeded: 0, failed: 0, firstPickedAt: undefined }
  const w = new Worker(
    name,
    async (job: Job) => {
      onJob(job)
      if (counts.firstPickedAt === undefined) {
        counts.firstPickedAt = performance.now()
        onPick()
      }
      return null
    },
    { connection: connection(input), prefix: input.prefix, concurrency: input.params["concurrency"] ?? 50, ...telemetryOption() }
  )
  w.on("completed", () => {
    counts.succeeded++
  })
  w.on("failed", (_job, error) => {
    counts.failed++
    process.stderr.write(`bullmq job failed: ${String(error)}\n`)
  })
  w.on("error", (error) => process.stderr.write(`bullmq worker error: ${String(error)}\n`))
  return { worker: w, counts }
}

/** Case `latency`: an idle Worker (c50), jobs added one at a time with `queue.add` (`lib/latency.ts`). */
export const latencyTimed = async (input: CaseInput, harness: IORedis, checks: Checks): Promise<Latency.LatencyMeasured> => {
  const session = Latency.session(input, harness, checks)
  const total = Latency.warmupOf(input) + input.n
  const q = await queue(input)
  const { worker: w, counts } = worker(input, () => {}, QUEUE, (job) => session.started(job.data as Latency.Stamp))
  await w.waitUntilReady()
  const measured = await session.drive((stamp) => q.add("stamp", stamp))
  await waitUntil("all jobs done", () => counts.succeeded + counts.failed >= total, 60_000, 2)
  await w.close()
  checks.equal("succeeded", counts.succeeded, total)
  checks.equal("failed", counts.failed, 0)
  const left = await q.getJobCounts("waiting", "active", "failed", "delayed", "completed")
  checks.equal("jobs left", (left["waiting"] ?? 0) + (left["active"] ?? 0) + (left["delayed"] ?? 0), 0)
  checks.equal("failed set", left["failed"] ?? 0, 0)
  checks.equal("completed kept (removeOnComplete)", left["completed"] ?? 0, 0)
  await q.close()
  return measured
}

/** Case `idle`: one Worker with `concurrency` (50) on the empty bench queue. */
export const idleStart = async (input: CaseInput) => {
  const processing = worker(input, () => {})
  await processing.worker.waitUntilReady()
  return {
    ran: () => processing.counts.succeeded + processing.counts.failed,
    stop: () => processing.worker.close()
  }
}

/** Case 5: a flow of 1 parent and N children end to end, then `getChildrenValues` and Redis memory per child. */
export const e2eTimed = async (input: CaseInput, harness: IORedis, checks: Checks): Promise<E2eMeasured> => {
  const flow = await flowProducer(input)
  const parents = await queue(input, PARENT_QUEUE)
  const spec = flowSpec(input.n, { removeOnComplete: false, removeOnFail: false })
  const children = worker(input, () => {})
  const parent = worker({ ...input, params: { concurrency: 1 } }, () => {}, PARENT_QUEUE)
  await Promise.all([children.worker.waitUntilReady(), parent.worker.waitUntilReady()])
  const memoryBefore = await redisUsedMemory(harness)
  const window = startWindow(harness)
  const node = await flow.add(spec)
  await waitUntil("parent completed", () => parent.counts.succeeded + parent.counts.failed >= 1, 600_000, 2)
  const measured = await window.end()
  checks.equal("children completed", children.counts.succeeded, input.n)
  checks.equal("children failed", children.counts.failed, 0)
  checks.equal("parent completed", parent.counts.succeeded, 1)
  const job = await Job.fromId(parents, node.job.id ?? "")
  if (job === undefined) throw new Error("parent job not found")
  const started = performance.now()
  const values = await job.getChildrenValues()
  const statusMs = performance.now() - started
  checks.equal("results", Object.keys(values).length, input.n)
  const memoryAfter = await redisUsedMemory(harness)
  await Promise.all([children.worker.close(), parent.worker.close(), flow.close(), parents.close()])
  return { ...measured, statusMs, redisBytes: memoryAfter - memoryBefore }
}

/** Case 6: counts per phase (see bench/cases/roundtrips.ts). */
export const roundTrips = async (input: CaseInput, counter: Counter, checks: Checks): Promise<Record<string, number>> => {
  const n = input.n
  const q = await queue(input)
  await counter.phase()
  await enqueueSingle(q, 0, n)
  const single = perJob("enqueue-single", await counter.phase(), n)
  const processing = worker(input, () => {})
  await waitUntil("all jobs done", () => processing.counts.succeeded + processing.counts.failed >= n, 120_000, 2)
  await processing.worker.close()
  const process = perJob("process", await counter.phase(), n)
  for (const batch of chunks(Array.from({ length: n }, (_, i) => i), 100)) await enqueueBulk(q, batch)
  const bulk = perJob("enqueue-bulk", await counter.phase(), n)
  const flow = await flowProducer(input)
  await flow.add(flowSpec(n))
  const flowCount = perJob("fanout", await counter.phase(), n)
  checks.equal("succeeded", processing.counts.succeeded, n)
  checks.equal("jobs waiting", await q.getWaitingCount(), 2 * n)
  await Promise.all([q.close(), flow.close()])
  return { ...single, ...process, ...bulk, ...flowCount }
}
