/**
 * Graceful shutdown. On the real Redis, a child process runs a worker pool and a scheduler under
 * `NodeRuntime.runMain` and gets SIGINT or SIGTERM while jobs are in flight: it stops taking jobs, lets the
 * running ones finish within the grace period (or fails them with "shutdown" past it), unregisters its workers,
 * releases the leader lock and exits 0. A child process cannot share an in-memory Redis, so on the in-memory
 * backend the same guarantees are tested in process by closing the scope, which is what the signal does.
 */
import { randomUUID } from "node:crypto"
import { hostname } from "node:os"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, PubSub, Scope } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import { Redis } from "../src/layers/Redis.ts"
import * as JobScheduler from "../src/layers/JobScheduler.ts"
import * as Worker from "../src/layers/Worker.ts"
import { coreWith, failedJobs, note, notes, queueLength, redisCall, takeEventsWithin, waitUntil } from "./support/app.ts"
import { backends, real, redisUrl, uniqueNamespace } from "./support/backends.ts"
import { startFixture } from "./support/childProcess.ts"

const fixture = fileURLToPath(new URL("./fixtures/shutdown-app.ts", import.meta.url))

const startChild = (env: Record<string, string>) => startFixture(fixture, env)

const exitOf = (exited: Promise<number | string>, output: () => string) =>
  Effect.promise(() => exited).pipe(
    Effect.timeoutOrElse({ duration: "20 seconds", orElse: () => Effect.die(new Error(`child did not exit:\n${output()}`)) })
  )

/** What the child left in Redis: its registered workers, the leader lock, failed jobs and what is still queued. */
const leftovers = (pid: number) =>
  redisCall(async (client, keys) => ({
    workers: (await client.smembers<ReadonlyArray<string>>(keys.workers)).filter((w) => w.startsWith(`${hostname()}~effect:${pid}.`)),
    pings: (await client.keys<ReadonlyArray<string>>(`${keys.namespace}:worker:ping:${hostname()}~effect:${pid}.*`)).length,
    lock: await client.get<string | null>(keys.leaderLock),
    failed: (await client.lrange<ReadonlyArray<string>>(keys.failed, 0, -1)).map((f) => JSON.parse(f) as { exception: string; error: string }),
    queued: await client.llen<number>(keys.queue("notes"))
  }))

const started = redisCall((client, keys) => client.llen<number>(keys.key("started")))

/** The scheduler that holds the leader lock, if any. */
const leader = Effect.flatMap(Redis, (redis) => redis.send<string | null>("get", redis.keys.leaderLock))

describe("graceful shutdown of a process under NodeRuntime.runMain (redis)", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it.live(`${signal}: in-flight jobs finish, no new job is taken, workers unregister, the lock is released, exit 0`, () =>
      Effect.gen(function*() {
        const { keys } = yield* Redis
        const schedulerName = `child-${randomUUID().slice(0, 8)}`
        const namespace = keys.namespace
        const { child, exited, output } = yield* startChild({
          REDIS_URL: redisUrl(),
          RESQUE_NAMESPACE: namespace,
          JOBS: "3",
          JOB_MS: "1000",
          CONCURRENCY: "2",
          SCHEDULER_NAME: schedulerName
        })
        const pid = child.pid ?? 0
        yield* waitUntil("two jobs in flight", started, (n) => n === 2, { timeout: "15 seconds" })
        yield* waitUntil("the child's scheduler to lead", leader, (v) => v === schedulerName)
        assert.strictEqual((yield* leftovers(pid)).workers.length, 2)
        process.kill(pid, signal)
        const code = yield* exitOf(exited, output)
        assert.strictEqual(code, 0, output())
        assert.deepStrictEqual([...(yield* notes)].sort(), ["job-0", "job-1"])
        assert.deepStrictEqual(yield* leftovers(pid), { workers: [], pings: 0, lock: null, failed: [], queued: 1 })
      }).pipe(Effect.scoped, Effect.provide(real.layer())))
  }

  it.live("SIGTERM past the grace period: unfinished jobs fail with \"shutdown\", and the process still exits 0", () =>
    Effect.gen(function*() {
      const { keys } = yield* Redis
      const { child, exited, output } = yield* startChild({
        REDIS_URL: redisUrl(),
        RESQUE_NAMESPACE: keys.namespace,
        JOBS: "2",
        JOB_MS: "60000",
        CONCURRENCY: "2",
        GRACE_MS: "300",
        SCHEDULER_NAME: `child-${randomUUID().slice(0, 8)}`
      })
      const pid = child.pid ?? 0
      yield* waitUntil("two jobs in flight", started, (n) => n === 2, { timeout: "15 seconds" })
      process.kill(pid, "SIGTERM")
      assert.strictEqual(yield* exitOf(exited, output), 0, output())
      const left = yield* leftovers(pid)
      assert.deepStrictEqual(yield* notes, [])
      assert.deepStrictEqual(left.failed.map((f) => f.exception), ["Shutdown", "Shutdown"])
      assert.include(left.failed[0]?.error ?? "", "shutdown")
      assert.deepStrictEqual([left.workers, left.pings, left.lock], [[], 0, null])
    }).pipe(Effect.scoped, Effect.provide(real.layer(uniqueNamespace()))))
})

for (const backend of backends) {
  describe(`graceful shutdown by closing the scope (${backend.name})`, () => {
    it.live("in-flight jobs finish, nothing new is taken, workers unregister, the leader lock is released", () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        const scope = yield* Scope.make()
        const worker = yield* Worker.make({ queues: ["notes"], concurrency: 2, gracePeriod: "10 seconds" }).pipe(Scope.provide(scope))
        const scheduler = yield* JobScheduler.make({ pollInterval: "50 millis" }).pipe(Scope.provide(scope))
        const sub = yield* PubSub.subscribe(worker.events)
        for (let i = 0; i < 3; i++) yield* actions.enqueue(note, { id: `job-${i}`, ms: 500 })
        yield* waitUntil("two jobs in flight", started, (n) => n === 2)
        yield* waitUntil("a leader", scheduler.isLeader, (leader) => leader)
        yield* Scope.close(scope, Exit.void)
        const events = yield* takeEventsWithin(sub, 2)
        assert.deepStrictEqual(events.map((e) => e.outcome._tag), ["Success", "Success"])
        assert.deepStrictEqual([...(yield* notes)].sort(), ["job-0", "job-1"])
        assert.strictEqual(yield* queueLength("notes"), 1)
        assert.deepStrictEqual(yield* redisCall((client, keys) => client.smembers(keys.workers)), [])
        assert.isNull(yield* leader)
        assert.deepStrictEqual(yield* failedJobs, [])
      }).pipe(Effect.provide(coreWith([note], backend.layer()))))
  })
}
