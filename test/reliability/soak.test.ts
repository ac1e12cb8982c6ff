/**
 * Reliability, the soak: SOAK_JOBS (default 200 000) jobs as 10 fan-outs enqueued in parallel,
 * run by 2 worker processes. Nothing lost, nothing run twice, every fan-out's counts exact, and the workers'
 * RSS flat after warm-up (each process reports its RSS every second; the curve is printed).
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { Actions } from "../../src/layers/Actions.ts"
import * as Redis from "../../src/layers/Redis.ts"
import { redisCall } from "../support/app.ts"
import { redisUrl, uniqueNamespace } from "../support/backends.ts"
import { core, readRuns } from "./fixtures/actions.ts"
import { type Proc, worker } from "./support.ts"

const JOBS = Number(process.env["SOAK_JOBS"] ?? 200_000)
const FAN_OUTS = 10

/** MB figures from the worker's `RSS <bytes> HEAP <bytes>` lines: field 1 is RSS, field 3 the JS heap in use. */
const curve = (proc: Proc, field: 1 | 3): ReadonlyArray<number> =>
  proc.lines.filter((l) => l.startsWith("RSS ")).map((l) => Math.round(Number(l.split(" ")[field]) / 1024 / 1024))

describe("reliability: soak", () => {
  it.live(`${JOBS} jobs, ${FAN_OUTS} fan-outs in parallel, 2 worker processes`, () => {
    const namespace = uniqueNamespace()
    return Effect.gen(function*() {
      const actions = yield* Actions
      const env = { REDIS_URL: redisUrl(), NAMESPACE: namespace, QUEUES: "work", CONCURRENCY: "20", RSS_MS: "1000" }
      const procs = [yield* worker({ ...env, NAME: "soak1" }), yield* worker({ ...env, NAME: "soak2" })]
      const started = yield* Clock.currentTimeMillis
      const per = JOBS / FAN_OUTS
      const fans = yield* Effect.forEach(
        Array.from({ length: FAN_OUTS }, (_, f) => f),
        (f) => actions.fanOut("work", Array.from({ length: per }, (_, i) => ({ id: f * per + i })), { resultTtl: "1 hour" }),
        { concurrency: FAN_OUTS }
      )
      const enqueued = (yield* Clock.currentTimeMillis) - started
      const statuses = yield* Effect.forEach(fans, (fan) => actions.awaitFanOut(fan, { timeout: "10 minutes" }), { concurrency: FAN_OUTS })
      const duration = (yield* Clock.currentTimeMillis) - started
      const runs = yield* redisCall((client) => readRuns(client, namespace))
      const ids = Object.keys(runs).length
      const duplicated = Object.values(runs).filter((n) => n > 1).length
      const lost = JOBS - ids
      const outcomes = yield* Effect.forEach(fans, (fan) => redisCall((client, keys) => client.hlen<number>(keys.fanOutOutcomes(fan.fanOutId))))
      const curves = procs.map((p) => curve(p, 1))
      const heaps = procs.map((p) => curve(p, 3))
      console.log(
        `soak: ${JOBS} jobs (${FAN_OUTS} fan-outs) in ${duration} ms (${Math.round(JOBS / (duration / 1000))} jobs/s; enqueued in ${enqueued} ms); ` +
          `lost ${lost}, duplicated ${duplicated}; completed ${statuses.reduce((a, s) => a + s.completed, 0)}, failed ${statuses.reduce((a, s) => a + s.failed, 0)}`
      )
      curves.forEach((c, i) => console.log(`soak RSS MB, worker ${i + 1} (1 s apart): ${c.join(" ")}`))
      heaps.forEach((c, i) => console.log(`soak JS heap used MB, worker ${i + 1}: ${c.join(" ")}`))
      assert.strictEqual(lost, 0)
      assert.strictEqual(duplicated, 0)
      for (const [i, s] of statuses.entries()) {
        assert.deepStrictEqual([s.total, s.completed, s.failed, s.done], [per, per, 0, true], `fan-out ${i}`)
        assert.strictEqual(outcomes[i], per)
      }
      // flat after warm-up: past the first quarter of the run, RSS stays within 40% (+32 MB) of where it was
      for (const c of curves) {
        if (c.length < 8) continue
        const warm = c[Math.floor(c.length / 4)] ?? 0
        const peak = Math.max(...c.slice(Math.floor(c.length / 4)))
        assert.isAtMost(peak, warm * 1.4 + 32, `RSS grew from ${warm} MB to ${peak} MB`)
      }
    }).pipe(Effect.scoped, Effect.provide(core(Redis.layer({ url: redisUrl(), namespace }))))
  })
})
