/**
 * The benchmark plan: which case processes run, with which systems, variants and sizes.
 */
import type { System } from "./protocol.ts"

export interface Settings {
  /** Jobs per enqueue / processing case (default 20 000). */
  readonly n: number
  /** Children per fan-out case (default 10 000). */
  readonly children: number
  /** Jobs per round-trip counting phase (default 1 000). */
  readonly roundTripN: number
  /** Rounds (default 3). */
  readonly rounds: number
  /** Worker slots for our processing variants (default 10, 25, 50). */
  readonly ourConcurrency: ReadonlyArray<number>
  /** node-resque MultiWorker task processors: min and max (default 10 and 50). */
  readonly resqueWorkers: readonly [number, number]
  /** Jobs per pick-up latency run (default 1 000). */
  readonly latencyN: number
  /** Length of the idle-cost window, in seconds (default 10). */
  readonly idleSeconds: number
}

export interface Entry {
  readonly case: string
  readonly file: string
  readonly system: System
  readonly variant: string
  readonly n: number
  readonly params: Readonly<Record<string, number>>
  /** Measured once (round 1 only): counting cases, not timings. */
  readonly once: boolean
}

/** Case ids, in table order, with a title for the report. */
export const cases = {
  "enqueue-single": "1. Enqueue one at a time (await each)",
  "enqueue-bulk": "2. Bulk enqueue (batches of 100, 4 in flight)",
  "fanout-enqueue": "3. Fan-out enqueue (1 parent, N children)",
  "process": "4. Processing a pre-filled queue (first pick-up to N-th completion)",
  "fanout-e2e": "5. Fan-out end to end (enqueue, process, status reports all done)",
  "roundtrips": "6. Redis round trips per job",
  "latency": "7. Pick-up latency of an idle worker (enqueue call to run start)",
  "idle": "8. Idle cost of a worker process (50 slots, empty queue)",
  "memory": "9. In-memory throughput (RedisMemory.layer, no server)"
} as const

export type CaseId = keyof typeof cases

export const caseIds = Object.keys(cases) as ReadonlyArray<CaseId>

export const isCaseId = (s: string): s is CaseId => s in cases

/**
 * BullMQ's processing with tracing on, for comparison with ours: `bullmq-otel` on the OpenTelemetry SDK,
 * every trace sampled and exported to the same sink (`bench/peers/bullmq.ts`, `startTracing`).
 */
export const bullmqTracedVariant = "bullmq-otel, every trace exported"

/** The variant label of the processing run with tracing (every trace sampled, exported) and metrics on. */
export const observedVariant = "tracing and metrics on"

/**
 * The processing case with observability on, each against the same case off (the last concurrency): label
 * suffix and params. `metrics` 1: the metrics hook. `tracing` 1: Effect's OTLP tracer exporting JSON to a
 * local sink, 2: a tracer that records spans and exports nothing (Effect's `NativeSpan`), 3: the OTLP tracer
 * exporting protobuf. `httpClient`, the exporter's: Effect's fetch client unless 1 (Node's `http`,
 * `NodeHttpClient.layerNodeHttp`, what `docs/observability.md` recommends and these variants use) or 2
 * (undici). `batch`: the exporter's `maxBatchSize`. `samplePct`: the tracing hook's root sample ratio, in
 * percent. `foreign` 1: the jobs are written without trace context (as by another producer), so each job's
 * trace starts at its run and the ratio decides per job (a fan-out's children otherwise follow the decision
 * made once for the fan-out's send).
 */
export const observabilityVariants: ReadonlyArray<{ readonly label: string; readonly params: Readonly<Record<string, number>> }> = [
  { label: "metrics on", params: { metrics: 1 } },
  { label: "spans recorded, not exported, and metrics on", params: { metrics: 1, tracing: 2 } },
  { label: observedVariant, params: { metrics: 1, tracing: 1, httpClient: 1 } },
  { label: "tracing sampled 10% and metrics on", params: { metrics: 1, tracing: 1, httpClient: 1, samplePct: 10, foreign: 1 } },
  { label: "tracing sampled 1% and metrics on", params: { metrics: 1, tracing: 1, httpClient: 1, samplePct: 1, foreign: 1 } },
  { label: "tracing sampled out and metrics on", params: { metrics: 1, tracing: 1, httpClient: 1, samplePct: 0 } }
]

/**
 * The processing variant whose worker process imports the `effect` barrel (every Effect module) before it
 * starts, as an application that writes `import { Effect } from "effect"` does; the other variants import
 * Effect one module at a time (`effect/Effect`), as this library and Effect's own packages do. Only the
 * loaded code differs: its peak RSS is what the barrel costs.
 */
export const barrelVariant = "app imports the effect barrel"

/**
 * The processing variants measured after a warm-up of N jobs (`warmup` N: the queue holds 2N, the window is
 * the second N): a worker that has run a while, its code compiled and its caches and heap grown, as a
 * long-running worker is. The observability variants are measured so, each against the same case off, also
 * warmed up: what a hook costs a job, without the one-time cost of compiling its code, which weighs on the
 * first N jobs (at N = 20 000, the case measured from its first job takes about twice the node CPU a job
 * of the same case warmed up: 23.1 against 11.8 µs in the full run of 17:06 UTC, 2026-12-01).
 */
export const warmedUpVariant = "warmed up"

/**
 * The processing variant of plain jobs of four no-op actions in turn (`actions` 4), off and with the metrics
 * hook: a worker whose jobs are of several actions updates each metric for another action than the job
 * before, which the one-action case never does.
 */
export const mixedActionsVariant = "plain jobs of four actions in turn"

/**
 * Whether a processing variant is measured against another (observability on, the barrel imported, the
 * four actions' pair), so it is not a candidate for "ours at its best".
 */
export const isComparisonVariant = (variant: string): boolean =>
  variant.endsWith(barrelVariant) || variant.includes(mixedActionsVariant) || variant.includes(warmedUpVariant) ||
  observabilityVariants.some(({ label }) => variant.endsWith(label))

/** Every entry of the selected cases. */
export const plan = (settings: Settings, selected: ReadonlyArray<CaseId>): ReadonlyArray<Entry> => {
  const entries: Array<Entry> = []
  const add = (id: CaseId, file: string, system: System, variant: string, n: number, params: Record<string, number> = {}, once = false) => {
    if (selected.includes(id)) entries.push({ case: id, file, system, variant, n, params, once })
  }
  const bulk = { batchSize: 100, inFlight: 4 }
  for (const system of ["ours", "node-resque", "bullmq"] as const) add("enqueue-single", "enqueue.ts", system, "", settings.n)
  add("enqueue-bulk", "enqueue.ts", "ours", "fanOut", settings.n, bulk)
  add("enqueue-bulk", "enqueue.ts", "node-resque", "enqueue ×100 parallel", settings.n, bulk)
  add("enqueue-bulk", "enqueue.ts", "bullmq", "addBulk", settings.n, bulk)
  add("fanout-enqueue", "fanout.ts", "ours", "fanOut", settings.children, bulk)
  add("fanout-enqueue", "fanout.ts", "bullmq", "FlowProducer", settings.children)
  const best = settings.ourConcurrency[settings.ourConcurrency.length - 1] ?? 25
  for (const concurrency of settings.ourConcurrency) {
    add("process", "process.ts", "ours", `c${concurrency}, recording`, settings.n, { concurrency, children: 1 })
  }
  add("process", "process.ts", "ours", `c${best}, recording, ${barrelVariant}`, settings.n, { concurrency: best, children: 1, barrel: 1 })
  // the same as the last, warmed up, off and with observability on
  const warmed = { concurrency: best, children: 1, warmup: settings.n }
  add("process", "process.ts", "ours", `c${best}, recording, ${warmedUpVariant}`, settings.n, warmed)
  for (const { label, params } of observabilityVariants) {
    add("process", "process.ts", "ours", `c${best}, recording, ${warmedUpVariant}, ${label}`, settings.n, { ...warmed, ...params })
  }
  const mixed = { concurrency: best, children: 0, actions: 4, warmup: settings.n }
  add("process", "process.ts", "ours", `c${best}, ${mixedActionsVariant}, ${warmedUpVariant}`, settings.n, mixed)
  add("process", "process.ts", "ours", `c${best}, ${mixedActionsVariant}, ${warmedUpVariant}, metrics on`, settings.n, { ...mixed, metrics: 1 })
  const [minWorkers, maxWorkers] = settings.resqueWorkers
  add("process", "process.ts", "node-resque", `MultiWorker ${minWorkers}–${maxWorkers}`, settings.n, { minWorkers, maxWorkers })
  add("process", "process.ts", "bullmq", "c50", settings.n, { concurrency: 50 })
  add("process", "process.ts", "bullmq", `c50, ${warmedUpVariant}`, settings.n, { concurrency: 50, warmup: settings.n })
  add("process", "process.ts", "bullmq", `c50, ${warmedUpVariant}, ${bullmqTracedVariant}`, settings.n, { concurrency: 50, warmup: settings.n, tracing: 1 })
  add("fanout-e2e", "e2e.ts", "ours", `c${best}`, settings.children, { concurrency: best, ...bulk })
  add("fanout-e2e", "e2e.ts", "bullmq", "FlowProducer, c50", settings.children, { concurrency: 50 })
  for (const system of ["ours", "node-resque", "bullmq"] as const) {
    add("roundtrips", "roundtrips.ts", system, "", settings.roundTripN, { concurrency: system === "ours" ? best : 50, minWorkers, maxWorkers }, true)
  }
  // jobs 5–10 ms apart, after 20 warm-up jobs
  const gaps = { gapMinMs: 5, gapMaxMs: 10, warmup: 20 }
  add("latency", "latency.ts", "ours", "c50", settings.latencyN, { concurrency: 50, ...gaps })
  add("latency", "latency.ts", "node-resque", `MultiWorker ${minWorkers}–${maxWorkers}`, settings.latencyN, { minWorkers, maxWorkers, ...gaps })
  add("latency", "latency.ts", "bullmq", "c50", settings.latencyN, { concurrency: 50, ...gaps })
  const windowMs = settings.idleSeconds * 1000
  const idle = { windowMs, warmupMs: Math.min(2_000, windowMs), baselineMs: Math.min(3_000, windowMs) }
  add("idle", "idle.ts", "ours", "50 slots, no scheduler", 50, { concurrency: 50, ...idle })
  add("idle", "idle.ts", "node-resque", "50 Workers, 50 ms poll", 50, { workers: 50, ...idle })
  add("idle", "idle.ts", "bullmq", "c50", 50, { concurrency: 50, ...idle })
  add("memory", "memory.ts", "ours", `plain, c${best}`, settings.n, { concurrency: best, fanOut: 0 })
  add("memory", "memory.ts", "ours", `fan-out children, c${best}`, settings.children, { concurrency: best, fanOut: 1, ...bulk })
  return entries
}

/** A stable label of an entry, used to group its rounds. */
export const label = (entry: { readonly case: string; readonly system: string; readonly variant: string }): string =>
  `${entry.case}|${entry.system}|${entry.variant}`
