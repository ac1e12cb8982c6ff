/**
 * Fan-out, runnable: `npx tsx examples/fanout.ts` (in-memory Redis, no server needed).
 */
import { Effect, Layer, Schema } from "effect"
import { Action, Actions, FanOut, RedisMemory, Resque, Worker } from "../src/index.ts"

class NotAnImage extends Schema.TaggedError<NotAnImage>()("NotAnImage", { url: Schema.String }) {}

const resize = Action.make({
  name: "resize",
  description: "Resizes one image",
  inputs: Schema.Struct({ url: Schema.String, width: Schema.Finite }),
  output: Schema.Struct({ url: Schema.String, bytes: Schema.Finite }),
  error: NotAnImage, // failures are kept as data and come back typed in the fan-out's errors
  run: ({ url, width }) =>
    url.endsWith(".png")
      ? Effect.succeed({ url: url.replace(".png", `-${width}.png`), bytes: width * 10 })
      : Effect.fail(new NotAnImage({ url })),
  task: { queue: "images" }
})

// the onComplete action receives { fanOutId, total, completed, failed }
const albumDone = Action.make({
  name: "albumDone",
  description: "Runs once every resize has an outcome",
  inputs: FanOut.Completion,
  run: ({ fanOutId, completed, failed }) => Effect.log(`album ${fanOutId}: ${completed} resized, ${failed} failed`),
  task: { queue: "images" }
})

const program = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  const urls = ["a.png", "b.png", "c.gif", "d.png"]
  const started = yield* actions.fanOut(resize, urls.map((url) => ({ url, width: 320 })), {
    batchSize: 100,
    onComplete: albumDone
  })
  console.log("enqueued", started.enqueued, "children, id", started.fanOutId)
  const status = yield* actions.awaitFanOut(started, { timeout: "10 seconds" })
  console.log(`total ${status.total}, completed ${status.completed}, failed ${status.failed}`)
  for (const r of status.results) console.log(`  #${r.index} ${r.inputs.url} -> ${r.result.url} (${r.result.bytes} bytes)`)
  for (const e of status.errors) console.log(`  #${e.index} ${e.inputs.url} failed: ${e.exception} (url ${e.failure?.url})`)
})

const App = Worker.layer({ queues: ["images"], concurrency: 4 }).pipe(
  Layer.provideMerge(Resque.layer({ actions: [resize, albumDone] })),
  Layer.provideMerge(RedisMemory.layer())
)

Effect.runPromise(program.pipe(Effect.provide(App)))
