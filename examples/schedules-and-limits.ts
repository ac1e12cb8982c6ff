/**
 * Job control, runnable: `npx tsx examples/schedules-and-limits.ts` (in-memory Redis, no server needed;
 * `REDIS_URL=redis://127.0.0.1:6379` runs it on a real one).
 *
 * - pause and resume a queue: its jobs wait, the other queues go on.
 */
import { Effect, Layer, PubSub, Schema } from "effect"
import { Action, Actions, Operations, Redis, RedisMemory, Resque, Worker } from "../src/index.ts"

const send = Action.make({
  name: "send",
  description: "Sends one mail",
  inputs: Schema.Struct({ to: Schema.String }),
  run: ({ to }) => Effect.succeed(`sent to ${to}`),
  task: { queue: "mail" }
})

export const actions = [send] as const

/** Pauses `mail`, shows that its job waits while `urgent` runs, then resumes it. */
export const pauseAndResume = Effect.scoped(Effect.gen(function*() {
  const ops = yield* Operations.Operations
  const enqueue = yield* Actions.Actions
  const worker = yield* Worker.Worker
  const events = yield* PubSub.subscribe(worker.events)
  yield* ops.pauseQueue("mail")
  yield* enqueue.enqueue(send, { to: "ada@example.com" })
  yield* enqueue.enqueue(send, { to: "ops@example.com" }, { queue: "urgent" })
  const first = yield* PubSub.take(events)
  const queues = yield* ops.queues
  const lines = [
    `paused mail; ran ${first.job?.action} on ${first.queue}`,
    `queues: ${queues.map((q) => `${q.name} ${q.length} job(s)${q.paused ? " (paused)" : ""}`).join(", ")}`
  ]
  yield* ops.resumeQueue("mail")
  const second = yield* PubSub.take(events)
  lines.push(`resumed mail; ran ${second.job?.action} on ${second.queue}`)
  return lines
}))

/** The example's application on a Redis layer. */
export const app = <E>(redis: Layer.Layer<Redis.Redis, E>) =>
  Worker.layer({ queues: ["mail", "urgent"], concurrency: 2 }).pipe(
    Layer.provideMerge(Resque.layer({ actions })),
    Layer.provideMerge(redis)
  )

/** Every part of the example, its lines in order. */
export const main = Effect.gen(function*() {
  return [...yield* pauseAndResume]
})

if (import.meta.filename === process.argv[1]) {
  const url = process.env["REDIS_URL"]
  const redis = url ? Redis.layer({ url, namespace: "effect-resque-example" }) : RedisMemory.layer()
  Effect.runPromise(Effect.provide(main, app(redis))).then((lines) => lines.forEach((line) => console.log(line)))
}
