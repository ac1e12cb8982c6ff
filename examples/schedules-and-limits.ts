/**
 * Job control, runnable: `npx tsx examples/schedules-and-limits.ts` (in-memory Redis, no server needed;
 * `REDIS_URL=redis://127.0.0.1:6379` runs it on a real one).
 *
 * - a cron schedule: runs on its seconds.
 * - pause and resume a queue: its jobs wait, the other queues go on.
 * - retry decisions per error: a timeout is retried, a bad address is unrecoverable.
 * - a rate limit: at most 5 runs start per second, the other jobs wait in their queue.
 */
import { Clock, Effect, Layer, PubSub, Ref, Schedule, Schema } from "effect"
import { Action, Actions, JobScheduler, Operations, Redis, RedisMemory, Resque, Worker } from "../src/index.ts"

const send = Action.make({
  name: "send",
  description: "Sends one mail",
  inputs: Schema.Struct({ to: Schema.String }),
  run: ({ to }) => Effect.succeed(`sent to ${to}`),
  task: { queue: "mail" }
})

class Timeout extends Schema.TaggedError<Timeout>()("Timeout", { to: Schema.String }) {}
class BadAddress extends Schema.TaggedError<BadAddress>()("BadAddress", { to: Schema.String }) {
  // never retried, whatever the policy says
  readonly [Action.Unrecoverable] = true
}

/** Runs of `deliver` by address. */
const deliveries = Ref.makeUnsafe<Record<string, number>>({})

const deliver = Action.make({
  name: "deliver",
  description: "Delivers a mail; the server times out twice",
  inputs: Schema.Struct({ to: Schema.String }),
  error: Schema.Union([Timeout, BadAddress]),
  run: ({ to }) =>
    Effect.gen(function*() {
      const runs = (yield* Ref.updateAndGet(deliveries, (all) => ({ ...all, [to]: (all[to] ?? 0) + 1 })))[to]!
      if (!to.includes("@")) return yield* new BadAddress({ to })
      if (runs < 3) return yield* new Timeout({ to })
      return `delivered to ${to}`
    }),
  // retried only on timeouts (the policy sees the error), at once
  retry: { attempts: 5, schedule: Schedule.spaced(0), while: (error) => error._tag === "Timeout" },
  task: { queue: "mail" }
})

/** When each `tick` started (epoch ms). */
const ticks = Ref.makeUnsafe<ReadonlyArray<number>>([])

const tick = Action.make({
  name: "tick",
  description: "Runs at every second (a 6-field cron: seconds first)",
  inputs: Schema.Struct({}),
  run: () => Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(ticks, (all) => [...all, now])),
  task: { queue: "clock", cron: "* * * * * *" }
})

/** When each `notify` started (epoch ms). */
const notified = Ref.makeUnsafe<ReadonlyArray<number>>([])

const notify = Action.make({
  name: "notify",
  description: "Calls a rate-limited API: at most 5 calls start per second, across every worker",
  inputs: Schema.Struct({ user: Schema.Finite }),
  run: () => Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(notified, (all) => [...all, now])),
  limit: { rate: { limit: 5, per: "1 second" } },
  task: { queue: "notify" }
})

export const actions = [send, deliver, tick, notify] as const

/** The next job event of the mail queues (the clock's runs aside). */
const nextMailEvent = (events: PubSub.Subscription<Worker.JobEvent>) =>
  Effect.gen(function*() {
    while (true) {
      const event = yield* PubSub.take(events)
      if (event.queue === "mail" || event.queue === "urgent") return event
    }
  })

/** Pauses `mail`, shows that its job waits while `urgent` runs, then resumes it. */
export const pauseAndResume = Effect.scoped(Effect.gen(function*() {
  const ops = yield* Operations.Operations
  const enqueue = yield* Actions.Actions
  const worker = yield* Worker.Worker
  const nextMail = nextMailEvent(yield* PubSub.subscribe(worker.events))
  yield* ops.pauseQueue("mail")
  yield* enqueue.enqueue(send, { to: "ada@example.com" })
  yield* enqueue.enqueue(send, { to: "ops@example.com" }, { queue: "urgent" })
  const first = yield* nextMail
  const queues = (yield* ops.queues).filter((q) => q.name === "mail" || q.name === "urgent")
  const lines = [
    `paused mail; ran ${first.job?.action} on ${first.queue}`,
    `queues: ${queues.map((q) => `${q.name} ${q.length} job(s)${q.paused ? " (paused)" : ""}`).join(", ")}`
  ]
  yield* ops.resumeQueue("mail")
  const second = yield* nextMail
  lines.push(`resumed mail; ran ${second.job?.action} on ${second.queue}`)
  return lines
}))

/** A timeout is retried until it succeeds; a bad address fails for good on its first run. */
export const retryPerError = Effect.scoped(Effect.gen(function*() {
  const nextMail = nextMailEvent(yield* PubSub.subscribe((yield* Worker.Worker).events))
  yield* Ref.set(deliveries, {})
  yield* (yield* Actions.Actions).enqueue(deliver, { to: "grace@example.com" })
  yield* (yield* Actions.Actions).enqueue(deliver, { to: "nobody" })
  // grace: 2 timeouts + 1 success; nobody: 1 run
  for (let i = 0; i < 4; i++) yield* nextMail
  const runs = yield* Ref.get(deliveries)
  const failed = yield* (yield* Operations.Operations).failed(0, -1)
  return [
    `deliver grace@example.com: ${runs["grace@example.com"]} runs (timeouts retried)`,
    `deliver nobody: ${runs["nobody"]} run, failed for good: ${failed.map((f) => f.exception).join(", ")}`
  ]
}))

/** Waits for three runs of `tick`: each starts just after its second, a second after the last. */
export const cronRuns = Effect.gen(function*() {
  while ((yield* Ref.get(ticks)).length < 3) yield* Effect.sleep("50 millis")
  const [first = 0, second = 0, third = 0] = yield* Ref.get(ticks)
  return [
    `cron "* * * * * *": runs ${second - first} ms and ${third - second} ms apart, each started ${[first, second, third].map((t) => t % 1000).join("/")} ms after its second`
  ]
})

/**
 * 12 jobs of an action limited to 5 starts per second: none fails; they start in bursts of at most 5, a
 * second apart (the limit counts when a worker takes a job, a few ms before it starts).
 */
export const rateLimited = Effect.gen(function*() {
  yield* Ref.set(notified, [])
  for (let user = 0; user < 12; user++) yield* (yield* Actions.Actions).enqueue(notify, { user })
  while ((yield* Ref.get(notified)).length < 12) yield* Effect.sleep("50 millis")
  const times = yield* Ref.get(notified)
  // starts more than half a second after the previous one begin a new burst
  const bursts = times.reduce<Array<number>>((sizes, t, i) => (i > 0 && t - times[i - 1]! > 500 ? [...sizes, 1] : [...sizes.slice(0, -1), (sizes.at(-1) ?? 0) + 1]), [])
  const failed = (yield* (yield* Operations.Operations).failed(0, -1)).filter((f) => f.action === "notify").length
  return [`rate 5/s: 12 jobs started in bursts of ${bursts.join(", ")}, in ${(Math.round((times[11]! - times[0]!) / 100) / 10).toFixed(1)} s; ${failed} failed`]
})

/** The example's application on a Redis layer. */
export const app = <E>(redis: Layer.Layer<Redis.Redis, E>) =>
  Layer.mergeAll(Worker.layer({ queues: ["mail", "urgent", "clock", "notify"], concurrency: 4 }), JobScheduler.layer()).pipe(
    Layer.provideMerge(Resque.layer({ actions })),
    Layer.provideMerge(redis)
  )

/** Every part of the example, its lines in order. */
export const main = Effect.gen(function*() {
  return [...yield* pauseAndResume, ...yield* retryPerError, ...yield* cronRuns, ...yield* rateLimited]
})

if (import.meta.filename === process.argv[1]) {
  const url = process.env["REDIS_URL"]
  const redis = url ? Redis.layer({ url, namespace: "effect-resque-example" }) : RedisMemory.layer()
  Effect.runPromise(Effect.provide(main, app(redis))).then((lines) => lines.forEach((line) => console.log(line)))
}
