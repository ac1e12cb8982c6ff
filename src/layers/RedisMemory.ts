/**
 * An in-memory Redis (ioredis-mock) so the whole runtime (queue, worker, scheduler, fan-out) runs in tests
 * and demos without a server. Each layer gets a private data set (its own fake port), flushed on release.
 *
 * **Gotchas**
 *
 * - node-resque must be told `pkg: "ioredis-mock"`, or its cjson Lua pops jobs and then fails, losing them;
 *   the queue and scheduler layers read `Redis.pkg` to do so.
 * - The data lives in this process only: two processes never share an in-memory Redis.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import type { Redis as IORedis } from "ioredis"
import RedisMock from "ioredis-mock"
import * as Keys from "../domain/Keys.ts"
import { Redis } from "./Redis.ts"

// ioredis-mock shares data between instances with the same host:port; a counter gives every layer its own
let nextPort = 50_000

/**
 * Options of the in-memory layer.
 *
 * @category models
 */
export interface Options {
  readonly namespace?: string
}

/**
 * The in-memory Redis layer.
 *
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Redis> =>
  Layer.effect(
    Redis,
    Effect.gen(function*() {
      const port = nextPort++
      const open = (): IORedis => new RedisMock({ port, host: "memory" })
      const close = (client: IORedis) => Effect.sync(() => client.disconnect())
      const client = yield* Effect.acquireRelease(
        Effect.sync(open),
        (client) => Effect.promise(() => client.flushall()).pipe(Effect.ignore, Effect.andThen(close(client)))
      )
      return Redis.of({
        client,
        keys: Keys.make(options.namespace ?? "resque"),
        pkg: "ioredis-mock",
        connect: Effect.acquireRelease(Effect.sync(open), close)
      })
    })
  )
