/**
 * Jobs that use the runtime that runs them: `npx tsx examples/jobs-use-the-runtime.ts` (in-memory Redis;
 * `REDIS_URL=redis://127.0.0.1:6379` for a real one).
 *
 * Four patterns, each a plain action whose `run` yields `Actions.Actions` — the application never provides
 * it, and it does not appear among the services the application must supply:
 *
 * 1. A recurring parent (`users:processAll`, queue `scheduler`) fans out to a child per user
 *    (`users:processOne`, queue `worker`) and returns `{ fanOut: result }`.
 * 2. Its `onComplete` (`users:summarize`) reads its children's typed results with `fanOutStatus` and sums them.
 * 3. A chain of three jobs, each enqueueing the next (`order:charge` → `order:pack` → `order:ship`).
 * 4. A parent that fans out and awaits its own children (`report:build`).
 *
 * The application's own services (`Users`, `Reports`) are provided as usual.
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"
import { Action, Actions, FanOut, Redis, RedisMemory, Resque, JobScheduler, Worker } from "../src/index.ts"

// ---------------------------------------------------------------------------------------------------------
// the application's services
// ---------------------------------------------------------------------------------------------------------

/** Where users come from (a database in a real application). */
export class Users extends Context.Service<Users, { readonly active: Effect.Effect<ReadonlyArray<string>> }>()("example/Users") {
  static readonly layer = (ids: ReadonlyArray<string>) => Layer.succeed(Users, { active: Effect.succeed(ids) })
}

/** Where the jobs leave what they did, so the example (and its test) can see it. */
export class Reports extends Context.Service<Reports, {
  readonly add: (line: string) => Effect.Effect<void>
  readonly lines: Effect.Effect<ReadonlyArray<string>>
}>()("example/Reports") {
  static readonly layer = Layer.effect(
    Reports,
    Effect.map(Ref.make<ReadonlyArray<string>>([]), (ref) => ({
      add: (line: string) => Ref.update(ref, (lines) => [...lines, line]),
      lines: Ref.get(ref)
    }))
  )
}

// ---------------------------------------------------------------------------------------------------------
// 1 and 2: a recurring parent that fans out, and an onComplete that sums its children's results
// ---------------------------------------------------------------------------------------------------------

export class UserNotFound extends Schema.TaggedError<UserNotFound>()("UserNotFound", { userId: Schema.String }) {}

export const processOne = Action.make({
  name: "users:processOne",
  description: "Scores one user",
  inputs: Schema.Struct({ userId: Schema.String }),
  output: Schema.Struct({ userId: Schema.String, score: Schema.Finite }),
  error: UserNotFound,
  run: ({ userId }) =>
    userId.startsWith("ghost")
      ? Effect.fail(new UserNotFound({ userId }))
      : Effect.succeed({ userId, score: userId.length }),
  task: { queue: "worker" }
})

export const summarize = Action.make({
  name: "users:summarize",
  description: "Sums the scores of a finished fan-out of users:processOne",
  inputs: FanOut.Completion,
  run: ({ fanOutId }) =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const status = yield* actions.fanOutStatus(fanOutId, { action: processOne })
      const sum = status.results.reduce((total, child) => total + child.result.score, 0)
      const missing = status.errors.flatMap((child) => (child.failure === undefined ? [] : [child.failure.userId]))
      yield* (yield* Reports).add(`summary: ${status.completed} users scored ${sum}, missing ${missing.join(",") || "none"}`)
      return { sum, missing }
    }),
  task: { queue: "scheduler" }
})

export const processAll = Action.make({
  name: "users:processAll",
  description: "Every hour: scores every active user, one child job each",
  inputs: Schema.Struct({}),
  run: () =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const users = yield* (yield* Users).active
      const result = yield* actions.fanOut(processOne, users.map((userId) => ({ userId })), {
        queue: "worker",
        onComplete: summarize
      })
      return { fanOut: result }
    }),
  task: { queue: "scheduler", frequency: "1 hour" }
})

// ---------------------------------------------------------------------------------------------------------
// 3: a chain of three jobs
// ---------------------------------------------------------------------------------------------------------

const Order = Schema.Struct({ orderId: Schema.String })

export const ship = Action.make({
  name: "order:ship",
  description: "Ships an order (the chain's last step)",
  inputs: Order,
  run: ({ orderId }) => Effect.flatMap(Reports, (reports) => reports.add(`shipped ${orderId}`)),
  task: { queue: "worker" }
})

export const pack = Action.make({
  name: "order:pack",
  description: "Packs an order, then enqueues its shipping",
  inputs: Order,
  run: ({ orderId }) =>
    Effect.gen(function*() {
      yield* (yield* Reports).add(`packed ${orderId}`)
      yield* (yield* Actions.Actions).enqueue(ship, { orderId })
    }),
  task: { queue: "worker" }
})

export const charge = Action.make({
  name: "order:charge",
  description: "Charges an order, then enqueues its packing",
  inputs: Order,
  run: ({ orderId }) =>
    Effect.gen(function*() {
      yield* (yield* Reports).add(`charged ${orderId}`)
      yield* (yield* Actions.Actions).enqueue(pack, { orderId })
    }),
  task: { queue: "worker" }
})

// ---------------------------------------------------------------------------------------------------------
// 4: a parent that awaits its own fan-out
// ---------------------------------------------------------------------------------------------------------

export const section = Action.make({
  name: "report:section",
  description: "Writes one section of a report",
  inputs: Schema.Struct({ title: Schema.String }),
  output: Schema.String,
  run: ({ title }) => Effect.succeed(`## ${title}`),
  task: { queue: "worker" }
})

export const build = Action.make({
  name: "report:build",
  description: "Builds a report from its sections, written by child jobs it waits for",
  inputs: Schema.Struct({ titles: Schema.Array(Schema.String) }),
  run: ({ titles }) =>
    Effect.gen(function*() {
      const actions = yield* Actions.Actions
      const started = yield* actions.fanOut(section, titles.map((title) => ({ title })))
      const done = yield* actions.awaitFanOut(started, { timeout: "1 minute" })
      const report = done.results.map((child) => child.result).join("\n")
      yield* (yield* Reports).add(`report:\n${report}`)
      return report
    }),
  task: { queue: "scheduler" }
})

// ---------------------------------------------------------------------------------------------------------
// the application: the README's composition
// ---------------------------------------------------------------------------------------------------------

export const actions = [processAll, processOne, summarize, charge, pack, ship, build, section] as const

/**
 * The whole application on a Redis layer. Children go to `worker`, parents to `scheduler`; the pool drains
 * `worker` first, so children run before new parents, and has slots to spare for a parent that waits.
 */
export const app = (redis: Layer.Layer<Redis.Redis, unknown>, options: {
  readonly users: ReadonlyArray<string>
  readonly worker?: Worker.Options
  readonly scheduler?: JobScheduler.Options
}) =>
  Layer.mergeAll(
    Worker.layer({ queues: ["worker", "scheduler"], concurrency: 10, ...options.worker }),
    JobScheduler.layer({ pollInterval: "200 millis", ...options.scheduler })
  ).pipe(
    Layer.provideMerge(Resque.layer({ actions })),
    Layer.provideMerge(Layer.mergeAll(Users.layer(options.users), Reports.layer)),
    Layer.provideMerge(redis)
  )

/** Runs the example and prints what the jobs did. */
const main = Effect.gen(function*() {
  const actions = yield* Actions.Actions
  const reports = yield* Reports
  // the scheduler's leader starts users:processAll (recurring) on its first poll; the others are enqueued
  yield* actions.enqueue(charge, { orderId: "A-1" })
  yield* actions.enqueue(build, { titles: ["Intro", "Numbers", "Outlook"] })
  const expected = (lines: ReadonlyArray<string>) =>
    lines.some((l) => l.startsWith("summary")) && lines.some((l) => l.startsWith("shipped")) && lines.some((l) => l.startsWith("report"))
  let lines = yield* reports.lines
  for (let i = 0; i < 300 && !expected(lines); i++) {
    yield* Effect.sleep("50 millis")
    lines = yield* reports.lines
  }
  for (const line of lines) console.log(line)
})

if (import.meta.filename === process.argv[1]) {
  const url = process.env["REDIS_URL"]
  const redis = url ? Redis.layer({ url, namespace: "effect-resque-example" }) : RedisMemory.layer()
  Effect.runPromise(main.pipe(Effect.provide(app(redis, { users: ["ada", "grace", "ghost-1", "linus"] }))))
}
