/**
 * Reliability: SIGTERM to a worker process with 50 jobs in flight. All 50 finish, none is left
 * working, the process exits 0; past the grace period the unfinished ones are failed with "shutdown".
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { Actions } from "../../src/layers/Actions.ts"
import * as Redis from "../../src/layers/Redis.ts"
import { Operations } from "../../src/layers/Operations.ts"
import { failedJobs, redisCall } from "../support/app.ts"
import { redisUrl, uniqueNamespace } from "../support/backends.ts"
import { core } from "./fixtures/actions.ts"
import { waitFor, worker } from "./support.ts"

const IN_FLIGHT = 50

const scenario = (jobMillis: number, graceMillis: number) => {
  const namespace = uniqueNamespace()
  return Effect.gen(function*() {
    const actions = yield* Actions
    const operations = yield* Operations
    const proc = yield* worker({
      REDIS_URL: redisUrl(), NAMESPACE: namespace, QUEUES: "slow", CONCURRENCY: String(IN_FLIGHT), GRACE_MS: String(graceMillis)
    })
    for (let i = 0; i < IN_FLIGHT; i++) yield* actions.enqueue("sleep", { ms: jobMillis })
    const working = redisCall((client, keys) => client.keys<ReadonlyArray<string>>(`${keys.namespace}:worker:*:slow`))
    yield* waitFor("50 jobs in flight", working, (w) => w.length === IN_FLIGHT)
    const started = yield* Clock.currentTimeMillis
    proc.signal("SIGTERM")
    const code = yield* Effect.promise(() => proc.exited)
    const duration = (yield* Clock.currentTimeMillis) - started
    const stats = yield* operations.stats
    return {
      code,
      duration,
      processed: stats.processed,
      failed: yield* failedJobs,
      left: (yield* working).length,
      registered: yield* redisCall((client, keys) => client.scard<number>(keys.workers))
    }
  }).pipe(Effect.scoped, Effect.provide(core(Redis.layer({ url: redisUrl(), namespace }))))
}

describe("reliability: SIGTERM under load", () => {
  it.live(`${IN_FLIGHT} jobs in flight all finish; exit code 0; nothing left working`, () =>
    Effect.gen(function*() {
      const r = yield* scenario(1500, 10_000)
      console.log(`SIGTERM with ${IN_FLIGHT} in flight: exit ${r.code} after ${r.duration} ms, processed ${r.processed}, failed ${r.failed.length}`)
      assert.strictEqual(r.code, 0)
      assert.strictEqual(r.processed, IN_FLIGHT)
      assert.strictEqual(r.failed.length, 0)
      assert.strictEqual(r.left, 0)
      assert.strictEqual(r.registered, 0)
    }))

  it.live("past the grace period the unfinished jobs are failed with \"shutdown\"; exit code 0", () =>
    Effect.gen(function*() {
      const r = yield* scenario(60_000, 1000)
      console.log(`SIGTERM past grace: exit ${r.code} after ${r.duration} ms, failed ${r.failed.length}`)
      assert.strictEqual(r.code, 0)
      assert.strictEqual(r.failed.length, IN_FLIGHT)
      assert.isTrue(r.failed.every((f) => f.exception === "Shutdown" && f.error.includes("shutdown")))
      assert.strictEqual(r.left, 0)
      assert.strictEqual(r.registered, 0)
    }))
})

