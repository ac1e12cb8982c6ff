/**
 * The demo: the whole runtime in one process. It defines three actions (one recurring), enqueues work
 * (including a job refused by its Schema and a delayed job), runs workers and the scheduler, fans out a few
 * thousand children with a live progress line, prints what ran, and exits by itself.
 *
 * Runs on the in-memory Redis by default; `REDIS_URL=redis://127.0.0.1:6379 npm run demo` runs the same
 * against a real server (under the namespace `effect-resque-demo`, whose keys it deletes at the end).
 *
 * @since 0.1.0
 */
import { Duration, Effect, Fiber, Layer, PubSub, References } from "effect"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Actions, Redis, RedisMemory, Resque, JobScheduler, Worker } from "../src/index.ts"
import { add, heartbeat, resize } from "./demoActions.ts"

const CHILDREN = Number(process.env["DEMO_CHILDREN"] ?? 2000)
const url = process.env["REDIS_URL"]
const namespace = "effect-resque-demo"

// the demo's heartbeat recurs every second so it is seen running more than once
const fastHeartbeat = { ...heartbeat, task: { queue: "default", frequency: Duration.seconds(1) } }

const RedisLayer = url ? Redis.layer({ url, namespace }) : RedisMemory.layer({ namespace })

const App = Layer.mergeAll(
  Worker.layer({ queues: ["math", "images", "default"], concurrency: 20 }),
  JobScheduler.layer({ pollInterval: "200 millis" })
).pipe(
  Layer.provideMerge(Resque.layer({ actions: [add, resize, fastHeartbeat] })),
  Layer.provideMerge(RedisLayer)
)

// the fan-out's progress line is redrawn in place (\r): a line printed meanwhile ends it first
const progressLine = { open: false }
const endProgressLine = Effect.sync(() => {
  if (progressLine.open) process.stdout.write("\n")
  progressLine.open = false
})
const print = (line: string) =>
  Effect.sync(() => {
    process.stdout.write((progressLine.open ? "\n" : "") + line + "\n")
    progressLine.open = false
  })

const describeEvent = (event: Worker.JobEvent): string => {
  const job = event.job
  const what = job ? `${job.action} ${JSON.stringify(job.inputs)}` : "(unreadable payload)"
  const outcome = event.outcome._tag === "Success" ? `→ ${event.outcome.result}` : `✗ ${event.outcome.error}`
  return `  ran ${what} on ${event.queue} ${outcome}`
}

const program = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  const worker = yield* Worker.Worker
  yield* print(`effect-resque demo on ${url ? Redis.redactUrl(url) : "the in-memory Redis"}`)

  // print the jobs that are not fan-out children as they finish, and a progress line for the children
  const events = yield* PubSub.subscribe(worker.events)
  let heartbeats = 0
  let others = 0
  const children = { completed: 0, failed: 0, lastPrint: 0, started: Date.now() }
  const progress = () => {
    const done = children.completed + children.failed
    const rate = Math.round(done / Math.max(0.001, (Date.now() - children.started) / 1000))
    process.stdout.write(`\r  progress: ${done}/${CHILDREN} (${children.completed} ok, ${children.failed} failed) ${rate} jobs/s   `)
    children.lastPrint = Date.now()
    progressLine.open = true
  }
  const onEvent = (event: Worker.JobEvent) => {
    if (event.job?.meta.fanOut !== undefined) {
      if (event.outcome._tag === "Success") children.completed++
      else children.failed++
      if (Date.now() - children.lastPrint > 100) progress()
      return
    }
    if (event.job?.action === "heartbeat") heartbeats++
    else others++
    Effect.runSync(print(describeEvent(event)))
  }
  // drain everything available at each wake-up: a busy worker pool publishes faster than one take per turn
  const printer = yield* Effect.forkChild(Effect.forever(
    Effect.map(PubSub.takeAll(events), (batch) => {
      for (const event of batch) onEvent(event)
    })
  ))

  yield* print("\n1. Enqueue jobs (inputs are checked against the Schema first)")
  yield* actions.enqueue(add, { a: 2, b: "40" })
  yield* actions.enqueue(resize, { url: "https://example.com/cat.png", width: "320", format: "png" })
  yield* actions.enqueueIn("1 second", add, { a: 1, b: 1 })
  const refused = yield* Effect.flip(actions.enqueue(resize, { url: "x", width: -5 }))
  yield* print(`  refused at enqueue: ${refused.message}`)
  const direct = yield* actions.run(add, { a: 20, b: 22 })
  yield* print(`  ran directly in this fiber: add 20 + 22 = ${direct}`)

  yield* print(`\n2. Fan out ${CHILDREN} children of add (3 with bad inputs, refused at enqueue)`)
  const inputs = Array.from({ length: CHILDREN }, (_, i) => ({ a: i, b: i % 3 === 0 ? 1 : 2 }))
  const bad = [{ a: "oops" }, { b: 1 }, { a: Number.NaN }] as unknown as ReadonlyArray<typeof inputs[number]>
  const started = Date.now()
  children.started = started
  const result = yield* actions.fanOut(add, [...inputs, ...bad], { batchSize: 100, concurrency: 4 })
  yield* print(`  fan-out ${result.fanOutId}: ${result.enqueued} enqueued in ${Date.now() - started} ms, ${result.errors.length} refused`)
  for (const error of result.errors) yield* print(`    child ${error.index}: ${error.message}`)

  const status = yield* actions.awaitFanOut(result, { timeout: "5 minutes" })
  progress()
  yield* endProgressLine
  const sum = status.results.reduce((acc, r) => acc + Number(r.result), 0)
  yield* print(`  finished in ${Date.now() - started} ms: total ${status.total}, completed ${status.completed}, failed ${status.failed}, sum of results ${sum}`)
  const first = status.results.slice(0, 3).map((r) => `#${r.index} ${JSON.stringify(r.inputs)} → ${r.result}`)
  yield* print(`  first results: ${first.join(", ")}`)

  yield* print("\n3. Wait for the delayed job and two runs of the recurring heartbeat (started by the scheduler's leader)")
  yield* Effect.gen(function*() {
    while (heartbeats < 2 || others < 3) yield* Effect.sleep("100 millis")
  }).pipe(Effect.timeout("15 seconds"), Effect.ignore)
  yield* Fiber.interrupt(printer)
  yield* print(`\nDone: ${heartbeats} heartbeats; shutting down gracefully.`)
})

/** On a real Redis, remove the demo's keys afterwards (only under the demo's own namespace). */
const cleanup = Effect.gen(function*() {
  if (!url) return
  const redis = yield* Redis.Redis
  let cursor = "0"
  do {
    const [next, found] = yield* redis.send<readonly [string, ReadonlyArray<string>]>("scan", cursor, "MATCH", `${namespace}:*`, "COUNT", 1000)
    if (found.length > 0) yield* redis.send("del", ...found)
    cursor = next
  } while (cursor !== "0")
}).pipe(Effect.provide(Redis.layer({ url: url ?? "", namespace })), Effect.ignore)


program.pipe(
  Effect.scoped,
  Effect.provide(App),
  Effect.andThen(cleanup),
  Effect.provideService(References.MinimumLogLevel, "Warn"),
  NodeRuntime.runMain({ teardown: Resque.teardown })
)
