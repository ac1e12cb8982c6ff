/** The README's first example, type-checked and runnable: `npx tsx examples/first-action.ts`. */
import { Effect, Layer, Schema } from "effect"
import { Action, Actions, RedisMemory, Resque, JobScheduler, Worker } from "../src/index.ts"

// One definition: name, description, input Schema (its encoded side travels in the job), an Effect.
const resize = Action.make({
  name: "resize",
  description: "Resizes an image",
  inputs: Schema.Struct({
    url: Schema.String,
    width: Schema.Union([Schema.Finite, Schema.FiniteFromString]).pipe(Schema.withDecodingDefault(Effect.succeed(640)))
  }),
  run: ({ url, width }) => Effect.succeed({ url, width }), // `width: number`, inferred from the Schema
  task: { queue: "images" },                                // add `frequency: "1 hour"` to make it recurring
  timeout: "30 seconds",                                    // optional per-run limit
  retry: { attempts: 3 }                                    // optional: re-enqueued with a delay (Schedule)
})

const program = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  yield* actions.enqueue(resize, { url: "https://example.com/a.png", width: "320" }) // checked now
  yield* actions.enqueueIn("5 minutes", resize, { url: "https://example.com/b.png" })
  const direct = yield* actions.run(resize, { url: "c.png" })                      // in this fiber
  console.log(direct)
})

// Workers drain queues left to right ("*" = all); the scheduler elects a leader, promotes delayed jobs,
// reclaims jobs of dead workers and starts recurring actions. Swap RedisMemory.layer() for
// Redis.layer({ url }) or Redis.layerConfig() (REDIS_URL, REDIS_PASSWORD, REDIS_DB, REDIS_TLS, RESQUE_NAMESPACE).
const App = Layer.mergeAll(Worker.layer({ queues: ["images", "*"], concurrency: 20 }), JobScheduler.layer()).pipe(
  Layer.provideMerge(Resque.layer({ actions: [resize] })),
  Layer.provideMerge(RedisMemory.layer())
)
program.pipe(Effect.provide(App), Effect.runPromise).then(() => console.log("done"))
