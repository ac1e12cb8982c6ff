/**
 * The runnable example of job control (examples/schedules-and-limits.ts) does what it says, on both backends.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Example from "../examples/schedules-and-limits.ts"
import { backends } from "./support/backends.ts"

for (const backend of backends) {
  describe(`examples/schedules-and-limits.ts (${backend.name})`, () => {
    it.live("pausing holds the mail queue's job while the urgent one runs, resuming runs it; a timeout is retried, a bad address is not; a cron runs on its seconds; a rate limit holds", () =>
      Effect.gen(function*() {
        const lines = yield* Example.main
        assert.deepStrictEqual(lines.slice(0, 3), [
          "paused mail; ran send on urgent",
          "queues: mail 1 job(s) (paused), urgent 0 job(s)",
          "resumed mail; ran send on mail"
        ])
        assert.deepStrictEqual(lines.slice(3, 5), [
          "deliver grace@example.com: 3 runs (timeouts retried)",
          "deliver nobody: 1 run, failed for good: BadAddress"
        ])
        // on their seconds: whole seconds apart (a run late past its next second makes that one skipped, as
        // documented for missed runs), each started within 300 ms after its second (a loaded machine)
        const cron = /^cron "\* \* \* \* \* \*": runs (\d+) ms and (\d+) ms apart, each started (\d+)\/(\d+)\/(\d+) ms after its second$/.exec(lines[5] ?? "")
        assert.isNotNull(cron, lines[5])
        const [, gap1, gap2, ...late] = cron!.map(Number)
        for (const gap of [gap1!, gap2!]) {
          assert.isAtLeast(gap, 700)
          assert.isBelow(Math.abs(gap - Math.round(gap / 1000) * 1000), 300, `${gap} ms is not whole seconds`)
        }
        for (const ms of late) assert.isBelow(ms, 300)
        const rate = /^rate 5\/s: 12 jobs started in bursts of ([\d, ]+), in ([\d.]+) s; 0 failed$/.exec(lines[6] ?? "")
        assert.isNotNull(rate, lines[6])
        const bursts = rate![1]!.split(", ").map(Number)
        assert.deepStrictEqual(bursts, [5, 5, 2])
        assert.isAtLeast(Number(rate![2]), 1.8)
      }).pipe(Effect.provide(Example.app(backend.layer()))))
  })
}
