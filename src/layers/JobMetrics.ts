/**
 * Job metrics with Effect's `Metric`, so they reach any exporter Effect has (`OtlpMetrics`,
 * `PrometheusMetrics`, a `Metric.snapshot`):
 *
 * - **Counters** by `action` and `queue`: `resque.jobs.enqueued` (every job written: enqueue, delayed
 *   enqueue, fan-out child, `onComplete`), `resque.fanout.children` (the fan-out children among them),
 *   `resque.jobs.processed` (runs that succeeded), `resque.jobs.failed` (runs that failed for good),
 *   `resque.jobs.retried` (runs that failed and will be retried).
 * - **Histograms** by `action` and `queue`, in milliseconds: `resque.job.duration` (each run) and
 *   `resque.job.wait` (from when the job was sent, or due for a delayed job, to when a worker started it:
 *   the time spent waiting in the queue; jobs from other producers, which carry no send time, are not
 *   recorded).
 * - **Gauges**, sampled by the scheduler's leader ({@link layerGauges}): `resque.queue.length` by `queue`,
 *   `resque.failed.jobs`, `resque.delayed.jobs`, `resque.workers`, `resque.workers.busy`.
 *
 * The counters and histograms are a hook ({@link hook}, in `JobHooks.layer([...])`, or {@link layer}): its
 * `onEnqueue` counts a job and adds its send time to the job's headers (`sentAt`, epoch ms), its `afterJob`
 * records the run.
 *
 * @since 0.3.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Schedule from "effect/Schedule"
import type * as Hooks from "../domain/Hooks.ts"
import * as Enqueue from "../internal/Enqueue.ts"
import * as MetricsScripts from "../internal/MetricsScripts.ts"
import * as JobHooks from "./JobHooks.ts"
import { JobScheduler } from "./JobScheduler.ts"
import { Redis } from "./Redis.ts"

/** Milliseconds from 1 ms to about 5 minutes, doubling. */
const millisBoundaries = Metric.exponentialBoundaries({ start: 1, factor: 2, count: 19 })

/** @category metrics */
export const enqueued = Metric.counter("resque.jobs.enqueued", { description: "Jobs written to a queue or the delayed schedule", incremental: true })
/** @category metrics */
export const fanOutChildren = Metric.counter("resque.fanout.children", { description: "Fan-out children written", incremental: true })
/** @category metrics */
export const processed = Metric.counter("resque.jobs.processed", { description: "Runs that succeeded", incremental: true })
/** @category metrics */
export const failed = Metric.counter("resque.jobs.failed", { description: "Runs that failed for good", incremental: true })
/** @category metrics */
export const retried = Metric.counter("resque.jobs.retried", { description: "Runs that failed and are retried", incremental: true })
/** @category metrics */
export const duration = Metric.histogram("resque.job.duration", { description: "Run time of a job, ms", boundaries: millisBoundaries })
/** @category metrics */
export const wait = Metric.histogram("resque.job.wait", { description: "Time from send (or due time) to start, ms", boundaries: millisBoundaries })
/** @category metrics */
export const queueLength = Metric.gauge("resque.queue.length", { description: "Jobs waiting in a queue" })
/** @category metrics */
export const failedJobs = Metric.gauge("resque.failed.jobs", { description: "Jobs in the failed list" })
/** @category metrics */
export const delayedJobs = Metric.gauge("resque.delayed.jobs", { description: "Jobs on the delayed schedule" })
/** @category metrics */
export const workers = Metric.gauge("resque.workers", { description: "Registered workers" })
/** @category metrics */
export const busyWorkers = Metric.gauge("resque.workers.busy", { description: "Workers running a job" })

/**
 * The context that gives a metric update its `action` and `queue` attributes, built once per pair: an update
 * through it costs no allocation (`Metric.withAttributes` builds a context on every update).
 */
const attributed = (context: Context.Context<never>) => {
  // by action, then queue: no key string built per update
  const cache = new Map<string, Map<string, Context.Context<never>>>()
  let size = 0
  return (action: string, queue: string): Context.Context<never> => {
    let byQueue = cache.get(action)
    let found = byQueue?.get(queue)
    if (found === undefined) {
      found = Context.add(context, Metric.CurrentMetricAttributes, { ...Context.get(context, Metric.CurrentMetricAttributes), action, queue })
      if (size < 10_000) {
        if (byQueue === undefined) cache.set(action, byQueue = new Map())
        byQueue.set(queue, found)
        size++
      }
    }
    return found
  }
}

/**
 * The metrics hook, built in the current context (its metric registry is the one the exporters read).
 *
 * @category hooks
 */
export const hook: Effect.Effect<Hooks.Hook> = Effect.gen(function*() {
  const context = yield* Effect.context<never>()
  const clock = yield* Clock.Clock
  const at = attributed(context)
  return {
    name: "metrics",
    onEnqueue: (job) =>
      Effect.sync(() => {
        const labelled = at(job.action, job.queue)
        enqueued.updateUnsafe(1, labelled)
        if (job.fanOut !== undefined) fanOutChildren.updateUnsafe(1, labelled)
        // a delayed job's send time is the second it is filed under: two sends of it in that second are the
        // same payload (`enqueueAt` writes it once)
        return { sentAt: String(job.at === undefined ? clock.currentTimeMillisUnsafe() : Enqueue.delayedSecond(job.at) * 1000) }
      }),
    afterJob: ({ job, outcome, queue, retried: isRetry, startedAt }) => {
      const labelled = at(job?.action ?? "(unreadable)", queue)
      const counter = outcome._tag === "Success" ? processed : isRetry ? retried : failed
      counter.updateUnsafe(1, labelled)
      duration.updateUnsafe(outcome.durationMs, labelled)
      const sentAt = Number(job?.meta.headers?.["sentAt"])
      if (Number.isFinite(sentAt)) wait.updateUnsafe(Math.max(0, startedAt - sentAt), labelled)
    }
  }
})

/**
 * The metrics hook as the only hook (with tracing, when a tracer records spans). To combine it with others,
 * put {@link hook} in `JobHooks.layer([...])`.
 *
 * @category layers
 */
export const layer: Layer.Layer<never> = JobHooks.layer([hook])

/**
 * Options of {@link layerGauges}.
 *
 * @category models
 */
export interface GaugeOptions {
  /** How often the leader samples. Default 15 seconds. */
  readonly interval?: Duration.Input
}

/**
 * Samples the gauges every `interval`, one round trip per sample, in the process whose scheduler holds the
 * leader lock (a script checks the lock and reads everything: other processes send that one command and keep
 * their gauges unset). After a failover the old leader's gauges keep their last values: aggregate with `max`.
 *
 * @category layers
 */
export const layerGauges = (options: GaugeOptions = {}): Layer.Layer<never, never, Redis | JobScheduler> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const redis = yield* Redis
    const scheduler = yield* JobScheduler
    const sampleOnce = Effect.flatMap(redis.eval(MetricsScripts.sample, { keys: redis.keys, name: scheduler.name }), (sample) =>
      sample === undefined ? Effect.void : record(sample))
    yield* sampleOnce.pipe(
      Effect.catch((error) => Effect.logWarning("could not sample the queue gauges", error)),
      Effect.repeat(Schedule.spaced(options.interval ?? "15 seconds")),
      Effect.forkScoped
    )
  }))

/** Sets the gauges from one sample. */
const record = (sample: MetricsScripts.Sample) =>
  Effect.gen(function*() {
    for (const { length, name } of sample.queues) yield* Metric.update(Metric.withAttributes(queueLength, { queue: name }), length)
    yield* Metric.update(failedJobs, sample.failed)
    yield* Metric.update(delayedJobs, sample.delayed)
    yield* Metric.update(workers, sample.workers)
    yield* Metric.update(busyWorkers, sample.busy)
  })
