/**
 * Actions for the job-control tests (ids, status, results, uniqueness, cancel, progress), shared by the
 * in-process suite and the child process of the multi-process tests.
 */
import { Effect, Schedule, Schema } from "effect"
import * as Action from "../../src/domain/Action.ts"
import * as CurrentJob from "../../src/layers/CurrentJob.ts"
import { Redis } from "../../src/layers/Redis.ts"

export class Refused extends Schema.TaggedError<Refused>()("Refused", { reason: Schema.String }) {}

/** Squares a number; its jobs are tracked for a minute. */
export const square = Action.make({
  name: "square",
  description: "Squares n",
  inputs: Schema.Struct({ n: Schema.Finite }),
  run: ({ n }) => Effect.succeed(n * n),
  track: "1 minute",
  task: { queue: "control" }
})

/** Fails with a typed error (tracked, not retried). */
export const refuse = Action.make({
  name: "refuse",
  description: "Fails with Refused",
  inputs: Schema.Struct({ reason: Schema.String }),
  error: Refused,
  run: ({ reason }) => Effect.fail(new Refused({ reason })),
  track: true,
  task: { queue: "control" }
})

/**
 * Reports progress, marks `KEY:running:NAME`, then waits until `KEY:release:NAME` is set (or for ever):
 * a job that is running for as long as a test needs. Retried up to 3 times, to show a cancel is not.
 */
export const hold = Action.make({
  name: "hold",
  description: "Runs until released",
  inputs: Schema.Struct({ name: Schema.String }),
  run: ({ name }) =>
    Effect.gen(function*() {
      const redis = yield* Redis
      yield* CurrentJob.progress({ value: 50, data: { step: "holding" } })
      yield* redis.send("rpush", redis.keys.key("running", name), "1")
      while ((yield* redis.send<string | null>("get", redis.keys.key("release", name))) === null) yield* Effect.sleep(5)
      return name
    }),
  retry: { attempts: 3 },
  task: { queue: "control" }
})

/** A unique action: one job per `key` while it is queued or running. */
export const once = Action.make({
  name: "once",
  description: "Unique per key",
  inputs: Schema.Struct({ key: Schema.String }),
  run: ({ key }) => Effect.succeed(key),
  unique: { window: "1 minute" },
  task: { queue: "control" }
})

/** Fails its first run; retried an hour later (so its retry waits on the delayed schedule). */
export const lateRetry = Action.make({
  name: "lateRetry",
  description: "Fails once, retried after an hour",
  inputs: Schema.Struct({}),
  error: Refused,
  run: () => Effect.fail(new Refused({ reason: "first run" })),
  retry: { attempts: 2, schedule: Schedule.spaced("1 hour") },
  track: true,
  task: { queue: "control" }
})

export const jobControlActions = [square, refuse, hold, once, lateRetry] as const
