/**
 * The runnable example of job control (examples/schedules-and-limits.ts) does what it says, on both backends.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Example from "../examples/schedules-and-limits.ts"
import { backends } from "./support/backends.ts"

for (const backend of backends) {
  describe(`examples/schedules-and-limits.ts (${backend.name})`, () => {
    it.live("pausing holds the mail queue's job while the urgent one runs, resuming runs it; a timeout is retried, a bad address is not", () =>
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
      }).pipe(Effect.provide(Example.app(backend.layer()))))
  })
}
