/**
 * The runnable example of job ids, status, results, unique jobs, cancel and progress
 * (examples/job-control.ts) does what it says, on both backends.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Example from "../examples/job-control.ts"
import { backends } from "./support/backends.ts"

for (const backend of backends) {
  describe(`examples/job-control.ts (${backend.name})`, () => {
    it.live("awaits typed results and errors, shows progress, cancels, keeps jobs and fan-out children unique", () =>
      Effect.gen(function*() {
        const lines = yield* Example.main
        assert.deepStrictEqual(lines[0], "reserved 2 of A1")
        assert.deepStrictEqual(lines[1], "failed with OutOfStock (none)")
        assert.match(lines[2]!, /^export is running on a worker, at step \d+$/)
        assert.deepStrictEqual(lines.slice(3), [
          "cancel: interrupting",
          "export ended: JobCancelled, state cancelled",
          "second enqueue: enqueued false, same job true",
          "cancel the queued one: removed",
          "after the cancel: enqueued true",
          "fan-out: 1 of 3 enqueued, duplicates of the held job and child 1",
          "fan-out done: completed 1, failed 0, duplicate 2"
        ])
      }).pipe(Effect.provide(Example.app(backend.layer()))))
  })
}
