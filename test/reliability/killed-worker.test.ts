/**
 * Reliability: a worker process SIGKILLed in the middle of a fan-out of 1 000 children
 * run by 2 worker processes. Once the stuck-worker timeout passes, the scheduler reclaims the dead worker's
 * jobs: without retries they fail with "worker died"; with `retryStuckJobs` they run again and complete. The
 * fan-out's counts reach its total exactly and no child is counted twice.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { Actions } from "../../src/layers/Actions.ts"
import * as Redis from "../../src/layers/Redis.ts"
import * as JobScheduler from "../../src/layers/JobScheduler.ts"
import { redisCall } from "../support/app.ts"
import { redisUrl, uniqueNamespace } from "../support/backends.ts"
import { core, readRuns } from "./fixtures/actions.ts"
import { waitFor, worker } from "./support.ts"

const CHILDREN = 1000

const scenario = (retryStuckJobs: boolean) => {
  const namespace = uniqueNamespace()
  return Effect.gen(function*() {
    const actions = yield* Actions
    const env = { REDIS_URL: redisUrl(), NAMESPACE: namespace, QUEUES: "work", CONCURRENCY: "10", PING_MS: "300" }
    const victim = yield* worker({ ...env, NAME: "victim" })
    yield* worker({ ...env, NAME: "survivor" })
    yield* JobScheduler.make({ pollInterval: "200 millis", stuckWorkerTimeout: "2 seconds", retryStuckJobs })
    const started = yield* Clock.currentTimeMillis
    const fan = yield* actions.fanOut("work", Array.from({ length: CHILDREN }, (_, id) => ({ id, ms: 30 })))
    assert.strictEqual(fan.enqueued, CHILDREN)
    const progress = Effect.map(actions.fanOutStatus(fan), (s) => s.completed + s.failed)
    yield* waitFor("a third of the children", progress, (n) => n >= CHILDREN / 3)
    victim.signal("SIGKILL")
    yield* Effect.promise(() => victim.exited)
    // what the victim was running when it died: its working-on records, left behind
    const workingKeys = yield* redisCall((client, keys) => client.keys<ReadonlyArray<string>>(`${keys.namespace}:worker:victim.*:work`))
    const records = workingKeys.length === 0
      ? []
      : yield* redisCall((client) => client.mget<ReadonlyArray<string | null>>(...workingKeys))
    const inFlight = records.flatMap((r) => (r === null ? [] : [JSON.parse(r).payload.args[0]._job.index as number])).sort((a, b) => a - b)
    const status = yield* actions.awaitFanOut(fan, { timeout: "60 seconds" })
    const duration = (yield* Clock.currentTimeMillis) - started
    const runs = yield* redisCall((client) => readRuns(client, namespace))
    const outcomes = yield* redisCall((client, keys) => client.hlen<number>(keys.fanOutOutcomes(fan.fanOutId)))
    const leftWorking = yield* redisCall((client, keys) => client.keys<ReadonlyArray<string>>(`${keys.namespace}:worker:victim*`))
    return { status, inFlight, runs, outcomes, duration, leftWorking }
  }).pipe(Effect.scoped, Effect.provide(core(Redis.layer({ url: redisUrl(), namespace }))))
}

describe("reliability: worker SIGKILLed mid fan-out", () => {
  it.live("without retries: the dead worker's children fail with \"worker died\"; counts reach total exactly", () =>
    Effect.gen(function*() {
      const r = yield* scenario(false)
      const { status } = r
      console.log(`kill, no retry: ${CHILDREN} children in ${r.duration} ms; in flight at kill ${r.inFlight.length}; completed ${status.completed}, failed ${status.failed}`)
      assert.isAbove(r.inFlight.length, 0)
      assert.strictEqual(status.total, CHILDREN)
      assert.strictEqual(status.completed + status.failed, CHILDREN)
      assert.strictEqual(r.outcomes, CHILDREN)
      assert.isTrue(status.done)
      assert.deepStrictEqual(status.errors.map((e) => e.index), r.inFlight)
      assert.isTrue(status.errors.every((e) => e.error.includes("worker died")))
      // every other child ran exactly once
      const ranOnce = Object.entries(r.runs).filter(([id]) => !r.inFlight.includes(Number(id)))
      assert.strictEqual(ranOnce.length, CHILDREN - r.inFlight.length)
      assert.isTrue(ranOnce.every(([, n]) => n === 1))
      assert.deepStrictEqual(r.leftWorking, [])
    }))

  it.live("with retryStuckJobs: the dead worker's children run again and complete; nothing counted twice", () =>
    Effect.gen(function*() {
      const r = yield* scenario(true)
      const { status } = r
      console.log(`kill, retry: ${CHILDREN} children in ${r.duration} ms; in flight at kill ${r.inFlight.length}; completed ${status.completed}, failed ${status.failed}`)
      assert.isAbove(r.inFlight.length, 0)
      assert.strictEqual(status.completed, CHILDREN)
      assert.strictEqual(status.failed, 0)
      assert.strictEqual(r.outcomes, CHILDREN)
      assert.deepStrictEqual(status.results.map((x) => x.index), Array.from({ length: CHILDREN }, (_, i) => i))
      // each child ran to completion once; a reclaimed one may also have counted a run cut short by the kill
      for (let id = 0; id < CHILDREN; id++) {
        const n = Number(r.runs[String(id)] ?? 0)
        if (r.inFlight.includes(id)) assert.include([1, 2], n, `child ${id}`)
        else assert.strictEqual(n, 1, `child ${id}`)
      }
      assert.deepStrictEqual(r.leftWorking, [])
    }))
})
