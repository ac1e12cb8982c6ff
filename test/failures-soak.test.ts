/**
 * Failure suite, the soak in small (the 200 000-job version with 2 processes is
 * `test/reliability/soak.test.ts`): fan-outs enqueued in parallel, run by two worker pools at once; nothing
 * lost, nothing run twice, every fan-out's counts exact.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Actions } from "../src/layers/Actions.ts"
import * as Worker from "../src/layers/Worker.ts"
import { core, readRuns } from "./reliability/fixtures/actions.ts"
import { redisCall } from "./support/app.ts"
import { backends } from "./support/backends.ts"

const FAN_OUTS = 5

for (const backend of backends) {
  // the in-memory backend runs in the test's process, on the CPU the workers use: a smaller size keeps the suite fast
  const jobs = backend.name === "redis" ? 5000 : 500
  describe(`failures: soak (${backend.name})`, () => {
    it.live(`${jobs} jobs in ${FAN_OUTS} parallel fan-outs, two worker pools: none lost, none twice, counts exact`, () =>
      Effect.gen(function*() {
        const actions = yield* Actions
        yield* Worker.make({ queues: ["work"], concurrency: 10 })
        yield* Worker.make({ queues: ["work"], concurrency: 10 })
        const per = jobs / FAN_OUTS
        const fans = yield* Effect.forEach(
          Array.from({ length: FAN_OUTS }, (_, f) => f),
          (f) => actions.fanOut("work", Array.from({ length: per }, (_, i) => ({ id: f * per + i }))),
          { concurrency: FAN_OUTS }
        )
        const statuses = yield* Effect.forEach(fans, (fan) => actions.awaitFanOut(fan, { timeout: "50 seconds" }), { concurrency: FAN_OUTS })
        for (const s of statuses) assert.deepStrictEqual([s.total, s.completed, s.failed, s.done], [per, per, 0, true])
        const runs = yield* redisCall((client, keys) => readRuns(client, keys.namespace))
        assert.strictEqual(Object.keys(runs).length, jobs)
        assert.deepStrictEqual(Object.values(runs).filter((n) => n !== 1), [])
        for (const fan of fans) assert.strictEqual(yield* redisCall((client, keys) => client.hlen(keys.fanOutOutcomes(fan.fanOutId))), per)
      }).pipe(Effect.scoped, Effect.provide(core(backend.layer()))), 60_000)
  })
}
