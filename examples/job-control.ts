/**
 * Job ids, status, results, unique jobs, cancel and progress, runnable: `npx tsx examples/job-control.ts`
 * (in-memory Redis, no server needed; `REDIS_URL=redis://127.0.0.1:6379` runs it on a real one).
 *
 * - a request handler enqueues a tracked job and awaits its typed result (or its typed error);
 * - a running job reports progress, which `jobStatus` shows with the worker running it;
 * - a unique job: a second enqueue of the same inputs answers the first job's id and writes nothing;
 * - unique fan-out children: a child whose key another job holds is not written, it is a duplicate naming
 *   that job at once, and the fan-out finishes with it counted apart;
 * - cancel: a queued job is removed, a running one interrupted (it ends cancelled, not retried).
 */
import { Effect, Layer, Schema } from "effect"
import { Action, Actions, CurrentJob, Redis, RedisMemory, Resque, Worker } from "../src/index.ts"

class OutOfStock extends Schema.TaggedError<OutOfStock>()("OutOfStock", { sku: Schema.String }) {}

/** Reserves stock; its jobs are tracked (status and result kept for 10 minutes). */
const reserve = Action.make({
  name: "reserve",
  description: "Reserves an item",
  inputs: Schema.Struct({ sku: Schema.String, quantity: Schema.Finite }),
  output: Schema.Struct({ sku: Schema.String, reserved: Schema.Finite }),
  error: OutOfStock,
  run: ({ sku, quantity }) => (sku === "none" ? Effect.fail(new OutOfStock({ sku })) : Effect.succeed({ sku, reserved: quantity })),
  track: "10 minutes",
  task: { queue: "orders" }
})

/** A long export that reports its progress, step by step, until it is cancelled or done. */
const exportReport = Action.make({
  name: "exportReport",
  description: "Exports a report in 100 steps",
  inputs: Schema.Struct({ report: Schema.String }),
  run: ({ report }) =>
    Effect.gen(function*() {
      for (let step = 1; step <= 100; step++) {
        yield* CurrentJob.progress({ value: step, data: { report } })
        yield* Effect.sleep("20 millis")
      }
      return report
    }),
  track: true,
  task: { queue: "reports" }
})

/** Rebuilds a search index: at most one job per index waiting or running. */
const reindex = Action.make({
  name: "reindex",
  description: "Rebuilds a search index",
  inputs: Schema.Struct({ index: Schema.String }),
  run: ({ index }) => Effect.succeed(index),
  unique: { window: "1 hour" },
  task: { queue: "maintenance" }
})

export const actions = [reserve, exportReport, reindex] as const

/** Enqueue and await: the result, typed; the error, typed. */
export const enqueueAndAwait = Effect.gen(function*() {
  const jobs = yield* Actions.Actions
  const ok = yield* jobs.enqueue(reserve, { sku: "A1", quantity: 2 })
  const result = yield* jobs.awaitJob(ok, { timeout: "10 seconds" })
  const failed = yield* jobs.enqueue(reserve, { sku: "none", quantity: 1 })
  const error = yield* Effect.flip(jobs.awaitJob(failed, { timeout: "10 seconds" }))
  return [
    `reserved ${result.reserved} of ${result.sku}`,
    `failed with ${error._tag}${error instanceof OutOfStock ? ` (${error.sku})` : ""}`
  ]
})

/** Progress while it runs, then a cancel that interrupts it. */
export const progressAndCancel = Effect.gen(function*() {
  const jobs = yield* Actions.Actions
  const job = yield* jobs.enqueue(exportReport, { report: "sales" })
  let status = yield* jobs.jobStatus(job)
  while (status.state !== "running" || (status.progress?.value ?? 0) < 3) {
    yield* Effect.sleep("10 millis")
    status = yield* jobs.jobStatus(job)
  }
  const lines = [`export is ${status.state} on a worker, at step ${status.progress?.value}`]
  lines.push(`cancel: ${yield* jobs.cancel(job)}`)
  const ended = yield* Effect.flip(jobs.awaitJob(job, { timeout: "10 seconds" }))
  lines.push(`export ended: ${ended._tag}, state ${(yield* jobs.jobStatus(job)).state}`)
  return lines
})

/** Unique jobs, and a cancel that removes a queued one (releasing its claim). */
export const uniqueAndRemove = Effect.gen(function*() {
  const jobs = yield* Actions.Actions
  const first = yield* jobs.enqueue(reindex, { index: "products" }, { queue: "held" })
  const second = yield* jobs.enqueue(reindex, { index: "products" }, { queue: "held" })
  const lines = [`second enqueue: enqueued ${second.enqueued}, same job ${second.id === first.id}`]
  lines.push(`cancel the queued one: ${yield* jobs.cancel(first)}`)
  const third = yield* jobs.enqueue(reindex, { index: "products" }, { queue: "held" })
  lines.push(`after the cancel: enqueued ${third.enqueued}`)
  return lines
})

/** A fan-out of unique children: a key another job holds is a duplicate at once, naming that job. */
export const uniqueChildren = Effect.gen(function*() {
  const jobs = yield* Actions.Actions
  const held = yield* jobs.enqueue(reindex, { index: "users" }, { queue: "held" })
  const fanOut = yield* jobs.fanOut(reindex, [{ index: "users" }, { index: "orders" }, { index: "orders" }])
  const holders = fanOut.duplicates.map((d) => (d.jobId === held.id ? "the held job" : d.jobId === `${fanOut.fanOutId}:1` ? "child 1" : d.jobId))
  const status = yield* jobs.awaitFanOut(fanOut, { timeout: "10 seconds" })
  return [
    `fan-out: ${fanOut.enqueued} of ${fanOut.total} enqueued, duplicates of ${holders.join(" and ")}`,
    `fan-out done: completed ${status.completed}, failed ${status.failed}, duplicate ${status.duplicate}`
  ]
})

/** The example's application on a Redis layer (nothing works on the `held` queue). */
export const app = <E>(redis: Layer.Layer<Redis.Redis, E>) =>
  Worker.layer({ queues: ["orders", "reports", "maintenance"], concurrency: 2 }).pipe(
    Layer.provideMerge(Resque.layer({ actions })),
    Layer.provideMerge(redis)
  )

/** Every part of the example, its lines in order. */
export const main = Effect.gen(function*() {
  return [...yield* enqueueAndAwait, ...yield* progressAndCancel, ...yield* uniqueAndRemove, ...yield* uniqueChildren]
})

if (import.meta.filename === process.argv[1]) {
  const url = process.env["REDIS_URL"]
  const redis = url ? Redis.layer({ url, namespace: "effect-resque-example" }) : RedisMemory.layer()
  Effect.runPromise(Effect.provide(main, app(redis))).then((lines) => lines.forEach((line) => console.log(line)))
}
