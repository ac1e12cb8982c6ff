/**
 * Rate limits and global concurrency, per action and per queue, across workers: a job over a limit waits in
 * its queue and is never failed; at most K run at once across two pools; a queue's rate holds over a window;
 * a rate of 10/s holds within 10% over 5 s with two worker processes on a real redis-server. Both backends
 * where one process suffices.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect, PubSub, Schema } from "effect"
import * as Action from "../src/domain/Action.ts"
import { Actions } from "../src/layers/Actions.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as Worker from "../src/layers/Worker.ts"
import { coreWith, failedJobs, queueLength, redisCall, takeEventsWithin, waitUntil } from "./support/app.ts"
import { backends, real, redisUrl, uniqueNamespace } from "./support/backends.ts"
import { limitedAction } from "./support/limitedApp.ts"

/** Counts how many run at once (the highest count in `KEY:peak`), for `ms` each; at most 2 across all workers. */
const crowded = Action.make({
  name: "crowded",
  description: "Runs for a while; at most two at once",
  inputs: Schema.Struct({ n: Schema.Finite, ms: Schema.Finite }),
  run: ({ ms }) =>
    Effect.gen(function*() {
      const redis = yield* Redis
      const now = yield* redis.send<number>("incr", redis.keys.key("running"))
      // the highest count seen: ZADD GT keeps the larger score
      yield* redis.send("zadd", redis.keys.key("peak"), "GT", now, "peak")
      yield* Effect.sleep(ms)
      yield* redis.send("decr", redis.keys.key("running"))
      yield* redis.send("incr", redis.keys.key("done"))
    }),
  limit: { concurrency: 2 },
  task: { queue: "crowded" }
})

/** A plain action for the queue limits. */
const plain = Action.make({
  name: "plain",
  description: "Records when it started",
  inputs: Schema.Struct({ n: Schema.Finite }),
  run: () => Effect.flatMap(Redis, (redis) => redis.send("rpush", redis.keys.key("starts"), Date.now())),
  task: { queue: "paced" }
})

const starts = redisCall((client, keys) => client.lrange<ReadonlyArray<string>>(keys.key("starts"), 0, -1)).pipe(Effect.map((all) => all.map(Number)))

/**
 * Starts grouped in bursts (a start more than half a second after the previous one begins a new burst): with a
 * backlog, a rate limit lets a burst start each time its window allows. The limit counts when a worker takes a
 * job, a few ms before the job records its start, so bursts are what a test can count exactly.
 */
const burstsOf = (times: ReadonlyArray<number>): ReadonlyArray<number> => {
  const sorted = [...times].sort((a, b) => a - b)
  const sizes: Array<number> = []
  sorted.forEach((t, i) => (i > 0 && t - sorted[i - 1]! <= 500 ? sizes[sizes.length - 1]!++ : sizes.push(1)))
  return sizes
}

/** The most starts within any window of `ms`. */
const busiestWindow = (times: ReadonlyArray<number>, ms: number): number => {
  const sorted = [...times].sort((a, b) => a - b)
  let most = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= ms) j++
    most = Math.max(most, i - j + 1)
  }
  return most
}

for (const backend of backends) {
  describe(`limits (${backend.name})`, () => {
    it.live("global concurrency: two pools of 4 slots run at most 2 jobs of the action at once; none fails", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        for (let n = 0; n < 8; n++) yield* actions.enqueue(crowded, { n, ms: 60 })
        yield* Effect.scoped(Effect.gen(function*() {
          yield* Worker.make({ queues: ["crowded"], concurrency: 4 })
          yield* Worker.make({ queues: ["crowded"], concurrency: 4 })
          const done = redisCall((client, keys) => client.get<string | null>(keys.key("done")))
          yield* waitUntil("all 8 jobs to run", done, (n) => Number(n) >= 8, { timeout: "20 seconds" })
        }))
        const peak = yield* redisCall((client, keys) => client.zscore<string>(keys.key("peak"), "peak"))
        assert.strictEqual(Number(peak), 2, "at most two at once, and the limit was reached")
        assert.deepStrictEqual(yield* failedJobs, [])
        assert.strictEqual(yield* queueLength("crowded"), 0)
        // every slot it held was given back
        assert.strictEqual(yield* redisCall((client, keys) => client.zcard<number>(keys.key("limit", "running", "action", "crowded"))), 0)
      }).pipe(Effect.provide(coreWith([crowded], backend.layer()))))

    it.live("a queue's rate limit: at most 4 starts in any second; the jobs wait in the queue, none fails", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        for (let n = 0; n < 10; n++) yield* actions.enqueue(plain, { n })
        yield* Effect.scoped(Effect.gen(function*() {
          const worker = yield* Worker.make({ queues: ["paced"], concurrency: 5, queueLimits: { paced: { rate: { limit: 4, per: "1 second" } } } })
          const sub = yield* PubSub.subscribe(worker.events)
          const first = yield* takeEventsWithin(sub, 4)
          assert.strictEqual(first.length, 4)
          // the rest waits in the queue, not in the failed list
          assert.isAtLeast(yield* queueLength("paced"), 5)
          yield* takeEventsWithin(sub, 6, "10 seconds")
        }))
        const times = yield* starts
        assert.strictEqual(times.length, 10)
        assert.deepStrictEqual(burstsOf(times), [4, 4, 2])
        const span = Math.max(...times) - Math.min(...times)
        assert.isAtLeast(span, 2000, "10 jobs at 4 per second take two seconds at least")
        assert.isBelow(span, 4000, "and start as soon as the limit allows")
        assert.deepStrictEqual(yield* failedJobs, [])
      }).pipe(Effect.provide(coreWith([plain], backend.layer()))))
  })
}

describe("rate limit across processes (redis)", () => {
  const root = fileURLToPath(new URL("..", import.meta.url))
  const fixture = fileURLToPath(new URL("./fixtures/limited-worker.ts", import.meta.url))

  it.live("10 runs per second hold within 10% over 5 s with two worker processes", () => {
    const namespace = uniqueNamespace()
    return Effect.gen(function*() {
      const actions = yield* Actions
      const limited = limitedAction(10)
      for (let n = 0; n < 120; n++) yield* actions.enqueue(limited, { n })
      const children = yield* Effect.acquireRelease(
        Effect.sync(() =>
          [0, 1].map(() =>
            spawn(`${root}node_modules/.bin/node`, ["--import", "tsx", fixture], {
              cwd: root,
              env: { ...process.env, REDIS_URL: redisUrl(), RESQUE_NAMESPACE: namespace, RATE: "10", CONCURRENCY: "5" },
              stdio: "ignore"
            })
          )
        ),
        (all) => Effect.sync(() => all.forEach((child) => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, "SIGKILL")))
      )
      assert.strictEqual(children.length, 2)
      // measure once both processes run (the first starts are the ones of whichever process came up first)
      const times = yield* waitUntil("70 starts", starts, (all) => all.length >= 70, { timeout: "60 seconds", interval: "100 millis" })
      const sorted = [...times].sort((a, b) => a - b)
      const from = sorted[0]! + 1000
      const inFive = sorted.filter((t) => t >= from && t < from + 5000).length
      const busiest = busiestWindow(sorted, 1000)
      const bursts = burstsOf(sorted)
      console.log(`rate 10/s, 2 processes: ${inFive} starts in the 5 s from ${from - sorted[0]!} ms after the first; bursts ${bursts.join(",")}; busiest second of recorded starts ${busiest}`)
      assert.isAtLeast(inFive, 45)
      assert.isAtMost(inFive, 55)
      for (const size of bursts) assert.isAtMost(size, 10, "never more than 10 taken in a window")
      assert.deepStrictEqual(yield* failedJobs, [])
    }).pipe(Effect.scoped, Effect.provide(coreWith([limitedAction(10)], real.layer(namespace))))
  }, 90_000)
})
