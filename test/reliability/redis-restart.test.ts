/**
 * Reliability: the Redis server is killed and started again (same port, AOF with fsync always, so
 * what it acknowledged survives) while two worker processes run jobs and the test process enqueues plain jobs
 * and a fan-out. Workers and the queue reconnect by themselves; every enqueue either fails with a typed error
 * or succeeds, and every job acknowledged as enqueued is processed after recovery.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Ref, Schedule } from "effect"
import { Actions } from "../../src/layers/Actions.ts"
import * as Redis from "../../src/layers/Redis.ts"
import { redisCall } from "../support/app.ts"
import { uniqueNamespace } from "../support/backends.ts"
import { startRedisServer } from "../support/redisServer.ts"
import { core, readRuns } from "./fixtures/actions.ts"
import { waitFor, worker } from "./support.ts"

const PLAIN = 2000
const CHILDREN = 1000

/**
 * The test's own reads after the restart: a request fails at once while its connection is reconnecting
 * (nothing is queued offline; `redisCall` reports it as a defect), so a read is tried again until the
 * connection is back.
 */
const whileReconnecting = <A, E, R>(read: Effect.Effect<A, E, R>) =>
  read.pipe(
    Effect.catchDefect((defect) => Effect.fail(defect)),
    Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 100 })
  )

describe("reliability: Redis restarted under load", () => {
  it.live("workers and producers reconnect; no acknowledged job is lost", () => {
    const dir = mkdtempSync(join(tmpdir(), "resque-aof-"))
    const persist = ["--appendonly", "yes", "--appendfsync", "always", "--dir", dir]
    const namespace = uniqueNamespace()
    return Effect.gen(function*() {
      const first = yield* Effect.promise(() => startRedisServer({ extraArgs: persist }))
      const current = yield* Ref.make(first)
      yield* Effect.addFinalizer(() => Effect.flatMap(Ref.get(current), (s) => Effect.promise(() => s.stop())))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const env = { REDIS_URL: first.url, NAMESPACE: namespace, QUEUES: "work", CONCURRENCY: "10" }
      yield* worker({ ...env, NAME: "w1" })
      yield* worker({ ...env, NAME: "w2" })
      return yield* Effect.gen(function*() {
        const actions = yield* Actions
        const acked = new Set<number>()
        const refused: Array<string> = []
        // plain jobs, one at a time, spread across the restart
        const producer = yield* Effect.forkChild(Effect.gen(function*() {
          for (let id = 0; id < PLAIN; id++) {
            const result = yield* Effect.result(actions.enqueue("work", { id, ms: 1 }))
            if (result._tag === "Success") acked.add(id)
            else refused.push(result.failure._tag)
            if (id % 10 === 0) yield* Effect.sleep("5 millis")
          }
        }))
        yield* waitFor("a few hundred acknowledged jobs", Effect.sync(() => acked.size), (n) => n >= 300)
        const fanOut = yield* Effect.forkChild(Effect.result(
          actions.fanOut("work", Array.from({ length: CHILDREN }, (_, i) => ({ id: PLAIN + i, ms: 1 })), { batchSize: 50, concurrency: 1 })
        ))
        // kill the server mid-flight, and start it again on the same port after a second
        const killedAt = yield* Clock.currentTimeMillis
        yield* Effect.promise(() => first.stop())
        yield* Effect.sleep("1 second")
        const second = yield* Effect.promise(() => startRedisServer({ port: first.port, extraArgs: persist }))
        yield* Ref.set(current, second)
        const restartedAt = yield* Clock.currentTimeMillis
        const ackedAtRestart = acked.size
        yield* Fiber.join(producer)
        const fan = yield* Fiber.join(fanOut)
        const producedAt = yield* Clock.currentTimeMillis
        // every acknowledged plain job, and every child the fan-out reports as enqueued, runs
        const runs = whileReconnecting(redisCall((client) => readRuns(client, namespace)))
        const expectedChildren = fan._tag === "Success" ? fan.success.enqueued : 0
        const ran = yield* waitFor(
          "every acknowledged job to run",
          runs,
          (r) => [...acked].every((id) => r[String(id)] !== undefined),
          30_000
        ).pipe(Effect.catchDefect(() => runs))
        const failed = yield* whileReconnecting(redisCall((client, keys) => client.lrange<ReadonlyArray<string>>(keys.failed, 0, -1)))
        if (failed.length > 0) console.log("failed jobs:", failed.slice(0, 5))
        const drainedAt = yield* Clock.currentTimeMillis
        const lost = [...acked].filter((id) => ran[String(id)] === undefined)
        const duplicated = Object.entries(ran).filter(([, n]) => n > 1).map(([id]) => id)
        const status = fan._tag === "Success"
          ? yield* actions.awaitFanOut(fan.success, { timeout: "60 seconds" }).pipe(Effect.result)
          : undefined
        console.log(
          `Redis restart: down ${restartedAt - killedAt} ms (${ackedAtRestart} acked by then), producers done ${producedAt - restartedAt} ms after, all ran ${drainedAt - producedAt} ms later; plain jobs acked ${acked.size}, refused ${refused.length} (${[...new Set(refused)].join(",")}); ` +
            `fan-out ${fan._tag === "Success" ? `enqueued ${fan.success.enqueued}/${CHILDREN}, errors ${fan.success.errors.length}` : `failed: ${fan.failure._tag}`}; ` +
            `status ${status?._tag === "Success" ? `${status.success.completed}+${status.success.failed}/${status.success.total}` : status?._tag}; lost ${lost.length}; ran twice ${duplicated.length}`
        )
        assert.deepStrictEqual(lost, [])
        assert.isTrue(refused.every((tag) => tag === "RedisError"))
        assert.strictEqual(acked.size + refused.length, PLAIN)
        if (status !== undefined) {
          assert.strictEqual(status._tag, "Success")
          if (status._tag === "Success") assert.strictEqual(status.success.completed + status.success.failed, status.success.total)
        }
        assert.isAtLeast(expectedChildren, 0)
        return duplicated
      }).pipe(Effect.provide(core(Redis.layer({ url: first.url, namespace }))))
    }).pipe(Effect.scoped)
  })
})
