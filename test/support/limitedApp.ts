/**
 * The rate-limited action of the limit tests and of their worker processes: records when each run started
 * (epoch ms, the process's clock) in the list `<namespace>:starts`.
 */
import { Clock, Effect, Schema } from "effect"
import * as Action from "../../src/domain/Action.ts"
import { Redis } from "../../src/layers/Redis.ts"

/** `limited`, at most `rate` runs starting per second across every worker. */
export const limitedAction = (rate: number) =>
  Action.make({
    name: "limited",
    description: "Records when it started; rate-limited",
    inputs: Schema.Struct({ n: Schema.Finite }),
    run: () =>
      Effect.gen(function*() {
        const redis = yield* Redis
        yield* redis.send("rpush", redis.keys.key("starts"), yield* Clock.currentTimeMillis)
      }),
    limit: { rate: { limit: rate, per: "1 second" } },
    task: { queue: "limited" }
  })
