/**
 * Our side of the benchmark: the runtime as a user builds it (Resque layer on the live Redis layer, under
 * the run's prefix as namespace, or on the in-memory `RedisMemory` layer for the `memory` case), a no-op
 * action, `Actions.enqueue`, `fanOut`, `fanOutStatus` and the `Worker` pool with its default middlewares
 * (per-action stats and the fan-out recorder).
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as PubSub from "effect/PubSub"
import * as Schema from "effect/Schema"
import * as Tracer from "effect/Tracer"
import type { Redis as IORedis } from "ioredis"
import * as Action from "../../src/domain/Action.ts"
import type { RedisError } from "../../src/domain/Errors.ts"
import * as Enqueue from "../../src/internal/Enqueue.ts"
import { Actions } from "../../src/layers/Actions.ts"
import * as JobHooks from "../../src/layers/JobHooks.ts"
import * as JobMetrics from "../../src/layers/JobMetrics.ts"
import * as Redis from "../../src/layers/Redis.ts"
import * as RedisMemory from "../../src/layers/RedisMemory.ts"
import * as Resque from "../../src/layers/Resque.ts"
import * as Worker from "../../src/layers/Worker.ts"
import { performance } from "node:perf_hooks"
import { CheckFailed, type Checks, chunks, type E2eMeasured, processWarmupOf, redisUsedMemory, startWindow, type Window, windowOpener } from "../lib/child.ts"
import * as Latency from "../lib/latency.ts"
import { startOtlpSink } from "../lib/otlpSink.ts"
import { type Counter, perJob } from "../lib/monitor.ts"
import type { CaseInput } from "../lib/protocol.ts"

export const QUEUE = "bench"

export const queueKey = (input: CaseInput): string => `${input.prefix}:queue:${QUEUE}`

/** A no-op action (`noop` unless named); `onRun` is called as each of its runs starts (a case opens its window from it). */
export const makeNoop = (onRun: () => void = () => {}, name = "noop") =>
  Action.make({
    name,
    description: "Does nothing (benchmark)",
    inputs: Schema.Struct({ i: Schema.Finite }),
    run: () => Effect.sync(onRun),
    task: { queue: QUEUE }
  })

/** The latency job: notes when it starts (`Latency.Stamp`: its index and the time read before its enqueue). */
export const makeStamp = (onStart: (stamp: Latency.Stamp) => void = () => {}) =>
  Action.make({
    name: "stamp",
    description: "Notes when it starts (benchmark)",
    inputs: Schema.Struct({ i: Schema.Finite, t: Schema.Finite }),
    run: (stamp) => Effect.sync(() => onStart(stamp)),
    task: { queue: QUEUE }
  })

export interface LayerOptions {
  /** The in-memory Redis (`RedisMemory.layer`) instead of the run's server. */
  readonly memory?: boolean
  /** What the `stamp` action calls when it starts. */
  readonly onStamp?: (stamp: Latency.Stamp) => void
}

/** Spans the collector of the last traced run received (read when its layer closed, after the exporter's flush). */
export const exported = { spans: -1 }

/** The traced variants' collector (`bench/lib/otlpSink.ts`), closed with the layer after the exporter's last flush. */
const otlpSink = Effect.acquireRelease(Effect.promise(startOtlpSink), (sink) =>
  Effect.sync(() => {
    exported.spans = sink.spans()
    sink.close()
  }))

/** A tracer that records spans (Effect's `NativeSpan`) and exports nothing: the cost of recording alone. */
const recordingTracer = Tracer.make({ span: (options) => new Tracer.NativeSpan(options) })

/**
 * Observability as an application turns it on, from the entry's params (`bench/lib/plan.ts`,
 * `observabilityVariants`): the metrics hook, a tracer (Effect's OTLP tracer to the sink, JSON or protobuf,
 * or one that only records), the tracing hook's root sample ratio.
 */
const observability = (params: Readonly<Record<string, number>>): Layer.Layer<never> => {
  const tracing = params["tracing"] ?? 0
  const hooks = params["metrics"] === 1 ? JobMetrics.layer : Layer.empty
  const sampling = params["samplePct"] === undefined ? Layer.empty : JobHooks.layerTracing({ rootSampleRatio: params["samplePct"] / 100 })
  const tracer: Layer.Layer<never> = tracing === 0
    ? Layer.empty
    : tracing === 2
    ? Layer.succeed(Tracer.Tracer, recordingTracer)
    : Layer.unwrap(Effect.gen(function*() {
      const sink = yield* otlpSink
      // the exporter's modules are loaded by the variants that export (the plain case's memory stays the
      // worker's own), and Node's clients only when asked for (undici is big)
      const [OtlpTracer, OtlpSerialization] = yield* Effect.promise(() =>
        Promise.all([import("effect/observability/OtlpTracer"), import("effect/observability/OtlpSerialization")])
      )
      const client = params["httpClient"] === undefined
        ? (yield* Effect.promise(() => import("effect/http/FetchHttpClient"))).layer
        : yield* Effect.promise(() => import("@effect/platform-node/NodeHttpClient")).pipe(
          Effect.map((Node) => (params["httpClient"] === 1 ? Node.layerNodeHttp : Node.layerUndici))
        )
      return OtlpTracer.layer({ url: `${sink.url}/v1/traces`, resource: { serviceName: "bench" }, ...(params["batch"] === undefined ? {} : { maxBatchSize: params["batch"] }) }).pipe(
        Layer.provide(tracing === 3 ? OtlpSerialization.layerProtobuf : OtlpSerialization.layerJson),
        Layer.provide(client)
      )
    }))
  return Layer.mergeAll(hooks, sampling).pipe(Layer.provideMerge(tracer))
}

/** Whether an entry runs with observability on. */
const observed = (input: CaseInput): boolean => input.params["metrics"] === 1 || (input.params["tracing"] ?? 0) > 0

/** The Resque queue of the no-op (and stamp) action on the run's Redis, under its prefix. */
export const layer = (input: CaseInput, onRun?: () => void, options: LayerOptions = {}) => {
  const redis: Layer.Layer<Redis.Redis, RedisError> = options.memory
    ? RedisMemory.layer({ namespace: input.prefix })
    : Redis.layer({ url: input.redisUrl, namespace: input.prefix })
  const queue = Resque.layer({ actions: [makeNoop(onRun), makeStamp(options.onStamp), ...moreNoops(input, onRun)] }).pipe(Layer.provideMerge(redis))
  return observed(input) ? queue.pipe(Layer.provideMerge(observability(input.params))) : queue
}

/** The processed-jobs counter of the metrics hook, summed over actions and queues. */
export const processedMetric = Effect.map(Metric.snapshot, (snapshot) =>
  snapshot.filter((entry) => entry.id === JobMetrics.processed.id).reduce((sum, entry) => sum + Number((entry.state as { count: number }).count), 0))

/** Runs a program on the runtime layer, as a promise. */
export const run = <A, E>(
  input: CaseInput,
  program: Effect.Effect<A, E, Resque.Services | Redis.Redis>,
  onRun?: () => void,
  options: LayerOptions = {}
): Promise<A> => Effect.runPromise(program.pipe(Effect.provide(layer(input, onRun, options))))

/** Enqueue one at a time with `Actions.enqueue`, timed. */
export const enqueueSingleTimed = (input: CaseInput, harness: IORedis) =>
  run(input, Effect.gen(function*() {
    const actions = yield* Actions
    const window = startWindow(harness)
    for (let i = 0; i < input.n; i++) yield* actions.enqueue("noop", { i })
    return yield* Effect.promise(() => window.end())
  }))

/**
 * The names of the no-op actions an entry's jobs take in turn: `noop`, and with the `actions` param k > 1
 * also `noop2` … `noopk` (a worker whose jobs are of several actions, one after the other).
 */
const noopNames = (input: CaseInput): ReadonlyArray<string> =>
  Array.from({ length: Math.max(1, input.params["actions"] ?? 1) }, (_, i) => (i === 0 ? "noop" : `noop${i + 1}`))

/** The no-op actions past the first (`noopNames`). */
const moreNoops = (input: CaseInput, onRun?: () => void) => noopNames(input).slice(1).map((name) => makeNoop(onRun, name))

/**
 * Pre-fills the queue with `n` plain jobs (one MULTI per 100: `SADD queues` + `RPUSH`, as any producer), of
 * the `names` actions in turn.
 */
export const prefillPlain = (n: number, names: ReadonlyArray<string> = ["noop"]) =>
  Effect.gen(function*() {
    const actions = yield* Actions
    const redis = yield* Redis.Redis
    for (const batch of chunks(Array.from({ length: n }, (_, i) => i), 100)) {
      const payloads = yield* Effect.forEach(batch, (i) => Effect.map(actions.prepare(names[i % names.length] ?? "noop", { i }), (job) => job.payload))
      yield* redis.multi(Enqueue.push(redis.keys, QUEUE, payloads))
    }
  })

/** Inputs of `n` no-op children. */
export const inputs = (n: number): ReadonlyArray<{ readonly i: number }> => Array.from({ length: n }, (_, i) => ({ i }))

/** Fans out `n` no-op children; checks that every one was enqueued. */
export const fanOut = (n: number, options: { readonly batchSize?: number; readonly inFlight?: number } = {}, items = inputs(n)) =>
  Effect.gen(function*() {
    const actions = yield* Actions
    const result = yield* actions.fanOut("noop", items, { batchSize: options.batchSize ?? 100, concurrency: options.inFlight ?? 4 })
    if (result.total !== n || result.enqueued !== n || result.errors.length > 0) {
      return yield* Effect.die(new CheckFailed(`fanOut: total ${result.total}, enqueued ${result.enqueued}, ${result.errors.length} errors (expected ${n}, ${n}, 0)`))
    }
    return result.fanOutId
  })

/**
 * Starts a worker pool, runs `during` once the pool listens, and waits for `n` completions; returns
 * the counts by outcome and what `during` returned. `onDone` runs before the pool shuts down.
 */
export const work = <A, E, R>(
  n: number,
  concurrency: number,
  during: Effect.Effect<A, E, R>,
  onDone: () => Effect.Effect<void> = () => Effect.void
) =>
  Effect.scoped(Effect.gen(function*() {
    const worker = yield* Worker.make({ queues: [QUEUE], concurrency })
    const events = yield* PubSub.subscribe(worker.events)
    const count = Effect.gen(function*() {
      let succeeded = 0
      let failed = 0
      // bounded: each pass takes at least one event, and the pool emits one per job
      while (succeeded + failed < n) {
        for (const event of yield* PubSub.takeAll(events)) {
          if (event.outcome._tag === "Success") succeeded++
          else failed++
        }
      }
      return { succeeded, failed }
    })
    const [counts, result] = yield* Effect.all([count, during], { concurrency: 2 })
    yield* onDone()
    return { ...counts, result }
  }))

/**
 * Processes `n` pre-filled jobs with the Worker (`concurrency` slots), timed from the first job started to
 * the n-th completion written (the worker publishes its event after the completion script). With
 * `children` (default) the jobs are fan-out children, so every completion also records the child's outcome.
 */
export const processTimed = async (input: CaseInput, harness: IORedis, checks: Checks) => {
  let window: Window | undefined
  let measured: Awaited<ReturnType<Window["end"]>> | undefined
  const onRun = windowOpener(processWarmupOf(input), () => {
    window = startWindow(harness)
  })
  const total = input.n + processWarmupOf(input)
  const concurrency = input.params["concurrency"] ?? 25
  const children = (input.params["children"] ?? 1) === 1
  // `foreign`: the jobs are written without trace context (tracing turned off for the fan-out, as another
  // producer writes them), so each one's trace starts at its run and the root sample ratio decides per job
  const foreign = input.params["foreign"] === 1
  // the barrel variant: every Effect module loaded, as by an application importing from "effect"
  if (input.params["barrel"] === 1) await import("effect")
  const fanOutIds: Array<string> = []
  const counted = await run(input, Effect.gen(function*() {
    if (children) fanOutIds.push(yield* (foreign ? Effect.withTracerEnabled(fanOut(total), false) : fanOut(total)))
    if (!children) yield* prefillPlain(total, noopNames(input))
    const counts = yield* work(total, concurrency, Effect.void, () =>
      Effect.promise(async () => {
        measured = await (window as Window).end()
      }))
    return { ...counts, metered: yield* processedMetric }
  }), onRun)
  if (input.params["metrics"] === 1) checks.equal("resque.jobs.processed (metrics hook)", counted.metered, total)
  // every trace sampled: each job's span reached the collector (and the fan-out's send span)
  if (input.params["tracing"] === 1 && input.params["samplePct"] === undefined) checks.atLeast("spans the collector received", exported.spans, total)
  checks.equal("succeeded", counted.succeeded, total)
  checks.equal("failed", counted.failed, 0)
  checks.equal("jobs left", await harness.llen(queueKey(input)), 0)
  checks.equal("stat:processed", Number(await harness.get(`${input.prefix}:stat:processed`)), total)
  checks.equal("failed list", await harness.llen(`${input.prefix}:failed`), 0)
  if (fanOutIds.length > 0) {
    let [completed, failed] = [0, 0]
    for (const id of fanOutIds) {
      const [done, bad] = await harness.hmget(`${input.prefix}:fanout:${id}`, "completed", "failed")
      completed += Number(done)
      failed += Number(bad)
    }
    checks.equal("fan-out completed", completed, total)
    checks.equal("fan-out failed", failed, 0)
  }
  return measured as Awaited<ReturnType<Window["end"]>>
}

/** Fan-out enqueue of `n` children, timed (inputs built before the window, as a caller holds them). */
export const fanOutTimed = (input: CaseInput, harness: IORedis, options: { readonly batchSize: number; readonly inFlight: number }) =>
  run(input, Effect.gen(function*() {
    const items = inputs(input.n)
    const window = startWindow(harness)
    yield* fanOut(input.n, options, items)
    return yield* Effect.promise(() => window.end())
  }))

/** Case 5: fan-out end to end with a running pool, then one status read and Redis memory per child. */
export const e2eTimed = (input: CaseInput, harness: IORedis, checks: Checks): Promise<E2eMeasured> =>
  run(input, Effect.gen(function*() {
    const actions = yield* Actions
    const items = inputs(input.n)
    const memoryBefore = yield* Effect.promise(() => redisUsedMemory(harness))
    let fanOutId = ""
    const concurrency = input.params["concurrency"] ?? 25
    // the pool starts first and idles; the window opens when the fan-out is sent
    let window: Window | undefined
    const done = yield* work(input.n, concurrency, Effect.gen(function*() {
      window = startWindow(harness)
      fanOutId = yield* fanOut(input.n, { batchSize: input.params["batchSize"] ?? 100, inFlight: input.params["inFlight"] ?? 4 }, items)
      const status = yield* actions.awaitFanOut(fanOutId, { maxPollInterval: "25 millis", timeout: "10 minutes" })
      const ended = yield* Effect.promise(() => (window as Window).end())
      return { status, ended }
    }))
    const { status: final, ended: measured } = done.result
    checks.equal("worker succeeded", done.succeeded, input.n)
    checks.equal("worker failed", done.failed, 0)
    checks.equal("status completed", final.completed, input.n)
    checks.equal("status failed", final.failed, 0)
    checks.equal("status done", final.done, true)
    const started = performance.now()
    const status = yield* actions.fanOutStatus(fanOutId)
    const statusMs = performance.now() - started
    checks.equal("results", status.results.length, input.n)
    checks.equal("last result index", status.results[input.n - 1]?.index, input.n - 1)
    const memoryAfter = yield* Effect.promise(() => redisUsedMemory(harness))
    return { ...measured, statusMs, redisBytes: memoryAfter - memoryBefore }
  }))

/** Case 6: counts per phase (see bench/cases/roundtrips.ts). */
export const roundTrips = (input: CaseInput, counter: Counter, checks: Checks): Promise<Record<string, number>> =>
  run(input, Effect.gen(function*() {
    const actions = yield* Actions
    const n = input.n
    const concurrency = input.params["concurrency"] ?? 25
    const phase = (name: string, jobs = n) => Effect.promise(() => counter.phase()).pipe(Effect.map((count) => perJob(name, count, jobs)))
    yield* phase("setup")
    for (let i = 0; i < n; i++) yield* actions.enqueue("noop", { i })
    const single = yield* phase("enqueue-single")
    const plain = yield* work(n, concurrency, Effect.void)
    const process = yield* phase("process")
    const fanOutId = yield* fanOut(n)
    const fanOutCount = yield* phase("fanout")
    const children = yield* work(n, concurrency, Effect.void)
    const processChildren = yield* phase("process-children")
    const status = yield* actions.fanOutStatus(fanOutId)
    const statusCount = yield* phase("status", 1)
    checks.equal("plain jobs succeeded", plain.succeeded, n)
    checks.equal("children succeeded", children.succeeded, n)
    checks.equal("status completed", status.completed, n)
    return { ...single, ...process, ...fanOutCount, ...processChildren, ...statusCount }
  }))

/** Fails a case that hangs (a worker that never picks up, a status that never completes) with a clear message. */
const deadline = (label: string, ms: number) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.timeoutOrElse(effect, { duration: ms, orElse: () => Effect.die(new CheckFailed(`${label}: not done after ${ms} ms`)) })

/** Checks that every job ran: the queue is empty, `stat:processed` is `n`, the failed list is empty. */
const checkDrained = (input: CaseInput, harness: IORedis, checks: Checks, n: number) =>
  Effect.promise(async () => {
    checks.equal("jobs left", await harness.llen(queueKey(input)), 0)
    checks.equal("stat:processed", Number(await harness.get(`${input.prefix}:stat:processed`)), n)
    checks.equal("failed list", await harness.llen(`${input.prefix}:failed`), 0)
  })

/** Case `latency`: a pool of `concurrency` (50) idle slots, jobs enqueued one at a time (`lib/latency.ts`). */
export const latencyTimed = (input: CaseInput, harness: IORedis, checks: Checks): Promise<Latency.LatencyMeasured> => {
  const session = Latency.session(input, harness, checks)
  const total = Latency.warmupOf(input) + input.n
  return run(input, Effect.gen(function*() {
    const actions = yield* Actions
    const done = yield* work(total, input.params["concurrency"] ?? 50, Effect.promise(() => session.drive((stamp) => Effect.runPromise(actions.enqueue("stamp", stamp)))))
    checks.equal("succeeded", done.succeeded, total)
    checks.equal("failed", done.failed, 0)
    yield* checkDrained(input, harness, checks, total)
    return done.result
  }).pipe(deadline("latency run", 120_000 + total * 50)), undefined, { onStamp: session.started })
}

/** An idle pool started by `idleStart`: `stop` ends it and says how many slots it had. */
export interface IdlePool {
  readonly stop: () => Promise<{ readonly slots: number }>
}

/**
 * Case `idle`: a pool of `concurrency` (50) slots on an empty queue, no job scheduler (its own layer), held
 * open until `stop`.
 */
export const idleStart = async (input: CaseInput): Promise<IdlePool> => {
  let release = () => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  let ready = () => {}
  const started = new Promise<void>((resolve) => (ready = resolve))
  const done = run(input, Effect.scoped(Effect.gen(function*() {
    const worker = yield* Worker.make({ queues: [QUEUE], concurrency: input.params["concurrency"] ?? 50 })
    ready()
    yield* Effect.promise(() => released)
    return { slots: worker.names.length }
  })))
  await Promise.race([started, done])
  return {
    stop: () => {
      release()
      return done
    }
  }
}

/**
 * Case `memory`, plain jobs: the pool on the in-memory Redis processes `n` pre-filled plain jobs, timed from
 * the first job started to the n-th completion (as case 4, without a server: no redis CPU).
 */
export const memoryPlainTimed = (input: CaseInput, checks: Checks) => {
  let window: Window | undefined
  let measured: Awaited<ReturnType<Window["end"]>> | undefined
  const onRun = () => {
    window ??= startWindow(undefined)
  }
  return run(input, Effect.gen(function*() {
    const redis = yield* Redis.Redis
    yield* prefillPlain(input.n)
    checks.equal("jobs waiting before", yield* redis.send<number>("llen", redis.keys.queue(QUEUE)), input.n)
    const counts = yield* work(input.n, input.params["concurrency"] ?? 50, Effect.void, () =>
      Effect.promise(async () => {
        measured = await (window as Window).end()
      }))
    checks.equal("succeeded", counts.succeeded, input.n)
    checks.equal("failed", counts.failed, 0)
    checks.equal("jobs left", yield* redis.send<number>("llen", redis.keys.queue(QUEUE)), 0)
    checks.equal("stat:processed", Number(yield* redis.send<string | null>("get", redis.keys.stat("processed"))), input.n)
    checks.equal("failed list", yield* redis.send<number>("llen", redis.keys.failed), 0)
    return measured as Awaited<ReturnType<Window["end"]>>
  }).pipe(deadline("in-memory processing", 60_000 + input.n * 5)), onRun, { memory: true })
}

/**
 * Case `memory`, fan-out: on the in-memory Redis, with the pool idle, one fan-out of `n` children end to
 * end: from the `fanOut` call until the pool has completed every child and one `fanOutStatus` read reports
 * them all done (its time is reported apart).
 */
export const memoryFanOutTimed = (input: CaseInput, checks: Checks) =>
  run(input, Effect.gen(function*() {
    const actions = yield* Actions
    const items = inputs(input.n)
    let window: Window | undefined
    let fanOutId = ""
    let ended: (Awaited<ReturnType<Window["end"]>> & { readonly statusMs: number; readonly status: { completed: number; failed: number; done: boolean; results: number } }) | undefined
    const done = yield* work(input.n, input.params["concurrency"] ?? 50, Effect.gen(function*() {
      window = startWindow(undefined)
      fanOutId = yield* fanOut(input.n, { batchSize: input.params["batchSize"] ?? 100, inFlight: input.params["inFlight"] ?? 4 }, items)
    }), () =>
      // every child has completed (n events, published after each completion): one status read ends the
      // run, before the pool shuts down
      Effect.gen(function*() {
        const started = performance.now()
        const status = yield* actions.fanOutStatus(fanOutId)
        const statusMs = performance.now() - started
        const measured = yield* Effect.promise(() => (window as Window).end())
        ended = { ...measured, statusMs, status: { completed: status.completed, failed: status.failed, done: status.done, results: status.results.length } }
      }).pipe(Effect.orDie))
    const measured = ended as NonNullable<typeof ended>
    checks.equal("worker succeeded", done.succeeded, input.n)
    checks.equal("worker failed", done.failed, 0)
    checks.equal("status completed", measured.status.completed, input.n)
    checks.equal("status failed", measured.status.failed, 0)
    checks.equal("status done", measured.status.done, true)
    checks.equal("results", measured.status.results, input.n)
    return measured
  }).pipe(deadline("in-memory fan-out", 60_000 + input.n * 5)), undefined, { memory: true })
