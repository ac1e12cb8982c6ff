/**
 * Job control across processes, on a real redis-server (an in-memory Redis cannot be shared by two
 * processes): unique enqueues made at once by two processes write one job, and so do overlapping fan-outs of
 * unique children, per key; a cancel reaches a job running in a worker pool of another process, which ends it
 * as cancelled (the time it takes is measured and printed).
 */
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import { Redis } from "../src/layers/Redis.ts"
import { coreWith, queueLength, redisCall, waitUntil } from "./support/app.ts"
import { real, redisUrl } from "./support/backends.ts"
import { startFixture } from "./support/childProcess.ts"
import { hold, jobControlActions } from "./support/jobControlApp.ts"

const fixture = fileURLToPath(new URL("./fixtures/job-control-app.ts", import.meta.url))

const startChild = (env: Record<string, string>) => startFixture(fixture, env)

const ready = redisCall((client, keys) => client.get<string | null>(keys.key("ready")))

const app = () => coreWith(jobControlActions, real.layer()).pipe(Layer.orDie)

describe("job control across processes (redis)", () => {
  it.live("50 unique enqueues made at once by two processes write one job, and all answer its id", () =>
    Effect.gen(function*() {
      const { keys } = yield* Redis
      const env = { REDIS_URL: redisUrl(), RESQUE_NAMESPACE: keys.namespace, MODE: "enqueue", COUNT: "25", KEY: "shared" }
      const children = [yield* startChild(env), yield* startChild(env)]
      yield* waitUntil("both processes to be ready", ready, (n) => n === "2", { timeout: "30 seconds" })
      yield* redisCall((client) => client.set(keys.key("go"), "1"))
      const codes = yield* Effect.promise(() => Promise.all(children.map((c) => c.exited)))
      assert.deepStrictEqual(codes, [0, 0], children.map((c) => c.output()).join("\n"))
      const handles = children.flatMap((c) => JSON.parse(c.output().trim().split("\n").at(-1)!) as Array<{ id: string; enqueued: boolean }>)
      assert.lengthOf(handles, 50)
      assert.strictEqual(handles.filter((h) => h.enqueued).length, 1)
      assert.strictEqual(new Set(handles.map((h) => h.id)).size, 1)
      assert.strictEqual(yield* queueLength("control"), 1)
    }).pipe(Effect.provide(app())), 60_000)

  it.live("25 fan-outs in each of two processes, made at once over the same 5 unique keys, write each key's job once; every other child is a duplicate naming it", () =>
    Effect.gen(function*() {
      const { keys } = yield* Redis
      const env = { REDIS_URL: redisUrl(), RESQUE_NAMESPACE: keys.namespace, MODE: "fanout", COUNT: "25", KEYS: "a,b,c,d,e" }
      const children = [yield* startChild(env), yield* startChild(env)]
      yield* waitUntil("both processes to be ready", ready, (n) => n === "2", { timeout: "30 seconds" })
      yield* redisCall((client) => client.set(keys.key("go"), "1"))
      const codes = yield* Effect.promise(() => Promise.all(children.map((c) => c.exited)))
      assert.deepStrictEqual(codes, [0, 0], children.map((c) => c.output()).join("\n"))
      type Result = { fanOutId: string; enqueued: number; duplicates: Array<{ index: number; jobId: string }> }
      const results = children.flatMap((c) => JSON.parse(c.output().trim().split("\n").at(-1)!) as Array<Result>)
      assert.lengthOf(results, 50)
      assert.strictEqual(yield* queueLength("control"), 5)
      const holders = new Map<number, string>()
      for (const result of results) {
        assert.strictEqual(result.enqueued + result.duplicates.length, 5)
        const duplicated = new Set(result.duplicates.map((d) => d.index))
        for (let index = 0; index < 5; index++) {
          if (duplicated.has(index)) continue
          assert.isFalse(holders.has(index), `key ${index} written twice`)
          holders.set(index, `${result.fanOutId}:${index}`)
        }
      }
      assert.strictEqual(holders.size, 5)
      for (const result of results) for (const d of result.duplicates) assert.strictEqual(d.jobId, holders.get(d.index))
      const counts = yield* Effect.forEach(results, (r) => redisCall((client, k) => client.hmget<Array<string | null>>(k.fanOut(r.fanOutId), "total", "duplicate")))
      counts.forEach(([total, duplicate], i) => assert.deepStrictEqual([Number(total), Number(duplicate ?? 0)], [5, results[i]!.duplicates.length]))
    }).pipe(Effect.provide(app())), 60_000)

  it.live("a cancel reaches a job running in another process's worker: it ends cancelled, measured", () =>
    Effect.gen(function*() {
      const { keys } = yield* Redis
      const actions = yield* Actions
      const env = { REDIS_URL: redisUrl(), RESQUE_NAMESPACE: keys.namespace, MODE: "worker" }
      yield* startChild(env)
      yield* startChild(env)
      yield* waitUntil("both worker pools to start", ready, (n) => n === "2", { timeout: "30 seconds" })
      const latencies: Array<number> = []
      for (let round = 0; round < 5; round++) {
        const handle = yield* actions.enqueue(hold, { name: `c${round}` }, { track: true })
        const running = yield* waitUntil("the job to run", actions.jobStatus(handle), (s) => s.state === "running" && s.progress !== undefined)
        assert.notInclude(running.worker, `:${process.pid}.`)
        const start = performance.now()
        assert.strictEqual(yield* actions.cancel(handle), "interrupting")
        yield* waitUntil("the job to end cancelled", redisCall((client) => client.hget<string>(keys.job(handle.id), "state")), (s) =>
          s === "cancelled", { interval: "1 millis", timeout: "5 seconds" })
        latencies.push(performance.now() - start)
        assert.strictEqual((yield* actions.jobStatus(handle)).state, "cancelled")
      }
      const sorted = [...latencies].sort((a, b) => a - b)
      console.log(`cancel to cancelled across processes (ms): ${latencies.map((l) => l.toFixed(1)).join(", ")}; median ${sorted[2]!.toFixed(1)}, max ${sorted[4]!.toFixed(1)}`)
      // the goal is 100 ms; asserted with a margin for a loaded machine (the numbers are printed above)
      assert.isBelow(sorted[2]!, 250)
      assert.strictEqual(yield* queueLength("control"), 0)
    }).pipe(Effect.provide(app())), 60_000)
})
