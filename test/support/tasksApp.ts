/**
 * Fixtures of the operations suites: actions whose failures and running time the test controls, a recurring
 * action that records when each run starts, and the Resque queue (with its Operations service) on a backend.
 */
import { Effect, Latch, Layer, Schema } from "effect"
import * as Action from "../../src/domain/Action.ts"
import type * as Redis from "../../src/layers/Redis.ts"
import { Redis as RedisService } from "../../src/layers/Redis.ts"
import { add, Boom, coreWith, explode } from "./app.ts"

/** Keys for which `flaky` fails; tests add and delete keys to make a job fail, then succeed on retry. */
export const broken = new Set<string>()

export const flaky = Action.make({
  name: "flaky",
  description: "Fails while its key is broken",
  inputs: Schema.Struct({ key: Schema.String }),
  run: ({ key }) => (broken.has(key) ? Effect.fail(new Boom({ message: `broken: ${key}` })) : Effect.succeed(key)),
  task: { queue: "ops" }
})

/** Gates `hold` waits on, by id; a missing gate lets the job through. */
export const gates = new Map<string, Latch.Latch>()

export const hold = Action.make({
  name: "hold",
  description: "Waits until its gate opens",
  inputs: Schema.Struct({ id: Schema.String }),
  run: ({ id }) => Effect.suspend(() => gates.get(id)?.await ?? Effect.void).pipe(Effect.as(id)),
  task: { queue: "hold" }
})

/** Recurring every second; records its start (`KEY:tick-started`, epoch ms) and end in the runtime's Redis. */
export const tick = Action.make({
  name: "tick",
  description: "Recurs every second",
  inputs: Schema.Struct({}),
  run: () =>
    Effect.gen(function*() {
      const redis = yield* RedisService
      yield* redis.send("rpush", redis.keys.key("tick-started"), String(Date.now()))
      yield* Effect.sleep("300 millis")
      yield* redis.send("incr", redis.keys.key("tick-finished"))
    }),
  task: { queue: "ticks", frequency: "1 second" }
})

export const opsActions = [add, explode, flaky, hold, tick] as const

/** The Resque queue (Actions, Operations) and Redis, on a backend's Redis layer. */
export const opsApp = (redis: Layer.Layer<Redis.Redis, unknown>) => coreWith(opsActions, redis)
