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

/** The counters and histograms of the hook, each made for a set of attributes (a series). */
const jobMetrics = {
  enqueued: (attributes?: Metric.Metric.Attributes) =>
    Metric.counter("resque.jobs.enqueued", { description: "Jobs written to a queue or the delayed schedule", incremental: true, attributes }),
  fanOutChildren: (attributes?: Metric.Metric.Attributes) =>
    Metric.counter("resque.fanout.children", { description: "Fan-out children written", incremental: true, attributes }),
  processed: (attributes?: Metric.Metric.Attributes) =>
    Metric.counter("resque.jobs.processed", { description: "Runs that succeeded", incremental: true, attributes }),
  failed: (attributes?: Metric.Metric.Attributes) =>
    Metric.counter("resque.jobs.failed", { description: "Runs that failed for good", incremental: true, attributes }),
  retried: (attributes?: Metric.Metric.Attributes) =>
    Metric.counter("resque.jobs.retried", { description: "Runs that failed and are retried", incremental: true, attributes }),
  duration: (attributes?: Metric.Metric.Attributes) =>
    Metric.histogram("resque.job.duration", { description: "Run time of a job, ms", boundaries: millisBoundaries, attributes }),
  wait: (attributes?: Metric.Metric.Attributes) =>
    Metric.histogram("resque.job.wait", { description: "Time from send (or due time) to start, ms", boundaries: millisBoundaries, attributes })
}

/** @category metrics */
export const enqueued = jobMetrics.enqueued()
/** @category metrics */
export const fanOutChildren = jobMetrics.fanOutChildren()
/** @category metrics */
export const processed = jobMetrics.processed()
/** @category metrics */
export const failed = jobMetrics.failed()
/** @category metrics */
export const retried = jobMetrics.retried()
/** @category metrics */
export const duration = jobMetrics.duration()
/** @category metrics */
export const wait = jobMetrics.wait()
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

/** The hook's metrics of one action and queue. */
type Series = { readonly [K in keyof typeof jobMetrics]: ReturnType<(typeof jobMetrics)[K]> }

/**
 * The series of each action and queue, made once per pair, and the context to update them in.
 *
 * A metric remembers the series key of the last attributes it was updated with, and rebuilds it (sorting and
 * serializing the attributes) when they change: one metric updated for several actions in turn would rebuild
 * it on every update, 0.6 to 0.7 µs each. So each pair gets metrics of its own, whose attributes are the
 * pair's (over the context's own `CurrentMetricAttributes`, as `Metric.withAttributes` would give them: the
 * same series), updated in one context with no attributes of its own, so no update rebuilds a key.
 */
const seriesOf = (context: Context.Context<never>) => {
  const base = Context.get(context, Metric.CurrentMetricAttributes)
  const plain = Context.add(context, Metric.CurrentMetricAttributes, {})
  // by action, then queue: no key string built per update
  const cache = new Map<string, Map<string, Series>>()
  let size = 0
  const make = (action: string, queue: string): Series => {
    const attributes = { ...base, action, queue }
    return {
      enqueued: jobMetrics.enqueued(attributes),
      fanOutChildren: jobMetrics.fanOutChildren(attributes),
      processed: jobMetrics.processed(attributes),
      failed: jobMetrics.failed(attributes),
      retried: jobMetrics.retried(attributes),
      duration: jobMetrics.duration(attributes),
      wait: jobMetrics.wait(attributes)
    }
  }
  return {
    context: plain,
    of: (action: string, queue: string): Series => {
      let byQueue = cache.get(action)
      let found = byQueue?.get(queue)
      if (found === undefined) {
        found = make(action, queue)
        if (size < 10_000) {
          if (byQueue === undefined) cache.set(action, byQueue = new Map())
          byQueue.set(queue, found)
          size++
        }
      }
      return found
    }
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
  const series = seriesOf(context)
  const updated = series.context
  return {
    name: "metrics",
    onEnqueue: (job) =>
      Effect.sync(() => {
        const metrics = series.of(job.action, job.queue)
        metrics.enqueued.updateUnsafe(1, updated)
        if (job.fanOut !== undefined) metrics.fanOutChildren.updateUnsafe(1, updated)
        // a delayed job's send time is the second it is filed under: two sends of it in that second are the
        // same payload (`enqueueAt` writes it once)
        return { sentAt: String(job.at === undefined ? clock.currentTimeMillisUnsafe() : Enqueue.delayedSecond(job.at) * 1000) }
      }),
    afterJob: ({ job, outcome, queue, retried: isRetry, startedAt }) => {
      const metrics = series.of(job?.action ?? "(unreadable)", queue)
      const counter = outcome._tag === "Success" ? metrics.processed : isRetry ? metrics.retried : metrics.failed
      counter.updateUnsafe(1, updated)
      metrics.duration.updateUnsafe(outcome.durationMs, updated)
      const sentAt = Number(job?.meta.headers?.["sentAt"])
      if (Number.isFinite(sentAt)) metrics.wait.updateUnsafe(Math.max(0, startedAt - sentAt), updated)
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
